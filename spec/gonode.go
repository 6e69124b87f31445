package spec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"reflect"

	"github.com/featgraph/featgraph/graph"
)

// ErrUnbound is the error of a go node that runs without Go code bound to it.
var ErrUnbound = errors.New("go node has no Go code bound (spec.Bind)")

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// refineBound gives the value of each bound go node declared as any the Go
// type its function returns, so that the Go code of its users is checked
// against that type.
func (b *builder) refineBound() {
	for name, fn := range b.c.funcs {
		d, ok := b.decls[name]
		if !ok || d.kind != "go" || b.types[name] != TypeAny || fn == nil {
			continue
		}
		if ft := reflect.TypeOf(fn); ft.Kind() == reflect.Func && ft.NumOut() == 2 {
			b.goTypes[name] = ft.Out(0)
		}
	}
}

// bound returns the function bound to n, checked against the signature
// want (parameter and result types), or ok false after reporting why.
func (b *builder) bound(n *nodeDecl, withContext bool, params []reflect.Type, paramNames []string, result reflect.Type) (reflect.Value, bool) {
	fn, has := b.c.funcs[n.name]
	if !has {
		if b.c.allowUnbound {
			b.unbound = append(b.unbound, n.name)
			return reflect.Value{}, true
		}
		b.failAt(n.at, n.name, "go node is not bound: load the spec with spec.Bind(%q, fn)", n.name)
		return reflect.Value{}, false
	}
	if fn == nil {
		return reflect.Value{}, false
	}
	want := signature(withContext, params, result)
	ft := reflect.TypeOf(fn)
	bad := func(why string, args ...any) (reflect.Value, bool) {
		b.failAt(n.at, n.name, "Bind(%q): %T does not fit the node: %s (want %s)", n.name, fn, fmt.Sprintf(why, args...), want)
		return reflect.Value{}, false
	}
	if ft.Kind() != reflect.Func {
		return bad("not a function")
	}
	if ft.IsVariadic() {
		return bad("variadic")
	}
	shift := 0
	if withContext {
		shift = 1
	}
	if ft.NumIn() != len(params)+shift {
		return bad("%d parameters", ft.NumIn())
	}
	if withContext && ft.In(0) != contextType {
		return bad("the first parameter is not a context.Context")
	}
	for i, p := range params {
		in := ft.In(i + shift)
		if p.Kind() != reflect.Interface && !p.AssignableTo(in) {
			return bad("parameter %d is a %v but %s is a %v", i+shift+1, in, paramNames[i], p)
		}
	}
	if ft.NumOut() != 2 || ft.Out(1) != errorType {
		return bad("it does not return (value, error)")
	}
	if !ft.Out(0).AssignableTo(result) {
		return bad("it returns a %v, the node is a %v", ft.Out(0), result)
	}
	return reflect.ValueOf(fn), true
}

func signature(withContext bool, params []reflect.Type, result reflect.Type) string {
	s := "func("
	if withContext {
		s += "context.Context"
	}
	for i, p := range params {
		if i > 0 || withContext {
			s += ", "
		}
		s += p.String()
	}
	return s + ") (" + result.String() + ", error)"
}

// callBound calls fn with args converted to its parameter types, checking
// the values that were declared as any.
func callBound(node string, fn reflect.Value, ctx context.Context, args []any) (any, error) {
	ft := fn.Type()
	in := make([]reflect.Value, 0, ft.NumIn())
	if ctx != nil {
		in = append(in, reflect.ValueOf(ctx))
	}
	for _, a := range args {
		want := ft.In(len(in))
		if a == nil {
			in = append(in, reflect.Zero(want))
			continue
		}
		v, err := coerce(a, want)
		if err != nil {
			return nil, fmt.Errorf("go node %q: argument %d: %w", node, len(in)+1, err)
		}
		in = append(in, v)
	}
	out := fn.Call(in)
	if err, _ := out[1].Interface().(error); err != nil {
		return nil, err
	}
	return out[0].Interface(), nil
}

// coerce returns v as a value of type want. A value that a spec made (a
// JSON object, list or number, from a value node, a fallback or an http
// answer) becomes a Go struct, slice or number through JSON, so that a
// Go-built graph written as a spec runs with its Go types again.
func coerce(v any, want reflect.Type) (reflect.Value, error) {
	rv := reflect.ValueOf(v)
	if rv.Type().AssignableTo(want) {
		return rv, nil
	}
	switch v.(type) {
	case map[string]any, []any, float64, int, string, bool:
		js, err := json.Marshal(v)
		if err == nil {
			out := reflect.New(want)
			if err = json.Unmarshal(js, out.Interface()); err == nil {
				return out.Elem(), nil
			}
		}
		return reflect.Value{}, fmt.Errorf("%s does not decode into a %v: %w", describe(v), want, err)
	}
	return reflect.Value{}, fmt.Errorf("a %T is not a %v", v, want)
}

func (b *builder) goNode(n *nodeDecl, d *graphdef.Node) {
	fetch := n.goKind == "fetch"
	d.Kind = graph.KindCompute
	if fetch {
		d.Kind = graph.KindFetch
	}
	d.Meta[metaGo] = n.goKind
	d.Deps = append([]string(nil), n.deps...)
	if !fetch && n.Retry != nil {
		b.failAt(n.at, n.name, "retry needs go: fetch; a compute node is pure and is not retried")
	}
	d.Retry = b.retry(n, nil)
	b.setPolicies(n, d)
	params := make([]reflect.Type, len(n.deps))
	for i, dep := range n.deps {
		params[i] = b.goTypes[dep]
	}
	t := b.types[n.name]
	fn, ok := b.bound(n, fetch, params, n.deps, t.GoType())
	if !ok {
		return
	}
	name := n.name
	if !fn.IsValid() {
		d.Fetch = func(context.Context, []any) (any, error) { return nil, fmt.Errorf("%q: %w", name, ErrUnbound) }
		d.Compute = func([]any) (any, error) { return nil, fmt.Errorf("%q: %w", name, ErrUnbound) }
		if fetch {
			d.Compute = nil
		} else {
			d.Fetch = nil
		}
		return
	}
	if t == TypeAny {
		d.Type = fn.Type().Out(0)
		if n.hasFallback && d.Type.Kind() != reflect.Interface {
			// The fallback is data from the file; the node's users expect its Go type.
			v, err := coerce(n.fallback, d.Type)
			if err != nil {
				b.failAt(n.fallbackAt, n.name, "fallback: %v", err)
				return
			}
			n.fallback = v.Interface()
		}
	}
	if fetch {
		d.Fetch = func(ctx context.Context, args []any) (any, error) { return callBound(name, fn, ctx, args) }
	} else {
		d.Compute = func(args []any) (any, error) { return callBound(name, fn, nil, args) }
	}
}

func (b *builder) eachNode(n *nodeDecl, d *graphdef.Node) {
	d.Kind = graph.KindEach
	d.Deps = []string{n.list}
	b.checkFlow(n, n.list, TypeList, "list")
	spec := &graphdef.EachSpec{
		Limit: n.limit,
		Split: func(list any) []any {
			if l, ok := list.([]any); ok {
				return l
			}
			v := reflect.ValueOf(list)
			if v.Kind() != reflect.Slice {
				return nil
			}
			out := make([]any, v.Len())
			for i := range out {
				out[i] = v.Index(i).Interface()
			}
			return out
		},
		Join: func(results []any) any { return append([]any(nil), results...) },
	}
	d.Each = spec
	name := n.name
	if n.goElem {
		d.Meta[metaGo] = "fetch"
		d.Retry = b.retry(n, nil)
		b.setPolicies(n, d)
		elemType := reflect.TypeFor[any]()
		fn, ok := b.bound(n, true, []reflect.Type{elemType}, []string{"the element"}, elemType)
		if !ok {
			return
		}
		if !fn.IsValid() {
			spec.Elem = func(context.Context, any, []any) (any, error) { return nil, fmt.Errorf("%q: %w", name, ErrUnbound) }
			return
		}
		spec.Elem = func(ctx context.Context, elem any, _ []any) (any, error) {
			return callBound(name, fn, ctx, []any{elem})
		}
		return
	}
	r, c, ok := b.request(n, d)
	if !ok {
		return
	}
	for _, ref := range r.deps {
		if ref != "item" {
			b.failAt(n.http.at, n.name, "the request of an each node can use {item} (the element) but not {%s}", ref)
			return
		}
	}
	spec.Elem = func(ctx context.Context, elem any, _ []any) (any, error) {
		req, err := r.render(map[string]any{"item": elem})
		if err != nil {
			return nil, err
		}
		return c.fetch(ctx, req)
	}
}
