// Command featgraph-beam runs a featgraph spec over JSON-lines files on
// Apache Beam: locally on the in-process prism runner, or on Flink, Spark or
// Dataflow with Beam's own flags (--runner, --endpoint, --environment_type,
// --project, --region, --temp_location...).
//
//	featgraph-beam --spec cardauth.yaml --in 'rows-*.jsonl' --out out/part --shards 16 \
//	    --dead-letter out/dead --in-flight 256 --deadline 700ms
//
// Output rows and dead letters are JSON lines, as featgraph backfill writes
// them, in sharded files PREFIX-00000-of-00016.jsonl. Exit codes: 0 success,
// 1 the pipeline failed or rows went to the dead letters, 2 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs" // gs:// paths on Dataflow
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"             // --runner: prism (default), flink, spark, dataflow, universal

	"github.com/featgraph/featgraph/beam/featbeam"
)

// upstreamFlags is the repeatable --upstream NAME=URL.
type upstreamFlags map[string]string

func (u upstreamFlags) String() string { return fmt.Sprint(map[string]string(u)) }

func (u upstreamFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want NAME=URL", s)
	}
	u[k] = v
	return nil
}

var (
	specFile   = flag.String("spec", "", "the spec `file` to run")
	in         = flag.String("in", "", "the input rows: a `glob` of JSON-lines files (local, or gs://)")
	out        = flag.String("out", "", "the output `prefix`: shards PREFIX-00000-of-0000N.jsonl")
	deadLetter = flag.String("dead-letter", "", "the dead letters' `prefix` (default: OUT-dead)")
	shards     = flag.Int("shards", 4, "number of output files")
	inFlight   = flag.Int("in-flight", 64, "runs in flight at once per bundle")
	deadline   = flag.Duration("deadline", 0, "each row's deadline, such as 700ms (default: none)")
	outcomes   = flag.Bool("outcomes", false, "add every node's outcome as a column outcome.NODE")
	upstreams  = upstreamFlags{}
)

func main() {
	flag.Var(upstreams, "upstream", "replace an upstream's base URL: `NAME=URL` (repeatable)")
	flag.Parse()
	beam.Init() // a worker started by the runner stops here, serving bundles
	os.Exit(run(context.Background(), os.Stderr))
}

// run checks the flags, builds the pipeline and runs it; it returns the exit code.
func run(ctx context.Context, stderr io.Writer) int {
	cfg, err := config()
	if err != nil {
		fmt.Fprintf(stderr, "featgraph-beam: %v\n", err)
		flag.Usage()
		return 2
	}
	p, s := beam.NewPipelineWithRoot()
	rows := beam.Reshuffle(s, featbeam.ReadLines(s, *in))
	outRows, dead := featbeam.Run(s, rows, cfg)
	featbeam.WriteSharded(s, *out, ".jsonl", *shards, outRows)
	dlPrefix := *deadLetter
	if dlPrefix == "" {
		dlPrefix = *out + "-dead"
	}
	featbeam.WriteSharded(s, dlPrefix, ".jsonl", 1, dead)

	start := time.Now()
	res, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		fmt.Fprintf(stderr, "featgraph-beam: %v\n", err)
		return 1
	}
	written, failed := summary(res)
	fmt.Fprintf(stderr, "featgraph-beam: %d rows written to %s-*.jsonl, %d failed (in %s-*.jsonl), in %v\n",
		written, *out, failed, dlPrefix, time.Since(start).Round(time.Millisecond))
	if failed > 0 {
		return 1
	}
	return 0
}

// config reads the spec and the flags into the transform's Config.
func config() (featbeam.Config, error) {
	switch {
	case *specFile == "" || *in == "" || *out == "":
		return featbeam.Config{}, errors.New("--spec, --in and --out are required")
	case *shards < 1:
		return featbeam.Config{}, fmt.Errorf("--shards %d: want at least 1", *shards)
	case *inFlight < 1:
		return featbeam.Config{}, fmt.Errorf("--in-flight %d: want at least 1", *inFlight)
	case *deadline < 0:
		return featbeam.Config{}, fmt.Errorf("--deadline %v is negative", *deadline)
	}
	yaml, err := os.ReadFile(*specFile)
	if err != nil {
		return featbeam.Config{}, err
	}
	gc, err := featbeam.NewSpecConfig(*specFile, yaml, upstreams)
	if err != nil {
		return featbeam.Config{}, err
	}
	return featbeam.Config{Graph: featbeam.SpecGraph, GraphConfig: gc, InFlight: *inFlight, Deadline: *deadline, Outcomes: *outcomes}, nil
}

// summary adds up the rows written and failed from the pipeline's counters.
func summary(res beam.PipelineResult) (written, failed int64) {
	if res == nil {
		return 0, 0
	}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		switch c.Key.Name {
		case "rows.written":
			written += c.Result()
		case "rows.failed":
			failed += c.Result()
		}
	}
	return written, failed
}
