// Package fetchers gives featgraph fetch nodes that call HTTP/JSON
// upstreams and hold up when those upstreams are slow, down or wrong.
//
// An [Upstream] is one service, shared by every run: its base URL, a
// go-retryablehttp client, a gobreaker circuit breaker, a hedging policy
// and live [Stats]. Fetch nodes are declared with [JSON], [JSON1], [JSON2]
// and [JSON0] (a typed answer), [ModelScore] and [ModelScoreBatch] (the
// model service), on top of nodes.FetchN and friends, so node options such
// as nodes.Timeout and nodes.Fallback apply:
//
//	accounts, _ := fetchers.NewUpstream("accounts", "http://accounts.internal",
//		fetchers.WithHedging(timeouts.HedgeAtQuantile(0.95, time.Millisecond)))
//	account := fetchers.JSON1[Account](b, "account", accounts, cardID,
//		func(id string) (fetchers.Request, error) { return fetchers.GetPathRequest("/accounts/{id}", id) },
//		nodes.Timeout(80*time.Millisecond), nodes.Fallback(Account{}))
//
// Every call:
//   - is retried with exponential backoff (or the upstream's Retry-After)
//     on connection errors, truncated bodies, 5xx but 501, and 429, only
//     when the request is idempotent (GET, PUT, DELETE… or
//     Request.Idempotent), and never when the wait plus one more attempt
//     would pass the deadline: the call then fails at once with
//     ErrRetryBudget rather than time out;
//   - goes through the upstream's breaker: while it is open the call fails
//     in microseconds with an error matching ErrCircuitOpen and
//     gobreaker.ErrOpenState, so a fallback serves at once; half-open
//     probes close it again;
//   - may be hedged: after a fixed delay or the upstream's observed p95,
//     one backup request goes out, the first answer wins and the other is
//     canceled; hedges spend tokens of a budget (at most 5% extra requests
//     by default) and pause while the breaker is not closed;
//   - carries the trace context (W3C traceparent through the otel
//     propagator) and the time left in the DeadlineHeader header;
//   - follows at most DefaultMaxRedirects redirects, and only within the
//     upstream's origin (scheme, host, port): any other is an error
//     matching ErrRedirect that names the redacted location, so no header
//     set by hooks, WithHeader, the request, the trace context or the
//     deadline reaches another server (WithRedirects opens this up, and
//     then drops those headers when a redirect leaves the origin);
//   - reads at most WithMaxBodyBytes of body, and fails with an *Error that
//     names the upstream, the node and what was wrong (ErrStatus,
//     ErrNotJSON, ErrWrongShape, ErrTruncated, ErrTooLarge).
//
// # Untrusted values
//
// Values that come from outside (ids in a request, fields of another
// answer) go into a path through [GetPathRequest], [PathOf] or Request.PathValues:
// each value becomes exactly one escaped segment, so '/', '.', "..", '%',
// '?' and '#' in it cannot change which resource is asked for; an empty
// value, or one holding a dot segment, is an error matching ErrBadPath,
// and the request is not sent. Any Request.Path is checked too: a "." or
// ".." segment or an empty one between slashes, as written or once
// decoded, is refused. Query values (Request.Query, Get's pairs) are
// escaped as query values.
//
// Errors keep secrets out: every transport error, retry cause and redirect
// error has its URLs redacted (see [Redact]: userinfo dropped, query values
// replaced by "REDACTED"), and an *Error shows the method, the upstream,
// the node and the path — the template rather than the values when the
// path came from GetPath or PathValues. A body excerpt of at most 256
// bytes of an unexpected answer is kept, as the upstream sent it.
//
// Within one run, [WithRequestCache] makes fetch nodes that ask the same
// upstream for the same thing (requests' own headers included) share one
// call, which lives as long as some caller still waits for it: put it in
// the context given to the executor's Run.
package fetchers
