package executor

import "fmt"

// Outcome is how a node ended in a run.
type Outcome uint8

// The outcomes. Every node of a run ends as exactly one of them.
const (
	// Skipped: the run did not need the node (not an ancestor of a target, or
	// on a branch not taken). It has no value and no span.
	Skipped Outcome = iota
	// OK: the node produced its value.
	OK
	// Fallback: the node failed and took its fallback value; the cause says why.
	Fallback
	// Error: the node failed (its body returned an error or panicked, or a
	// dependency failed) and has no value.
	Error
	// Timeout: the node's timeout or the run's deadline passed first.
	Timeout
	// Canceled: the run was canceled, or ended before the node was needed
	// any more (the other operand of an And/Or decided first).
	Canceled
)

var outcomeNames = [...]string{"skipped", "ok", "fallback", "error", "timeout", "canceled"}

// String returns the lower-case name of the outcome.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// HasValue reports whether a node with this outcome has a value.
func (o Outcome) HasValue() bool { return o == OK || o == Fallback }

// MarshalText implements encoding.TextMarshaler.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *Outcome) UnmarshalText(b []byte) error {
	for i, name := range outcomeNames {
		if name == string(b) {
			*o = Outcome(i)
			return nil
		}
	}
	return fmt.Errorf("executor: unknown outcome %q", b)
}
