package graphtest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// fakeTB records failures instead of failing the real test, so that tests
// can check what the harness reports. Cleanup goes to the real test.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	msgs   []string
	failed bool
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs, f.failed = append(f.msgs, fmt.Sprintf(format, args...)), true
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) FailNow() {
	f.mu.Lock()
	f.failed = true
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *fakeTB) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.msgs, "\n")
}

// capture runs fn with a fakeTB on a goroutine of its own, so that a fatal
// failure ends only fn, and returns what fn reported.
func capture(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

// mustContain fails t unless out contains every one of want.
func mustContain(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q; output:\n%s", w, out)
		}
	}
}

// The graph the harness tests run: a small card authorization. Its real
// fetch bodies fail the test if they run, so that a test that reaches one
// shows up.
type Account struct {
	ID      string
	Limit   int
	Country string
}

type Device struct {
	Risk float64
}

type authGraph struct {
	g        *graph.Graph
	card     graph.Ref[string]
	account  graph.Ref[Account]
	device   graph.Ref[Device]
	foreign  graph.Ref[bool]
	kyc      graph.Ref[float64]
	noKYC    graph.Ref[float64]
	kycScore graph.Ref[float64]
	recent   graph.Ref[[]string]
	amounts  graph.Ref[[]int]
	spent    graph.Ref[int]
	model    graph.Ref[float64]
	decision graph.Ref[string]
}

var errRealService = errors.New("a real service was called")

func newAuthGraph(t testing.TB) *authGraph {
	t.Helper()
	realCall := func(name string) error {
		t.Errorf("the real body of %q ran", name)
		return errRealService
	}
	b := graph.NewBuilder()
	a := &authGraph{}
	a.card = nodes.Input[string](b, "card")
	a.account = nodes.Fetch1(b, "account", a.card, func(ctx context.Context, card string) (Account, error) {
		return Account{}, realCall("account")
	}, nodes.Timeout(time.Second))
	a.device = nodes.Fetch1(b, "device", a.card, func(ctx context.Context, card string) (Device, error) {
		return Device{}, realCall("device")
	}, nodes.Timeout(100*time.Millisecond), nodes.Fallback(Device{Risk: 0.5})) // a late answer is a timeout: room for a stub on a loaded machine
	a.foreign = nodes.Compute1(b, "foreign", a.account, func(acc Account) (bool, error) { return acc.Country != "FR", nil })
	a.kyc = nodes.Fetch1(b, "kyc", a.account, func(ctx context.Context, acc Account) (float64, error) {
		return 0, realCall("kyc")
	})
	a.noKYC = nodes.Value(b, "no_kyc", 0.0)
	a.kycScore = nodes.If(b, "kyc_score", a.foreign, a.kyc, a.noKYC)
	a.recent = nodes.Fetch1(b, "recent", a.card, func(ctx context.Context, card string) ([]string, error) {
		return nil, realCall("recent")
	}, nodes.Timeout(300*time.Millisecond)) // room for a stub on a loaded machine (100 ms once was not, under -race at load 20): a late answer is a timeout
	a.amounts = nodes.Each(b, "amounts", a.recent, func(ctx context.Context, txn string) (int, error) {
		return 0, realCall("amounts")
	}, nodes.Limit(2), nodes.Timeout(300*time.Millisecond)) // as recent
	a.spent = nodes.Compute1(b, "spent", a.amounts, func(xs []int) (int, error) {
		sum := 0
		for _, x := range xs {
			sum += x
		}
		return sum, nil
	}, nodes.Fallback(0))
	a.model = nodes.Fetch4(b, "model", a.account, a.device, a.kycScore, a.spent,
		func(ctx context.Context, acc Account, dev Device, kyc float64, spent int) (float64, error) {
			return 0, realCall("model")
		})
	a.decision = nodes.Compute2(b, "decision", a.account, a.model, func(acc Account, score float64) (string, error) {
		switch {
		case score >= 0.95:
			return "decline", nil
		case score >= 0.8:
			return "review", nil
		}
		return "approve", nil
	})
	g, err := b.Build()
	if err != nil {
		t.Fatalf("building the test graph: %v", err)
	}
	a.g = g
	return a
}
