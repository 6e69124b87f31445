package fetchers_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// sumModel scores a row with the sum of its numbers; a batch is a list of
// rows. drop removes that many rows from a batch answer.
func sumModel(drop int) func(w http.ResponseWriter, r *http.Request, hit int64) {
	score := func(row map[string]any) map[string]any {
		sum := 0.0
		for _, v := range row {
			if n, ok := v.(float64); ok {
				sum += n
			}
		}
		return map[string]any{"score": sum, "model": "sum-v1"}
	}
	return func(w http.ResponseWriter, r *http.Request, hit int64) {
		var body any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var out any
		switch b := body.(type) {
		case map[string]any:
			out = score(b)
		case []any:
			rows := []any{}
			for _, row := range b {
				rows = append(rows, score(row.(map[string]any)))
			}
			out = rows[:max(len(rows)-drop, 0)]
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}
}

func TestModelScoreSendsFlatFeatures(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {})
	f.setHandler(sumModel(0))
	u := newUpstream(t, f)
	b := graph.NewBuilder()
	amount := nodes.Input[float64](b, "amount")
	velocity := nodes.Value(b, "velocity", 3)
	country := nodes.Value(b, "country", "FR")
	score := fetchers.ModelScore(b, "fraud_score", u, "/score", []fetchers.Feature{
		fetchers.FeatureOf("amount", amount),
		fetchers.FeatureOf("txn-velocity", velocity),
		fetchers.FeatureOf("country", country),
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(amount, 39.5)}, score)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	s, _ := executor.Get(res, score)
	if s.Value != 42.5 || s.Extra["model"] != "sum-v1" {
		t.Errorf("score = %+v, want 42.5 from sum-v1", s)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(f.lastBody()), &sent); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"amount": 39.5, "txn-velocity": 3.0, "country": "FR"}
	if len(sent) != len(want) {
		t.Errorf("sent %v, want %v", sent, want)
	}
	for k, v := range want {
		if sent[k] != v {
			t.Errorf("sent %s = %v, want %v", k, sent[k], v)
		}
	}
}

func TestModelScoreBatch(t *testing.T) {
	rows := []fetchers.Row{{"a": 1.0, "b": 2.0}, {"a": 10.0}, {"c": 0.5}}
	t.Run("one score per row", func(t *testing.T) {
		f := newFake(t, sumModel(0))
		u := newUpstream(t, f)
		scores, err := fetchers.PostScoreBatch(context.Background(), u, "/batch", rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(scores) != 3 || scores[0].Value != 3 || scores[1].Value != 10 || scores[2].Value != 0.5 {
			t.Errorf("scores = %+v", scores)
		}
	})
	t.Run("missing row", func(t *testing.T) {
		f := newFake(t, sumModel(1))
		u := newUpstream(t, f)
		b := graph.NewBuilder()
		in := nodes.Input[[]fetchers.Row](b, "rows")
		out := fetchers.ModelScoreBatch(b, "scores", u, "/batch", in)
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		res, _ := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(in, rows)}, out)
		defer res.Release()
		n := res.Node(out)
		if !errors.Is(n.Cause, fetchers.ErrRowCount) {
			t.Fatalf("cause = %v, want ErrRowCount", n.Cause)
		}
		mustContain(t, n.Cause.Error(), `node "scores"`, "sent 3 rows, got 2")
	})
}

func TestScoreAnswerShape(t *testing.T) {
	for body, ok := range map[string]bool{
		`{"score":0.7}`:                     true,
		`{"score":0.7,"reason":"velocity"}`: true,
		`{"reason":"velocity"}`:             false,
		`{"score":"high"}`:                  false,
		`{"score":0.7,"parts":{"a":1}}`:     false,
		`[0.7]`:                             false,
	} {
		_, err := fetchers.DecodeJSON[fetchers.Score]([]byte(body))
		if ok != (err == nil) {
			t.Errorf("%s: err = %v", body, err)
		}
		if err != nil && !errors.Is(err, fetchers.ErrWrongShape) {
			t.Errorf("%s: err = %v, want ErrWrongShape", body, err)
		}
	}
	s := fetchers.Score{Value: 0.25, Extra: map[string]any{"reason": "x"}}
	b, err := json.Marshal(s)
	if err != nil || string(b) != `{"reason":"x","score":0.25}` {
		t.Errorf("marshal = %s, %v", b, err)
	}
}
