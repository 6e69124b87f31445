package spec

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
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

// exprEnv is the compile-time environment: every input and node with its
// type, so that an expression may read any of them; those it reads become
// its dependencies.
func (b *builder) exprEnv() types.Map {
	env := make(types.Map, len(b.types))
	for name, t := range b.types {
		if t == TypeAny {
			env[name] = types.Any
		} else {
			env[name] = types.TypeOf(reflect.Zero(t.GoType()).Interface())
		}
	}
	return env
}

func (b *builder) exprNode(n *nodeDecl, d *graph.Node) {
	d.Kind = graph.KindCompute
	d.Meta[metaExpr] = n.expr
	t := b.types[n.name]
	program, err := compileExpr(n.expr, b.exprEnv(), t)
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
		b.failAt(at, n.name, "expression %q: %s", n.expr, msg)
		return
	}
	ids := &identifiers{known: b.types}
	ast.Walk(new(program.Node()), ids)
	d.Deps = ids.names
	deps := ids.names
	d.Compute = func(args []any) (any, error) {
		env := make(map[string]any, len(deps))
		for i, name := range deps {
			env[name] = args[i]
		}
		v, err := expr.Run(program, env)
		if err != nil {
			return nil, fmt.Errorf("expression %q: %w", n.expr, err)
		}
		return t.Convert(v)
	}
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

// compileExpr compiles src once, checking its result type. The compiler is
// third-party code: a panic in it becomes an error.
func compileExpr(src string, env types.Map, t Type) (program *vm.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			program, err = nil, fmt.Errorf("the expression compiler failed: %v", r)
		}
	}()
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("empty expression")
	}
	opts := append([]expr.Option{expr.Env(env)}, mathFunctions...)
	opts = append(opts, expectOf(t)...)
	return expr.Compile(src, opts...)
}
