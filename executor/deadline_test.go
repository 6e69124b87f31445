package executor_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// hungFetch returns a body that ignores its context until release is closed.
func hungFetch[T any](release <-chan struct{}, v T) func(context.Context) (T, error) {
	return func(context.Context) (T, error) {
		<-release
		return v, nil
	}
}

func TestNodeTimeoutHoldsAgainstABodyIgnoringItsContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	b := graph.NewBuilder()
	hung := nodes.Fetch0(b, "hung", hungFetch(release, 99), nodes.Timeout(20*time.Millisecond))
	guarded := nodes.Fetch0(b, "guarded", hungFetch(release, 99), nodes.Timeout(20*time.Millisecond), nodes.Fallback(7))
	after := nodes.Compute1(b, "after", guarded, func(v int) (int, error) { return v + 1, nil })
	g := mustBuild(t, b)

	res, err := executor.Run(context.Background(), g, nil, hung, after)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run error = %v, want a deadline error", err)
	}
	wantOutcomes(t, res, map[string]executor.Outcome{"hung": executor.OutcomeTimeout, "guarded": executor.OutcomeFallback, "after": executor.OutcomeOK})
	if v, _ := executor.Get(res, after); v != 8 {
		t.Errorf("after = %d, want 8 (fallback 7 + 1)", v)
	}
	var te *executor.TimeoutError
	if !errors.As(res.Node(hung).Cause, &te) || te.Node != "hung" || te.RunDeadline {
		t.Errorf("hung cause = %#v, want the node's own TimeoutError", res.Node(hung).Cause)
	}
	// The run returned although the bodies never did; their late results
	// must not show up once they return.
	if _, err := executor.Get(res, hung); err == nil {
		t.Error("hung has a value")
	}
}

func TestRunDeadlineHoldsAgainstHungNodes(t *testing.T) {
	release := make(chan struct{})
	b := graph.NewBuilder()
	hung := nodes.Fetch0(b, "hung", hungFetch(release, "late"))
	waiting := nodes.Compute1(b, "waiting", hung, func(s string) (string, error) { return s, nil })
	quick := nodes.Fetch0(b, "quick", func(context.Context) (string, error) { return "ok", nil })
	ex, err := executor.New(mustBuild(t, b), executor.WithRunTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}

	const hangFor = 5 * time.Second
	timer := time.AfterFunc(hangFor, func() { close(release) }) // a backstop, never reached
	defer func() {
		if timer.Stop() {
			close(release)
		}
	}()
	start := time.Now()
	res, err := ex.Run(context.Background(), nil, waiting, quick)
	elapsed := time.Since(start)
	if elapsed > hangFor/2 {
		t.Fatalf("Run took %v: the hung node held it past its deadline", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run error = %v", err)
	}
	wantOutcomes(t, res, map[string]executor.Outcome{"hung": executor.OutcomeTimeout, "waiting": executor.OutcomeCanceled, "quick": executor.OutcomeOK})
	var te *executor.TimeoutError
	if !errors.As(res.Node(hung).Cause, &te) || !te.RunDeadline {
		t.Errorf("hung cause = %v, want a run-deadline TimeoutError", res.Node(hung).Cause)
	}
	if d := res.Duration(); d < 30*time.Millisecond {
		t.Errorf("run Duration %v is shorter than its deadline", d)
	}
}

func TestNodeIsNeverGivenMoreThanTheRunHasLeft(t *testing.T) {
	b := graph.NewBuilder()
	got := make(chan time.Duration, 1)
	n := nodes.Fetch0(b, "n", func(ctx context.Context) (int, error) {
		d, ok := ctx.Deadline()
		if !ok {
			got <- -1
		} else {
			got <- time.Until(d)
		}
		return 1, nil
	}, nodes.Timeout(time.Hour))
	ex, _ := executor.New(mustBuild(t, b), executor.WithRunTimeout(time.Second))
	if _, err := ex.Run(context.Background(), nil, n); err != nil {
		t.Fatal(err)
	}
	if left := <-got; left <= 0 || left > time.Second {
		t.Errorf("node's deadline is %v away; want within the run's 1s", left)
	}
}

func TestCallerCancellationCancelsTheRun(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	b := graph.NewBuilder()
	sawCancel, started := make(chan struct{}), make(chan struct{})
	polite := nodes.Fetch0(b, "polite", func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		close(sawCancel)
		return 0, ctx.Err()
	})
	rude := nodes.Fetch0(b, "rude", hungFetch(release, 1))
	g := mustBuild(t, b)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }() // once polite runs: no body starts after a cancel
	res, err := executor.Run(ctx, g, nil, polite, rude)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run error = %v, want context.Canceled", err)
	}
	wantOutcomes(t, res, map[string]executor.Outcome{"polite": executor.OutcomeCanceled, "rude": executor.OutcomeCanceled})
	select {
	case <-sawCancel:
	case <-time.After(10 * time.Second):
		t.Error("a node never saw the run's context canceled")
	}
}

func TestRetryStopsAtTheDeadline(t *testing.T) {
	calls := 0
	b := graph.NewBuilder()
	flaky := nodes.Fetch0(b, "flaky", func(context.Context) (int, error) {
		calls++
		if calls < 3 {
			return 0, errors.New("503")
		}
		return 42, nil
	}, nodes.Retry(5, time.Millisecond))
	hopeless := nodes.Fetch0(b, "hopeless", func(context.Context) (int, error) { return 0, errors.New("503") },
		nodes.Retry(100, 40*time.Millisecond), nodes.Timeout(100*time.Millisecond))
	permanent := nodes.Fetch0(b, "permanent", func(context.Context) (int, error) { return 0, errors.New("400") },
		nodes.Retry(5, time.Millisecond), nodes.RetryIf(func(err error) bool { return err.Error() != "400" }))
	g := mustBuild(t, b)

	res := mustRun(t, g, nil, flaky)
	if v, _ := executor.Get(res, flaky); v != 42 || res.Node(flaky).Attempts != 3 {
		t.Errorf("flaky = %d after %d attempts; want 42 after 3", v, res.Node(flaky).Attempts)
	}
	res, _ = executor.Run(context.Background(), g, nil, hopeless)
	// 40ms, 80ms, 160ms... : the third wait would pass the 100ms timeout, so
	// it is not even started.
	if n := res.Node(hopeless); n.Outcome != executor.OutcomeError || n.Attempts < 2 || n.Attempts > 3 {
		t.Errorf("hopeless: %v after %d attempts; want error after 2-3", n.Outcome, n.Attempts)
	}
	res, _ = executor.Run(context.Background(), g, nil, permanent)
	if n := res.Node(permanent); n.Attempts != 1 {
		t.Errorf("permanent error retried: %d attempts", n.Attempts)
	}
}

func TestABodyReturningItsContextErrorTimesOut(t *testing.T) {
	b := graph.NewBuilder()
	polite := nodes.Fetch0(b, "polite", func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}, nodes.Timeout(10*time.Millisecond))
	g := mustBuild(t, b)
	for range 20 { // the body and the timeout watcher race; either way it is a timeout
		res, err := executor.Run(context.Background(), g, nil, polite)
		var te *executor.TimeoutError
		if n := res.Node(polite); n.Outcome != executor.OutcomeTimeout || !errors.As(n.Cause, &te) || te.RunDeadline {
			t.Fatalf("outcome %v, cause %v; want a node timeout", n.Outcome, n.Cause)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run error = %v", err)
		}
	}
}

func TestNodesThatNeverStartedHaveNoDuration(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	b := graph.NewBuilder()
	hung := nodes.Fetch0(b, "hung", hungFetch(release, 1))
	after := nodes.Compute1(b, "after", hung, func(v int) (int, error) { return v, nil })
	ex, _ := executor.New(mustBuild(t, b), executor.WithRunTimeout(20*time.Millisecond))
	res, _ := ex.Run(context.Background(), nil, after)
	if n := res.Node(after); n.Outcome != executor.OutcomeCanceled || n.Duration() != 0 || n.Start == 0 {
		t.Errorf("after: %v from %v to %v; want canceled with no duration, at the run's end", n.Outcome, n.Start, n.End)
	}
}

func TestATimedOutFetchCountsItsAttempt(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	b := graph.NewBuilder()
	hung := nodes.Fetch0(b, "hung", hungFetch(release, 1), nodes.Timeout(10*time.Millisecond))
	res, _ := executor.Run(context.Background(), mustBuild(t, b), nil, hung)
	if n := res.Node(hung); n.Outcome != executor.OutcomeTimeout || n.Attempts != 1 {
		t.Errorf("hung: %v after %d attempts; want timeout after 1", n.Outcome, n.Attempts)
	}
}

func TestTheRunDeadlineEndsTheRunEvenWhenNodesHaveFallbacks(t *testing.T) {
	type runKey struct{}
	var mu sync.Mutex
	started := map[int]bool{} // the runs whose polite body started
	b := graph.NewBuilder()
	polite := nodes.Fetch0(b, "polite", func(ctx context.Context) (int, error) {
		mu.Lock()
		started[ctx.Value(runKey{}).(int)] = true
		mu.Unlock()
		<-ctx.Done()
		return 0, ctx.Err()
	}, nodes.Fallback(1))
	target := nodes.Compute1(b, "target", polite, func(v int) (int, error) { return v, nil })
	g := mustBuild(t, b)
	timeout := 5 * time.Millisecond
	ex, _ := executor.New(g, executor.WithRunTimeout(timeout))
	// The body returning and the run's end race; the outcome must not
	// depend on it. A run that ends before polite even starts (a stalled
	// machine) proves nothing of that race: it does not count, and later
	// runs get twice the time.
	for run, raced := 0, 0; raced < 200; run++ {
		res, err := ex.Run(context.WithValue(context.Background(), runKey{}, run), nil, target)
		mu.Lock()
		ran := started[run]
		mu.Unlock()
		p := res.Node(polite).Outcome
		if err == nil || res.Node(target).Outcome != executor.OutcomeCanceled ||
			p != executor.OutcomeTimeout && (ran || p != executor.OutcomeCanceled) {
			t.Fatalf("run %d (polite started: %v): polite %v, target %v, err %v; want timeout, canceled and an error",
				run, ran, p, res.Node(target).Outcome, err)
		}
		res.Release()
		if ran {
			raced++
			continue
		}
		if timeout < time.Second {
			timeout *= 2
			ex, _ = executor.New(g, executor.WithRunTimeout(timeout))
		}
	}
}
