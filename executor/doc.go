// Package executor runs a [graph.Graph]: lazily (only what the targets need,
// and through conditionals only the branches taken), concurrently (every node
// starts the moment its last dependency finishes), and within deadlines that
// hold even against nodes that ignore their context.
//
// Every node of a run ends with exactly one [Outcome] — ok, fallback, error,
// timeout, skipped or canceled — with its cause, start and end times and
// attempt count, and typed values are read back with [Get]:
//
//	ex, err := executor.New(g, executor.WithRunTimeout(700*time.Millisecond))
//	res, err := ex.Run(ctx, []executor.Binding{executor.Bind(cardID, "c1")}, decision)
//	defer res.Release() // nil-safe
//	d, err := executor.Get(res, decision)
//
// # Promises
//
// They hold with thousands of runs in flight on a saturated machine (the
// package's stress tests check them so, under -race):
//
//   - Deadlines decide, not timers. A node's deadline is its Timeout capped by
//     the run's deadline (WithRunTimeout, or ctx's). It is compared with the
//     clock reading that gives the node its end time: a value or an error
//     returned at or after the deadline is a timeout — the node takes its
//     fallback, with a [*TimeoutError] as cause, or ends as timed out. A late
//     value is never ok. A timer ends a node whose body ignores its context
//     promptly, but decides nothing the body's return would not.
//   - At the run's deadline the run is over: Run returns, nodes in flight end
//     as timed out and nodes waiting as canceled, with no fallback.
//   - When ctx is canceled, Run returns at once: nodes in flight and waiting
//     end as canceled, their cause wrapping ctx's.
//   - Nothing starts after Run returns, and nothing is written into the
//     Result: a body still running then finds its context canceled, and what
//     it returns is discarded. No body starts when ctx is already done, or
//     past its node's deadline; every retry checks the context first.
//   - If an input the targets need through static dependencies is not bound
//     (and has no fallback), nothing starts: Run fails with an
//     [*UnboundInputError]. An input needed only through a branch not taken
//     is not needed.
//   - A node fails as soon as one of its dependencies ends without a value,
//     without waiting for the others, with a [*DependencyError] whose Root is
//     the failure first in time. Dependencies that nothing else needs any
//     more end as canceled ([ErrNotNeeded]); their context is canceled when
//     they have one of their own (a Timeout, or an operand of And/Or), else
//     when Run returns.
//   - Every function the graph was given — bodies, fallbacks, retry
//     predicates, choosers, Each element functions — runs under a recover: a
//     panic ends its node with a [*PanicError] naming it, and
//     runtime.Goexit (t.Fatal in a stub) with a [*NodeError] wrapping
//     [ErrGoexit]; the node's users go on. No user code runs on the goroutine
//     that called Run.
//   - A [Result] is safe for concurrent reads. After [Result.Release] (safe
//     on nil, and twice) any use of it, or of a copy of it, panics with
//     "featgraph: Result used after Release"; values read before stay valid.
//     A body must not keep the []any (or nodes.Args) it was given past its
//     return: that memory is reused by later runs.
//
// # Debugging
//
// [WithSequential] runs the same graph one node at a time, in a fixed
// order, with the same outcomes and Result wherever they do not depend on
// timing, and the promises above: when a failure goes away with it, it
// comes from concurrency.
//
// # Cost
//
// A run takes no lock: each node has an atomic status word, and every
// transition (claiming a ready node, recording how it ended, failing it
// because a dependency failed, the run's end) is one compare-and-swap, so
// that of two goroutines deciding one node exactly one wins. The goroutine
// that finishes a node runs the first blocking node this made ready itself
// and puts the others on the run's queue, which the run's goroutines take
// from when their own work is done; pure nodes run inline, unclaimed (one
// compare-and-swap each). While the queue holds a node, one more goroutine
// is always on its way to take it: when a body blocks, the nodes queued
// behind it start at once, each on a goroutine of its own, as if every
// fetch had one; when bodies return at once, one goroutine runs them in
// turn, with no hand-off. A target set of inputs, values and compute nodes
// only runs as one pass in topological order on one goroutine. What a
// target set needs is planned once per Executor. See the README's
// Performance section for figures.
//
// # Times
//
// A node with a deadline (its own Timeout, or the run's) reads the clock
// when it ends, and that reading decides its outcome. A node without one
// whose body was seen to take under a microsecond shares clock readings
// with the quick nodes run next to it on one goroutine (up to 8): it may
// then end at the time it started, the last reading, and a later node of
// the batch carry the batch's time. The reading that follows a batch (at
// the latest when its goroutine ends) checks it: a batch that took longer
// than quick nodes should has its nodes timed one by one again from their
// next run on. The run's end, and its last target's, are always read.
//
// An Executor is safe for concurrent use; each run's state comes from a pool
// and goes back to it on [Result.Release].
package executor
