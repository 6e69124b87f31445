package executor

import "fmt"

// Outcome is how a node ended in a run.
type Outcome uint8

// The outcomes. Every node of a run ends as exactly one of them.
const (
	// OutcomeSkipped: the run did not need the node (not an ancestor of a target, or
	// on a branch not taken). It has no value and no span.
	OutcomeSkipped Outcome = iota
	// OutcomeOK: the node produced its value.
	OutcomeOK
	// OutcomeFallback: the node failed and took its fallback value; the cause says why.
	OutcomeFallback
	// OutcomeError: the node failed (its body returned an error or panicked, or a
	// dependency failed) and has no value.
	OutcomeError
	// OutcomeTimeout: the node's timeout or the run's deadline passed first.
	OutcomeTimeout
	// OutcomeCanceled: the run was canceled, or ended before the node was needed
	// any more (the other operand of an And/Or decided first).
	OutcomeCanceled
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
func (o Outcome) HasValue() bool { return o == OutcomeOK || o == OutcomeFallback }

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
