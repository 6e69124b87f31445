package spec

import (
	"math"
	"testing"
)

// TestCostSaturates checks that the size estimates of the guards never
// wrap around, on deep and on self-referencing values too.
func TestCostSaturates(t *testing.T) {
	const limit = 1 << 20
	cyclic := []any{nil}
	cyclic[0] = cyclic
	deep := any("x")
	for range 2 * maxDepth {
		deep = []any{deep}
	}
	big := make([]any, 1000)
	for i := range big {
		big[i] = string(make([]byte, 10000))
	}
	for _, tc := range []struct {
		name string
		op   string
		args []any
	}{
		{"cyclic toJSON", "toJSON", []any{cyclic}},
		{"deep toJSON", "toJSON", []any{deep}},
		{"big string", "string", []any{big}},
		{"cyclic flatten", "flatten", []any{cyclic}},
		{"deep flatten", "flatten", []any{deep}},
		{"huge repeat", "repeat", []any{"xy", math.MaxInt}},
		{"float repeat", "repeat", []any{"xy", 1e300}},
		{"overflowing range", "..", []any{math.MinInt, math.MaxInt}},
		{"float range", "..", []any{0.0, 1e300}},
		{"long join", "join", []any{big, ","}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c := cost(tc.op, tc.args, limit); c >= 0 && c <= limit {
				t.Errorf("cost %d, want more than %d or negative", c, limit)
			}
		})
	}
	if c := cost("flatten", []any{[]any{1, []any{2, 3}}}, limit); c != 3*slot {
		t.Errorf("flatten of 3: cost %d", c)
	}
	if c := textSize([]any{"ab"}, 0, limit); c < 4 || c > 20 {
		t.Errorf(`text of ["ab"]: %d`, c)
	}
}
