package graphtest

import (
	"context"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/nodeargs"
	"github.com/featgraph/featgraph/nodes"
)

// policy says whether a node's real body may run.
type policy uint8

const (
	unset   policy = iota // strict: a fetch or each node must not run its real body
	stubbed               // a stub replaces the body
	allowed               // the real body runs (with delays and faults added)
)

// behavior is what a stub does when it is called.
type behavior struct {
	desc    string
	value   any
	err     error
	panicV  any
	fn      func(ctx context.Context, args []any) (any, error)
	hang    bool
	forbid  bool
	isPanic bool
}

// nodeStub is everything the harness does to one node.
type nodeStub struct {
	id     graph.NodeID
	node   *graphdef.Node // in the original graph
	policy policy
	whole  *behavior
	elems  map[int]*behavior
	each   *behavior // the body of every element without an element stub
	delay  time.Duration
	fault  *Fault
	calls  atomic.Int64
}

// stubbable kinds: those with a body to replace.
func canStub(k graph.Kind) bool {
	return k == graph.KindFetch || k == graph.KindCompute || k == graph.KindEach
}

// needsStub reports whether strict mode forbids running n as it is.
func (st *nodeStub) needsStub() bool {
	return st.node.Kind.Blocking() && st.policy == unset
}

// mayHang reports whether some stub or fault of n hangs.
func (st *nodeStub) mayHang() bool {
	if st.whole != nil && st.whole.hang || st.each != nil && st.each.hang {
		return true
	}
	for _, b := range st.elems {
		if b.hang {
			return true
		}
	}
	return st.fault != nil && st.fault.Kind == FaultHang
}

// fails reports whether the test stubbed n to fail as a whole: an error, a
// panic or a hang.
func (st *nodeStub) fails() bool {
	return st.whole != nil && (st.whole.err != nil || st.whole.isPanic || st.whole.hang)
}

// describe says in a few words how n is stubbed, for the outcome table.
func (st *nodeStub) describe() string {
	var parts []string
	switch {
	case st.whole != nil:
		parts = append(parts, st.whole.desc)
	case st.each != nil || len(st.elems) > 0:
		if st.each != nil {
			parts = append(parts, "each: "+st.each.desc)
		}
		idx := make([]int, 0, len(st.elems))
		for i := range st.elems {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		for _, i := range idx {
			parts = append(parts, fmt.Sprintf("[%d]: %s", i, st.elems[i].desc))
		}
	case st.policy == allowed:
		parts = append(parts, "real")
	case st.needsStub():
		parts = append(parts, "NOT STUBBED")
	}
	if st.delay > 0 {
		parts = append(parts, fmt.Sprintf("delay %v", st.delay))
	}
	if st.fault != nil {
		parts = append(parts, "fault: "+st.fault.describe())
	}
	return strings.Join(parts, ", ")
}

// set gives n its whole-node behavior.
func (st *nodeStub) set(b *behavior) error {
	if st.policy != unset || len(st.elems) > 0 || st.each != nil {
		return fmt.Errorf("node %q is stubbed or allowed twice", st.node.Name)
	}
	if st.node.Kind == graph.KindCompute && b.hang {
		return fmt.Errorf("node %q is a compute node, which runs inline: it cannot hang (stub a fetch node instead)", st.node.Name)
	}
	st.policy, st.whole = stubbed, b
	return nil
}

// setElem gives element index of each node n its behavior; index -1 means
// every element without one of its own.
func (st *nodeStub) setElem(index int, b *behavior) error {
	if st.node.Kind != graph.KindEach {
		return fmt.Errorf("node %q is a %s node, not an each node: element stubs need an each node", st.node.Name, st.node.Kind)
	}
	if st.whole != nil || st.policy == allowed {
		return fmt.Errorf("node %q is stubbed or allowed as a whole and per element", st.node.Name)
	}
	if index < 0 {
		if st.each != nil {
			return fmt.Errorf("node %q has two StubEach", st.node.Name)
		}
		st.each = b
	} else {
		if _, dup := st.elems[index]; dup {
			return fmt.Errorf("element %d of node %q is stubbed twice", index, st.node.Name)
		}
		if st.elems == nil {
			st.elems = map[int]*behavior{}
		}
		st.elems[index] = b
	}
	st.policy = stubbed
	return nil
}

// call runs behavior b (nil: the real body, when allowed) after n's delay
// and fault. real is the original body; what names the call in errors.
func (st *nodeStub) call(ctx context.Context, h *Harness, b *behavior, args []any, real func() (any, error), what string) (any, error) {
	st.calls.Add(1)
	if st.fault != nil {
		if err := st.fault.apply(ctx, h); err != nil {
			return nil, err
		}
	}
	if err := sleep(ctx, st.delay); err != nil {
		return nil, err
	}
	switch {
	case b == nil && st.policy == allowed:
		return real()
	case b == nil:
		h.bodyErrorf("graphtest: %s ran but is not stubbed (strict mode): stub it or pass graphtest.Allow", what)
		return nil, fmt.Errorf("%s: %w", what, ErrNotStubbed)
	case b.forbid:
		h.bodyErrorf("graphtest: %s ran, but the test forbids it", what)
		return nil, fmt.Errorf("%s: %w", what, ErrForbidden)
	case b.hang:
		return nil, h.hang()
	case b.isPanic:
		panic(b.panicV)
	case b.fn != nil:
		return b.fn(ctx, args)
	case b.err != nil:
		return nil, b.err
	}
	return b.value, nil
}

// indexed is an element of an each node with its index, so that element
// stubs know which element they serve.
type indexed struct {
	i    int
	elem any
}

// rewrite replaces the body of descriptor d (a copy of n's) by the stub's.
func (st *nodeStub) rewrite(h *Harness, d *graphdef.Node) {
	name := fmt.Sprintf("node %q", d.Name)
	switch d.Kind {
	case graph.KindFetch:
		if st.policy == allowed && st.fault == nil && st.delay == 0 {
			return
		}
		real := d.Fetch
		d.Fetch = func(ctx context.Context, args []any) (any, error) {
			return st.call(ctx, h, st.whole, args, func() (any, error) { return real(ctx, args) }, name)
		}
	case graph.KindCompute:
		if st.whole == nil {
			return
		}
		d.Compute = func(args []any) (any, error) {
			return st.call(context.Background(), h, st.whole, args, nil, name)
		}
	case graph.KindEach:
		if st.policy == allowed && st.fault == nil && st.delay == 0 {
			return
		}
		spec := *d.Each
		d.Each = &spec
		if st.whole != nil {
			// The node as a whole: one call with the list, its result the node's value.
			spec.Split = func(list any) []any { return []any{list} }
			spec.Elem = func(ctx context.Context, list any, _ []any) (any, error) {
				return st.call(ctx, h, st.whole, []any{list}, nil, name)
			}
			spec.Join = func(results []any) any { return results[0] }
			return
		}
		split, real := spec.Split, spec.Elem
		spec.Split = func(list any) []any {
			elems := split(list)
			out := make([]any, len(elems))
			for i, e := range elems {
				out[i] = indexed{i: i, elem: e}
			}
			return out
		}
		spec.Elem = func(ctx context.Context, x any, extra []any) (any, error) {
			ix := x.(indexed)
			b := st.elems[ix.i]
			if b == nil {
				b = st.each
			}
			return st.call(ctx, h, b, []any{ix}, func() (any, error) { return real(ctx, ix.elem, extra) },
				fmt.Sprintf("element %d of node %q", ix.i, d.Name))
		}
	}
}

// lookup returns the stub of the node n names, checking that n is in the
// graph and, when typ is not nil, that its value has type typ.
func (s *setup) lookup(n graph.Target, typ reflect.Type, what string) (*nodeStub, error) {
	if n == nil {
		return nil, fmt.Errorf("%s: nil node", what)
	}
	id, err := s.h.orig.Lookup(n.Name())
	if err != nil {
		return nil, fmt.Errorf("%s: the graph has no node %q", what, n.Name())
	}
	st := s.h.stubs[id]
	if typ != nil && st.node.Type != nil && st.node.Type != typ {
		return nil, fmt.Errorf("%s: node %q has type %v, the stub gives %v", what, n.Name(), st.node.Type, typ)
	}
	return st, nil
}

// stubbable is lookup for a stub that replaces n's body.
func (s *setup) stubbable(n graph.Target, typ reflect.Type, what string) (*nodeStub, error) {
	st, err := s.lookup(n, typ, what)
	if err != nil {
		return nil, err
	}
	if !canStub(st.node.Kind) {
		return nil, fmt.Errorf("%s: node %q is a %s node; only fetch, compute and each nodes have a body to stub", what, n.Name(), st.node.Kind)
	}
	return st, nil
}

// apply wraps an error of an option with the option's name.
func apply(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// as converts a value to T; nil becomes T's zero value.
func as[T any](v any) T {
	t, _ := v.(T)
	return t
}

// Stub makes node ref return v. For an each node, v is the node's whole
// value (the per-element stubs are [StubElem] and [StubEach]).
func Stub[T any](ref graph.Ref[T], v T) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("Stub(%q)", ref.Name())
		st, err := s.stubbable(ref, reflect.TypeFor[T](), what)
		if err != nil {
			return err
		}
		return apply(what, st.set(&behavior{desc: fmt.Sprintf("value %s", short(v)), value: v}))
	}
}

// StubNamed makes the node called name return v, for tests that know only
// names (a graph loaded from a spec): the by-name form of [Stub], as
// executor.BindNamed is of executor.Bind. v's type is checked against the
// node's when the harness is built.
func StubNamed(name string, v any) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubNamed(%q)", name)
		st, err := s.stubbable(graph.Named(name), nil, what)
		if err != nil {
			return err
		}
		if t := st.node.Type; t != nil {
			switch {
			case v == nil && nillable(t):
			case v == nil:
				return fmt.Errorf("%s: nil value, node %q has type %v", what, name, t)
			case !reflect.TypeOf(v).AssignableTo(t):
				return fmt.Errorf("%s: value of type %T, node %q has type %v", what, v, name, t)
			}
		}
		return apply(what, st.set(&behavior{desc: fmt.Sprintf("value %s", short(v)), value: v}))
	}
}

func nillable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Map, reflect.Func, reflect.Chan:
		return true
	}
	return false
}

// StubError makes node n fail with err; the executor wraps it with the
// node's name, and errors.Is(cause, err) holds. [RandomFaults] leaves a node
// stubbed with StubError, [StubPanic] or [StubHang] alone.
func StubError(n graph.Target, err error) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubError(%q)", name(n))
		if err == nil {
			return fmt.Errorf("%s: nil error", what)
		}
		st, e := s.stubbable(n, nil, what)
		if e != nil {
			return e
		}
		return apply(what, st.set(&behavior{desc: "error " + firstLine(err.Error()), err: err}))
	}
}

// StubPanic makes node n panic with v.
func StubPanic(n graph.Target, v any) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubPanic(%q)", name(n))
		st, err := s.stubbable(n, nil, what)
		if err != nil {
			return err
		}
		return apply(what, st.set(&behavior{desc: "panic", isPanic: true, panicV: v}))
	}
}

// StubHang makes fetch or each node n block, ignoring its context, until
// the test ends — a service that never answers. The run goes on only
// through the node's timeout or the run's deadline.
func StubHang(n graph.Target) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubHang(%q)", name(n))
		st, err := s.stubbable(n, nil, what)
		if err != nil {
			return err
		}
		return apply(what, st.set(&behavior{desc: "hang", hang: true}))
	}
}

// Forbid makes the test fail if one of nodes runs. It counts as a stub in
// strict mode: use it for the nodes of a branch the test expects not taken.
func Forbid(nodes ...graph.Target) Option {
	return func(s *setup) error {
		for _, n := range nodes {
			what := fmt.Sprintf("Forbid(%q)", name(n))
			st, err := s.stubbable(n, nil, what)
			if err != nil {
				return err
			}
			if err := st.set(&behavior{desc: "forbidden", forbid: true}); err != nil {
				return apply(what, err)
			}
		}
		return nil
	}
}

// Allow lets fetch or each nodes run their real bodies: strict mode no
// longer stops a run that needs them. Delays and faults still apply.
func Allow(nodes ...graph.Target) Option {
	return func(s *setup) error {
		for _, n := range nodes {
			what := fmt.Sprintf("Allow(%q)", name(n))
			st, err := s.lookup(n, nil, what)
			if err != nil {
				return err
			}
			if !st.node.Kind.Blocking() {
				return fmt.Errorf("%s: node %q is a %s node, which always runs its real body unless stubbed", what, n.Name(), st.node.Kind)
			}
			if st.policy != unset {
				return fmt.Errorf("%s: node %q is stubbed or allowed twice", what, n.Name())
			}
			st.policy = allowed
		}
		return nil
	}
}

// Delay makes fetch or each node n wait d before doing what its stub (or
// real body, when [Allow]ed) does, as a slow service would: the wait ends
// early, with the context's error, when the node's context ends.
func Delay(n graph.Target, d time.Duration) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("Delay(%q, %v)", name(n), d)
		st, err := s.stubbable(n, nil, what)
		if err != nil {
			return err
		}
		if !st.node.Kind.Blocking() {
			return fmt.Errorf("%s: node %q is a %s node, which runs inline and must not block", what, n.Name(), st.node.Kind)
		}
		if d <= 0 || st.delay > 0 {
			return fmt.Errorf("%s: the delay must be positive and given once", what)
		}
		st.delay = d
		return nil
	}
}

// StubFunc1 makes node ref compute its value from its dependency a with fn.
// a must be one of ref's dependencies (for an each node: its list).
func StubFunc1[A, T any](ref graph.Ref[T], a graph.Ref[A], fn func(A) (T, error)) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubFunc1(%q)", ref.Name())
		st, pos, err := s.funcStub(ref, reflect.TypeFor[T](), what, dep{a, reflect.TypeFor[A]()})
		if err != nil {
			return err
		}
		return apply(what, st.set(&behavior{desc: "func", fn: func(_ context.Context, args []any) (any, error) {
			return fn(as[A](args[pos[0]]))
		}}))
	}
}

// StubFunc2 makes node ref compute its value from its dependencies a and b
// with fn.
func StubFunc2[A, B, T any](ref graph.Ref[T], a graph.Ref[A], b graph.Ref[B], fn func(A, B) (T, error)) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubFunc2(%q)", ref.Name())
		st, pos, err := s.funcStub(ref, reflect.TypeFor[T](), what, dep{a, reflect.TypeFor[A]()}, dep{b, reflect.TypeFor[B]()})
		if err != nil {
			return err
		}
		return apply(what, st.set(&behavior{desc: "func", fn: func(_ context.Context, args []any) (any, error) {
			return fn(as[A](args[pos[0]]), as[B](args[pos[1]]))
		}}))
	}
}

// StubFunc3 makes node ref compute its value from its dependencies a, b
// and c with fn.
func StubFunc3[A, B, C, T any](ref graph.Ref[T], a graph.Ref[A], b graph.Ref[B], c graph.Ref[C], fn func(A, B, C) (T, error)) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubFunc3(%q)", ref.Name())
		st, pos, err := s.funcStub(ref, reflect.TypeFor[T](), what,
			dep{a, reflect.TypeFor[A]()}, dep{b, reflect.TypeFor[B]()}, dep{c, reflect.TypeFor[C]()})
		if err != nil {
			return err
		}
		return apply(what, st.set(&behavior{desc: "func", fn: func(_ context.Context, args []any) (any, error) {
			return fn(as[A](args[pos[0]]), as[B](args[pos[1]]), as[C](args[pos[2]]))
		}}))
	}
}

// StubFunc makes node ref compute its value with fn, which gets the node's
// context and its dependencies as the [nodes.Args] a FetchN or ComputeN body
// gets: read any of them with [nodes.Arg] (by Ref) or [nodes.ArgAt] (by
// position). nodes.Arg of a Ref that is not a dependency of the node panics,
// which the executor turns into an error outcome naming the node.
func StubFunc[T any](ref graph.Ref[T], fn func(ctx context.Context, args nodes.Args) (T, error)) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubFunc(%q)", ref.Name())
		st, _, err := s.funcStub(ref, reflect.TypeFor[T](), what)
		if err != nil {
			return err
		}
		ids := make([]graph.NodeID, len(st.node.Deps))
		for i, dep := range st.node.Deps {
			ids[i], _ = s.h.orig.Lookup(dep)
		}
		wrap := nodeargs.New(ids, st.node.Deps)
		return apply(what, st.set(&behavior{desc: "func", fn: func(ctx context.Context, args []any) (any, error) {
			return fn(ctx, wrap(args).(nodes.Args))
		}}))
	}
}

// dep is a dependency named to a StubFunc, with its Go type.
type dep struct {
	ref graph.Target
	typ reflect.Type
}

// funcStub checks a function stub of n over deps and returns the position
// of each dep among n's dependencies.
func (s *setup) funcStub(n graph.Target, typ reflect.Type, what string, deps ...dep) (*nodeStub, []int, error) {
	st, err := s.stubbable(n, typ, what)
	if err != nil {
		return nil, nil, err
	}
	pos := make([]int, len(deps))
	for i, d := range deps {
		pos[i] = slices.Index(st.node.Deps, d.ref.Name())
		if pos[i] < 0 {
			return nil, nil, fmt.Errorf("%s: %q is not a dependency of node %q (its dependencies: %s)",
				what, d.ref.Name(), n.Name(), strings.Join(st.node.Deps, ", "))
		}
		if _, err := s.lookup(d.ref, d.typ, what); err != nil {
			return nil, nil, err
		}
	}
	return st, pos, nil
}

// StubElem makes element index of each node ref return v. Elements without
// a stub of their own use [StubEach]'s function, or fail the test.
func StubElem[U any](ref graph.Ref[[]U], index int, v U) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubElem(%q, %d)", ref.Name(), index)
		st, err := s.elemStub(ref, index, reflect.TypeFor[[]U](), what)
		if err != nil {
			return err
		}
		return apply(what, st.setElem(index, &behavior{desc: fmt.Sprintf("value %s", short(v)), value: v}))
	}
}

// StubElemError makes element index of each node n fail with err.
func StubElemError(n graph.Target, index int, err error) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubElemError(%q, %d)", name(n), index)
		if err == nil {
			return fmt.Errorf("%s: nil error", what)
		}
		st, e := s.elemStub(n, index, nil, what)
		if e != nil {
			return e
		}
		return apply(what, st.setElem(index, &behavior{desc: "error " + firstLine(err.Error()), err: err}))
	}
}

// StubElemHang makes element index of each node n hang, ignoring its
// context, until the test ends.
func StubElemHang(n graph.Target, index int) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubElemHang(%q, %d)", name(n), index)
		st, err := s.elemStub(n, index, nil, what)
		if err != nil {
			return err
		}
		return apply(what, st.setElem(index, &behavior{desc: "hang", hang: true}))
	}
}

// StubEach makes every element of each node ref that has no [StubElem] of
// its own compute its result with fn, from its index and its value. T must
// be the element type of the node's list, which is checked when the harness
// is built.
func StubEach[T, U any](ref graph.Ref[[]U], fn func(index int, elem T) (U, error)) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("StubEach(%q)", ref.Name())
		st, err := s.elemStub(ref, 0, reflect.TypeFor[[]U](), what)
		if err != nil {
			return err
		}
		list, _ := s.lookup(graph.Named(st.node.Deps[0]), nil, what)
		if want := reflect.TypeFor[[]T](); list.node.Type != nil && list.node.Type != want {
			return fmt.Errorf("%s: the function takes elements of type %v, the list %q has type %v",
				what, reflect.TypeFor[T](), list.node.Name, list.node.Type)
		}
		return apply(what, st.setElem(-1, &behavior{desc: "func", fn: func(_ context.Context, args []any) (any, error) {
			ix := args[0].(indexed)
			return fn(ix.i, as[T](ix.elem))
		}}))
	}
}

func (s *setup) elemStub(n graph.Target, index int, typ reflect.Type, what string) (*nodeStub, error) {
	if index < 0 {
		return nil, fmt.Errorf("%s: negative element index", what)
	}
	st, err := s.lookup(n, typ, what)
	if err != nil {
		return nil, err
	}
	if st.node.Kind != graph.KindEach {
		return nil, fmt.Errorf("%s: node %q is a %s node, not an each node", what, n.Name(), st.node.Kind)
	}
	return st, nil
}

// name is n's name, or "<nil>".
func name(n graph.Target) string {
	if n == nil {
		return "<nil>"
	}
	return n.Name()
}

// short formats v in at most 40 characters, for the outcome table.
func short(v any) string {
	s := fmt.Sprintf("%+v", v)
	if _, ok := v.(string); ok {
		s = fmt.Sprintf("%q", v)
	}
	if r := []rune(s); len(r) > 40 {
		s = string(r[:39]) + "…"
	}
	return s
}

// firstLine is the first line of s, cut to 100 characters: a panic's
// stack or a long chain of causes would break the table.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > 100 {
		s = string(r[:99]) + "…"
	}
	return s
}
