package decisionlog

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Entry is one encoded record on its way to a sink.
type Entry struct {
	// RunID keys the record (the Kafka key).
	RunID string
	// Line is the record's JSON, with no newline.
	Line []byte

	rec *Record // encoded by the Log's writer when Line is nil
}

// Sink stores encoded records. A [Log] calls Write and Close from one
// goroutine at a time; Write is given batches in order.
type Sink interface {
	// Write stores batch and returns once the sink has acknowledged it
	// (fsynced to a file, acknowledged by the in-sync replicas). On error,
	// the Log spills to local files the entries a *[BatchError] names as
	// failed (every entry for another error) and sends them again later.
	Write(ctx context.Context, batch []Entry) error
	// Close flushes what the sink buffers and releases it.
	Close(ctx context.Context) error
}

// Ticker is implemented by sinks that act on time passing (a file sink
// rotates its file by age). A Log calls Tick between writes.
type Ticker interface {
	Tick(now time.Time) error
}

// BatchError says which entries of a batch failed.
type BatchError struct {
	// Failed holds the indexes of the entries to send again later.
	Failed []int
	// Rejected holds the indexes of the entries the sink will never take
	// (a record larger than the broker accepts): the Log drops and logs them.
	Rejected []int
	// Err is the first error.
	Err error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("decisionlog: %d of the batch failed, %d rejected: %v", len(e.Failed), len(e.Rejected), e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

// WriterSink writes records as JSON lines to w (stdout, for development).
// It acknowledges a batch once w has taken it.
type WriterSink struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriterSink returns a sink writing JSON lines to w.
func NewWriterSink(w io.Writer) *WriterSink { return &WriterSink{w: w} }

// Write implements [Sink].
func (s *WriterSink) Write(_ context.Context, batch []Entry) error {
	var b strings.Builder
	for _, e := range batch {
		b.Write(e.Line)
		b.WriteByte('\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		return fmt.Errorf("decisionlog: writing records: %w", err)
	}
	return nil
}

// Close implements [Sink]; it does not close w.
func (s *WriterSink) Close(context.Context) error { return nil }
