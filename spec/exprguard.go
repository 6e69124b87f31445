package spec

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// An expression is compiled as written, to check it and find its type and
// dependencies; when it has predicates, string +, ranges or built-ins that
// allocate, it is compiled again with guards, to run. The guards are calls
// that expr's VM makes like any other function, on a per-evaluation
// *guard passed in the environment:
//
//   - $fg_tick(cost) starts the body of every predicate ({...} of all,
//     count, map, reduce...). It counts the step, charges the cost (the
//     slot a map or filter result takes), and ends the evaluation when its
//     context is done: this is the cooperative check that stops an
//     abandoned evaluation soon after its deadline. It is the guard's own
//     func(int) bool in the environment, which expr calls directly, without
//     allocating (a function given with expr.Function costs an allocation
//     per call); it stops the evaluation by panicking, which the VM turns
//     into an error.
//   - $fg_pre(g, op, args...) runs before a string +, a range a..b and the
//     built-ins that allocate (repeat, join, replace, split, toJSON...):
//     it charges what the operation is about to allocate, from the sizes
//     of its arguments, and fails before allocating past the budget. The
//     arguments are bound with let first, so that each is evaluated once.
//
// expr's own budget (vm.VM.MemoryBudget, set to the same limit and counted
// in elements or bytes) still covers array and map literals.
const (
	guardVar  = "$fg"
	guardTick = "$fg_tick"
	guardPre  = "$fg_pre"
)

// slot is what one element of a list or map is charged: an interface value.
const slot = 16

// guard is the budget of one evaluation. It has no exported fields or
// methods: an expression that reaches it through $env can do nothing with it.
type guard struct {
	ctx      context.Context
	done     <-chan struct{}
	deadline time.Time // the context's, checked on the clock too
	checks   uint32    // calls of live so far
	memory   int64     // bytes left
	steps    int64     // predicate iterations left
	limits   *Limits
	err      error // why the evaluation was stopped
}

func newGuard(ctx context.Context, l *Limits) *guard {
	g := &guard{ctx: ctx, done: ctx.Done(), memory: l.ExprMemory, steps: l.ExprSteps, limits: l}
	g.deadline, _ = ctx.Deadline()
	return g
}

// stop records why the evaluation ends and returns it for expr to raise.
func (g *guard) stop(err error) error {
	if g.err == nil {
		g.err = err
	}
	return g.err
}

// charge takes n bytes from the budget.
func (g *guard) charge(n int64) error {
	if n < 0 || n > g.memory {
		g.memory = -1
		return g.stop(&limitError{what: "expression memory budget", limit: g.limits.ExprMemory})
	}
	g.memory -= n
	return nil
}

// live returns why the evaluation must stop, if it must: an earlier
// failure, or its context done.
func (g *guard) live() error {
	if g.err != nil {
		return g.err
	}
	select {
	case <-g.done:
		return g.stop(context.Cause(g.ctx))
	default:
	}
	// The context's timer needs a goroutine to run, which a loaded machine
	// may hold back for milliseconds while this one computes: read the
	// clock too, every few checks.
	if g.checks++; g.checks%8 == 0 && !g.deadline.IsZero() && !time.Now().Before(g.deadline) {
		return g.stop(context.DeadlineExceeded)
	}
	return nil
}

// tick is one predicate iteration.
func (g *guard) tick(cost int64) error {
	if err := g.live(); err != nil {
		return err
	}
	if g.steps--; g.steps < 0 {
		return g.stop(&limitError{what: "expression step budget", limit: g.limits.ExprSteps, count: true})
	}
	return g.charge(cost)
}

// tickFunc is $fg_tick of g.
func (g *guard) tickFunc() func(int) bool {
	return func(cost int) bool {
		if err := g.tick(int64(cost)); err != nil {
			panic(err)
		}
		return true
	}
}

// tickType is the type of $fg_tick.
var tickType = reflect.TypeFor[func(int) bool]()

// guardFunctions are the guard functions as expr options.
var guardFunctions = []expr.Option{
	expr.Function(guardPre, func(args ...any) (any, error) {
		g, ok := args[0].(*guard)
		op, _ := args[1].(string)
		if !ok {
			return nil, errNoGuard
		}
		if err := g.live(); err != nil {
			return nil, err
		}
		return nil, g.charge(cost(op, args[2:], g.memory))
	}),
}

// errNoGuard is the error of a guard function called without its guard,
// which only a bug of the patch can do.
var errNoGuard = errors.New("spec: expression guard missing")

// allocating are the built-ins that allocate in proportion to their
// arguments, with how cost sizes them.
var allocating = map[string]bool{
	"repeat": true, "join": true, "replace": true, "split": true, "splitAfter": true,
	"string": true, "toJSON": true, "fromJSON": true, "toBase64": true, "fromBase64": true,
	"upper": true, "lower": true, "trim": true, "trimPrefix": true, "trimSuffix": true,
	"flatten": true, "concat": true, "reverse": true, "uniq": true, "sort": true,
	"keys": true, "values": true, "toPairs": true, "fromPairs": true, "take": true, "median": true,
}

// perItem is what a predicate iteration of each built-in may keep.
// (A list grown by append takes about twice its final size.)
var perItem = map[string]int64{"map": 2 * slot, "filter": 2 * slot, "groupBy": 4 * slot, "sortBy": 3 * slot}

// cost is about how many bytes op will allocate with args; more than limit
// (or negative) when it would go past it. Arguments of unexpected types
// cost nothing here: the operation itself rejects them.
func cost(op string, args []any, limit int64) int64 {
	str := func(i int) (string, bool) {
		if i >= len(args) {
			return "", false
		}
		s, ok := args[i].(string)
		return s, ok
	}
	s0, isStr := str(0)
	switch op {
	case "+":
		s1, ok := str(1)
		if isStr && ok {
			return int64(len(s0)) + int64(len(s1))
		}
		return 0
	case "..":
		from, ok1 := toInt(args[0])
		to, ok2 := toInt(args[1])
		if !ok1 || !ok2 || to < from {
			return 0
		}
		if n := to - from; n < 0 || n >= limit/slot { // n < 0: it overflowed
			return -1
		}
		return (to - from + 1) * slot
	case "repeat":
		n, ok := toInt(args[1])
		if !isStr || !ok || n <= 0 {
			return 0
		}
		if len(s0) > 0 && n > limit/int64(len(s0)) {
			return -1
		}
		return int64(len(s0)) * n
	case "join":
		sep, _ := str(1)
		var n int64
		list := reflect.ValueOf(args[0])
		if list.Kind() != reflect.Slice {
			return 0
		}
		for i := range list.Len() {
			if s, ok := list.Index(i).Interface().(string); ok {
				n += int64(len(s)) + int64(len(sep))
			}
			if n > limit {
				return -1
			}
		}
		return n + int64(list.Len())*slot
	case "replace":
		old, ok1 := str(1)
		repl, ok2 := str(2)
		if !isStr || !ok1 || !ok2 {
			return 0
		}
		hits := int64(strings.Count(s0, old))
		if old == "" {
			hits = int64(utf8.RuneCountInString(s0)) + 1
		}
		return int64(len(s0)) + hits*int64(len(repl))
	case "split", "splitAfter":
		sep, ok := str(1)
		if !isStr || !ok {
			return 0
		}
		pieces := int64(strings.Count(s0, sep)) + 1
		if sep == "" {
			pieces = int64(utf8.RuneCountInString(s0))
		}
		return pieces * slot
	case "string", "toJSON":
		return textSize(args[0], 0, limit)
	case "flatten":
		return leaves(reflect.ValueOf(args[0]), limit) * slot
	case "concat":
		var n int64
		for _, a := range args {
			if v := reflect.ValueOf(a); v.Kind() == reflect.Slice {
				n += int64(v.Len()) * slot
			}
		}
		return n
	case "fromJSON":
		return int64(len(s0)) * slot
	case "toBase64":
		return int64(len(s0))*4/3 + 4
	}
	// Built-ins whose result is about the size of their first argument.
	if isStr {
		return int64(len(s0))
	}
	switch v := reflect.ValueOf(args[0]); v.Kind() {
	case reflect.Slice, reflect.Array:
		return int64(v.Len()) * slot
	case reflect.Map:
		return int64(v.Len()) * 3 * slot
	}
	return 0
}

// toInt converts a number as expr does for a count or a range bound
// (runtime.ToInt), saturating instead of wrapping.
func toInt(v any) (int64, bool) {
	r := reflect.ValueOf(v)
	switch {
	case r.CanInt():
		return r.Int(), true
	case r.CanUint():
		return int64(min(r.Uint(), math.MaxInt64)), true
	case r.CanFloat():
		f := r.Float()
		switch {
		case f != f: // NaN
			return 0, true
		case f >= math.MaxInt64:
			return math.MaxInt64, true
		case f <= math.MinInt64:
			return math.MinInt64, true
		}
		return int64(f), true
	}
	return 0, false
}

// maxDepth is how deep textSize and leaves look into nested values before
// taking them as too large (values from JSON are never deeper than 10,000).
const maxDepth = 10_000

// textSize is about how long the text (fmt or indented JSON) of v is, at
// nesting depth; it stops counting past limit. It counts a value each time
// it appears: a list holding the same long string a thousand times prints
// it a thousand times.
func textSize(v any, depth int, limit int64) int64 {
	const elem = 4 // separator, quotes, a space
	if depth > maxDepth || limit < 0 {
		return math.MaxInt64
	}
	switch v := v.(type) {
	case nil:
		return 4
	case string:
		return int64(len(v)) + 2
	case bool:
		return 5
	case int, int64, float64, float32, int32, uint, uint64:
		return 24
	}
	rv := reflect.ValueOf(v)
	n := int64(2)
	// add adds the text of one element; false when it goes past limit.
	add := func(parts ...any) bool {
		n += elem + 2*int64(depth+1)
		for _, p := range parts {
			c := textSize(p, depth+1, limit-n)
			if c > limit-n {
				return false
			}
			n += c
		}
		return n <= limit
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range rv.Len() {
			if !add(rv.Index(i).Interface()) {
				return math.MaxInt64
			}
		}
	case reflect.Map:
		it := rv.MapRange()
		for it.Next() {
			if !add(it.Key().Interface(), it.Value().Interface()) {
				return math.MaxInt64
			}
		}
	default:
		n = 64
	}
	return n
}

// leaves counts the non-list elements of v, looking into nested lists as
// flatten does; past limit/slot of them, or maxDepth levels, it returns
// math.MaxInt64/slot.
func leaves(v reflect.Value, limit int64) int64 {
	return leavesAt(v, 0, limit/slot)
}

func leavesAt(v reflect.Value, depth int, max int64) int64 {
	const tooMany = math.MaxInt64 / slot
	if depth > maxDepth || max < 0 {
		return tooMany
	}
	for v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return 1
	}
	var n int64
	for i := range v.Len() {
		c := leavesAt(v.Index(i), depth+1, max-n)
		if c > max-n {
			return tooMany
		}
		n += c
	}
	return n
}

// guardPatch is the expr visitor that adds the guards.
type guardPatch struct {
	vars int  // let variables made so far
	dry  bool // only count what needs a guard, in needed
	// needed counts the nodes that needed a guard.
	needed int
}

// needsGuards reports whether the expression of tree needs guards: whether
// it has predicates, string + or built-ins that allocate.
func needsGuards(tree ast.Node) bool {
	p := &guardPatch{dry: true}
	ast.Walk(&tree, p)
	return p.needed > 0
}

func (p *guardPatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BuiltinNode:
		for _, arg := range n.Arguments {
			if pred, ok := arg.(*ast.PredicateNode); ok {
				if p.needed++; p.dry {
					continue
				}
				tick := &ast.CallNode{Callee: &ast.IdentifierNode{Value: guardTick}, Arguments: []ast.Node{&ast.IntegerNode{Value: int(perItem[n.Name])}}}
				tick.SetLocation(pred.Location())
				body := &ast.SequenceNode{Nodes: []ast.Node{tick, pred.Node}}
				body.SetLocation(pred.Node.Location())
				pred.Node = body
			}
		}
		if allocating[n.Name] {
			if p.needed++; !p.dry {
				p.wrap(node, n.Name, n.Arguments)
			}
		}
	case *ast.BinaryNode:
		if n.Operator == "+" && mayBeString(n.Left) && mayBeString(n.Right) || n.Operator == ".." {
			if p.needed++; p.dry {
				return
			}
			args := []ast.Node{n.Left, n.Right}
			p.wrap(node, n.Operator, args)
			n.Left, n.Right = args[0], args[1]
		}
	}
}

// mayBeString reports whether the value of n may be a string.
func mayBeString(n ast.Node) bool {
	t := n.Type()
	return t == nil || t.Kind() == reflect.String || t.Kind() == reflect.Interface
}

// call makes the node calling guard function fn on the guard and args.
func (p *guardPatch) call(fn string, at ast.Node, args ...ast.Node) ast.Node {
	c := &ast.CallNode{Callee: &ast.IdentifierNode{Value: fn}, Arguments: append([]ast.Node{&ast.IdentifierNode{Value: guardVar}}, args...)}
	c.SetLocation(at.Location())
	return c
}

// wrap replaces *node, an operation on args, with
//
//	let $fg1 = args[0]; ...; $fg_pre($fg, op, $fg1, ...); <the operation on $fg1, ...>
//
// args is updated in place to the variables.
func (p *guardPatch) wrap(node *ast.Node, op string, args []ast.Node) {
	orig := *node
	vars := make([]ast.Node, len(args))
	names := make([]string, len(args))
	for i, a := range args {
		p.vars++
		names[i] = guardVar + itoa(p.vars)
		id := &ast.IdentifierNode{Value: names[i]}
		id.SetLocation(a.Location())
		vars[i] = id
	}
	values := append([]ast.Node(nil), args...)
	copy(args, vars)
	pre := p.call(guardPre, orig, append([]ast.Node{&ast.StringNode{Value: op}}, vars...)...)
	var out ast.Node = &ast.SequenceNode{Nodes: []ast.Node{pre, orig}}
	out.SetLocation(orig.Location())
	for i := len(values) - 1; i >= 0; i-- {
		let := &ast.VariableDeclaratorNode{Name: names[i], Value: values[i], Expr: out}
		let.SetLocation(orig.Location())
		out = let
	}
	*node = out
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}
