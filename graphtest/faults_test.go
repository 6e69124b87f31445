package graphtest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graphtest"
)

// Faults chosen by hand are stubs: a hang, an error, a panic, a delay.
func TestFaultsByHand(t *testing.T) {
	a := newAuthGraph(t)
	h := graphtest.New(t, a.g, append(stubsExcept(a, "device", "recent", "model"),
		graphtest.StubHang(a.device),
		graphtest.StubError(a.recent, errDown),
		graphtest.StubPanic(a.model, "boom"),
		graphtest.Delay(a.account, 5*time.Millisecond),
	)...)
	if got := h.Faults(); len(got) != 0 {
		t.Errorf("Faults() = %v, want none: they list drawn faults", got)
	}
	run := h.Run(context.Background(), inputs(a), a.decision, a.spent)
	run.ExpectOutcomes(graphtest.Outcomes{
		"account":  executor.OutcomeOK,
		"device":   executor.OutcomeFallback,
		"recent":   executor.OutcomeError,
		"amounts":  executor.OutcomeError,
		"spent":    executor.OutcomeFallback,
		"model":    executor.OutcomeError,
		"decision": executor.OutcomeError,
	})
	run.ExpectCause(a.recent, errDown)
	var p *executor.PanicError
	if !errors.As(run.Node(a.model).Cause, &p) {
		t.Errorf("model's cause %v is not a panic", run.Node(a.model).Cause)
	}
	if d := run.Node(a.account).Duration(); d < 5*time.Millisecond {
		t.Errorf("account took %v, less than its 5ms delay", d)
	}
}

func TestRandomFaultsAreDeterministic(t *testing.T) {
	a := newAuthGraph(t)
	faults := func(seed uint64, opts ...graphtest.FaultOption) []graphtest.Fault {
		return graphtest.New(t, a.g, graphtest.RandomFaults(seed, opts...)).Faults()
	}
	distinct := map[string]bool{}
	for seed := range uint64(20) {
		f1, f2 := faults(seed), faults(seed)
		if !slices.Equal(f1, f2) {
			t.Fatalf("seed %d gave %v then %v", seed, f1, f2)
		}
		distinct[fmt.Sprint(f1)] = true
		for _, f := range f1 {
			if !slices.Contains([]string{"account", "device", "kyc", "recent", "amounts", "model"}, f.Node) {
				t.Errorf("seed %d: fault in %q, which is not a fetch or each node", seed, f.Node)
			}
		}
	}
	if len(distinct) < 5 {
		t.Errorf("20 seeds gave only %d distinct fault sets", len(distinct))
	}
	all := faults(7, graphtest.FaultRate(1), graphtest.FaultKinds(graphtest.FaultLatency), graphtest.MaxLatency(3*time.Millisecond),
		graphtest.FaultNodes(a.model, a.device, a.model))
	if len(all) != 2 || all[0].Node != "device" || all[1].Node != "model" {
		t.Fatalf("rate 1 on device and model gave %v", all)
	}
	for _, f := range all {
		if f.Kind != graphtest.FaultLatency || f.Latency < time.Millisecond || f.Latency > 3*time.Millisecond {
			t.Errorf("fault %v is not a latency in [1ms, 3ms]", f)
		}
	}
	if none := faults(7, graphtest.FaultRate(0)); len(none) != 0 {
		t.Errorf("rate 0 gave faults %v", none)
	}
	// A failure stubbed by hand wins over a drawn fault, whatever the order
	// of the options; a stubbed value does not.
	h := graphtest.New(t, a.g, graphtest.RandomFaults(3, graphtest.FaultRate(1), graphtest.FaultKinds(graphtest.FaultError)),
		graphtest.StubHang(a.model), graphtest.Stub(a.device, Device{}))
	var faulted []string
	for _, f := range h.Faults() {
		faulted = append(faulted, f.Node)
	}
	if slices.Contains(faulted, "model") || !slices.Contains(faulted, "device") {
		t.Errorf("faults in %v, want one in device and none in model (stubbed to hang)", faulted)
	}
}

// The decision graph must reach a decision whatever happens to the device
// and transaction services, thanks to their fallbacks; the account and model
// services are the ones it cannot do without.
func TestFallbacksKeepADecisionUnderRandomFaults(t *testing.T) {
	a := newAuthGraph(t)
	faulted := 0
	for seed := range uint64(30) {
		h := graphtest.New(t, a.g, append(stubsExcept(a),
			graphtest.ExecutorOptions(executor.WithRunTimeout(2*time.Second)),
			graphtest.RandomFaults(seed, graphtest.FaultRate(0.7), graphtest.MaxLatency(2*time.Millisecond),
				graphtest.FaultNodes(a.device, a.recent, a.amounts)),
		)...)
		faulted += len(h.Faults())
		run := h.Run(context.Background(), inputs(a), a.decision)
		run.ExpectHasValue(a.decision)
		if t.Failed() {
			t.Fatalf("seed %d: faults %v", seed, h.Faults())
		}
	}
	if faulted < 30 {
		t.Errorf("30 seeds injected only %d faults", faulted)
	}
}

func TestRandomFaultOptionErrors(t *testing.T) {
	a := newAuthGraph(t)
	f := capture(t, func(tb testing.TB) {
		graphtest.New(tb, a.g, graphtest.RandomFaults(1, graphtest.FaultRate(2)))
	})
	mustContain(t, f.output(), "FaultRate(2): not in [0, 1]")
	f = capture(t, func(tb testing.TB) {
		graphtest.New(tb, a.g, graphtest.RandomFaults(1, graphtest.FaultNodes(a.spent)))
	})
	mustContain(t, f.output(), `node "spent" is a compute node; faults go into fetch and each nodes`)
}
