package hedge_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/featgraph/featgraph/internal/hedge"
	"github.com/featgraph/featgraph/timeouts"
)

func TestDelay(t *testing.T) {
	known := func(d time.Duration) func(float64) (time.Duration, bool) {
		return func(float64) (time.Duration, bool) { return d, true }
	}
	unknown := func(float64) (time.Duration, bool) { return 0, false }
	cases := []struct {
		name     string
		p        timeouts.HedgePolicy
		observed func(float64) (time.Duration, bool)
		want     time.Duration
		ok       bool
	}{
		{"zero policy never hedges", timeouts.HedgePolicy{}, known(time.Millisecond), 0, false},
		{"fixed delay", timeouts.HedgeAfter(7 * time.Millisecond), unknown, 7 * time.Millisecond, true},
		{"quantile", timeouts.HedgeAtQuantile(0.95, time.Millisecond), known(4 * time.Millisecond), 4 * time.Millisecond, true},
		{"quantile below the floor", timeouts.HedgeAtQuantile(0.95, 3*time.Millisecond), known(time.Millisecond), 3 * time.Millisecond, true},
		{"quantile not known yet", timeouts.HedgeAtQuantile(0.95, time.Millisecond), unknown, 0, false},
		{"quantile not known, fixed delay meanwhile", timeouts.HedgePolicy{Quantile: 0.95, Delay: 9 * time.Millisecond}, unknown, 9 * time.Millisecond, true},
	}
	for _, c := range cases {
		got, ok := hedge.Delay(c.p, c.observed)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: Delay = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
		if hedge.Enabled(c.p) != (c.p.Delay > 0 || c.p.Quantile > 0) {
			t.Errorf("%s: Enabled = %v", c.name, hedge.Enabled(c.p))
		}
	}
}

func TestBudgetCapsExtraRequests(t *testing.T) {
	b := hedge.NewBudget(0.05, 3)
	if b.Tokens() != 3 || b.Burst() != 3 {
		t.Fatalf("a new budget has %d of %d tokens, want full", b.Tokens(), b.Burst())
	}
	for range 3 {
		if !b.Spend() {
			t.Fatal("could not spend the starting tokens")
		}
	}
	if b.Spend() {
		t.Fatal("spent a token the budget did not have")
	}
	hedges := 0
	for range 1000 {
		b.Earn()
		if b.Spend() {
			hedges++
		}
	}
	if hedges != 50 {
		t.Errorf("%d hedges for 1000 calls at 5%%, want 50", hedges)
	}
	for range 10_000 {
		b.Earn()
	}
	if got := b.Tokens(); got != 3 {
		t.Errorf("saved %d tokens, want the burst of 3", got)
	}
}

func TestBudgetConcurrent(t *testing.T) {
	b := hedge.For(timeouts.HedgePolicy{MaxExtra: 0.1, Burst: 1000})
	for b.Spend() { // empty it, so that no earning hits the cap
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	spent := 0
	for range 8 {
		wg.Go(func() {
			n := 0
			for range 1000 {
				b.Earn()
				if b.Spend() {
					n++
				}
			}
			mu.Lock()
			spent += n
			mu.Unlock()
		})
	}
	wg.Wait()
	// 8000 calls at 10% earn 800 tokens.
	if total := spent + b.Tokens(); total != 800 {
		t.Errorf("spent %d + left %d = %d tokens, want 800", spent, b.Tokens(), total)
	}
}

func TestBudgetSpendKeepingLeavesReserve(t *testing.T) {
	b := hedge.NewBudget(0, 4)
	var got []bool
	for _, keep := range []int{2, 2, 2, 0, 0, 0} {
		got = append(got, b.SpendKeeping(keep))
	}
	// Two tokens above the reserve of 2, then the reserve for keep 0 only.
	want := []bool{true, true, false, true, true, false}
	if !slices.Equal(got, want) {
		t.Errorf("spends = %v, want %v", got, want)
	}
}
