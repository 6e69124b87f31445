package spec_test

import (
	"context"
	"errors"
	"github.com/featgraph/featgraph/internal/graphx"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
)

// header is the start of most specs below: lines 1-6.
const header = `version: 1
upstreams:
  accounts: {url: "http://127.0.0.1:9"}
inputs:
  card_id: string
  amount: float
`

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name      string
		src       string
		opts      []spec.Option
		line, col int
		node      string
		want      string
	}{
		{"not yaml", "version: 1\nnodes: [\n", nil, 2, 0, "", "did not find expected"},
		{"empty", "", nil, 1, 1, "", "empty spec"},
		{"missing version", "nodes: {a: {value: 1}}\n", nil, 1, 1, "", "missing version"},
		{"bad version", "version: 2\nnodes: {a: {value: 1}}\n", nil, 1, 10, "", "unsupported version 2"},
		{"unknown top key", "version: 1\nnodez: {}\n", nil, 2, 1, "", `unknown key "nodez"`},
		{"unknown node key", header + "nodes:\n  a:\n    value: 1\n    timout: 5ms\n", nil, 10, 5, "a", `unknown key "timout"`},
		{"two kinds", header + "nodes:\n  a:\n    value: 1\n    expr: 2\n", nil, 8, 3, "a", "both value and expr"},
		{"no kind", header + "nodes:\n  a:\n    type: int\n", nil, 8, 3, "a", "node has no kind"},
		{"wrong type name", header + "nodes:\n  a:\n    value: 1\n    type: integer\n", nil, 10, 11, "a", `unknown type "integer"`},
		{"wrong input type", "version: 1\ninputs:\n  x: 42\nnodes: {a: {value: 1}}\n", nil, 3, 6, "x", `unknown type "42"`},
		{"bad deadline", "version: 1\ndeadline: -5ms\nnodes: {a: {value: 1}}\n", nil, 2, 11, "", "deadline must be a duration"},
		{"bad timeout", header + "nodes:\n  a:\n    value: 1\n    timeout: soon\n", nil, 10, 14, "a", "must be a duration"},
		{"value of wrong type", header + "nodes:\n  a:\n    value: abc\n    type: int\n", nil, 8, 3, "a", `string "abc" is not an int`},
		{"fallback of wrong type", header + "nodes:\n  a:\n    http: {upstream: accounts, path: /a}\n    fallback: [1]\n", nil, 10, 15, "a", "fallback: a list is not an object"},
		{"unknown dependency in template", header + "nodes:\n  a:\n    http: {upstream: accounts, path: \"/a/{card}\"}\n", nil, 9, 38, "a", `unknown dependency "card"`},
		{"unknown dependency in if", header + "nodes:\n  a: {value: true}\n  b:\n    if: a\n    then: a\n    else: c\n", nil, 12, 11, "b", `unknown dependency "c"`},
		{"unknown upstream", header + "nodes:\n  a:\n    http: {upstream: cards, path: /a}\n", nil, 9, 11, "a", `unknown upstream "cards"`},
		{"bad template", header + "nodes:\n  a:\n    http: {upstream: accounts, path: \"/a/{card_id\"}\n", nil, 9, 38, "a", "unclosed {"},
		{"cycle", header + "nodes:\n  a:\n    expr: b + 1\n    type: int\n  b:\n    expr: a + 1\n    type: int\n", nil, 8, 3, "a", "a -> b -> a"},
		{"expr does not compile", header + "nodes:\n  a:\n    expr: amount *\n    type: float\n", nil, 9, 18, "a", "unexpected token EOF"},
		{"expr wrong result type", header + "nodes:\n  a:\n    expr: amount > 3\n    type: float\n", nil, 9, 11, "a", "expected float64, but got bool"},
		{"expr unknown name quoted", header + "nodes:\n  a:\n    expr: \"amount + fee\"\n    type: float\n", nil, 9, 21, "a", "unknown name fee"},
		{"expr without type", header + "nodes:\n  a:\n    expr: amount + 1\n", nil, 8, 3, "a", "needs a type"},
		{"unbound go node", header + "nodes:\n  a:\n    go: compute\n    deps: [amount]\n    type: float\n", nil, 8, 3, "a", "go node is not bound"},
		{"go node of wrong shape", header + "nodes:\n  a:\n    go: compute\n    deps: [amount]\n    type: float\n",
			[]spec.Option{spec.Bind("a", func(s string) (float64, error) { return 0, nil })}, 8, 3, "a", "parameter 1 is a string but amount is a float64"},
		{"go fetch without context", header + "nodes:\n  a:\n    go: fetch\n    deps: [amount]\n    type: float\n",
			[]spec.Option{spec.Bind("a", func(f float64) (float64, error) { return f, nil })}, 8, 3, "a", "want func(context.Context, float64) (float64, error)"},
		{"go wrong result", header + "nodes:\n  a:\n    go: compute\n    deps: [amount]\n    type: string\n",
			[]spec.Option{spec.Bind("a", func(f float64) (float64, error) { return f, nil })}, 8, 3, "a", "it returns a float64, the node is a string"},
		{"bind unknown node", header + "nodes:\n  a: {value: 1}\n",
			[]spec.Option{spec.Bind("b", func() (int, error) { return 1, nil })}, 0, 0, "b", "no go node of that name"},
		{"condition not bool", header + "nodes:\n  a: {value: 1}\n  b:\n    if: a\n    then: a\n    else: a\n", nil, 10, 9, "b", `condition "a" is an int, want a bool`},
		{"branches disagree", header + "nodes:\n  a: {value: 1}\n  s: {value: x}\n  c: {value: true}\n  b:\n    if: c\n    then: a\n    else: s\n", nil, 11, 3, "b", "different types"},
		{"switch case of wrong type", header + "nodes:\n  k: {value: 1}\n  x: {value: 1}\n  s:\n    switch: k\n    cases: {one: x}\n", nil, 12, 13, "s", `case "one"`},
		{"and operand not bool", header + "nodes:\n  a: {value: 1}\n  b:\n    and: [a]\n", nil, 10, 11, "b", `operand "a" is an int`},
		{"unknown target", header + "nodes:\n  a: {value: 1}\ntargets: [a, z]\n", nil, 9, 14, "z", "target \"z\" is not a node"},
		{"duplicate key", header + "nodes:\n  a: {value: 1}\n  a: {value: 2}\n", nil, 9, 3, "", `key "a" appears twice`},
		{"node named like input", header + "nodes:\n  amount: {value: 1}\n", nil, 8, 3, "amount", "name of an input"},
		{"alias", "version: 1\nnodes:\n  a: &x {value: 1}\n  b: *x\n", nil, 4, 6, "", "aliases"},
		{"bad name", header + "nodes:\n  a-b: {value: 1}\n", nil, 8, 3, "a-b", "is not a name"},
		{"env var unset", "version: 1\nupstreams:\n  u: {url: \"${NOPE_UNSET_VAR}\"}\nnodes:\n  a: {http: {upstream: u}}\n", nil, 3, 3, "u", "NOPE_UNSET_VAR is not set"},
		{"bad url", "version: 1\nupstreams:\n  u: {url: \"ftp://x\"}\nnodes:\n  a: {http: {upstream: u}}\n", nil, 3, 3, "u", "not an absolute http"},
		{"upstream override unknown", header + "nodes:\n  a: {value: 1}\n", []spec.Option{spec.UpstreamURL("nope", "http://x")}, 0, 0, "nope", `no upstream "nope"`},
		{"each template uses other dep", header + "nodes:\n  l: {value: [1, 2]}\n  e:\n    each: l\n    http: {upstream: accounts, path: \"/a/{item}/{card_id}\"}\n", nil, 11, 11, "e", "not {card_id}"},
		{"each without fetch", header + "nodes:\n  l: {value: [1, 2]}\n  e:\n    each: l\n", nil, 9, 3, "e", "needs http"},
		{"retry attempts zero", header + "nodes:\n  a:\n    http: {upstream: accounts}\n    retry: {attempts: 0}\n", nil, 10, 23, "a", "attempts must be an integer >= 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]spec.Option{spec.Getenv(func(string) string { return "" })}, tc.opts...)
			s, err := spec.Parse("test.yaml", []byte(tc.src), opts...)
			if err == nil {
				t.Fatalf("loaded %v; want an error", s.Graph().Len())
			}
			if !errors.Is(err, spec.ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not an ErrorList: %v", err, err)
			}
			var found *spec.Error
			for _, e := range list {
				if strings.Contains(e.Error(), tc.want) {
					found = e
					break
				}
			}
			if found == nil {
				t.Fatalf("no error contains %q; got:\n%v", tc.want, err)
			}
			if found.Line != tc.line || found.Col != tc.col || found.Node != tc.node {
				t.Errorf("error at %d:%d node %q, want %d:%d node %q: %v", found.Line, found.Col, found.Node, tc.line, tc.col, tc.node, found)
			}
			if found.File != "test.yaml" || !strings.HasPrefix(found.Error(), "test.yaml") {
				t.Errorf("error does not start with the file name: %v", found)
			}
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	src := header + "nodes:\n  a:\n    value: 1\n    bogus: 1\n  b:\n    expr: nope\n    type: int\n  c:\n    if: zz\n    then: a\n    else: a\n"
	_, err := spec.Parse("many.yaml", []byte(src))
	var list spec.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an ErrorList, got %v", err)
	}
	for _, want := range []string{`many.yaml:10:5: "a": unknown key "bogus"`, `many.yaml:12:11: "b": expression "nope"`, `many.yaml:15:9: "c": unknown dependency "zz"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if len(list) != 3 {
		t.Errorf("got %d errors, want 3:\n%v", len(list), err)
	}
}

func TestCycleErrorIsGraphCycleError(t *testing.T) {
	src := header + "nodes:\n  a: {expr: c, type: int}\n  b: {expr: a, type: int}\n  c: {expr: b, type: int}\n"
	_, err := spec.Parse("cycle.yaml", []byte(src))
	var cycle *graph.CycleError
	if !errors.As(err, &cycle) {
		t.Fatalf("want a *graph.CycleError inside, got %v", err)
	}
	if got := strings.Join(cycle.Path, " -> "); got != "a -> c -> b -> a" {
		t.Errorf("cycle path %q", got)
	}
}

func TestUnsetEnv(t *testing.T) {
	src := "version: 1\nupstreams:\n  u: {url: \"${NOPE_UNSET_VAR}/x\"}\nnodes:\n  a: {http: {upstream: u}}\n  b: {http: {upstream: u, path: /b}, retry: {attempts: 2}}\n"
	noEnv := spec.Getenv(func(string) string { return "" })
	_, err := spec.Parse("env.yaml", []byte(src), noEnv)
	var list spec.ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Node != "u" || list[0].Line != 3 {
		t.Errorf("want one error at the upstream, got %v", err)
	}
	s, err := spec.Parse("env.yaml", []byte(src), noEnv, spec.AllowUnsetEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Unresolved(); len(got) != 1 || got[0] != "u" {
		t.Errorf("Unresolved() = %v", got)
	}
	res := run(t, s)
	for _, name := range []string{"a", "b"} {
		if n := outcome(t, res, name); n.Outcome != executor.OutcomeError || !strings.Contains(n.Cause.Error(), "NOPE_UNSET_VAR is not set") {
			t.Errorf("%s: %v, %v", name, n.Outcome, n.Cause)
		}
	}
	// --upstream in the CLI: an explicit URL needs no environment.
	s2, err := spec.Parse("env.yaml", []byte(src), noEnv, spec.UpstreamURL("u", "http://127.0.0.1:9"))
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

func TestUnboundGoNodeAllowed(t *testing.T) {
	src := header + "nodes:\n  a:\n    go: compute\n    deps: [amount]\n    type: float\n"
	s, err := spec.Parse("unbound.yaml", []byte(src), spec.AllowUnbound())
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Unbound(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("Unbound() = %v", got)
	}
	id, _ := s.Graph().Lookup("a")
	_, err = graphx.Node(s.Graph(), id).Compute([]any{1.0})
	if !errors.Is(err, spec.ErrUnbound) {
		t.Errorf("running an unbound node: %v, want ErrUnbound", err)
	}
	_ = context.Background
}

// A spec's unknown dependency matches what a Go graph's Build returns for
// one; an UpstreamURL naming no upstream matches ErrUnknownUpstream.
func TestLoadErrorsMatchLikeGoGraphs(t *testing.T) {
	_, err := spec.Parse("dep.yaml", []byte(header+"nodes:\n  a: {expr: ghost + 1, type: int}\n"))
	var unknown *graph.UnknownDependencyError
	if !errors.As(err, &unknown) || unknown.Node != "a" || unknown.Dependency != "ghost" || !errors.Is(err, graph.ErrInvalid) || !errors.Is(err, spec.ErrInvalid) {
		t.Errorf("unknown dependency: %v; want a *graph.UnknownDependencyError{a, ghost} matching graph.ErrInvalid and spec.ErrInvalid", err)
	}
	_, err = spec.Parse("if.yaml", []byte(header+"nodes:\n  a: {value: true}\n  b:\n    if: a\n    then: a\n    else: c\n"))
	if !errors.As(err, &unknown) || unknown.Node != "b" || unknown.Dependency != "c" || !errors.Is(err, graph.ErrInvalid) {
		t.Errorf("unknown dependency of an if: %v; want a *graph.UnknownDependencyError{b, c}", err)
	}
	if strings.Count(err.Error(), `"c"`) != 1 || strings.Count(err.Error(), `"b"`) != 1 {
		t.Errorf("unknown dependency of an if: %q names a node more than once", err)
	}
	_, err = spec.Parse("up.yaml", []byte(header+"nodes:\n  a: {value: 1}\n"), spec.UpstreamURL("nope", "http://x"))
	if !errors.Is(err, spec.ErrUnknownUpstream) {
		t.Errorf("unknown upstream: %v; want ErrUnknownUpstream", err)
	}
	if _, err = spec.Parse("dep.yaml", []byte(header+"nodes:\n  a: {value: 1}\n  b: {expr: a + 1, type: int}\n")); errors.Is(err, spec.ErrUnknownUpstream) || err != nil && errors.As(err, &unknown) {
		t.Errorf("a good spec: %v", err)
	}
}
