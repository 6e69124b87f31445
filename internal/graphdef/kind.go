package graphdef

import "fmt"

// Kind says what a node does and how the executor runs it.
type Kind uint8

// The node kinds.
const (
	// KindInput is a value bound by the caller at run time.
	KindInput Kind = iota + 1
	// KindValue is a constant.
	KindValue
	// KindFetch is an effectful call that gets a context and may block; it runs
	// on its own goroutine.
	KindFetch
	// KindCompute is a pure function of its dependencies; it runs inline.
	KindCompute
	// KindIf picks one of two lazy branches from a boolean dependency.
	KindIf
	// KindSwitch picks one of several lazy branches from a key dependency.
	KindSwitch
	// KindAnd is true when all its lazy operands are true; it stops at the first false.
	KindAnd
	// KindOr is true when any of its lazy operands is true; it stops at the first true.
	KindOr
	// KindEach runs one fetch per element of a list dependency, in parallel
	// up to a limit, and keeps the order.
	KindEach
)

var kindNames = [...]string{
	KindInput:   "input",
	KindValue:   "value",
	KindFetch:   "fetch",
	KindCompute: "compute",
	KindIf:      "if",
	KindSwitch:  "switch",
	KindAnd:     "and",
	KindOr:      "or",
	KindEach:    "each",
}

// String returns the lower-case name of the kind, as used in specs and pictures.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind is the inverse of [Kind.String].
func ParseKind(s string) (Kind, error) {
	for k, name := range kindNames {
		if name != "" && name == s {
			return Kind(k), nil
		}
	}
	return 0, fmt.Errorf("graph: unknown node kind %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Blocking reports whether nodes of this kind may block and so run on a
// goroutine of their own rather than inline.
func (k Kind) Blocking() bool { return k == KindFetch || k == KindEach }

// Conditional reports whether the node's lazy dependencies run only when the
// node chooses them (If, Switch) or until it can decide (And, Or).
func (k Kind) Conditional() bool {
	return k == KindIf || k == KindSwitch || k == KindAnd || k == KindOr
}

// Article returns the kind with its indefinite article, for messages: "a
// fetch", "an if".
func Article(k Kind) string {
	switch k {
	case KindInput, KindIf, KindAnd, KindOr, KindEach:
		return "an " + k.String()
	}
	return "a " + k.String()
}
