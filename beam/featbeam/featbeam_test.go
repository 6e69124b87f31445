package featbeam_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/featgraph/featgraph/beam/featbeam"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// The small graph: an id and an amount in; a score fetch that fails for
// ids starting with "bad"; a tier fetch with a fallback for ids starting
// with "fb"; a decision string.
func init() {
	featbeam.Register("test.small", func(ctx context.Context, config []byte) (*featbeam.Built, error) {
		b := graph.NewBuilder()
		id := nodes.Input[string](b, "id")
		amount := nodes.Input[int](b, "amount")
		score := nodes.Fetch1(b, "score", id, func(ctx context.Context, id string) (int, error) {
			if strings.HasPrefix(id, "bad") {
				return 0, errors.New("score service: no such id")
			}
			return len(id), nil
		})
		tier := nodes.Fetch1(b, "tier", id, func(ctx context.Context, id string) (string, error) {
			if strings.HasPrefix(id, "fb") {
				return "", errors.New("tier service down")
			}
			return "gold", nil
		}, nodes.Fallback("basic"))
		nodes.Compute3(b, "decision", score, amount, tier, func(s, a int, t string) (string, error) {
			return fmt.Sprintf("%s/%d/%d/%s", t, s, a, config), nil
		})
		g, err := b.Build()
		if err != nil {
			return nil, err
		}
		ex, err := executor.New(g)
		if err != nil {
			return nil, err
		}
		return &featbeam.Built{Executor: ex, Targets: []string{"decision"}}, nil
	})
}

func TestRunOnPrism(t *testing.T) {
	rows := []featbeam.Row{
		{Source: "rows.jsonl", N: 1, Line: `{"id": "a", "amount": 1}`},
		{Source: "rows.jsonl", N: 2, Line: `{"id": "fb", "amount": 2.0}`},
		{Source: "rows.jsonl", N: 3, Line: `{"id": "bad", "amount": 3}`},
		{Source: "rows.jsonl", N: 4, Line: `{"id": "c", "amount": "x"}`},
		{Source: "rows.jsonl", N: 5, Line: `{"id": "d"}`},
		{Source: "rows.jsonl", N: 6, Line: `{"id": `},
	}
	for i := range 20 {
		rows = append(rows, featbeam.Row{Source: "more.jsonl", N: int64(i + 1), Line: fmt.Sprintf(`{"id": "m%d", "amount": %d}`, i, i)})
	}
	p, s := beam.NewPipelineWithRoot()
	out, dead := featbeam.Run(s, beam.CreateList(s, rows), featbeam.Config{Graph: "test.small", GraphConfig: []byte("v1"), InFlight: 3, Outcomes: true})
	want := []any{
		`{"amount":1,"decision":"gold/1/1/v1","id":"a","outcome.amount":"ok","outcome.decision":"ok","outcome.id":"ok","outcome.score":"ok","outcome.tier":"ok"}`,
		`{"amount":2,"decision":"basic/2/2/v1","id":"fb","outcome.amount":"ok","outcome.decision":"ok","outcome.id":"ok","outcome.score":"ok","outcome.tier":"fallback"}`,
	}
	for i := range 20 {
		id := fmt.Sprintf("m%d", i)
		want = append(want, fmt.Sprintf(`{"amount":%d,"decision":"gold/%d/%d/v1","id":"%s","outcome.amount":"ok","outcome.decision":"ok","outcome.id":"ok","outcome.score":"ok","outcome.tier":"ok"}`, i, len(id), i, id))
	}
	passert.Equals(s, out, want...)
	passert.Equals(s, dead,
		`{"row":3,"error":"row 3: column \"decision\": node \"decision\" not run: dependency \"score\" failed: score service: no such id","columns":{"amount":3,"id":"bad"}}`,
		`{"row":4,"error":"row 4: column \"amount\": string \"x\" is not an int","columns":{"amount":"x","id":"c"}}`,
		`{"row":5,"error":"row 5: column \"amount\": missing column","columns":{"id":"d"}}`,
		`{"row":6,"error":"row 6: rows.jsonl:6: not a JSON object: unexpected end of JSON input"}`,
	)
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	counters := map[string]int64{}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		counters[c.Key.Name] += c.Result()
	}
	for name, want := range map[string]int64{
		"rows.written": 22, "rows.failed": 4, "rows.fell_back": 1,
		"node.score.ok": 22, "node.score.error": 1, "node.tier.fallback": 1, "node.decision.error": 1,
	} {
		if counters[name] != want {
			t.Errorf("counter %s = %d, want %d", name, counters[name], want)
		}
	}
	// The bad row's score fails its decision at once, which cancels the
	// row's tier call if it has not ended yet (nothing else needs it);
	// which comes first depends on timing.
	if ok, canceled := counters["node.tier.ok"], counters["node.tier.canceled"]; ok < 21 || ok+canceled != 22 {
		t.Errorf("counters node.tier.ok = %d, node.tier.canceled = %d: want 22 in all, the bad row's may be canceled", ok, canceled)
	}
	var runs int64
	for _, d := range res.Metrics().AllMetrics().Distributions() {
		if d.Key.Name == "run_time_us" {
			runs += d.Result().Count
		}
	}
	if runs != 23 {
		t.Errorf("run time distribution holds %d runs, want 23", runs)
	}
}

func TestRunUnregisteredGraphFails(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	out, _ := featbeam.Run(s, beam.CreateList(s, []featbeam.Row{{N: 1, Line: `{}`}}), featbeam.Config{Graph: "test.none"})
	passert.Count(s, out, "out", 0)
	err := ptest.Run(p)
	if err == nil || !strings.Contains(err.Error(), `no graph registered as "test.none"`) {
		t.Fatalf("err %v: want one naming the unregistered graph", err)
	}
}
