package backfill

import "github.com/featgraph/featgraph/executor"

// Output is one output row: the input row, the targets' values and, with
// WithOutcomes, every node's outcome.
type Output struct {
	Row Row
	// Values holds each target's value by the target's name.
	Values map[string]any
	// Outcomes holds every node's outcome by name; nil without WithOutcomes.
	Outcomes map[string]executor.Outcome
}

// OutcomePrefix starts the name of a column holding a node's outcome:
// "outcome.NODE".
const OutcomePrefix = "outcome."

// Fields returns the output row as one flat map: the input columns, the
// targets' values (a target wins over an input column of the same name) and
// the outcomes as "outcome.NODE": "ok".
func (o Output) Fields() map[string]any {
	m := make(map[string]any, len(o.Row.Columns)+len(o.Values)+len(o.Outcomes))
	for k, v := range o.Row.Columns {
		m[k] = v
	}
	for k, v := range o.Values {
		m[k] = v
	}
	for k, v := range o.Outcomes {
		m[OutcomePrefix+k] = v.String()
	}
	return m
}

// Sink receives the output rows of a backfill, one at a time, from one
// goroutine.
type Sink interface {
	Write(Output) error
}

// DeadLetterSink receives the rows that failed, one at a time, from the
// goroutine that calls Sink.Write.
type DeadLetterSink interface {
	WriteDeadLetter(DeadLetter) error
}

// SinkFunc makes a function a Sink.
type SinkFunc func(Output) error

// Write calls f.
func (f SinkFunc) Write(o Output) error { return f(o) }

// DeadLetterFunc makes a function a DeadLetterSink.
type DeadLetterFunc func(DeadLetter) error

// WriteDeadLetter calls f.
func (f DeadLetterFunc) WriteDeadLetter(d DeadLetter) error { return f(d) }
