package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/graphtest"
	"github.com/featgraph/featgraph/serve"
	"github.com/featgraph/featgraph/shadow"
	"github.com/featgraph/featgraph/spec"
)

// cardauthEnv points the spec's upstream at url.
func cardauthEnv(url string) []spec.Option {
	return []spec.Option{spec.Getenv(func(k string) string {
		if k == "CARDAUTH_URL" {
			return url
		}
		return ""
	})}
}

// decide posts one decision and returns the answer.
func decideOnce(t *testing.T, url string, body string) serve.Answer {
	t.Helper()
	resp, err := http.Post(url+"/v1/graphs/cardauth/decide", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var ans serve.Answer
	if err := json.Unmarshal(data, &ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("decide: %d %s (%v)", resp.StatusCode, data, err)
	}
	return ans
}

// TestDecisionLogReplays serves the cardauth spec against the simulated
// services with the decision log on, then replays every record through
// graphtest against the same spec with no backend (its upstream points at
// a closed port, and graphtest forbids any unstubbed fetch): every replay
// decides what the service answered.
func TestDecisionLogReplays(t *testing.T) {
	_, up := startUpstreams(t)
	dir := t.TempDir()
	log, err := decisionlog.Open("file://" + dir)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := decisionlog.NewObserver(log)
	if err != nil {
		t.Fatal(err)
	}
	specFile := generousSpec(t)
	g, err := serve.LoadSpec("cardauth", specFile, cardauthEnv(up.URL))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New([]*serve.Graph{g}, serve.WithDecisionLog(obs))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	answers := map[string]serve.Answer{}
	for i := range 24 {
		body := fmt.Sprintf(`{"transaction_id":"t%d","card_id":"c%d","customer_id":"u%d","merchant_id":"m%d"}`, i, i%7, i%5, i%3)
		ans := decideOnce(t, ts.URL, body)
		answers[ans.RunID] = ans
	}
	ts.Close()
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := log.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	offline, err := spec.Load(specFile, cardauthEnv("http://127.0.0.1:9")...)
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close()
	var recs []*decisionlog.Record
	if err := decisionlog.ReadDir(dir, func(r *decisionlog.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(answers) {
		t.Fatalf("%d records for %d decisions", len(recs), len(answers))
	}
	decisions := map[string]int{}
	for _, rec := range recs {
		ans, ok := answers[rec.RunID]
		if !ok {
			t.Fatalf("record of run %q, which no answer has", rec.RunID)
		}
		path := filepath.Join(t.TempDir(), "replay.json")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(rec.RunRecord().WriteJSON(f), f.Close()); err != nil {
			t.Fatal(err)
		}
		f, err = os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		recording, err := executor.ReadRecord(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		h := graphtest.New(t, offline.Graph(), graphtest.Replay(recording))
		for _, tv := range rec.Targets {
			id := graph.Named(tv.Name)
			run := h.Run(context.Background(), h.Inputs(), id)
			v, err := run.Result().Value(id)
			if err != nil {
				t.Fatalf("run %s: replayed %s has no value: %v\n%s", rec.RunID, tv.Name, err, run.Table())
			}
			replayed, _ := json.Marshal(v)
			answered, _ := json.Marshal(ans.Targets[tv.Name])
			if !bytes.Equal(replayed, answered) || !jsonEqual(tv.Value, answered) {
				t.Errorf("run %s: %s replayed %s, answered %s, recorded %s", rec.RunID, tv.Name, replayed, answered, tv.Value)
			}
			var d struct {
				Verdict string `json:"verdict"`
			}
			_ = json.Unmarshal(replayed, &d)
			decisions[d.Verdict]++
		}
	}
	t.Logf("replayed %d decisions: %v", len(recs), decisions)
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// TestShadowInServe shadows the served cardauth graph with the same spec on
// every request: the candidate's fetches all come from the live run's
// request cache (but the model's POST, which is not idempotent), every
// record carries the candidate's diff, and they all agree.
func TestShadowInServe(t *testing.T) {
	_, up := startUpstreams(t)
	specFile := generousSpec(t)
	cand, err := spec.Load(specFile, cardauthEnv(up.URL)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cand.Close()
	cex, err := executor.New(cand.Graph(), executor.WithRunTimeout(generousDeadline))
	if err != nil {
		t.Fatal(err)
	}
	crec, err := decisionlog.NewRecorder(cand.Graph(), "cardauth-candidate")
	if err != nil {
		t.Fatal(err)
	}
	runner, err := shadow.New(cex, crec, shadow.Targets(cand.Targets()...))
	if err != nil {
		t.Fatal(err)
	}
	recs := make(chan *decisionlog.Record, 100)
	log, err := decisionlog.NewLog(decisionlog.NewWriterSink(io.Discard), decisionlog.SpillDir(t.TempDir(), 1<<20),
		decisionlog.OnWritten(func(batch []decisionlog.Entry) {
			for _, e := range batch {
				r, _ := decisionlog.Unmarshal(e.Line)
				recs <- r
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	obs, _ := decisionlog.NewObserver(log, decisionlog.ShadowGraph("cardauth", runner))
	g, err := serve.LoadSpec("cardauth", specFile, cardauthEnv(up.URL))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New([]*serve.Graph{g}, serve.WithDecisionLog(obs))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	const n = 10
	for i := range n {
		body := fmt.Sprintf(`{"transaction_id":"t%d","card_id":"c%d","customer_id":"u%d","merchant_id":"m%d"}`, i, i, i, i)
		decideOnce(t, ts.URL, body)
		rec := <-recs // the shadow is done
		if rec.Shadow == nil || rec.Shadow.Err != "" || len(rec.Shadow.Diff) == 0 {
			t.Fatalf("shadow %+v", rec.Shadow)
		}
		for _, d := range rec.Shadow.Diff {
			if !d.Agree {
				t.Errorf("run %s: the same spec disagrees on %s: %s vs %s", rec.RunID, d.Target, d.Live, d.Candidate)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := runner.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := log.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// The candidate's upstreams (its own, of the same services) made no
	// request but to the model, whose POST is not idempotent and so is not
	// shared: every GET came from the live run's request cache.
	hits := uint64(0)
	for name := range upstreamsOf(cand) {
		st := cand.Upstream(name).Stats()
		hits += st.CacheHits
		if name != "model" && st.Attempts != 0 {
			t.Errorf("the candidate's %s upstream sent %d requests, want 0: all were made by the live runs", name, st.Attempts)
		}
	}
	if hits < n*20 {
		t.Errorf("%d request-cache hits for %d shadow runs", hits, n)
	}
}

// upstreamsOf returns the upstreams the nodes of s call.
func upstreamsOf(s *spec.Spec) map[string]bool {
	out := map[string]bool{}
	g := s.Graph()
	for i := range g.Len() {
		if u := graphx.Node(g, graph.NodeID(i)).Meta["upstream"]; u != "" {
			out[u] = true
		}
	}
	return out
}
