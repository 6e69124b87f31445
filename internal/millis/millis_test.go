package millis_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/featgraph/featgraph/internal/millis"
)

func TestRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 999, time.Microsecond, 1234567, 700 * time.Millisecond, 3*time.Hour + 7, -5 * time.Millisecond} {
		b, err := json.Marshal(millis.Duration(d))
		if err != nil {
			t.Fatal(err)
		}
		var back millis.Duration
		if err := json.Unmarshal(b, &back); err != nil || time.Duration(back) != d {
			t.Errorf("%v -> %s -> %v, %v", d, b, time.Duration(back), err)
		}
	}
	if b, _ := json.Marshal(millis.Duration(1500 * time.Microsecond)); string(b) != "1.5" {
		t.Errorf("1.5ms encodes as %s, want 1.5", b)
	}
	for _, bad := range []string{`"1"`, `true`, `1e300`} {
		var d millis.Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s decoded as %v", bad, time.Duration(d))
		}
	}
}
