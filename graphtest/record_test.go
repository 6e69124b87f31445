package graphtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/graphtest"
	"github.com/featgraph/featgraph/nodes"
)

// recordRun runs the auth graph with "production" stubs and records it.
// model is the model's stub; nil gives one computing from kyc and spent.
func recordRun(t *testing.T, a *authGraph, model graphtest.Option) (*graphtest.Run, string) {
	t.Helper()
	if model == nil {
		model = graphtest.StubFunc2(a.model, a.kycScore, a.spent, func(kyc float64, spent int) (float64, error) {
			return kyc + float64(spent)/50, nil
		})
	}
	h := graphtest.New(t, a.g, append(stubsExcept(a, "device", "account", "kyc", "model"),
		graphtest.Stub(a.account, Account{ID: "a9", Limit: 800, Country: "DE"}),
		graphtest.StubHang(a.device),
		graphtest.Stub(a.kyc, 0.25),
		model,
	)...)
	run := h.Run(context.Background(), []executor.Binding{executor.Bind(a.card, "c42")}, a.decision)
	rec, err := run.Result().RecordValues()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.json")
	writeRecord(t, rec, path)
	return run, path
}

// writeRecord writes rec to path as a service would.
func writeRecord(t testing.TB, rec *executor.Record, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(rec.WriteJSON(f), f.Close()); err != nil {
		t.Fatal(err)
	}
}

// readRecord reads the run record at path.
func readRecord(path string) (*executor.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return executor.ReadRecord(f)
}

func TestRecordAndReplay(t *testing.T) {
	a := newAuthGraph(t)
	orig, path := recordRun(t, a, nil)
	graphtest.ExpectValue(orig, a.decision, "review") // 0.25 + 30/50

	rec, err := readRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	// Replay on a graph whose real bodies would fail the test: nothing but
	// the recording answers.
	h := graphtest.New(t, a.g, graphtest.Replay(rec))
	run := h.Run(context.Background(), h.Inputs(), a.decision)
	for _, want := range orig.Result().Nodes() {
		got := run.Node(graph.Named(want.Name))
		if got.Outcome != want.Outcome {
			t.Errorf("replayed %q ended %s, recorded %s", want.Name, got.Outcome, want.Outcome)
		}
		if want.Outcome.HasValue() {
			wv, _ := orig.Result().Value(graph.Named(want.Name))
			gv, _ := run.Result().Value(graph.Named(got.Name))
			if !jsonEqual(t, wv, gv) {
				t.Errorf("replayed %q = %#v, recorded %#v", want.Name, gv, wv)
			}
		}
	}
	// Values keep their Go types through JSON.
	if acc := graphtest.Value(run, a.account); acc != (Account{ID: "a9", Limit: 800, Country: "DE"}) {
		t.Errorf("replayed account = %#v", acc)
	}
	graphtest.ExpectValue(run, a.amounts, []int{10, 20})
	graphtest.ExpectValue(run, a.decision, "review")
	// Hung again, within the node's own timeout, and fell back again.
	run.ExpectFellBack(a.device)
	run.ExpectCause(a.device, context.DeadlineExceeded)
	if d := run.Node(a.device).Duration(); d < 100*time.Millisecond {
		t.Errorf("replayed device ended after %v, before its 100ms timeout", d)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

func TestRecordFile(t *testing.T) {
	a := newAuthGraph(t)
	_, path := recordRun(t, a, nil)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Nodes []map[string]any
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, n := range raw.Nodes {
		if k := n["kind"]; k == "fetch" || k == "each" {
			byName[n["name"].(string)] = n
		}
		if n["name"] == "card" && n["value"] != "c42" {
			t.Errorf("input card recorded as %v, want c42:\n%s", n["value"], data)
		}
		if n["kind"] == "compute" && n["value"] != nil {
			t.Errorf("compute node %v recorded with a value: replay computes it again", n["name"])
		}
	}
	for name, want := range map[string]string{"account": "ok", "device": "fallback", "kyc": "ok", "recent": "ok", "amounts": "ok", "model": "ok"} {
		if got := byName[name]["outcome"]; got != want {
			t.Errorf("node %q recorded as %v, want %s", name, got, want)
		}
	}
	if len(byName) != 6 {
		t.Errorf("recorded %d nodes, want the 6 fetch and each nodes:\n%s", len(byName), data)
	}
	if byName["account"]["type"] != "graphtest_test.Account" {
		t.Errorf("account recorded with type %v", byName["account"]["type"])
	}
}

func TestReplayMismatch(t *testing.T) {
	a := newAuthGraph(t)
	_, path := recordRun(t, a, nil)
	rec, err := readRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	// A graph that changed since the recording: account has another type,
	// model is gone, a new fetch "limits" appeared.
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card")
	type AccountV2 struct{ ID string }
	nodes.Fetch1(b, "account", card, func(context.Context, string) (AccountV2, error) { return AccountV2{}, nil })
	nodes.Fetch1(b, "device", card, func(context.Context, string) (Device, error) { return Device{}, nil })
	nodes.Fetch0(b, "kyc", func(context.Context) (float64, error) { return 0, nil })
	recent := nodes.Fetch1(b, "recent", card, func(context.Context, string) ([]string, error) { return nil, nil })
	nodes.Each(b, "amounts", recent, func(context.Context, string) (int, error) { return 0, nil })
	nodes.Fetch0(b, "limits", func(context.Context) (int, error) { return 0, nil })
	g2, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	f := capture(t, func(tb testing.TB) { graphtest.New(tb, g2, graphtest.Replay(rec)) })
	mustContain(t, f.output(),
		`node "account" was recorded with type graphtest_test.Account, the graph's node has type graphtest_test.AccountV2`,
		`the record has node "model" (fetch), the graph has none`,
		`the graph has fetch node "limits", the record does not`,
	)
	// A value that no longer decodes into its type.
	account := slices.IndexFunc(rec.Nodes, func(n executor.NodeRecord) bool { return n.Name == "account" })
	rec.Nodes[account].Recorded = json.RawMessage(`"not an object"`)
	f = capture(t, func(tb testing.TB) { graphtest.New(tb, a.g, graphtest.Replay(rec)) })
	mustContain(t, f.output(), `node "account": recorded value "\"not an object\"" does not decode into graphtest_test.Account`)
	// Kinds are checked too.
	rec.Nodes[account].Kind = graph.KindEach
	f = capture(t, func(tb testing.TB) { graphtest.New(tb, a.g, graphtest.Replay(rec)) })
	mustContain(t, f.output(), `node "account" was recorded as a each node, the graph has a fetch node`)
}

func TestReplayedFailures(t *testing.T) {
	a := newAuthGraph(t)
	errModel := errors.New("model overloaded")
	_, path := recordRun(t, a, graphtest.StubError(a.model, errModel))
	rec, err := readRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	h := graphtest.New(t, a.g, graphtest.Replay(rec))
	run := h.Run(context.Background(), h.Inputs(), a.decision)
	run.ExpectErrored(a.model, a.decision)
	if c := run.Node(a.model).Cause; c == nil || !strings.Contains(c.Error(), "model overloaded") {
		t.Errorf("replayed model's cause %v lacks the recorded text", c)
	}
}

func TestReadRecordErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"nodez": []}`, `unknown field "nodez"`},
		{`{"nodes": [{"name": "x", "kind": "fetchh"}]}`, `unknown node kind "fetchh"`},
		{`{"nodes": [{"name": "x", "kind": "fetch", "start_ns": 1}]}`, `unknown field "start_ns"`},
	} {
		_, err := executor.ReadRecord(strings.NewReader(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadRecord(%s) = %v, want an error containing %q", tc.body, err, tc.want)
		}
	}
	if _, err := readRecord(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestRecordRejectsUnencodableValues(t *testing.T) {
	b := graph.NewBuilder()
	ch := nodes.Fetch0(b, "chan", func(context.Context) (chan int, error) { return make(chan int), nil })
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	h := graphtest.New(t, g, graphtest.Allow(ch), graphtest.ExecutorOptions(executor.WithRunTimeout(time.Second)))
	run := h.Run(context.Background(), nil, ch)
	if _, err := run.Result().RecordValues(); err == nil || !strings.Contains(err.Error(), `node "chan"`) {
		t.Errorf("RecordValues of a channel value: %v, want an error naming the node", err)
	}
	if rec := run.Result().Record(); rec.Nodes[0].Recorded != nil {
		t.Errorf("Record (without values) holds %s", rec.Nodes[0].Recorded)
	}
}

func TestReplayWithAChangedAnswer(t *testing.T) {
	a := newAuthGraph(t)
	_, path := recordRun(t, a, nil)
	rec, err := readRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	// The recorded run was a review; what if the model had said 0.1?
	h := graphtest.New(t, a.g, graphtest.Stub(a.model, 0.1), graphtest.Replay(rec))
	run := h.Run(context.Background(), h.Inputs(), a.decision)
	graphtest.ExpectValue(run, a.decision, "approve")
	if n := h.Calls(a.model); n != 1 {
		t.Errorf("the test's model stub ran %d times, want 1", n)
	}
	graphtest.ExpectValue(run, a.account, Account{ID: "a9", Limit: 800, Country: "DE"})
}
