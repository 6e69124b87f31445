// Package timeouts holds the deadline arithmetic of featgraph: how much of a
// run's budget is left, the deadline a node gets (its own timeout, never past
// the run's deadline), whether a retry's backoff still fits, and when to
// hedge a slow call and how many hedges the budget allows (HedgePolicy,
// HedgeBudget).
//
// It depends on the standard library only, so that the executor and the
// fetchers share one definition of "time left".
package timeouts
