package fetchers_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/featgraph/featgraph/fetchers"
)

// FuzzDecodeJSON checks that no body makes decoding panic, that every
// error says what was wrong with one of the documented kinds, and that
// valid JSON is never called garbage. Seeds live in testdata/fuzz.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(okAccount))
	f.Add([]byte(`{"score":0.5,"reason":"r"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		valid := json.Valid(body)
		check := func(what string, err error) {
			if err == nil {
				return
			}
			notJSON, cut, shape := errors.Is(err, fetchers.ErrNotJSON), errors.Is(err, fetchers.ErrTruncated), errors.Is(err, fetchers.ErrWrongShape)
			if !notJSON && !cut && !shape {
				t.Fatalf("%s: %q: error %v is of no documented kind", what, body, err)
			}
			if valid && (notJSON || cut) {
				t.Fatalf("%s: %q is valid JSON, yet: %v", what, body, err)
			}
			if !valid && shape {
				t.Fatalf("%s: %q is not JSON, yet called the wrong shape: %v", what, body, err)
			}
		}
		_, err := fetchers.DecodeJSON[account](body)
		check("account", err)
		_, err = fetchers.DecodeJSON[fetchers.Score](body)
		check("score", err)
		_, err = fetchers.DecodeJSON[[]fetchers.Score](body)
		check("scores", err)
		_, err = fetchers.DecodeJSON[any](body)
		check("any", err)
		// Valid JSON may still not fit (a number past float64's range).
		if err == nil && !valid {
			t.Fatalf("any: %q is not valid JSON, yet decoded", body)
		}
	})
}
