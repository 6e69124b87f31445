package spec_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/featgraph/featgraph/spec"
)

// FuzzLoad checks that Parse never panics and that what it accepts it can
// write back out and load again. Its seeds (testdata/fuzz/FuzzLoad and the
// specs of specFiles) run with every go test.
func FuzzLoad(f *testing.F) {
	for _, file := range specFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	getenv := spec.Getenv(func(string) string { return "" })
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := spec.Parse("fuzz.yaml", data, getenv, spec.AllowUnbound())
		if err != nil {
			if !errors.Is(err, spec.ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			return
		}
		defer s.Close()
		var out bytes.Buffer
		if err := s.Write(&out); err != nil {
			t.Fatalf("Write of a loaded spec: %v", err)
		}
		again, err := spec.Parse("written.yaml", out.Bytes(), getenv, spec.AllowUnbound())
		if err != nil {
			t.Fatalf("a written spec does not load: %v\n%s", err, out.Bytes())
		}
		again.Close()
	})
}
