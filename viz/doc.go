// Package viz draws graphs and runs: a graph as Graphviz DOT (node kinds as
// shapes, timeouts and fallbacks in labels, conditional and short-circuit
// edges dashed), a finished run as DOT (start offset and duration on every
// node, colour by outcome, the critical path in bold), as a waterfall SVG and
// as Chrome trace-event JSON that Perfetto (ui.perfetto.dev) and
// chrome://tracing open.
//
// Runs are drawn from an [executor.Record], not a live Result, so a run
// recorded in production (Record.WriteJSON) can be drawn later, anywhere:
//
//	rec := res.Record()
//	err := viz.WriteRunDOT(w, rec)
//
// [WriteAll] writes every picture of a record into a directory, turning the
// DOT files into SVG when Graphviz's dot command is installed.
//
// The output is deterministic: nodes in declaration order, edges in
// dependency order, so pictures can be diffed and kept as golden files.
package viz
