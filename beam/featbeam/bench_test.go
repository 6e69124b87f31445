package featbeam_test

import (
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/featgraph/featgraph/beam/featbeam"
)

// BenchmarkPrismCardauth2ms runs the card-authorization graph over b.N rows
// (plus one bad row per hundred) with the Beam transform on the in-process
// prism runner, 256 runs in flight per bundle, every simulated call taking
// 2 ms: the same rows and graph as backfill's BenchmarkCardauth2ms. One op
// is one row, the pipeline's start and the sharded write included.
//
//	go test -run '^$' -bench PrismCardauth2ms -benchtime 100000x -count 1 ./featbeam/
func BenchmarkPrismCardauth2ms(b *testing.B) {
	dir := b.TempDir()
	rows := filepath.Join(dir, "rows.jsonl")
	writeCardauthRows(b, rows, b.N)
	p, s := beam.NewPipelineWithRoot()
	out, dead := featbeam.Run(s, featbeam.ReadLines(s, rows), featbeam.Config{Graph: "test.cardauth", GraphConfig: []byte("2ms"), InFlight: 256})
	featbeam.WriteSharded(s, filepath.Join(dir, "out"), ".jsonl", 4, out)
	featbeam.WriteSharded(s, filepath.Join(dir, "dead"), ".jsonl", 1, dead)
	b.ResetTimer()
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	var written int64
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Key.Name == "rows.written" {
			written += c.Result()
		}
	}
	if written != int64(b.N) {
		b.Fatalf("%d rows written of %d", written, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
