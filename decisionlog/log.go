package decisionlog

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the OpenTelemetry instrumentation scope of the package's metrics.
const ScopeName = "github.com/featgraph/featgraph/decisionlog"

// MetricRecords counts records by what became of them: the attribute
// "result" is written (acknowledged by the sink), spilled (kept in the spill
// directory), resent (taken from the spill directory and acknowledged by
// the sink) or dropped (the spill directory was full; logged).
const MetricRecords = "featgraph.decisionlog.records"

// ErrClosed is returned by [Log.Shutdown] called twice.
var ErrClosed = errors.New("decisionlog: log already shut down")

// Log sends records to a [Sink] without ever making the caller wait on it.
// Records go through a bounded queue to one writer goroutine; when the
// queue is full or the sink fails, they go to spill files (see [SpillDir])
// and are sent again once the sink takes writes. Nothing is lost silently:
// [Log.Stats] and the metric [MetricRecords] count what was written,
// spilled, re-sent and dropped, and records are dropped only when the
// spill directory is full, with a log line saying how many.
type Log struct {
	cfg   logConfig
	sink  Sink
	spill *spiller

	gate   sync.RWMutex // Enqueue holds it read; Shutdown sets closed under it
	closed bool
	q      chan Entry
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context // of sink writes; canceled when Shutdown gives up
	cancel context.CancelFunc

	written, spilled, resent, dropped atomic.Int64
	down                              atomic.Bool

	counter metric.Int64Counter
	attrs   [4]metric.AddOption

	dropMu     sync.Mutex
	dropLogged time.Time
	dropUnlog  int64

	// writer state
	backoff time.Duration
	retryAt time.Time
	offsets map[string]int64
}

type logConfig struct {
	queue, batch  int
	spillDir      string
	spillMax      int64
	tick          time.Duration
	writeTimeout  time.Duration
	minBackoff    time.Duration
	maxBackoff    time.Duration
	meterProvider metric.MeterProvider
	logger        *slog.Logger
	onWritten     func(batch []Entry)
	sinkName      string
	fileOpts      []FileOption
	kafkaOpts     []KafkaOption
}

// LogOption configures a [Log].
type LogOption func(*logConfig) error

// QueueSize bounds the records waiting for the writer (default 4096).
func QueueSize(n int) LogOption {
	return func(c *logConfig) error {
		if n <= 0 {
			return fmt.Errorf("decisionlog: QueueSize(%d): not positive", n)
		}
		c.queue = n
		return nil
	}
}

// BatchSize bounds the records written to the sink at once (default 256).
func BatchSize(n int) LogOption {
	return func(c *logConfig) error {
		if n <= 0 {
			return fmt.Errorf("decisionlog: BatchSize(%d): not positive", n)
		}
		c.batch = n
		return nil
	}
}

// SpillDir sets the directory where records wait while the sink cannot take
// them, and how many bytes it may hold (default: the subdirectory "spill"
// of a file sink's directory, else featgraph-spill in the temporary
// directory; 1 GiB). Records already there from an earlier process are sent
// too. Give each Log a directory of its own.
func SpillDir(dir string, maxBytes int64) LogOption {
	return func(c *logConfig) error {
		if dir == "" || maxBytes <= 0 {
			return fmt.Errorf("decisionlog: SpillDir(%q, %d): want a directory and a positive size", dir, maxBytes)
		}
		c.spillDir, c.spillMax = dir, maxBytes
		return nil
	}
}

// RetryBackoff sets how long the writer waits before trying a failed sink
// again: min after the first failure, doubling up to max (default 100 ms, 5 s).
func RetryBackoff(min, max time.Duration) LogOption {
	return func(c *logConfig) error {
		if min <= 0 || max < min {
			return fmt.Errorf("decisionlog: RetryBackoff(%v, %v): want 0 < min <= max", min, max)
		}
		c.minBackoff, c.maxBackoff = min, max
		return nil
	}
}

// WriteTimeout bounds one write to the sink (default 10 s).
func WriteTimeout(d time.Duration) LogOption {
	return func(c *logConfig) error {
		if d <= 0 {
			return fmt.Errorf("decisionlog: WriteTimeout(%v): not positive", d)
		}
		c.writeTimeout = d
		return nil
	}
}

// WithMeterProvider records the metrics with mp instead of the global provider.
func WithMeterProvider(mp metric.MeterProvider) LogOption {
	return func(c *logConfig) error {
		if mp == nil {
			return errors.New("decisionlog: nil meter provider")
		}
		c.meterProvider = mp
		return nil
	}
}

// WithLogger logs sink failures, recoveries and drops to l (default slog.Default()).
func WithLogger(l *slog.Logger) LogOption {
	return func(c *logConfig) error {
		if l == nil {
			return errors.New("decisionlog: nil logger")
		}
		c.logger = l
		return nil
	}
}

// OnWritten calls fn, on the writer goroutine, with every batch the sink
// acknowledged (first writes and re-sends alike). fn must not keep batch.
func OnWritten(fn func(batch []Entry)) LogOption {
	return func(c *logConfig) error { c.onWritten = fn; return nil }
}

// NewLog returns a Log writing to sink, and starts its writer. Call
// Shutdown to flush it.
func NewLog(sink Sink, opts ...LogOption) (*Log, error) {
	if sink == nil {
		return nil, errors.New("decisionlog: NewLog: nil sink")
	}
	cfg, err := newLogConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.spillDir == "" {
		cfg.spillDir, cfg.spillMax = defaultSpillDir(sink), 1<<30
	}
	switch sink.(type) {
	case *FileSink:
		cfg.sinkName = "file"
	case *KafkaSink:
		cfg.sinkName = "kafka"
	case *WriterSink:
		cfg.sinkName = "writer"
	default:
		cfg.sinkName = "custom"
	}
	return start(sink, cfg)
}

func newLogConfig(opts []LogOption) (logConfig, error) {
	cfg := logConfig{
		queue: 4096, batch: 256, tick: 100 * time.Millisecond, writeTimeout: 10 * time.Second,
		minBackoff: 100 * time.Millisecond, maxBackoff: 5 * time.Second, logger: slog.Default(),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func defaultSpillDir(sink Sink) string {
	if fs, ok := sink.(*FileSink); ok {
		return fs.Dir() + string(os.PathSeparator) + "spill"
	}
	return os.TempDir() + string(os.PathSeparator) + "featgraph-spill"
}

func start(sink Sink, cfg logConfig) (*Log, error) {
	sp, err := newSpiller(cfg.spillDir, cfg.spillMax)
	if err != nil {
		return nil, err
	}
	mp := cfg.meterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	counter, err := mp.Meter(ScopeName).Int64Counter(MetricRecords, metric.WithUnit("{record}"),
		metric.WithDescription("Decision records by what became of them: written, spilled, resent, dropped."))
	if err != nil {
		return nil, fmt.Errorf("decisionlog: metric: %w", err)
	}
	l := &Log{
		cfg: cfg, sink: sink, spill: sp, q: make(chan Entry, cfg.queue),
		stop: make(chan struct{}), done: make(chan struct{}),
		counter: counter, offsets: map[string]int64{}, backoff: cfg.minBackoff,
	}
	for i, r := range []string{"written", "spilled", "resent", "dropped"} {
		l.attrs[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", r), attribute.String("sink", cfg.sinkName)))
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.run()
	return l, nil
}

// Stats counts what became of the records given to a [Log].
type Stats struct {
	// Written were acknowledged by the sink on their first try.
	Written int64
	// Spilled went to the spill directory (queue full, or the sink failing).
	Spilled int64
	// Resent were taken from the spill directory and acknowledged by the sink.
	Resent int64
	// Dropped were lost because the spill directory was full (each drop is
	// logged), or the sink rejected them for good (a record too large).
	Dropped int64
	// Queued wait for the writer.
	Queued int
	// SinkDown is true while the sink fails.
	SinkDown bool
}

// Stats returns the Log's counts.
func (l *Log) Stats() Stats {
	return Stats{Written: l.written.Load(), Spilled: l.spilled.Load(), Resent: l.resent.Load(),
		Dropped: l.dropped.Load(), Queued: len(l.q), SinkDown: l.down.Load()}
}

// Log queues rec; it never waits on the sink. The writer goroutine encodes
// it, so rec must not change once given. When the queue is full (or after
// Shutdown) the record is encoded at once and spilled; the error is that
// of a record that does not encode.
func (l *Log) Log(rec *Record) error {
	if rec == nil {
		return errors.New("decisionlog: Log of a nil record")
	}
	if l.offer(Entry{RunID: rec.RunID, rec: rec}) {
		return nil
	}
	line, err := Marshal(rec)
	if err != nil {
		l.count(&l.dropped, 3, 1)
		return err
	}
	l.spillOrDrop([]Entry{{RunID: rec.RunID, Line: line}})
	return nil
}

// Enqueue queues an encoded record; when the queue is full, or after
// Shutdown, the record goes to the spill directory instead.
func (l *Log) Enqueue(e Entry) {
	e.rec = nil
	if !l.offer(e) {
		l.spillOrDrop([]Entry{e})
	}
}

// offer puts e on the queue if there is room and the Log is open.
func (l *Log) offer(e Entry) bool {
	l.gate.RLock()
	defer l.gate.RUnlock()
	if l.closed {
		return false
	}
	select {
	case l.q <- e:
		return true
	default:
		return false
	}
}

// encode gives every entry of batch its line, dropping (and logging) the
// records that do not encode.
func (l *Log) encode(batch []Entry) []Entry {
	out := batch[:0]
	for _, e := range batch {
		if e.Line == nil && e.rec != nil {
			line, err := Marshal(e.rec)
			if err != nil {
				l.count(&l.dropped, 3, 1)
				l.cfg.logger.Error("decisionlog: a record does not encode; dropped", "run_id", e.RunID, "err", err)
				continue
			}
			e.Line, e.rec = line, nil
		}
		out = append(out, e)
	}
	return out
}

// Shutdown stops taking records into the queue (later ones go to the spill
// directory), writes what is queued, sends the spilled records if the sink
// takes them, fsyncs the spill files and closes the sink. When ctx ends
// first, what is not written stays in the spill directory for the next
// process.
func (l *Log) Shutdown(ctx context.Context) error {
	l.gate.Lock()
	if l.closed {
		l.gate.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.gate.Unlock()
	stopCancel := context.AfterFunc(ctx, l.cancel)
	defer stopCancel()
	close(l.stop)
	<-l.done
	l.cancel()
	var errs []error
	if err := l.spill.close(); err != nil {
		errs = append(errs, err)
	}
	if err := l.sink.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("decisionlog: closing the sink: %w", err))
	}
	return errors.Join(errs...)
}

// run is the writer goroutine.
func (l *Log) run() {
	defer close(l.done)
	ticker := time.NewTicker(l.cfg.tick)
	defer ticker.Stop()
	batch := make([]Entry, 0, l.cfg.batch)
	for {
		select {
		case e := <-l.q:
			l.send(l.encode(l.fill(append(batch[:0], e))))
		case now := <-ticker.C:
			l.tick(now)
		case <-l.stop:
			l.finish()
			return
		}
	}
}

// fill adds queued entries to batch up to the batch size.
func (l *Log) fill(batch []Entry) []Entry {
	for len(batch) < l.cfg.batch {
		select {
		case e := <-l.q:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// finish writes the queue out and sends the spill when the sink is up.
func (l *Log) finish() {
	batch := make([]Entry, 0, l.cfg.batch)
	for {
		batch = l.fill(batch[:0])
		if len(batch) == 0 {
			break
		}
		l.send(l.encode(batch))
	}
	if l.ctx.Err() == nil && !l.down.Load() {
		l.resend()
	}
	if t, ok := l.sink.(Ticker); ok {
		l.logErr("ticking the sink", t.Tick(time.Now()))
	}
}

func (l *Log) tick(now time.Time) {
	if t, ok := l.sink.(Ticker); ok {
		l.logErr("ticking the sink", t.Tick(now))
	}
	l.logErr("fsyncing the spill", l.spill.sync())
	if l.spill.hasData() && (!l.down.Load() || !now.Before(l.retryAt)) {
		l.resend()
	}
}

// write gives batch to the sink within the write timeout.
func (l *Log) write(batch []Entry) error {
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.writeTimeout)
	defer cancel()
	return l.sink.Write(ctx, batch)
}

// send writes a fresh batch, or spills it while the sink is down.
func (l *Log) send(batch []Entry) {
	if len(batch) == 0 {
		return
	}
	if l.down.Load() && time.Now().Before(l.retryAt) {
		l.spillOrDrop(batch)
		return
	}
	err := l.write(batch)
	l.settle(batch, err, &l.written, 0)
	if err != nil {
		var be *BatchError
		failed := batch
		if errors.As(err, &be) {
			failed = pick(batch, be.Failed)
		}
		l.spillOrDrop(failed)
	}
}

// settle counts the acknowledged entries of a write into c, drops the
// rejected ones, and marks the sink up or down.
func (l *Log) settle(batch []Entry, err error, c *atomic.Int64, attr int) {
	if err == nil {
		l.count(c, attr, len(batch))
		l.sinkUp()
		if l.cfg.onWritten != nil {
			l.cfg.onWritten(batch)
		}
		return
	}
	var be *BatchError
	if !errors.As(err, &be) {
		l.sinkDown(err)
		return
	}
	bad := make(map[int]bool, len(be.Failed)+len(be.Rejected))
	for _, i := range be.Failed {
		bad[i] = true
	}
	for _, i := range be.Rejected {
		bad[i] = true
	}
	var acked []Entry
	for i, e := range batch {
		if !bad[i] {
			acked = append(acked, e)
		}
	}
	l.count(c, attr, len(acked))
	if len(acked) > 0 && l.cfg.onWritten != nil {
		l.cfg.onWritten(acked)
	}
	if n := len(be.Rejected); n > 0 {
		l.count(&l.dropped, 3, n)
		l.cfg.logger.Error("decisionlog: the sink rejected records for good; dropped", "count", n, "sink", l.cfg.sinkName, "err", be.Err)
	}
	if len(be.Failed) > 0 {
		l.sinkDown(be.Err)
	} else {
		l.sinkUp()
	}
}

func pick(batch []Entry, idx []int) []Entry {
	out := make([]Entry, 0, len(idx))
	for _, i := range idx {
		if i >= 0 && i < len(batch) {
			out = append(out, batch[i])
		}
	}
	return out
}

func (l *Log) count(c *atomic.Int64, attr, n int) {
	if n == 0 {
		return
	}
	c.Add(int64(n))
	l.counter.Add(context.Background(), int64(n), l.attrs[attr])
}

func (l *Log) sinkUp() {
	if l.down.Swap(false) {
		l.cfg.logger.Info("decisionlog: the sink takes records again", "sink", l.cfg.sinkName)
	}
	l.backoff = l.cfg.minBackoff
}

func (l *Log) sinkDown(err error) {
	if !l.down.Swap(true) {
		l.cfg.logger.Warn("decisionlog: the sink fails; spilling records until it is back", "sink", l.cfg.sinkName, "err", err)
	}
	l.retryAt = time.Now().Add(l.backoff)
	l.backoff = min(2*l.backoff, l.cfg.maxBackoff)
}

// spillOrDrop spills entries, dropping (and logging) what does not fit.
func (l *Log) spillOrDrop(entries []Entry) {
	n, err := l.spill.add(entries)
	l.count(&l.spilled, 1, n)
	if lost := len(entries) - n; lost > 0 {
		l.count(&l.dropped, 3, lost)
		l.logDrop(int64(lost), err)
	}
}

// logDrop logs drops, at most once a second.
func (l *Log) logDrop(n int64, err error) {
	l.dropMu.Lock()
	l.dropUnlog += n
	now := time.Now()
	if now.Sub(l.dropLogged) < time.Second {
		l.dropMu.Unlock()
		return
	}
	count := l.dropUnlog
	l.dropUnlog, l.dropLogged = 0, now
	l.dropMu.Unlock()
	if err == nil {
		err = errors.New("the spill directory is full")
	}
	l.cfg.logger.Error("decisionlog: records dropped", "count", count, "spill_dir", l.cfg.spillDir, "err", err)
}

func (l *Log) logErr(what string, err error) {
	if err != nil {
		l.cfg.logger.Error("decisionlog: "+what, "err", err)
	}
}

// resend sends the spill files, oldest first, until one fails.
func (l *Log) resend() {
	l.logErr("sealing the spill", l.spill.seal())
	for l.ctx.Err() == nil {
		name, ok := l.spill.oldest()
		if !ok {
			return
		}
		if !l.resendFile(name) {
			return
		}
	}
}

// resendFile sends one spill file from where an earlier try stopped, and
// removes it when every record in it is acknowledged.
func (l *Log) resendFile(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		l.logErr("opening a spill file", err)
		l.logErr("removing a spill file", l.spill.remove(name))
		return true
	}
	defer f.Close()
	off := l.offsets[name]
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		l.logErr("reading a spill file", err)
		return false
	}
	r := bufio.NewReaderSize(f, 1<<16)
	batch := make([]Entry, 0, l.cfg.batch)
	var sizes int64
	for {
		batch, sizes = batch[:0], 0
		for len(batch) < l.cfg.batch {
			line, err := r.ReadBytes('\n')
			sizes += int64(len(line))
			if len(line) > 0 && line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
				var head struct {
					RunID string `json:"run_id"`
				}
				if json.Unmarshal(line, &head) != nil {
					l.count(&l.dropped, 3, 1)
					l.cfg.logger.Error("decisionlog: a spilled line is not a record; dropped", "file", name)
					continue
				}
				batch = append(batch, Entry{RunID: head.RunID, Line: line})
			}
			if err != nil {
				break
			}
		}
		if len(batch) == 0 {
			delete(l.offsets, name)
			l.logErr("removing a spill file", l.spill.remove(name))
			return true
		}
		err := l.write(batch)
		var be *BatchError
		if err != nil && (!errors.As(err, &be) || len(be.Failed) > 0) {
			l.settle(batch, &BatchError{Failed: allIndexes(len(batch)), Err: err}, &l.resent, 2)
			return false
		}
		l.settle(batch, err, &l.resent, 2)
		off += sizes
		l.offsets[name] = off
	}
}

func allIndexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
