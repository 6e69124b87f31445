package featbeam

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/featgraph/featgraph/backfill"
)

func init() {
	register.DoFn3x1[context.Context, string, func(Row), error](&readLinesFn{})
	register.DoFn2x0[string, func(int, string)](&shardFn{})
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&writeShardFn{})
	register.Emitter1[Row]()
	register.Emitter2[int, string]()
	register.Iter1[string]()
}

// ReadLines reads the JSON-lines files matching glob (a local path, or
// gs://... with the gcs file system imported) into a PCollection of Row,
// numbering each file's lines from 1; blank lines are skipped. Each file is
// read by one worker: split big inputs into several files, and reshuffle
// (beam.Reshuffle) to spread the rows over the workers.
func ReadLines(s beam.Scope, glob string) beam.PCollection {
	s = s.Scope("featgraph.ReadLines")
	return beam.ParDo(s, &readLinesFn{}, beam.Create(s, glob))
}

type readLinesFn struct{}

func (readLinesFn) ProcessElement(ctx context.Context, glob string, emit func(Row)) error {
	fs, err := filesystem.New(ctx, glob)
	if err != nil {
		return err
	}
	defer fs.Close()
	files, err := fs.List(ctx, glob)
	if err != nil {
		return fmt.Errorf("listing %s: %w", glob, err)
	}
	if len(files) == 0 {
		return fmt.Errorf("no file matches %s", glob)
	}
	slices.Sort(files)
	for _, name := range files {
		if err := readFile(ctx, fs, name, emit); err != nil {
			return err
		}
	}
	return nil
}

func readFile(ctx context.Context, fs filesystem.Interface, name string, emit func(Row)) error {
	rc, err := fs.OpenRead(ctx, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), backfill.MaxLine)
	var n int64
	for sc.Scan() {
		n++
		line := sc.Text()
		if blank(line) {
			continue
		}
		emit(Row{Source: name, N: n, Line: line})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return nil
}

func blank(s string) bool {
	for _, c := range s {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// WriteSharded writes lines (a PCollection of strings) into shards files
// named PREFIX-00003-of-00016SUFFIX, each line in the shard its hash picks.
// Beam Go's own text and Parquet writers send every row through one key,
// so one worker writes everything; here each shard is written by the
// worker that gets its key.
func WriteSharded(s beam.Scope, prefix, suffix string, shards int, lines beam.PCollection) {
	s = s.Scope("featgraph.WriteSharded")
	if shards < 1 {
		shards = 1
	}
	keyed := beam.ParDo(s, &shardFn{Shards: shards}, lines)
	beam.ParDo0(s, &writeShardFn{Prefix: prefix, Suffix: suffix, Shards: shards}, beam.GroupByKey(s, keyed))
}

type shardFn struct{ Shards int }

func (f *shardFn) ProcessElement(line string, emit func(int, string)) {
	h := fnv.New32a()
	io.WriteString(h, line)
	emit(int(h.Sum32()%uint32(f.Shards)), line)
}

type writeShardFn struct {
	Prefix, Suffix string
	Shards         int
}

// ShardName returns the name of shard i of n.
func ShardName(prefix, suffix string, i, n int) string {
	return fmt.Sprintf("%s-%05d-of-%05d%s", prefix, i, n, suffix)
}

func (f *writeShardFn) ProcessElement(ctx context.Context, shard int, lines func(*string) bool) error {
	name := ShardName(f.Prefix, f.Suffix, shard, f.Shards)
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fs.Close()
	wc, err := fs.OpenWrite(ctx, name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(wc, 64<<10)
	var line string
	for lines(&line) {
		if _, err := w.WriteString(line); err != nil {
			wc.Close()
			return fmt.Errorf("writing %s: %w", name, err)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		wc.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return wc.Close()
}
