// Package decisionlog puts every decision on the record: one [Record] per
// run, with the run id, the time, the graph's name and version, the inputs,
// the value of every fetch (enough to replay the run offline through
// graphtest's Replay, with no backend), the targets' values, every node's
// outcome, cause and timing, and for shadowed runs the candidate graph's
// result and a per-target diff.
//
// A [Recorder] turns an executor.Result into a Record, applying privacy
// marks: an input or node marked [Hash] is written as an HMAC-SHA256 of its
// JSON value, keyed from the environment, so that card numbers and emails
// can be joined across records but not read; one marked [Omit] is left out.
// Marks come from the Go API ([Mark], or nodes.Meta("log", "hash") on a
// node) or from a spec's `log:` key; the default is [Keep].
//
// A [Log] sends records to a [Sink] chosen by URL ([Open]): file://DIR
// (JSON lines in files rotated by size and age, each fsynced and renamed
// into place when closed), kafka://BROKER[,BROKER]/TOPIC (an idempotent
// producer, acks from all in-sync replicas, keyed by run id) or stdout. The
// decision path never waits on a sink: records go through a bounded queue;
// when it is full or the sink fails they spill to local files and are sent
// again when the sink is back. Written, spilled, re-sent and dropped counts
// are OpenTelemetry metrics; a record is dropped only when the spill
// directory is full, and the drop is logged.
//
// # Schema
//
// A record is one JSON object (one line in a file, one message in Kafka).
// Version [SchemaVersion] has these fields; readers ignore fields they do not
// know, and a change that would mislead an old reader gets a new version.
//
//	version        int     schema version (2)
//	run_id         string  unique per run; the Kafka key, the de-duplication key
//	time           string  RFC 3339 time the run started
//	duration_ms    float   the run's wall time, in milliseconds
//	graph          string  the graph's name
//	graph_version  string  the graph's version, when known
//	error          string  the run's error (root causes), when it failed
//	inputs         [value] every input bound to the run
//	fetches        [value] every fetch and each node (those the run needed)
//	targets        [value] the targets asked for
//	nodes          [node]  every node of the graph, in graph order
//	shadow         shadow  the candidate graph's run, for a shadowed run
//
// A value is {name, kind, type, outcome, value | hash | omitted | unencodable,
// cause, timed_out}: value is the node's JSON value when it has one and is
// kept; hash is "hmac-sha256:" and the hex HMAC of that JSON when the node is
// marked hash; omitted is true when it is marked omit (and its cause is
// dropped too: an error can quote a value). A node is {name, kind, outcome,
// cause, start_ms, end_ms, attempts, branch}. A shadow is {graph,
// graph_version, duration_ms, error, targets, nodes, diff}, and a diff entry
// is {target, agree, live_outcome, candidate_outcome, live, candidate}.
package decisionlog
