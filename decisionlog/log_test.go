package decisionlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// line returns a small valid record line for run id.
func entry(id string) decisionlog.Entry {
	rec := &decisionlog.Record{Version: decisionlog.SchemaVersion, RunID: id, Graph: "g", Time: time.Unix(1700000000, 0).UTC(),
		Inputs: []decisionlog.LoggedValue{}, Fetches: []decisionlog.LoggedValue{}, Targets: []decisionlog.LoggedValue{}}
	b, err := decisionlog.Marshal(rec)
	if err != nil {
		panic(err)
	}
	return decisionlog.Entry{RunID: id, Line: b}
}

// readAll reads every record of the closed files of dir and counts each run id.
func readAll(t *testing.T, dir string) map[string]int {
	t.Helper()
	got := map[string]int{}
	if err := decisionlog.ReadDir(dir, func(r *decisionlog.Record) error { got[r.RunID]++; return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

func expectEach(t *testing.T, got map[string]int, n int, exactlyOnce bool) {
	t.Helper()
	missing, dups := 0, 0
	for i := range n {
		c := got[fmt.Sprint("run-", i)]
		if c == 0 {
			missing++
		}
		if c > 1 {
			dups++
		}
	}
	if missing > 0 || (exactlyOnce && dups > 0) || len(got) != n {
		t.Errorf("%d of %d records missing, %d duplicated, %d distinct", missing, n, dups, len(got))
	}
}

func shutdown(t *testing.T, l *decisionlog.Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFileSinkRotatesAndReadersSeeWholeFiles(t *testing.T) {
	dir := t.TempDir()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	l, err := decisionlog.Open("file://"+dir+"?max_bytes=4096", decisionlog.WithMeterProvider(mp), decisionlog.BatchSize(8))
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				l.Enqueue(entry(fmt.Sprint("run-", i)))
			}
		})
	}
	wg.Wait()
	shutdown(t, l)
	expectEach(t, readAll(t, dir), n, true)
	files, _ := decisionlog.Files(dir)
	if len(files) < 5 {
		t.Errorf("%d files for %d records of ~200 bytes at 4 KiB a file: no rotation by size", len(files), n)
	}
	if open, _ := filepath.Glob(filepath.Join(dir, "*.open")); len(open) > 0 {
		t.Errorf("files left open after Shutdown: %v", open)
	}
	st := l.Stats()
	if st.Written+st.Resent != n || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	counts := metricCounts(t, reader)
	if counts["written"]+counts["resent"] != n || counts["written"] != st.Written || counts["spilled"] != st.Spilled {
		t.Errorf("metric counts %v, stats %+v", counts, st)
	}
	if err := l.Shutdown(context.Background()); !errors.Is(err, decisionlog.ErrClosed) {
		t.Errorf("second Shutdown: %v", err)
	}
}

// metricCounts sums featgraph.decisionlog.records by result.
func metricCounts(t *testing.T, r *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != decisionlog.MetricRecords {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				v, _ := dp.Attributes.Value(attribute.Key("result"))
				out[v.AsString()] += dp.Value
			}
		}
	}
	return out
}

func TestFileSinkRotatesByAge(t *testing.T) {
	dir := t.TempDir()
	l, err := decisionlog.Open("file://"+dir+"?max_age=20ms", decisionlog.SpillDir(t.TempDir(), 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, l)
	l.Enqueue(entry("run-0"))
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if files, _ := decisionlog.Files(dir); len(files) == 1 {
			expectEach(t, readAll(t, dir), 1, true)
			return
		}
	}
	t.Fatal("no file closed by age")
}

func TestFileSinkRecoversOpenFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := entry("run-0"), entry("run-1")
	open := filepath.Join(dir, "decisions-20260101T000000.000000000Z-000001.jsonl.open")
	data := append(append(append(append([]byte{}, a.Line...), '\n'), b.Line...), '\n')
	data = append(data, b.Line[:20]...) // killed mid-line
	if err := os.WriteFile(open, data, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "decisions-20260101T000000.000000000Z-000002.jsonl.open")
	_ = os.WriteFile(empty, nil, 0o644)
	if _, err := decisionlog.NewFileSink(dir); err != nil {
		t.Fatal(err)
	}
	expectEach(t, readAll(t, dir), 2, true)
	left, _ := filepath.Glob(filepath.Join(dir, "*.open"))
	if len(left) > 0 {
		t.Errorf("left open: %v", left)
	}
}

// memSink records what it is given; it fails while fail is set and blocks
// while gate is held.
type memSink struct {
	mu     sync.Mutex
	got    map[string]int
	fail   bool
	writes int
	gate   chan struct{}
}

func newMemSink() *memSink { return &memSink{got: map[string]int{}} }

func (s *memSink) Write(ctx context.Context, batch []decisionlog.Entry) error {
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.fail {
		return errors.New("sink down")
	}
	for _, e := range batch {
		s.got[e.RunID]++
	}
	return nil
}

func (s *memSink) Close(context.Context) error { return nil }

func (s *memSink) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.got))
	for k, v := range s.got {
		out[k] = v
	}
	return out
}

func (s *memSink) setFail(v bool) {
	s.mu.Lock()
	s.fail = v
	s.mu.Unlock()
}

func TestQueueFullSpillsAndResends(t *testing.T) {
	s := newMemSink()
	s.gate = make(chan struct{})
	l, err := decisionlog.NewLog(s, decisionlog.QueueSize(4), decisionlog.BatchSize(2), decisionlog.SpillDir(t.TempDir(), 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		l.Enqueue(entry(fmt.Sprint("run-", i))) // never blocks, although the sink does
	}
	if st := l.Stats(); st.Spilled < n-10 {
		t.Errorf("the sink blocks and the queue holds 4, yet only %d spilled", st.Spilled)
	}
	close(s.gate)
	shutdown(t, l)
	expectEach(t, s.snapshot(), n, true)
	if st := l.Stats(); st.Written+st.Resent != n || st.Resent != st.Spilled || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSinkDownSpillsThenResends(t *testing.T) {
	s := newMemSink()
	s.setFail(true)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	l, err := decisionlog.NewLog(s, decisionlog.SpillDir(t.TempDir(), 1<<20), decisionlog.RetryBackoff(time.Millisecond, 10*time.Millisecond), decisionlog.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n / 2 {
		l.Enqueue(entry(fmt.Sprint("run-", i)))
	}
	waitFor(t, "the sink to be seen down", func() bool { return l.Stats().SinkDown })
	s.setFail(false)
	for i := n / 2; i < n; i++ {
		l.Enqueue(entry(fmt.Sprint("run-", i)))
	}
	waitFor(t, "every record to arrive", func() bool { return len(s.snapshot()) == n })
	shutdown(t, l)
	expectEach(t, s.snapshot(), n, true)
	st := l.Stats()
	if st.Spilled == 0 || st.Resent != st.Spilled || st.Written+st.Resent != n {
		t.Errorf("stats %+v", st)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "the sink fails") || !strings.Contains(logs.String(), "takes records again") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestSpillFullDropsAndLogs(t *testing.T) {
	s := newMemSink()
	s.setFail(true)
	spill := t.TempDir()
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	one := int64(len(entry("run-0").Line) + 1)
	l, err := decisionlog.NewLog(s, decisionlog.SpillDir(spill, 10*one), decisionlog.WithLogger(logger), decisionlog.RetryBackoff(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		l.Enqueue(entry(fmt.Sprint("run-", i)))
	}
	shutdown(t, l)
	st := l.Stats()
	if st.Spilled != 10 || st.Dropped != n-10 || st.Written != 0 {
		t.Errorf("stats %+v, want 10 spilled, %d dropped", st, n-10)
	}
	logMu.Lock()
	if !strings.Contains(logs.String(), "records dropped") {
		t.Errorf("the drop is not logged:\n%s", logs.String())
	}
	logMu.Unlock()

	// The next process sends what was spilled.
	s2 := newMemSink()
	l2, err := decisionlog.NewLog(s2, decisionlog.SpillDir(spill, 10*one))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the spilled records to be re-sent", func() bool { return len(s2.snapshot()) == 10 })
	shutdown(t, l2)
	if st := l2.Stats(); st.Resent != 10 {
		t.Errorf("second log stats %+v", st)
	}
	if left, _ := filepath.Glob(filepath.Join(spill, "*")); len(left) != 0 {
		t.Errorf("spill files left after re-sending: %v", left)
	}
}

func TestOpenRefusesBadTargets(t *testing.T) {
	for _, target := range []string{"", "ftp://x", "kafka://", "kafka://b1", "kafka:///t", "file://", "file://" + t.TempDir() + "?max_bytes=-1", "file://" + t.TempDir() + "?shred=1", "stdout://x"} {
		if l, err := decisionlog.Open(target, decisionlog.SpillDir(t.TempDir(), 1<<20)); err == nil {
			shutdown(t, l)
			t.Errorf("Open(%q) accepted", target)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// waitFor polls cond for up to a minute (generous: the machine is busy).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
