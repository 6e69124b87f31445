package graphtest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// Run is a finished run of a [Harness], to assert on. Its assertions report
// failures with t.Errorf, so that one test shows every failed expectation;
// the first failure also prints the run's outcome table.
type Run struct {
	h       *Harness
	res     *executor.Result
	err     error
	targets []graph.Target

	mu    sync.Mutex
	shown bool // the table was printed with an earlier failure
}

// Result returns the executor's result of the run. The harness releases it
// when the test ends.
func (r *Run) Result() *executor.Result { return r.res }

// Err returns the error of executor.Run: nil when every target has a value.
func (r *Run) Err() error { return r.err }

// Node returns how node n ended; it fails the test for an unknown node.
func (r *Run) Node(n graph.Target) executor.NodeResult {
	r.h.t.Helper()
	nr, err := r.res.Lookup(name(n))
	if err != nil {
		r.h.t.Fatalf("graphtest: the graph has no node %q", name(n))
	}
	return nr
}

// Outcome returns how node n ended.
func (r *Run) Outcome(n graph.Target) executor.Outcome {
	r.h.t.Helper()
	return r.Node(n).Outcome
}

// Table returns every node's outcome as an aligned table: node, kind,
// outcome, duration, cause, and how the harness stubbed it.
func (r *Run) Table() string { return r.table() }

// failf reports a failed expectation with the outcome table (once per run).
func (r *Run) failf(format string, args ...any) {
	r.h.t.Helper()
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	shown := r.shown
	r.shown = true
	r.mu.Unlock()
	if shown {
		r.h.t.Errorf("graphtest: %s (outcomes in the table above)", msg)
		return
	}
	r.h.t.Errorf("graphtest: %s\noutcomes of the run:\n%s", msg, r.table())
}

// ExpectOutcome checks that node n ended with outcome want.
func (r *Run) ExpectOutcome(n graph.Target, want executor.Outcome) {
	r.h.t.Helper()
	if got := r.Outcome(n); got != want {
		r.failf("node %q ended %s, want %s", name(n), got, want)
	}
}

// Outcomes maps node names to the outcome a test expects of them.
type Outcomes map[string]executor.Outcome

// ExpectOutcomes checks the outcome of every node in want, and reports all
// the differences in one failure.
func (r *Run) ExpectOutcomes(want Outcomes) {
	r.h.t.Helper()
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	var diffs []string
	for _, n := range names {
		nr, err := r.res.Lookup(n)
		switch {
		case err != nil:
			diffs = append(diffs, fmt.Sprintf("the graph has no node %q", n))
		case nr.Outcome != want[n]:
			diffs = append(diffs, fmt.Sprintf("node %q ended %s, want %s", n, nr.Outcome, want[n]))
		}
	}
	if len(diffs) > 0 {
		r.failf("%s", strings.Join(diffs, "\n"))
	}
}

// expectAll checks that each node's outcome is one of want, naming the
// expectation as what.
func (r *Run) expectAll(nodes []graph.Target, what string, want ...executor.Outcome) {
	r.h.t.Helper()
	var bad []string
	for _, n := range nodes {
		if got := r.Outcome(n); !slices.Contains(want, got) {
			bad = append(bad, fmt.Sprintf("%q (%s)", name(n), got))
		}
	}
	if len(bad) > 0 {
		r.failf("expected %s: %s", what, strings.Join(bad, ", "))
	}
}

// ExpectOK checks that nodes produced their own values.
func (r *Run) ExpectOK(nodes ...graph.Target) {
	r.h.t.Helper()
	r.expectAll(nodes, "ok", executor.OutcomeOK)
}

// ExpectRan checks that the run needed nodes and that each reached an end
// of its own — ok, fallback, error or timeout — rather than being skipped
// or canceled.
func (r *Run) ExpectRan(nodes ...graph.Target) {
	r.h.t.Helper()
	r.expectAll(nodes, "ran (ok, fallback, error or timeout)", executor.OutcomeOK, executor.OutcomeFallback, executor.OutcomeError, executor.OutcomeTimeout)
}

// ExpectSkipped checks that the run did not need nodes: not an ancestor of
// a target, or on a branch not taken.
func (r *Run) ExpectSkipped(nodes ...graph.Target) {
	r.h.t.Helper()
	r.expectAll(nodes, "skipped", executor.OutcomeSkipped)
}

// ExpectFellBack checks that nodes failed and took their fallback values.
func (r *Run) ExpectFellBack(nodes ...graph.Target) {
	r.h.t.Helper()
	r.expectAll(nodes, "fell back", executor.OutcomeFallback)
}

// ExpectTimedOut checks that nodes ran out of time (with no fallback).
func (r *Run) ExpectTimedOut(nodes ...graph.Target) {
	r.h.t.Helper()
	r.expectAll(nodes, "timed out", executor.OutcomeTimeout)
}

// ExpectErrored checks that nodes failed with an error (with no fallback),
// by themselves or through a dependency.
func (r *Run) ExpectErrored(nodes ...graph.Target) {
	r.h.t.Helper()
	r.expectAll(nodes, "error", executor.OutcomeError)
}

// ExpectCanceled checks that nodes were canceled.
func (r *Run) ExpectCanceled(nodes ...graph.Target) {
	r.h.t.Helper()
	r.expectAll(nodes, "canceled", executor.OutcomeCanceled)
}

// ExpectHasValue checks that nodes have a value, their own or a fallback:
// what a fault-injection test asks of its decision.
func (r *Run) ExpectHasValue(nodes ...graph.Target) {
	r.h.t.Helper()
	r.expectAll(nodes, "a value (ok or fallback)", executor.OutcomeOK, executor.OutcomeFallback)
}

// ExpectCause checks that node n has a cause matching target (errors.Is):
// the error of its stub, ErrInjected, context.DeadlineExceeded for a
// timeout...
func (r *Run) ExpectCause(n graph.Target, target error) {
	r.h.t.Helper()
	nr := r.Node(n)
	if !errors.Is(nr.Cause, target) {
		r.failf("node %q: cause %v does not match %v", name(n), nr.Cause, target)
	}
}

// ExpectBranch checks that the if or switch node n took the branch named
// branch.
func (r *Run) ExpectBranch(n graph.Target, branch graph.Target) {
	r.h.t.Helper()
	if got := r.Node(n).Branch; got != name(branch) {
		r.failf("node %q took branch %q, want %q", name(n), got, name(branch))
	}
}

// Value returns the value of ref in run r, failing the test (t.Fatal) when
// the node has none.
func Value[T any](r *Run, ref graph.Ref[T]) T {
	r.h.t.Helper()
	v, err := executor.Get(r.res, ref)
	if err != nil {
		r.failf("node %q has no value: %v", ref.Name(), err)
		r.h.t.FailNow()
	}
	return v
}

// ExpectValue checks that node ref has a value (its own or a fallback)
// equal (reflect.DeepEqual) to want.
func ExpectValue[T any](r *Run, ref graph.Ref[T], want T) {
	r.h.t.Helper()
	got, err := executor.Get(r.res, ref)
	switch {
	case err != nil:
		r.failf("node %q has no value, want %s: %v", ref.Name(), show(want), firstLine(err.Error()))
	case !reflect.DeepEqual(got, want):
		r.failf("node %q = %s, want %s", ref.Name(), show(got), show(want))
	}
}

// show formats a value for a failure message.
func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%+v", v)
}
