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
// Node kinds: http (a JSON call to an upstream, path, query and body
// templated from dependencies with {name} or {name.field}, sent through a
// fetchers.Upstream per upstream: retries inside the node's budget, a circuit
// breaker, hedged requests, the request cache), value (a
// constant), expr (an expression over dependencies, compiled at load, with a
// declared result type), if/switch (only the chosen branch runs), and/or
// (short-circuit), each (one fetch per element of a list) and go (a node
// whose body Go code supplies with [Bind]).
//
// [Load] and [Parse] check everything they can before anything runs and
// report every problem with its file:line:col and node name as an [*Error]
// (several are joined in an [ErrorList]); they never panic. A loaded [*Spec]
// gives a runnable [*graph.Graph]; [Write] writes any graph, a Go-built one
// too, back out in the same format.
package spec
