package nodes

import (
	"fmt"

	"github.com/featgraph/featgraph/graph"
)

// If declares a node that takes the value of then when cond is true and of
// otherwise when it is false. Only the chosen branch (and what it depends on)
// runs; the other ends as skipped unless something else needs it.
func If[T any](b *graph.Builder, name string, cond Ref[bool], then, otherwise Ref[T], opts ...Option) Ref[T] {
	n := graph.Node{
		Name: name, Kind: graph.KindIf,
		Lazy: []string{then.Name(), otherwise.Name()},
		Choose: func(args []any) (int, error) {
			if as[bool](args[0]) {
				return 0, nil
			}
			return 1, nil
		},
	}
	b.Fail(checkDep(b, name, then))
	b.Fail(checkDep(b, name, otherwise))
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

// Switch declares a node that takes the value of the case whose key equals
// the value of key, or of otherwise when none does. A zero otherwise means no
// default: a key that matches no case is an error. Only the chosen branch runs.
func Switch[K comparable, T any](b *graph.Builder, name string, key Ref[K], otherwise Ref[T], cases ...Case[K, T]) Ref[T] {
	n := graph.Node{Name: name, Kind: graph.KindSwitch}
	index := make(map[K]int, len(cases))
	for i, c := range cases {
		if _, dup := index[c.Key]; dup {
			b.Fail(&graph.InvalidNodeError{Node: name, Reason: fmt.Sprintf("case %v appears twice", c.Key)})
		}
		index[c.Key] = i
		n.Lazy = append(n.Lazy, c.Then.Name())
		n.Cases = append(n.Cases, c.Key)
		b.Fail(checkDep(b, name, c.Then))
	}
	hasDefault := otherwise.Name() != ""
	if hasDefault {
		n.Lazy = append(n.Lazy, otherwise.Name())
		b.Fail(checkDep(b, name, otherwise))
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
	return declare[T](b, n, []Dep{key}, nil)
}

// And declares a node that is true when every operand is true. Operands run
// concurrently; the first false decides, and operands still running are
// canceled unless something else needs them.
func And(b *graph.Builder, name string, operands ...Ref[bool]) Ref[bool] {
	return logic(b, name, graph.KindAnd, operands)
}

// Or declares a node that is true when any operand is true. Operands run
// concurrently; the first true decides, and operands still running are
// canceled unless something else needs them.
func Or(b *graph.Builder, name string, operands ...Ref[bool]) Ref[bool] {
	return logic(b, name, graph.KindOr, operands)
}

func logic(b *graph.Builder, name string, kind graph.Kind, operands []Ref[bool]) Ref[bool] {
	n := graph.Node{Name: name, Kind: kind}
	for _, op := range operands {
		n.Lazy = append(n.Lazy, op.Name())
		b.Fail(checkDep(b, name, op))
	}
	return declare[bool](b, n, nil, nil)
}
