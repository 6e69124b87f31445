// Package spec reads and writes feature graphs as YAML files, so that a
// graph can be reviewed, validated in CI, drawn and run without compiling Go.
//
// A spec has a version, upstream services, typed inputs and named nodes:
//
//	version: 1
//	upstreams:
//	  accounts:
//	    url: ${ACCOUNTS_URL:-http://localhost:8080}
//	    timeout: 80ms
//	    retry: {attempts: 2, backoff: 5ms}
//	inputs:
//	  card_id: string
//	nodes:
//	  account:
//	    http: {upstream: accounts, path: "/accounts/{card_id}"}
//	  limit:
//	    expr: account.limit * 2
//	    type: float
//	targets: [limit]
//
// # Format
//
// Top level: version (1), description, deadline (the run's deadline, such as
// 700ms: see [Spec.Deadline]), upstreams, inputs, nodes, targets (the nodes a
// run computes; by default those no other node uses).
//
// An upstream has a url (${VAR} and ${VAR:-default} read the environment), a
// timeout (the default of its nodes), and retry {attempts, backoff}, breaker
// {failures, open_for} and hedge {after, quantile} policies. Each upstream
// is a fetchers.Upstream: retries only inside the node's remaining budget,
// a circuit breaker (the fetchers default when none is given), throttled
// hedges, and one call for requests asked twice in a run whose context
// carries fetchers.WithRequestCache.
//
// An input is NAME: TYPE or NAME: {type, description, log}. Types are string,
// int, float, bool, object (a JSON object), list (a JSON array) and any.
//
// A node has exactly one kind key, and may have type, timeout, fallback
// (a value of its type, taken on error, timeout or open circuit),
// description and log:
//
//	log: keep | hash | omit
//	    How a decision log (package decisionlog) writes the value: as it
//	    is (the default), as a keyed HMAC-SHA256, or not at all.
//
//
//	http: {upstream, method, path, query, body, idempotent}
//	    A JSON call. {name} and {name.field} in path, query values and body
//	    strings take the value of a node or input, which becomes a
//	    dependency; a body string that is one placeholder takes the value
//	    itself. In a path each placeholder's value is exactly one escaped
//	    segment (fetchers.PathTemplate): '/', '.', "..", '%', '?' and '#'
//	    in a value from outside cannot change which resource is asked
//	    for, and an empty or dot value fails the node before anything is
//	    sent; literal text is taken as written, and a '?' or '#' in it is a
//	    load error (use query). Errors show the path template, not the
//	    values. The node may override its upstream's retry, breaker and
//	    hedge. Its type defaults to object.
//	value: V
//	    A constant; its type defaults to V's.
//	expr: E
//	    An expression (github.com/expr-lang/expr, with sqrt, exp, log,
//	    log1p, sin, cos, tan, asin, acos, atan and atan2 besides expr's
//	    built-ins) over nodes and inputs, which become its dependencies.
//	    It needs a type, which the expression must have: checked at load.
//	if: COND, then: A, else: B
//	    Only the branch chosen runs.
//	switch: KEY, cases: {K: A, ...}, default: B
//	    The case whose key equals KEY's value (a string, int or bool) runs.
//	and: [A, B, ...] / or: [A, B, ...]
//	    Short-circuit: the first operand that decides cancels the others.
//	each: LIST, http: {...} (with {item}) or go: fetch, limit: N
//	    One fetch per element, at most N at once, results in order.
//	go: fetch|compute, deps: [A, ...]
//	    Go code supplied with [Bind] when loading, its signature checked.
//
// # Loading and writing
//
// [Load] and [Parse] check everything they can before anything runs and
// report every problem with its file:line:col and node name as an [*Error]
// (several are joined in an [ErrorList]): unknown keys, wrong types, unknown
// dependencies, cycles (wrapping a *graph.CycleError), unbound go nodes,
// expressions that do not compile or have the wrong type. They never panic.
// A loaded [*Spec] gives a runnable [*graph.Graph]; close it when done.
// [Write] writes any graph, a Go-built one too, back out in the same format.
//
// # Limits
//
// A spec may come from another team, and the values its expressions read
// from anyone, so loading and expressions are bounded by [Limits] (the
// defaults are [DefaultLimits]; [WithLimits] changes them):
//
//   - FileSize (8 MB): Load reads no more of a file; a larger or endless
//     one (/dev/zero) is an error matching [ErrLimit].
//   - ExprSize (16 KB) and ExprDepth (100): an expression longer, or with
//     brackets or prefix operators nested deeper, is an error at its
//     file:line:col, checked before the expression parser, which recurses
//     once per level, sees it.
//   - ExprMemory (64 MB): about how many bytes one evaluation may allocate
//     in all: strings it builds (+, repeat, join, replace, toJSON...),
//     lists and maps it makes (map, filter, split, ranges...). An operation
//     that would go past it fails before it allocates.
//   - ExprSteps (10 million): how many iterations of predicates (the {...}
//     of all, any, count, map, filter, reduce...) one evaluation may run.
//
// An expr node runs as a blocking node (graph.KindFetch): its node's
// timeout and the run's deadline hold even while it computes, and the
// evaluation checks its context at every predicate iteration and before
// every allocating operation, so that it stops within milliseconds of its
// deadline instead of burning CPU after the run has returned. Past a
// budget, the node fails with an error matching [ErrLimit]; past its
// deadline, it times out. A single built-in call is not interrupted: it is
// bounded by the sizes the memory budget allows. Expressions cannot read
// $env, and loading is linear in the number of nodes.
package spec
