package nodes

import (
	"fmt"
	"reflect"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
)

// If declares a node that takes the value of then when cond is true and of
// otherwise when it is false. Only the chosen branch (and what it depends on)
// runs; the other ends as skipped unless something else needs it.
func If[T any](b *graph.Builder, name string, cond Ref[bool], then, otherwise Ref[T], opts ...Option) Ref[T] {
	n := graphdef.Node{
		Name: name, Kind: graph.KindIf,
		Lazy: []string{then.Name(), otherwise.Name()},
		Choose: func(args []any) (int, error) {
			if as[bool](args[0]) {
				return 0, nil
			}
			return 1, nil
		},
	}
	graphx.Fail(b, checkDep(b, name, then))
	graphx.Fail(b, checkDep(b, name, otherwise))
	return declare[T](b, n, []Dep{cond}, opts)
}

// Case is one branch of a Switch: the node to take when the key equals Key.
type Case[K comparable, T any] struct {
	Key  K
	Then Ref[T]
}

// On returns the Case that takes then when the key equals key.
func On[K comparable, T any](key K, then Ref[T]) Case[K, T] {
	return Case[K, T]{Key: key, Then: then}
}

// Cases lists the cases of a [Switch], so that their types are inferred:
//
//	nodes.Switch(b, "offer", tier, nodes.Cases(nodes.On("gold", premium), nodes.On("silver", standard)), nodes.Default(manual))
func Cases[K comparable, T any](cases ...Case[K, T]) []Case[K, T] { return cases }

// Switch declares a node that takes the value of the case whose key equals
// the value of key. Give it a default branch with the [Default] option;
// without one, a key that matches no case is an error of the node. Only the
// chosen branch (and what it depends on) runs.
func Switch[K comparable, T any](b *graph.Builder, name string, key Ref[K], cases []Case[K, T], opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindSwitch}
	index := make(map[K]int, len(cases))
	for i, c := range cases {
		if _, dup := index[c.Key]; dup {
			graphx.Fail(b, &graph.InvalidNodeError{Node: name, Reason: fmt.Sprintf("case %v appears twice", c.Key)})
		}
		index[c.Key] = i
		n.Lazy = append(n.Lazy, c.Then.Name())
		n.Cases = append(n.Cases, c.Key)
		graphx.Fail(b, checkDep(b, name, c.Then))
	}
	var rest []Option
	hasDefault := false
	for _, o := range opts {
		if o.dflt == nil {
			rest = append(rest, o)
			continue
		}
		switch {
		case hasDefault:
			graphx.Fail(b, &graph.InvalidNodeError{Node: name, Reason: "Default is given twice"})
		case o.dfltType != reflect.TypeFor[T]():
			graphx.Fail(b, &graph.InvalidNodeError{Node: name, Reason: fmt.Sprintf("Default %q has type %v, the node has type %v", o.dflt.Name(), o.dfltType, reflect.TypeFor[T]())})
		default:
			hasDefault = true
			n.Lazy = append(n.Lazy, o.dflt.Name())
			graphx.Fail(b, checkDep(b, name, o.dflt))
		}
	}
	n.Choose = func(args []any) (int, error) {
		k := as[K](args[0])
		if i, ok := index[k]; ok {
			return i, nil
		}
		if hasDefault {
			return len(cases), nil
		}
		return -1, fmt.Errorf("no case for key %v", k)
	}
	return declare[T](b, n, []Dep{key}, rest)
}

// And declares a node that is true when every operand is true. Operands run
// concurrently; the first false decides, and operands still running are
// canceled unless something else needs them.
func And(b *graph.Builder, name string, operands []Ref[bool], opts ...Option) Ref[bool] {
	return logic(b, name, graph.KindAnd, operands, opts)
}

// Or declares a node that is true when any operand is true. Operands run
// concurrently; the first true decides, and operands still running are
// canceled unless something else needs them.
func Or(b *graph.Builder, name string, operands []Ref[bool], opts ...Option) Ref[bool] {
	return logic(b, name, graph.KindOr, operands, opts)
}

func logic(b *graph.Builder, name string, kind graph.Kind, operands []Ref[bool], opts []Option) Ref[bool] {
	n := graphdef.Node{Name: name, Kind: kind}
	for _, op := range operands {
		n.Lazy = append(n.Lazy, op.Name())
		graphx.Fail(b, checkDep(b, name, op))
	}
	return declare[bool](b, n, nil, opts)
}
