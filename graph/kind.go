package graph

import "github.com/featgraph/featgraph/internal/graphdef"

// Kind says what a node does and how the executor runs it. Its String form
// ("fetch", "if", ...) is the one specs and pictures use; it implements
// encoding.TextMarshaler and TextUnmarshaler with it. Blocking reports
// whether nodes of the kind run on a goroutine of their own (fetch, each);
// Conditional whether their lazy dependencies run only when chosen (if,
// switch, and, or).
type Kind = graphdef.Kind

// The node kinds.
const (
	// KindInput is a value bound by the caller at run time.
	KindInput = graphdef.KindInput
	// KindValue is a constant.
	KindValue = graphdef.KindValue
	// KindFetch is an effectful call that gets a context and may block; a
	// blocked fetch holds up no other node.
	KindFetch = graphdef.KindFetch
	// KindCompute is a pure function of its dependencies; it runs inline.
	KindCompute = graphdef.KindCompute
	// KindIf picks one of two lazy branches from a boolean dependency.
	KindIf = graphdef.KindIf
	// KindSwitch picks one of several lazy branches from a key dependency.
	KindSwitch = graphdef.KindSwitch
	// KindAnd is true when all its lazy operands are true; it stops at the
	// first false.
	KindAnd = graphdef.KindAnd
	// KindOr is true when any of its lazy operands is true; it stops at the
	// first true.
	KindOr = graphdef.KindOr
	// KindEach runs one fetch per element of a list dependency, in parallel
	// up to a limit, and keeps the order.
	KindEach = graphdef.KindEach
)

// ParseKind is the inverse of Kind's String method.
func ParseKind(s string) (Kind, error) { return graphdef.ParseKind(s) }
