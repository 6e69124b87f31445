// Package featbeam runs featgraph graphs on Apache Beam, for backfills that
// outgrow one machine: the very graph that serves computes features for
// every row of a PCollection, on prism locally or on Flink, Spark or
// Dataflow.
//
// Closures do not ship to workers, so graphs are registered by name in an
// init function (Register) and rebuilt in each worker's Setup from a
// config (a spec's text, say); workers share one Executor per graph and
// config. Each bundle runs at most InFlight rows at once; results are
// emitted only from the bundle's goroutine (Beam's emitters are not safe
// across goroutines), and the rows still running at the end of a bundle are
// drained in FinishBundle.
//
//	rows := featbeam.ReadLines(s, "gs://bucket/rows-*.jsonl")
//	out, dead := featbeam.Run(s, rows, featbeam.Config{Graph: featbeam.SpecGraph, GraphConfig: cfg, InFlight: 256})
//	featbeam.WriteSharded(s, "gs://bucket/out/part", ".jsonl", 64, out)
//
// Output rows and dead letters are JSON lines, exactly as package backfill
// writes them. Beam counters count every node's outcomes
// ("featgraph"/"node.NAME.OUTCOME"), rows written and failed, and a
// distribution holds the run time per row in microseconds.
package featbeam
