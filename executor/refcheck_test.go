package executor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// A zero Ref or a Ref of another graph never reads another node's result:
// Value and Get fail naming it, Node panics naming it, Run refuses it.
func TestResultRejectsZeroAndForeignRefs(t *testing.T) {
	declare := func() (*graph.Builder, nodes.Ref[int], nodes.Ref[int]) {
		b := graph.NewBuilder()
		first := nodes.Value(b, "first", 1)
		second := nodes.Value(b, "second", 2)
		return b, first, second
	}
	b, first, _ := declare()
	_, _, foreign := declare() // same names and IDs on another builder
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, nil, first)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	if v, err := executor.Get(res, first); err != nil || v != 1 {
		t.Fatalf("Get(first) = %v, %v", v, err)
	}
	for _, tc := range []struct {
		name string
		ref  nodes.Ref[int]
		want string
	}{{"zero", nodes.Ref[int]{}, "zero Ref"}, {"foreign", foreign, `"second": Ref of another graph`}} {
		if v, err := executor.Get(res, tc.ref); !errors.Is(err, graph.ErrUnknownNode) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Get(%s) = %v, %v; want an error matching ErrUnknownNode saying %q", tc.name, v, err, tc.want)
		}
		if _, ok := res.Bound(tc.ref); ok {
			t.Errorf("Bound(%s) is ok", tc.name)
		}
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), tc.want) {
					t.Errorf("Node(%s) panicked with %v, want a message saying %q", tc.name, r, tc.want)
				}
			}()
			nr := res.Node(tc.ref)
			t.Errorf("Node(%s) returned %+v", tc.name, nr)
		}()
		if r, err := executor.Run(context.Background(), g, nil, tc.ref); r != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%s) = %v, %v", tc.name, r, err)
		}
	}
}
