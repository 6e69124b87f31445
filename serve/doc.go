// Package serve turns feature graphs into a decision service: an
// http.Handler that serves one or more graphs, loaded from specs or built in
// Go, with the endpoints every model service needs.
//
//	POST /v1/graphs/{name}/decide        flat JSON inputs in, the targets' values out
//	POST /v1/graphs/{name}/decide-batch  N rows in, N results out, in order
//	GET  /v1/graphs                      the graphs served
//	GET  /v1/graphs/{name}               inputs, targets, nodes, version
//	GET  /v1/graphs/{name}/graph.svg     the graph drawn (Graphviz), and graph.dot
//	GET  /healthz, /readyz               liveness; readiness (503 while draining)
//	GET  /metrics                        the handler given by WithMetricsHandler
//	GET  /debug/featgraph                pictures of the graphs and of recent runs worth a look
//
// A decide answers 200 when every target has a value (fallbacks included),
// 504 when a target has none because time ran out (the run's deadline or the
// caller's), 502 when a target has none because a node failed (an upstream
// error, a panic, an open circuit without fallback), always with every node
// that did not end ok and its cause. Bad input is 400 with a JSON error naming
// the field, a missing or wrong bearer token 401, an unknown graph 404, a body
// over the size limit 413, more runs in flight than allowed 429 with
// Retry-After (answered at once, before the body is read), and a server that
// is draining 503. Every error body of these endpoints is JSON:
// {"error": "...", "field": "..."}; an unknown path is net/http's plain 404,
// a known path with the wrong method its 405.
//
// A request's deadline is the smaller of the graph's run deadline (a spec's
// deadline key, or GraphDeadline) and the caller's X-Request-Deadline-Ms
// header; fetch nodes pass what is left of it to their upstreams in the same
// header. Incoming W3C trace context (through the configured propagator) is
// continued by the run's spans and by the calls to upstreams.
//
// Graphs can be replaced while serving (Server.Swap): a run that has started
// finishes on the graph it started with, and a replaced spec's upstreams are
// closed once its last run ends.
//
// Every decide run can be observed (WithRunObserver) by a decision log or a
// shadow graph, synchronously, before its result is released.
package serve
