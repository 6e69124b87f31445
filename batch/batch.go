package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Func fetches many keys in one call. It returns the values it found;
// a key left out of the map is missing (an error for the nodes that asked
// for it). It must respect ctx.
type Func[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// Batch is one upstream endpoint that answers many keys at once. It is
// shared by every node and run that uses the endpoint; Close it when done.
type Batch[K comparable, V any] struct {
	name    string
	fetch   Func[K, V]
	maxSize int
	maxWait time.Duration

	mu     sync.Mutex
	open   *window[K, V] // collecting keys; nil when none is
	closed bool
	calls  sync.WaitGroup

	stats struct{ calls, keys, loads, missing, failed atomic.Int64 }
}

// Option configures a Batch.
type Option func(*settings) error

type settings struct {
	maxSize int
	maxWait time.Duration
}

// MaxSize bounds the keys of one call (default 100).
func MaxSize(n int) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("batch: max size %d is not positive", n)
		}
		s.maxSize = n
		return nil
	}
}

// MaxWait keeps a batch open for up to d for keys from other runs
// (default 0: only keys asked together are sent together). A full batch
// goes at once. Every key then waits up to d more than it would alone.
func MaxWait(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("batch: max wait %v is negative", d)
		}
		s.maxWait = d
		return nil
	}
}

// New declares the batch endpoint called name, fetched by fetch.
func New[K comparable, V any](name string, fetch Func[K, V], opts ...Option) (*Batch[K, V], error) {
	if fetch == nil {
		return nil, fmt.Errorf("batch %q: nil fetch function", name)
	}
	s := settings{maxSize: 100}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&s); err != nil {
			return nil, fmt.Errorf("batch %q: %w", name, err)
		}
	}
	return &Batch[K, V]{name: name, fetch: fetch, maxSize: s.maxSize, maxWait: s.maxWait}, nil
}

// Name returns the batch's name.
func (b *Batch[K, V]) Name() string { return b.name }

// Stats counts a Batch's work since it was made.
type Stats struct {
	// Calls is the number of calls of the fetch function.
	Calls int64
	// Keys is the number of keys sent (each key once per call).
	Keys int64
	// Loads is the number of keys asked for by nodes.
	Loads int64
	// Missing counts keys a call did not answer.
	Missing int64
	// Failed counts calls that returned an error or panicked.
	Failed int64
}

// Stats returns the batch's counters.
func (b *Batch[K, V]) Stats() Stats {
	return Stats{
		Calls: b.stats.calls.Load(), Keys: b.stats.keys.Load(), Loads: b.stats.loads.Load(),
		Missing: b.stats.missing.Load(), Failed: b.stats.failed.Load(),
	}
}

// Close sends the open batch at once and waits for the calls under way
// (each bounded by the deadlines of its waiters). Loads after Close fail
// with ErrClosed.
func (b *Batch[K, V]) Close() error {
	b.mu.Lock()
	b.closed = true
	if w := b.open; w != nil {
		w.sendNow()
	}
	b.mu.Unlock()
	b.calls.Wait()
	return nil
}

// callGrace is how long a call may outlive the latest deadline of the nodes
// waiting for it.
const callGrace = time.Millisecond

// ErrClosed is returned by loads of a closed Batch.
var ErrClosed = errors.New("batch: closed")

// Load returns the value of key, fetched in a call with the other keys
// asked at the same time. It gives up when ctx ends, leaving the call to
// the others.
func (b *Batch[K, V]) Load(ctx context.Context, key K) (V, error) {
	var zero V
	ws, err := b.join(ctx, []K{key})
	if err != nil {
		return zero, err
	}
	w := ws[0]
	defer w.leave()
	select {
	case <-w.done:
		v, err := w.result(b.name, key)
		if err != nil && w.expired {
			// The call ran out of the time of its waiters, this node's
			// included: the node timed out, the call did not fail.
			<-ctx.Done()
			return zero, fmt.Errorf("batch %q: key %v: %w", b.name, key, context.Cause(ctx))
		}
		return v, err
	case <-ctx.Done():
		return zero, fmt.Errorf("batch %q: key %v: %w", b.name, key, context.Cause(ctx))
	}
}

// LoadMany returns the values of keys in their order, in ceil(len/MaxSize)
// calls when no other keys are asked at the same time. It fails when any
// key fails, with the first key's error.
func (b *Batch[K, V]) LoadMany(ctx context.Context, keys []K) ([]V, error) {
	if len(keys) == 0 {
		return []V{}, nil
	}
	ws, err := b.join(ctx, keys)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, w := range ws {
			w.leave()
		}
	}()
	out := make([]V, len(keys))
	for i, k := range keys {
		w := ws[i]
		select {
		case <-w.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("batch %q: key %v: %w", b.name, k, context.Cause(ctx))
		}
		v, err := w.result(b.name, k)
		if err != nil && w.expired {
			<-ctx.Done() // as in Load
			return nil, fmt.Errorf("batch %q: key %v: %w", b.name, k, context.Cause(ctx))
		}
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// join adds keys to open windows (opening new ones as they fill) and
// returns the window of each key; every returned window counts one waiter
// per key, released by leave.
func (b *Batch[K, V]) join(ctx context.Context, keys []K) ([]*window[K, V], error) {
	b.stats.loads.Add(int64(len(keys)))
	ws := make([]*window[K, V], len(keys))
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("batch %q: %w", b.name, ErrClosed)
	}
	for i, k := range keys {
		w := b.open
		if w == nil || (w.full() && !w.has(k)) {
			if w != nil {
				w.sendNow()
			}
			w = b.newWindow(ctx)
		}
		w.add(ctx, k)
		if w.full() {
			w.sendNow()
			b.open = nil
		}
		ws[i] = w
	}
	return ws, nil
}

// newWindow opens a window and starts its sender. Called with b.mu held.
func (b *Batch[K, V]) newWindow(ctx context.Context) *window[K, V] {
	w := &window[K, V]{
		b: b, index: map[K]int{}, go_: make(chan struct{}), done: make(chan struct{}),
		values: context.WithoutCancel(ctx),
	}
	b.open = w
	b.calls.Add(1)
	go w.run()
	return w
}

// window is one batch: the keys collected, then one call and its answer.
type window[K comparable, V any] struct {
	b      *Batch[K, V]
	values context.Context // the first waiter's values (trace context), no cancellation

	// guarded by b.mu
	keys      []K
	index     map[K]int
	waiters   int
	deadline  time.Time // the latest deadline of the waiters; zero: none
	unbounded bool      // a waiter has no deadline
	sent      bool
	cancel    context.CancelFunc // of the call, once sent

	go_  chan struct{} // closed to send at once (full, or Close)
	done chan struct{} // closed when the answer is in

	answer  map[K]V
	err     error
	expired bool // the call's context passed the waiters' latest deadline
}

func (w *window[K, V]) full() bool   { return len(w.keys) >= w.b.maxSize }
func (w *window[K, V]) has(k K) bool { _, ok := w.index[k]; return ok }

// add registers a waiter for k. Called with b.mu held.
func (w *window[K, V]) add(ctx context.Context, k K) {
	if !w.has(k) {
		w.index[k] = len(w.keys)
		w.keys = append(w.keys, k)
	}
	w.waiters++
	if d, ok := ctx.Deadline(); !ok {
		w.unbounded = true
	} else if d.After(w.deadline) {
		w.deadline = d
	}
}

// sendNow makes the window send without waiting. Called with b.mu held.
func (w *window[K, V]) sendNow() {
	if !w.sent {
		w.sent = true
		close(w.go_)
	}
	if w.b.open == w {
		w.b.open = nil
	}
}

// leave drops a waiter; the last one out cancels the call.
func (w *window[K, V]) leave() {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	w.waiters--
	if w.waiters == 0 && w.cancel != nil {
		w.cancel()
	}
}

// run waits for the window to fill, for MaxWait or for the goroutines made
// runnable with the first key to run; then it makes the call.
func (w *window[K, V]) run() {
	b := w.b
	defer b.calls.Done()
	if b.maxWait > 0 {
		t := time.NewTimer(b.maxWait)
		select {
		case <-w.go_:
		case <-t.C:
		}
		t.Stop()
	} else {
		w.gatherReady()
	}
	b.mu.Lock()
	if !w.sent {
		w.sent = true
		close(w.go_)
	}
	if b.open == w {
		b.open = nil
	}
	keys := w.keys
	var ctx context.Context
	var cancel context.CancelFunc
	if w.unbounded {
		ctx, cancel = context.WithCancel(w.values)
	} else {
		// A moment past the last deadline, so that each node's own context
		// ends first and the node times out rather than seeing the call fail.
		ctx, cancel = context.WithDeadline(w.values, w.deadline.Add(callGrace))
	}
	w.cancel = cancel
	nobody := w.waiters == 0
	b.mu.Unlock()
	defer cancel()
	if nobody { // every node gave up before the call: do not make it
		w.err = fmt.Errorf("batch %q: %w", b.name, context.Canceled)
		close(w.done)
		return
	}

	b.stats.calls.Add(1)
	b.stats.keys.Add(int64(len(keys)))
	w.answer, w.err = w.call(ctx, keys)
	w.expired = w.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
	if w.err != nil {
		b.stats.failed.Add(1)
	}
	close(w.done)
}

// gatherReady yields until no new key joins across two yields (at most 8),
// so that node goroutines made runnable with this one join before it sends.
func (w *window[K, V]) gatherReady() {
	b := w.b
	last, still := -1, 0
	for range 8 {
		select {
		case <-w.go_:
			return
		default:
		}
		runtime.Gosched()
		b.mu.Lock()
		n := len(w.keys)
		b.mu.Unlock()
		if n == last {
			if still++; still == 2 {
				return
			}
		} else {
			last, still = n, 0
		}
	}
}

func (w *window[K, V]) call(ctx context.Context, keys []K) (m map[K]V, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("batch %q: fetch of %d keys panicked: %v", w.b.name, len(keys), r)
		}
	}()
	m, err = w.b.fetch(ctx, keys)
	if err != nil {
		return nil, &CallError{Batch: w.b.name, Keys: len(keys), Err: err}
	}
	return m, nil
}

// result is key's share of the answer.
func (w *window[K, V]) result(name string, key K) (V, error) {
	var zero V
	if w.err != nil {
		return zero, w.err
	}
	v, ok := w.answer[key]
	if !ok {
		w.b.stats.missing.Add(1)
		return zero, &MissingKeyError{Batch: name, Key: fmt.Sprint(key)}
	}
	return v, nil
}

// ListFunc fetches many keys in one call and answers their values in the
// order of the keys.
type ListFunc[K comparable, V any] func(ctx context.Context, keys []K) ([]V, error)

// NewList is [New] for an endpoint that answers a list in key order; an
// answer of the wrong length fails the call.
func NewList[K comparable, V any](name string, fetch ListFunc[K, V], opts ...Option) (*Batch[K, V], error) {
	if fetch == nil {
		return nil, fmt.Errorf("batch %q: nil fetch function", name)
	}
	return New(name, func(ctx context.Context, keys []K) (map[K]V, error) {
		vals, err := fetch(ctx, keys)
		if err != nil {
			return nil, err
		}
		if len(vals) != len(keys) {
			return nil, fmt.Errorf("answered %d values for %d keys", len(vals), len(keys))
		}
		out := make(map[K]V, len(keys))
		for i, k := range keys {
			out[k] = vals[i]
		}
		return out, nil
	}, opts...)
}
