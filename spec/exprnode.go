package spec

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"

	"github.com/featgraph/featgraph/graph"
)

// expectOf is the expr option that checks, at compile time, that an
// expression has the spec type t.
func expectOf(t Type) []expr.Option {
	switch t {
	case TypeString:
		return []expr.Option{expr.AsKind(reflect.String)}
	case TypeInt:
		return []expr.Option{expr.AsInt()}
	case TypeFloat:
		return []expr.Option{expr.AsFloat64()}
	case TypeBool:
		return []expr.Option{expr.AsBool()}
	case TypeObject:
		return []expr.Option{expr.AsKind(reflect.Map)}
	case TypeList:
		return []expr.Option{expr.AsKind(reflect.Slice)}
	}
	return nil
}

// identifiers collects the names an expression reads.
type identifiers struct {
	known map[string]Type
	names []string
}

func (v *identifiers) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok {
		if _, known := v.known[id.Value]; known && !contains(v.names, id.Value) {
			v.names = append(v.names, id.Value)
		}
	}
}

// exprEnv is the compile-time environment of an expression: the inputs
// and nodes it names, with their types. Only those: building the
// environment of every node for each expression made loading quadratic.
func (b *builder) exprEnv(tree *exprparser.Tree) types.Map {
	ids := &identifiers{known: b.types}
	ast.Walk(&tree.Node, ids)
	env := make(types.Map, len(ids.names))
	for _, name := range ids.names {
		if t := b.types[name]; t == TypeAny {
			env[name] = types.Any
		} else {
			env[name] = types.TypeOf(reflect.Zero(t.GoType()).Interface())
		}
	}
	return env
}

// exprProgram is a compiled expression: the program that runs, guarded,
// and what it needs.
type exprProgram struct {
	src     string
	deps    []string
	program *vm.Program
	typ     Type
	limits  *Limits
	guarded bool // compiled with the guards, which read guardVar
}

func (b *builder) exprNode(n *nodeDecl, d *graphdef.Node) {
	d.Kind = graph.KindFetch
	d.Meta[metaExpr] = n.expr
	t := b.types[n.name]
	if off, msg := checkSource(n.expr, b.limits); msg != "" {
		b.failAt(n.exprPos(off), n.name, "expression %s: %s", quoteShort(n.expr), msg)
		return
	}
	p, err := compileExpr(n.expr, b.exprEnv, t)
	if err != nil {
		at := n.exprAt
		var fe *file.Error
		if errors.As(err, &fe) && n.exprShift >= 0 && fe.Line <= 1 {
			at.col += n.exprShift + fe.Column
		}
		msg := err.Error()
		if fe != nil {
			msg = fe.Message
		}
		b.failAt(at, n.name, "expression %s: %s", quoteShort(n.expr), msg)
		// expr's "unknown name x": x is neither a node, an input, a
		// built-in nor a variable of the expression — an unknown dependency,
		// matching as a Go graph's does.
		if name, ok := strings.CutPrefix(msg, "unknown name "); ok && fe != nil && !strings.ContainsAny(name, " ()") {
			b.errs[len(b.errs)-1].match = &graph.UnknownDependencyError{Node: n.name, Dependency: name}
		}
		return
	}
	p.limits = b.limits
	d.Deps = p.deps
	d.Fetch = p.eval
}

// exprPos is where byte off of the node's expression is in the file: exact
// on the expression's first line, its start otherwise.
func (n *nodeDecl) exprPos(off int) pos {
	at := n.exprAt
	if n.exprShift >= 0 && !strings.Contains(n.expr[:off], "\n") {
		at.col += n.exprShift + off
	}
	return at
}

// quoteShort quotes an expression for a message, cut to its first 60 bytes.
func quoteShort(src string) string {
	const max = 60
	if len(src) <= max {
		return strconv.Quote(src)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(src[cut]) {
		cut--
	}
	return strconv.Quote(src[:cut]) + fmt.Sprintf("… (%d bytes)", len(src))
}

// eval is the body of an expr node. It runs as a fetch: on a goroutine the
// run can abandon at the node's deadline, while the guards end the
// evaluation itself soon after, and bound its memory and steps.
func (p *exprProgram) eval(ctx context.Context, args []any) (any, error) {
	g := newGuard(ctx, p.limits)
	env := make(map[string]any, len(p.deps)+2)
	for i, name := range p.deps {
		env[name] = args[i]
	}
	if p.guarded {
		env[guardVar], env[guardTick] = g, g.tickFunc()
	}
	machine := vm.VM{MemoryBudget: uint(p.limits.ExprMemory)}
	v, err := machine.Run(p.program, env)
	switch {
	case g.err != nil:
		err = g.err
	case err != nil && strings.Contains(err.Error(), "memory budget exceeded"):
		err = &limitError{what: "expression memory budget", limit: p.limits.ExprMemory}
	}
	if err != nil {
		return nil, fmt.Errorf("expression %s: %w", quoteShort(p.src), err)
	}
	return p.typ.Convert(v)
}

// mathFunctions are the functions expressions get besides expr's
// built-ins (abs, ceil, floor, round, min, max, ...): enough arithmetic for
// features such as a great-circle distance.
var mathFunctions = func() []expr.Option {
	unary := map[string]func(float64) float64{
		"sqrt": math.Sqrt, "exp": math.Exp, "log": math.Log, "log1p": math.Log1p,
		"sin": math.Sin, "cos": math.Cos, "tan": math.Tan, "asin": math.Asin, "acos": math.Acos, "atan": math.Atan,
	}
	var opts []expr.Option
	for _, name := range slices.Sorted(maps.Keys(unary)) {
		fn := unary[name]
		opts = append(opts, expr.Function(name, func(args ...any) (any, error) {
			x, err := TypeFloat.Convert(args[0])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return fn(x.(float64)), nil
		}, new(func(float64) float64)))
	}
	opts = append(opts, expr.Function("atan2", func(args ...any) (any, error) {
		y, err1 := TypeFloat.Convert(args[0])
		x, err2 := TypeFloat.Convert(args[1])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("atan2: %w", err)
		}
		return math.Atan2(y.(float64), x.(float64)), nil
	}, new(func(float64, float64) float64)))
	return opts
}()

// compileExpr compiles src as written, to check it against the environment
// env gives for its tree and find its dependencies; then, when it needs
// any, again with the guards, to run. The compiler is third-party code: a panic in it
// becomes an error.
func compileExpr(src string, env func(*exprparser.Tree) types.Map, t Type) (p *exprProgram, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("the expression compiler failed: %v", r)
		}
	}()
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("empty expression")
	}
	tree, err := exprparser.Parse(src)
	if err != nil {
		return nil, err
	}
	if usesEnv(tree.Node) {
		return nil, errors.New("$env is not available in a spec: name the inputs and nodes you read")
	}
	names := env(tree)
	opts := expectOf(t)
	checked, err := compile(src, plainFunctions, append(opts, expr.Env(names))...)
	if err != nil {
		return nil, err
	}
	ids := &identifiers{known: map[string]Type{}}
	for name := range names {
		ids.known[name] = TypeAny
	}
	ast.Walk(new(checked.Node()), ids)
	if !needsGuards(checked.Node()) {
		// Straight-line code over values of fixed size: nothing to guard.
		return &exprProgram{src: src, deps: ids.names, program: checked, typ: t, guarded: false}, nil
	}

	guarded := maps.Clone(names)
	guarded[guardVar] = types.Any
	guarded[guardTick] = types.TypeOf(reflect.Zero(tickType).Interface())
	program, err := compile(src, guardedFunctions, append(opts, expr.Env(guarded), expr.Patch(&guardPatch{}))...)
	if err != nil {
		return nil, fmt.Errorf("guarding the expression: %w", err)
	}
	return &exprProgram{src: src, deps: ids.names, program: program, typ: t, guarded: true}, nil
}

// usesEnv reports whether an expression reads $env, which would reach past
// its dependencies (and to its guard).
func usesEnv(tree ast.Node) bool {
	v := &envUse{}
	ast.Walk(&tree, v)
	return v.found
}

type envUse struct{ found bool }

func (v *envUse) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && id.Value == "$env" {
		v.found = true
	}
}

// exprBuiltins is expr's table of built-ins, made once: expr.Compile makes
// it anew for every expression, which was a third of the cost of loading a
// spec of many expressions.
var exprBuiltins = conf.CreateNew().Builtins

// plainFunctions and guardedFunctions are the tables of functions an
// expression may call, without and with the guard functions, made once.
var plainFunctions, guardedFunctions = functionTable(mathFunctions), functionTable(append(slices.Clip(mathFunctions), guardFunctions...))

func functionTable(opts []expr.Option) conf.FunctionsTable {
	c := conf.CreateNew()
	for _, opt := range opts {
		opt(c)
	}
	return c.Functions
}

// compile is expr.Compile (v1.17) with the tables of built-ins and functions
// shared between expressions: they are only read.
func compile(src string, functions conf.FunctionsTable, opts ...expr.Option) (*vm.Program, error) {
	config := &conf.Config{
		Optimize: true, ShortCircuit: true, MaxNodes: conf.DefaultMaxNodes,
		ConstFns: map[string]reflect.Value{}, Functions: functions, Builtins: exprBuiltins, Disabled: map[string]bool{},
	}
	for _, opt := range opts {
		opt(config)
	}
	config.Check()
	tree, err := checker.ParseCheck(src, config)
	if err != nil {
		return nil, err
	}
	if err := optimizer.Optimize(&tree.Node, config); err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, fe.Bind(tree.Source)
		}
		return nil, err
	}
	return compiler.Compile(tree, config)
}
