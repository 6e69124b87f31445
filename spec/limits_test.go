package spec_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/spec"
)

// TestGuardedExpressionsKeepTheirValues runs expressions that the guards
// rewrite (predicates, string +, built-ins that allocate) and checks that
// they still compute what they did.
func TestGuardedExpressionsKeepTheirValues(t *testing.T) {
	for _, tc := range []struct {
		src, typ string
		want     any
	}{
		{"count(1..n, {# % 2 == 0})", "int", 5},
		{"sum(map(1..n, {# * 2}))", "int", 110},
		{"len(filter(1..n, {# > 3}))", "int", 7},
		{"reduce(1..n, {#acc + #}, 0)", "int", 55},
		{"all(1..n, {any(1..n, {# > 0})})", "bool", true},
		{"s + \"-\" + s", "string", "ab-ab"},
		{"join(map(1..3, {s + string(#)}), \",\")", "string", "ab1,ab2,ab3"},
		{"repeat(s, k)", "string", "ababab"},
		{"upper(replace(s, \"a\", \"xy\"))", "string", "XYB"},
		{"len(split(repeat(s, k), \"b\"))", "int", 4},
		{"toJSON([s])", "string", "[\n  \"ab\"\n]"},
		{"first(sortBy(1..n, {-#}))", "int", 10},
		{"len(groupBy(1..n, {# % 3}))", "int", 3},
		{"let a = s + s; let b = a + a; b", "string", "abababab"},
		{"concat([1], [2, 3])", "list", []any{1, 2, 3}},
		{"flatten([[1], [2, [3]]])", "list", []any{1, 2, 3}},
		{"n + k", "int", 13},
		{"string(n) + s", "string", "10ab"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			x, v, _ := runExpr(t, tc.src, tc.typ, 10*time.Second, 10, 3, "ab")
			if tc.want == nil {
				if x.Outcome != executor.OutcomeError {
					t.Fatalf("outcome %v, want error", x.Outcome)
				}
				return
			}
			if x.Outcome != executor.OutcomeOK {
				t.Fatalf("outcome %v: %v", x.Outcome, x.Cause)
			}
			if !reflect.DeepEqual(v, tc.want) {
				t.Errorf("value %#v, want %#v", v, tc.want)
			}
		})
	}
}

// TestExprLimits checks each limit of WithLimits: what goes past it fails
// with an error matching ErrLimit that names it.
func TestExprLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		limits spec.Limits
		want   string
	}{
		{"steps", "count(1..1000, {all(1..1000, {# > 0})})", spec.Limits{ExprSteps: 10000}, "step budget exceeded (the limit is 10000)"},
		{"memory of a string", "len(repeat(s, 2000))", spec.Limits{ExprMemory: 1 << 20}, "memory budget exceeded (the limit is 1 MB)"},
		{"memory of a map", "len(map(1..n, {#}))", spec.Limits{ExprMemory: 1 << 20}, "memory budget exceeded (the limit is 1 MB)"},
		{"memory of a range", "len(1..n)", spec.Limits{ExprMemory: 1 << 20}, "memory budget exceeded (the limit is 1 MB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, _, _ := runExpr(t, tc.src, "int", 20*time.Second, 100000, 0, strings.Repeat("s", 1000), spec.WithLimits(tc.limits))
			if x.Outcome != executor.OutcomeError {
				t.Fatalf("outcome %v (%v), want error", x.Outcome, x.Cause)
			}
			if !errors.Is(x.Cause, spec.ErrLimit) || !strings.Contains(x.Cause.Error(), tc.want) {
				t.Errorf("cause %v, want one matching ErrLimit with %q", x.Cause, tc.want)
			}
		})
	}
	// Within the same limits, a smaller evaluation passes.
	x, _, _ := runExpr(t, "len(repeat(s, 500))", "int", 20*time.Second, 0, 0, strings.Repeat("s", 1000), spec.WithLimits(spec.Limits{ExprMemory: 1 << 20}))
	if x.Outcome != executor.OutcomeOK {
		t.Errorf("500 KB in a 1 MB budget: %v (%v)", x.Outcome, x.Cause)
	}
}

// TestLoadLimits checks the limits of loading: file size, expression size
// and nesting, each a clear error at its file:line:col.
func TestLoadLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		limits spec.Limits
		want   string
	}{
		{"expression size", strings.Repeat("1 + ", 100) + "1", spec.Limits{ExprSize: 100}, `limits.yaml:8:12: "x": expression "1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + "… (401 bytes): 401 bytes long, more than the limit of 100`},
		{"bracket nesting", "[" + strings.Repeat("(", 5) + "1" + strings.Repeat(")", 5) + "]", spec.Limits{ExprDepth: 5}, `limits.yaml:8:17: "x": expression "[(((((1)))))]": nested more than 5 deep`},
		{"prefix nesting", "1 + " + strings.Repeat("- ", 200) + "1", spec.Limits{}, `limits.yaml:8:216: "x": expression "1 + - - - - - - - - - - - - - - - - - - - - - - - - - - - - "… (405 bytes): nested more than 100 deep`},
		{"not nesting", strings.Repeat("not ", 101) + "true", spec.Limits{}, `limits.yaml:8:412: "x": expression "not not not not not not not not not not not not not not not "… (408 bytes): nested more than 100 deep`},
		{"brackets in strings do not nest", `len("` + strings.Repeat("(", 200) + `")`, spec.Limits{}, ""},
		{"nesting at the limit", strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100), spec.Limits{}, ""},
		{"$env", `$env["$fg"] == nil ? 1 : 0`, spec.Limits{}, `$env is not available in a spec`},
		{"the guard's names", `$fg_tick($fg, -1000000) == nil ? 1 : 0`, spec.Limits{}, `unknown name $fg`},
		{"identifiers are not operators", "nothing + not_x", spec.Limits{ExprDepth: 1}, `unknown name nothing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := spec.Parse("limits.yaml", []byte(exprSpec(tc.src, "int")), spec.WithLimits(tc.limits))
			switch {
			case tc.want == "" && err != nil && !strings.Contains(err.Error(), "expected int"):
				t.Fatalf("error %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestLoadFileSize loads an endless file and a file over a small limit.
func TestLoadFileSize(t *testing.T) {
	_, err := spec.Load("/dev/zero")
	if !errors.Is(err, spec.ErrLimit) || !errors.Is(err, spec.ErrInvalid) || err.Error() != "/dev/zero: the file is too large: spec file size exceeded (the limit is 8 MB)" {
		t.Errorf("Load(/dev/zero): %v", err)
	}
	path := t.TempDir() + "/big.yaml"
	data := manyExprNodes(100)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s: the file is too large: spec file size exceeded (the limit is 1 KB)", path)
	if _, err := spec.Load(path, spec.WithLimits(spec.Limits{FileSize: 1 << 10})); err == nil || err.Error() != want {
		t.Errorf("Load: %v, want %q", err, want)
	}
	if _, err := spec.Parse("big.yaml", data, spec.WithLimits(spec.Limits{FileSize: 1 << 10})); !errors.Is(err, spec.ErrLimit) {
		t.Errorf("Parse: %v, want ErrLimit", err)
	}
	if _, err := spec.ReadFile("/dev/zero"); !errors.Is(err, spec.ErrLimit) {
		t.Errorf("ReadFile(/dev/zero): %v, want ErrLimit", err)
	}
	if got, err := spec.ReadFile(path); err != nil || string(got) != string(data) {
		t.Errorf("ReadFile: %v, %d bytes of %d", err, len(got), len(data))
	}
	s, err := spec.Load(path, spec.WithLimits(spec.Limits{FileSize: int64(len(data))}))
	if err != nil {
		t.Fatalf("a file at the limit: %v", err)
	}
	s.Close()
}
