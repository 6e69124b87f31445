package executor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/deadline"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"go.opentelemetry.io/otel/trace"
)

// ErrGoexit is the error (wrapped in a [NodeError]) of a node whose code
// called runtime.Goexit — t.Fatal or t.SkipNow in a test stub — instead of
// returning. The node's users go on without it.
var ErrGoexit = errors.New("called runtime.Goexit instead of returning")

// Every function the graph was given is called through one of the helpers
// below, each with a deferred recover, or (a compute body without a
// deadline, see worker.compute) under the worker's one recover: a panic
// becomes a *PanicError naming the node. A runtime.Goexit goes through
// them (it cannot be stopped) and is caught by the worker's exit, which
// knows the node from worker.cur.

// callBody calls the body of blocking node n once.
func (s *run) callBody(ctx context.Context, n graph.NodeID, args []any) (v any, err error) {
	defer s.recoverPanic(n, &err)
	if s.e.info[n].kind == graph.KindEach {
		node := s.e.node(n)
		return callEach(ctx, node, args[0], args[1:], node.Each.Limit)
	}
	return s.e.info[n].fetch(ctx, args)
}

// callCompute calls the body of compute node n.
func (s *run) callCompute(n graph.NodeID, args []any) (v any, err error) {
	defer s.recoverPanic(n, &err)
	return s.e.info[n].compute(args)
}

// callChoose calls the chooser of If or Switch n.
func (s *run) callChoose(n graph.NodeID, args []any) (branch int, err error) {
	defer s.recoverPanic(n, &err)
	return s.e.node(n).Choose(args)
}

// callFallback calls the fallback of n.
func (s *run) callFallback(n graph.NodeID, cause error) (v any, err error) {
	defer recoverInto(s.g.Name(n)+" (fallback)", &err)
	return s.e.node(n).Fallback(cause)
}

// retryAgain waits before another try of n, and reports false when no try
// is left, err is not worth one, or the wait would not fit the deadline. A
// panicking retry predicate is an error of the node.
func (s *run) retryAgain(ctx context.Context, n graph.NodeID, attempts int32, err error) (again bool, perr error) {
	node := s.e.node(n)
	if int(attempts) >= node.Retry.Attempts {
		return false, nil
	}
	ok, perr := callRetryable(node, err)
	if perr != nil || !ok {
		return false, perr
	}
	return deadline.Sleep(ctx, deadline.Backoff(node.Retry.Backoff, int(attempts), 0)), nil
}

func callRetryable(node *graphdef.Node, err error) (ok bool, perr error) {
	defer recoverInto(node.Name+" (retry predicate)", &perr)
	var p *PanicError
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &p) {
		return false, nil
	}
	return node.Retry.Retryable == nil || node.Retry.Retryable(err), nil
}

// startNodeSpan starts the live span of blocking node n; a tracer that
// panics gives the node no span.
func (s *run) startNodeSpan(ctx context.Context, n graph.NodeID, start time.Time) (nodeCtx context.Context, span trace.Span) {
	defer func() {
		if recover() != nil {
			nodeCtx, span = ctx, nil
		}
	}()
	sctx, span := s.e.obs.startNodeSpan(ctx, s.g.Name(n), start)
	return sctx, span
}

func (s *run) recoverPanic(n graph.NodeID, err *error) {
	if r := recover(); r != nil {
		*err = s.panicError(n, r)
	}
}

// panicError is the cause of node n whose code panicked with r; its own
// function, so that recoverPanic's frame stays small: it runs on every
// body's return, at the deepest point of its goroutine's stack.
//
//go:noinline
func (s *run) panicError(n graph.NodeID, r any) error {
	return &PanicError{Node: s.g.Name(n), Value: r, Stack: debug.Stack()}
}

// recoverInto turns a panic of the calling function into a *PanicError.
func recoverInto(node string, err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Node: node, Value: r, Stack: debug.Stack()}
	}
}

// callEach fetches every element of list, at most limit at once (0: no
// bound), keeping the order; the first failure (an error, a panic, a
// Goexit) cancels the others. extra, the values of the node's other
// dependencies, goes to every element's call.
func callEach(ctx context.Context, node *graphdef.Node, list any, extra []any, limit int) (v any, err error) {
	defer recoverInto(node.Name, &err)
	elems := node.Each.Split(list)
	results := make([]any, len(elems))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		slots chan struct{}
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
			cancel()
		}
		mu.Unlock()
	}
	if limit > 0 {
		slots = make(chan struct{}, limit)
	}
	for i, elem := range elems {
		if slots != nil {
			slots <- struct{}{}
		}
		if ctx.Err() != nil {
			if slots != nil {
				<-slots
			}
			fail(ctx.Err())
			break
		}
		wg.Add(1)
		go func() {
			returned := false
			defer func() {
				if !returned {
					if r := recover(); r != nil {
						fail(&PanicError{Node: fmt.Sprintf("%s[%d]", node.Name, i), Value: r, Stack: debug.Stack()})
					} else {
						fail(fmt.Errorf("element %d: %w", i, ErrGoexit))
					}
				}
				if slots != nil {
					<-slots
				}
				wg.Done()
			}()
			r, err := node.Each.Elem(ctx, elem, extra)
			returned = true
			if err != nil {
				fail(fmt.Errorf("element %d: %w", i, err))
				return
			}
			results[i] = r
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	source := ""
	for i, r := range results {
		var src string
		results[i], src = graphx.Unsource(r)
		switch {
		case i == 0:
			source = src
		case src != source:
			source = "mixed"
		}
	}
	if source != "" {
		return graph.WithSource(node.Each.Join(results), source), nil
	}
	return node.Each.Join(results), nil
}

// startRunSpan is observer.startRun under a recover: a tracer that panics
// leaves the run without a span.
func (e *Executor) startRunSpan(ctx context.Context) (runCtx context.Context, span trace.Span) {
	defer func() {
		if recover() != nil {
			runCtx, span = ctx, nil
		}
	}()
	return e.obs.startRun(ctx)
}

// endRunSpan is observer.endRun under a recover: a tracer or meter that
// panics loses the run's spans or metrics, not the run.
func (e *Executor) endRunSpan(ctx context.Context, span trace.Span, res *Result, err error) {
	defer func() { _ = recover() }()
	e.obs.endRun(ctx, span, res, err)
}
