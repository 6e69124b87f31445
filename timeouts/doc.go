// Package timeouts holds the hedging policy of featgraph's fetchers: when a
// slow idempotent call sends one backup request, after a fixed delay
// ([HedgeAfter]) or after the upstream's observed latency at a quantile
// ([HedgeAtQuantile]), and how many extra requests hedging may add in all
// ([HedgePolicy.MaxExtra], [HedgePolicy.Burst]). Give it to an upstream
// with fetchers.WithHedging.
//
// The deadline arithmetic the executor and the fetchers share (time left,
// retry backoff, the hedge token budget) is internal to featgraph.
package timeouts
