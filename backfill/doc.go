// Package backfill runs a graph over rows: a training set, a backfill of a
// feature table, a what-if over last month's traffic, computed by the very
// graph that serves.
//
// A Runner reads rows from a source (an iter.Seq2 of Row and error), binds
// each row's columns to the graph's inputs, typed by the inputs' declared
// types, runs the targets with at most N runs in flight and a deadline per
// row, and writes each output row — the input columns, the targets' values
// and optionally every node's outcome — to a Sink, one row at a time from one
// goroutine. A row that cannot run (malformed, a column of the wrong type, a
// missing column) or whose targets have no value goes to the dead letters with
// a cause naming the row and the column or node; the other rows go on.
//
//	r, err := backfill.New(ex, []string{"decision"}, backfill.InFlight(256), backfill.Deadline(700*time.Millisecond))
//	stats, err := r.Run(ctx, backfill.JSONLSource(in, "rows.jsonl"), backfill.JSONLSink(out), backfill.DeadLetters(dl))
//
// Memory stays flat in the number of rows: at most InFlight rows are held at
// once, running or waiting in the bounded reorder buffer that keeps the input
// order (Unordered drops it and writes rows as they finish).
//
// Sources and sinks for JSON lines, CSV and Parquet (with a schema derived from
// the declared types) come with the package.
package backfill
