package graphtest_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/graphtest"
	"github.com/featgraph/featgraph/nodes"
)

// decisionGraph is the graph of the README's testing section: an account
// and a device fetched for a card, a KYC check only for foreign accounts,
// a model score and a decision.
type decisionGraph struct {
	graph    *graph.Graph
	card     graph.Ref[string]
	account  graph.Ref[Account]
	device   graph.Ref[Device]
	kyc      graph.Ref[float64]
	model    graph.Ref[float64]
	decision graph.Ref[string]
}

func newDecisionGraph() *decisionGraph {
	b := graph.NewBuilder()
	d := &decisionGraph{}
	unreachable := func(ctx context.Context) error { return context.Cause(ctx) } // real services live elsewhere
	d.card = nodes.Input[string](b, "card")
	d.account = nodes.Fetch1(b, "account", d.card, func(ctx context.Context, card string) (Account, error) {
		return Account{}, unreachable(ctx)
	})
	d.device = nodes.Fetch1(b, "device", d.card, func(ctx context.Context, card string) (Device, error) {
		return Device{}, unreachable(ctx)
	}, nodes.Timeout(100*time.Millisecond), nodes.Fallback(Device{Risk: 0.5}))
	foreign := nodes.Compute1(b, "foreign", d.account, func(a Account) (bool, error) { return a.Country != "GB", nil })
	d.kyc = nodes.Fetch1(b, "kyc", d.account, func(ctx context.Context, a Account) (float64, error) {
		return 0, unreachable(ctx)
	})
	kycScore := nodes.If(b, "kyc_score", foreign, d.kyc, nodes.Value(b, "no_kyc", 0.0))
	d.model = nodes.Fetch3(b, "model", d.account, d.device, kycScore, func(ctx context.Context, a Account, dev Device, kyc float64) (float64, error) {
		return 0, unreachable(ctx)
	})
	d.decision = nodes.Compute1(b, "decision", d.model, func(score float64) (string, error) {
		if score >= 0.9 {
			return "review", nil
		}
		return "approve", nil
	})
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	d.graph = g
	return d
}

// The README's example, verbatim (TestReadmeSnippetsAreTested checks it).
func TestReviewWhenTheDeviceServiceHangs(t *testing.T) {
	d := newDecisionGraph()

	h := graphtest.New(t, d.graph,
		graphtest.Stub(d.account, Account{ID: "a1", Limit: 500, Country: "GB"}),
		graphtest.StubHang(d.device), // ignores its context; released when the test ends
		graphtest.Stub(d.model, 0.93),
		graphtest.Forbid(d.kyc), // fails the test if it runs
	)
	run := h.Run(context.Background(), []executor.Binding{executor.Bind(d.card, "c1")}, d.decision)

	graphtest.ExpectValue(run, d.decision, "review")
	run.ExpectRan(d.model)
	run.ExpectFellBack(d.device)
	run.ExpectSkipped(d.kyc)
}

func TestReplayAProductionRun(t *testing.T) {
	d := newDecisionGraph()
	recorded := graphtest.New(t, d.graph,
		graphtest.Stub(d.account, Account{ID: "a1", Limit: 500, Country: "FR"}),
		graphtest.Stub(d.device, Device{Risk: 0.1}),
		graphtest.Stub(d.kyc, 0.2),
		graphtest.Stub(d.model, 0.95),
	).Run(context.Background(), []executor.Binding{executor.Bind(d.card, "c1")}, d.decision)
	res := recorded.Result()
	path := t.TempDir() + "/run.json"

	// In production, after a run:
	rec, err := res.RecordValues() // the inputs and what was fetched
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(rec.WriteJSON(f), f.Close()); err != nil {
		t.Fatal(err)
	}

	// In a test, with no backend:
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err = executor.ReadRecord(f)
	if err != nil {
		t.Fatal(err)
	}
	h := graphtest.New(t, d.graph, graphtest.Replay(rec))
	run := h.Run(context.Background(), h.Inputs(), d.decision)
	graphtest.ExpectValue(run, d.decision, "review")
}

func TestDecisionSurvivesDeviceFaults(t *testing.T) {
	d := newDecisionGraph()
	for seed := range uint64(20) {
		h := graphtest.New(t, d.graph,
			graphtest.Stub(d.account, Account{ID: "a1", Limit: 500, Country: "GB"}),
			graphtest.Stub(d.device, Device{Risk: 0.1}),
			graphtest.Stub(d.model, 0.3),
			graphtest.Forbid(d.kyc),
			graphtest.ExecutorOptions(executor.WithRunTimeout(5*time.Second)), // far past the device's timeout, even on a loaded machine
			// latency, an error, a panic or a hang, drawn from the seed
			graphtest.RandomFaults(seed, graphtest.FaultNodes(d.device), graphtest.FaultRate(1)),
		)
		run := h.Run(context.Background(), []executor.Binding{executor.Bind(d.card, "c1")}, d.decision)
		run.ExpectHasValue(d.decision) // the device's timeout and fallback keep a decision possible
	}
}

// Every Go snippet of the README's testing section is in this file, so
// that it compiles and runs.
func TestReadmeSnippetsAreTested(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("readme_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`(?s)<!-- section: testing -->(.*)<!-- /section: testing -->`).FindSubmatch(readme)
	if section == nil {
		t.Fatal("README.md has no testing section")
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(section[1], -1)
	if len(blocks) == 0 {
		t.Fatal("the README's testing section has no Go snippet")
	}
	for _, b := range blocks {
		if !strings.Contains(string(self), string(b[1])) {
			t.Errorf("README snippet not found verbatim in readme_example_test.go:\n%s", b[1])
		}
	}
}
