package spec_test

import (
	"bytes"
	"context"
	"github.com/featgraph/featgraph/internal/graphx"
	"reflect"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/spec"
)

// bindOriginals binds every go node of the written spec to the body of the
// node of the same name in g, through a function of the arity Bind wants.
func bindOriginals(g *graph.Graph) []spec.Option {
	ctxType, anyType, errType := reflect.TypeFor[context.Context](), reflect.TypeFor[any](), reflect.TypeFor[error]()
	var opts []spec.Option
	for i := range graphx.Nodes(g) {
		n := graphx.Node(g, graph.NodeID(i))
		if n.Kind != graph.KindFetch && n.Kind != graph.KindCompute {
			continue
		}
		var in []reflect.Type
		if n.Kind == graph.KindFetch {
			in = append(in, ctxType)
		}
		for range n.Deps {
			in = append(in, anyType)
		}
		ft := reflect.FuncOf(in, []reflect.Type{n.Type, errType}, false)
		fn := reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
			var v any
			var err error
			if n.Kind == graph.KindFetch {
				vals := make([]any, len(args)-1)
				for i, a := range args[1:] {
					vals[i] = a.Interface()
				}
				v, err = n.Fetch(args[0].Interface().(context.Context), vals)
			} else {
				vals := make([]any, len(args))
				for i, a := range args {
					vals[i] = a.Interface()
				}
				v, err = n.Compute(vals)
			}
			result := reflect.Zero(n.Type)
			if v != nil {
				result = reflect.ValueOf(v)
			}
			return []reflect.Value{result, reflect.ValueOf(&err).Elem()}
		})
		opts = append(opts, spec.Bind(n.Name, fn.Interface()))
	}
	return opts
}

// TestWriteGoBuiltGraph writes the Go-built cardauth graph as a spec, loads
// it back with its Go bodies bound to the go nodes, and checks that the graph
// has the same shape and decides the same.
func TestWriteGoBuiltGraph(t *testing.T) {
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := spec.Write(&out, ca.Graph, "decision"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  card:\n    go: fetch\n    deps: [card_id]\n    type: any\n", "  score:\n    if: eligible\n    then: model_score\n    else: no_model_score\n", "# Go type cardauth.Card"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("written spec lacks %q:\n%s", want, out.String())
		}
	}
	s, err := spec.Parse("cardauth-go.yaml", out.Bytes(), bindOriginals(ca.Graph)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	g := s.Graph()
	if g.Len() != ca.Graph.Len() {
		t.Fatalf("%d nodes, want %d", g.Len(), ca.Graph.Len())
	}
	for i := range graphx.Nodes(g) {
		a, b := graphx.Node(ca.Graph, graph.NodeID(i)), graphx.Node(g, graph.NodeID(i))
		if a.Name != b.Name || a.Kind != b.Kind || !reflect.DeepEqual(a.Deps, b.Deps) || !reflect.DeepEqual(a.Lazy, b.Lazy) ||
			a.Timeout != b.Timeout || a.Description != b.Description || (a.Fallback == nil) != (b.Fallback == nil) {
			t.Errorf("node %d: %+v\nbecame %+v", i, a, b)
		}
	}
	req := cardauth.Request{TransactionID: "t1", CardID: "c1", CustomerID: "u1", MerchantID: "m1"}
	res, err := executor.Run(context.Background(), ca.Graph, ca.Inputs(req), ca.Decision)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	want, _ := executor.Get(res, ca.Decision)
	var inputs []executor.Binding
	for _, in := range []string{"transaction_id", "card_id", "customer_id", "merchant_id"} {
		inputs = append(inputs, executor.BindNamed(in, map[string]string{"transaction_id": "t1", "card_id": "c1", "customer_id": "u1", "merchant_id": "m1"}[in]))
	}
	decision := graph.Named("decision")
	res2, err := executor.Run(context.Background(), g, inputs, decision)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Release()
	got, _ := res2.Value(decision)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the written graph decided %v, the Go graph %v", got, want)
	}
}

// TestWriteGoBuiltKinds writes a small Go-built graph with every kind the
// nodes package declares and checks the written text and its reload.
func TestWriteGoBuiltKinds(t *testing.T) {
	b := graph.NewBuilder()
	ids := nodes.Input[[]string](b, "ids")
	flag := nodes.Input[bool](b, "flag")
	tier := nodes.Input[string](b, "tier")
	one := nodes.Value(b, "one", 1)
	two := nodes.Value(b, "two", 2)
	sum := nodes.Compute2(b, "sum", one, two, func(a, b int) (int, error) { return a + b, nil }, nodes.Fallback(0))
	picked := nodes.If(b, "picked", flag, one, sum)
	both := nodes.And(b, "both", []nodes.Ref[bool]{flag, flag})
	named := nodes.Switch(b, "named", tier, nodes.Cases(nodes.On("gold", one), nodes.On("silver", sum)), nodes.Default(two))
	lens := nodes.Each(b, "lens", ids, func(ctx context.Context, id string) (int, error) { return len(id), nil }, nodes.Limit(2))
	_, _, _, _ = picked, both, named, lens
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := spec.Write(&out, g, "picked", "both", "named", "lens"); err != nil {
		t.Fatal(err)
	}
	want := `version: 1
inputs:
  # Go type []string
  ids: any
  flag: bool
  tier: string
nodes:
  one:
    value: 1
  two:
    value: 2
  sum:
    go: compute
    deps: [one, two]
    type: int
    fallback: 0
  picked:
    if: flag
    then: one
    else: sum
    type: int
  both:
    and: [flag, flag]
  named:
    switch: tier
    cases:
      "gold": one
      "silver": sum
    default: two
    type: int
  # Go type []int
  lens:
    each: ids
    go: fetch
    limit: 2
targets: [picked, both, named, lens]
`
	if out.String() != want {
		t.Errorf("written:\n%s\nwant:\n%s", out.String(), want)
	}
	s, err := spec.Parse("kinds.yaml", out.Bytes(),
		spec.Bind("sum", func(a, b int) (int, error) { return a + b, nil }),
		spec.Bind("lens", func(ctx context.Context, id string) (int, error) { return len(id), nil }))
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, s, executor.BindNamed("ids", []any{"ab", "cde"}), executor.BindNamed("flag", false), executor.BindNamed("tier", "silver"))
	for name, want := range map[string]any{"picked": 3, "both": false, "named": 3} {
		if v := value(t, res, name); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if v := value(t, res, "lens"); !jsonEqual(v, `[2, 3]`) {
		t.Errorf("lens = %v", v)
	}
}
