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
//	res, err := ex.Run(ctx, []executor.Input{executor.Bind(cardID, "c1")}, decision)
//	d, err := executor.Get(res, decision)
//
// An Executor is safe for concurrent use; each run's state comes from a pool
// and goes back to it on [Result.Release].
package executor
