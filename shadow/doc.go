// Package shadow runs a candidate graph beside the live one on a sampled
// share of requests, and compares their decisions.
//
// A [Runner] starts the candidate after the live run has ended (it is a
// [decisionlog.Shadower]: give it to decisionlog.NewLogger). The candidate
// runs on its own goroutine, with its own budget, under a cap on shadow
// runs in flight; it gets the live run's inputs and the live request's
// context values but not its cancellation, so the request cache that
// fetchers.WithRequestCache put there answers every call the live run
// already made: a candidate node asking the same upstream for the same
// thing makes no second call, and only what is new in the candidate is
// fetched. The live answer is never changed nor delayed: Start copies what
// it needs and returns; a candidate that panics, hangs past its budget or
// fails only shows in the shadow result.
//
// Each shadow run gives a [decisionlog.Shadow] (the candidate's targets,
// node outcomes and a per-target diff) and OpenTelemetry metrics: runs by
// result, comparisons by target and agreement, and the decision values of
// live and candidate, so that approval rates can be compared and not only
// agreement (a model can agree on most requests and still shift rates).
package shadow
