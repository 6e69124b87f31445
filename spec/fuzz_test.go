package spec_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/featgraph/featgraph/graph"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
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

// exprSeeds are expressions for FuzzExpr to start from: the hostile ones
// of issue 10 and some of every kind of operation.
var exprSeeds = []string{
	"let r = 1..n; count(r, {all(r, {all(r, {# > 0})})})",
	`len(repeat(repeat("x", k), 1000000))`,
	`let a = s + s; let b = a + a; len(b + b)`,
	strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300),
	strings.Repeat("!", 300) + "true",
	`len(join(map(1..n, {s}), ""))`,
	`len(toJSON(map(1..n, {[s, #]})))`,
	`len(split(s, "")) + len(replace(s, "", "xy"))`,
	`reduce(1..n, {#acc + #}, 0)`,
	`len(flatten(map(1..n, {[#, [#]]})))`,
	`len(groupBy(1..n, {# % 3})) + len(sortBy(1..n, {-#}))`,
	`obj.a.b ?? len(list) + int(f)`,
	`sqrt(f) + atan2(f, 1.0) > 0 ? len(upper(s)) : 0`,
	`$env["$fg"] == nil ? 0 : 1`,
}

// FuzzExpr checks that no expression crashes loading or running: it loads
// each in a spec with inputs of every type, and when it loads, runs it with
// a short deadline and small budgets. Every outcome but a crash is fine.
func FuzzExpr(f *testing.F) {
	for _, src := range exprSeeds {
		f.Add(src)
	}
	limits := spec.WithLimits(spec.Limits{ExprMemory: 1 << 20, ExprSteps: 100_000})
	inputs := []executor.Binding{
		executor.BindNamed("n", 1000), executor.BindNamed("k", 3), executor.BindNamed("s", "héllo"),
		executor.BindNamed("f", 2.5), executor.BindNamed("b", true),
		executor.BindNamed("obj", map[string]any{"a": map[string]any{"b": 1}}), executor.BindNamed("list", []any{1, "x", nil}),
	}
	f.Fuzz(func(t *testing.T, src string) {
		data := "version: 1\ninputs: {n: int, k: int, s: string, f: float, b: bool, obj: object, list: list}\nnodes:\n  x:\n    expr: " + strconv.Quote(src) + "\n    type: any\n"
		s, err := spec.Parse("fuzz.yaml", []byte(data), limits)
		if err != nil {
			if !errors.Is(err, spec.ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			return
		}
		defer s.Close()
		id := graph.Named("x")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		res, err := executor.Run(ctx, s.Graph(), inputs, id)
		if res == nil {
			t.Fatalf("run: %v", err)
		}
		defer res.Release()
		// Canceled: on a loaded machine, the deadline may pass before x starts.
		if o := res.Node(id).Outcome; o != executor.OutcomeOK && o != executor.OutcomeError && o != executor.OutcomeTimeout && o != executor.OutcomeCanceled {
			t.Fatalf("outcome %v", o)
		}
	})
}
