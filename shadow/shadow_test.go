package shadow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/shadow"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

type account struct {
	ID    string `json:"id"`
	Limit int    `json:"limit"`
}

// backend answers /accounts/ID and /velocity/ID and counts the calls by path prefix.
type backend struct {
	srv   *httptest.Server
	calls sync.Map // prefix -> *atomic.Int64
}

func newBackend(t *testing.T) *backend {
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		c, _ := b.calls.LoadOrStore(parts[0], new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
		switch parts[0] {
		case "accounts":
			fmt.Fprintf(w, `{"id":%q,"limit":500}`, parts[1])
		case "velocity":
			fmt.Fprint(w, `7`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) count(prefix string) int64 {
	c, ok := b.calls.Load(prefix)
	if !ok {
		return 0
	}
	return c.(*atomic.Int64).Load()
}

func (b *backend) upstream(t *testing.T) *fetchers.Upstream {
	u, err := fetchers.NewUpstream("accounts", b.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	return u
}

type pair struct {
	live, cand       *graph.Graph
	liveDec, candDec graph.Ref[string]
	card             graph.Ref[string]
	amount           graph.Ref[int]
}

// graphs builds the live graph (decline above the limit) and a candidate
// that declines above 80% of the limit and also asks for the velocity;
// decide replaces the candidate's decision body when non-nil.
func graphs(t *testing.T, b *backend, decide func(a account, amt int, vel int) (string, error)) pair {
	t.Helper()
	var p pair
	lb := graph.NewBuilder()
	p.card = nodes.Input[string](lb, "card")
	p.amount = nodes.Input[int](lb, "amount")
	acc := fetchers.JSON1[account](lb, "account", b.upstream(t), p.card,
		func(id string) (fetchers.Request, error) { return fetchers.GetRequest("/accounts/" + id), nil })
	p.liveDec = nodes.Compute2(lb, "decision", acc, p.amount, func(a account, amt int) (string, error) {
		if amt > a.Limit {
			return "decline", nil
		}
		return "approve", nil
	})
	var err error
	if p.live, err = lb.Build(); err != nil {
		t.Fatal(err)
	}
	cb := graph.NewBuilder()
	card := nodes.Input[string](cb, "card")
	amount := nodes.Input[int](cb, "amount")
	up := b.upstream(t) // an Upstream of its own, of the same service
	cacc := fetchers.JSON1[account](cb, "account", up, card,
		func(id string) (fetchers.Request, error) { return fetchers.GetRequest("/accounts/" + id), nil })
	vel := fetchers.JSON1[int](cb, "velocity", up, card,
		func(id string) (fetchers.Request, error) { return fetchers.GetRequest("/velocity/" + id), nil })
	if decide == nil {
		decide = func(a account, amt int, v int) (string, error) {
			if amt*10 > a.Limit*8 {
				return "decline", nil
			}
			return "approve", nil
		}
	}
	p.candDec = nodes.Compute3(cb, "decision", cacc, amount, vel, decide)
	if p.cand, err = cb.Build(); err != nil {
		t.Fatal(err)
	}
	return p
}

// rig is a live executor with a Logger shadowing the candidate; records
// arrive on recs.
type rig struct {
	p      pair
	live   *executor.Executor
	runner *shadow.Runner
	logger *decisionlog.Logger
	done   chan *decisionlog.Record
}

func newRig(t *testing.T, p pair, opts ...shadow.Option) *rig {
	t.Helper()
	r := &rig{p: p, done: make(chan *decisionlog.Record, 1000)}
	var err error
	if r.live, err = executor.New(p.live, executor.WithRunTimeout(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	cex, err := executor.New(p.cand, executor.WithRunTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	crec, err := decisionlog.NewRecorder(p.cand, "cardauth-candidate", decisionlog.GraphVersion("8"))
	if err != nil {
		t.Fatal(err)
	}
	if r.runner, err = shadow.New(cex, crec, opts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := r.runner.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	lrec, err := decisionlog.NewRecorder(p.live, "cardauth", decisionlog.GraphVersion("7"))
	if err != nil {
		t.Fatal(err)
	}
	sink := &chanSink{ch: r.done}
	log, err := decisionlog.NewLog(sink, decisionlog.SpillDir(t.TempDir(), 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = log.Shutdown(context.Background()) })
	if r.logger, err = decisionlog.NewLogger(lrec, log, r.runner); err != nil {
		t.Fatal(err)
	}
	return r
}

// chanSink decodes what it is given onto a channel.
type chanSink struct{ ch chan *decisionlog.Record }

func (s *chanSink) Write(_ context.Context, batch []decisionlog.Entry) error {
	for _, e := range batch {
		rec, err := decisionlog.Unmarshal(e.Line)
		if err != nil {
			return err
		}
		s.ch <- rec
	}
	return nil
}

func (s *chanSink) Close(context.Context) error { return nil }

// decide runs the live graph the way a service does and returns the live
// decision, as the caller gets it once Observe has returned.
func (r *rig) decide(t *testing.T, card string, amount int) string {
	t.Helper()
	ctx := fetchers.WithRequestCache(context.Background())
	res, err := r.live.Run(ctx, []executor.Binding{executor.Bind(r.p.card, card), executor.Bind(r.p.amount, amount)}, r.p.liveDec)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	r.logger.Observe(ctx, "", res)
	d, err := executor.Get(res, r.p.liveDec)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (r *rig) next(t *testing.T) *decisionlog.Record {
	t.Helper()
	select {
	case rec := <-r.done:
		return rec
	case <-time.After(time.Minute):
		t.Fatal("no record")
		return nil
	}
}

func TestShadowReusesLiveFetchesAndDiffs(t *testing.T) {
	b := newBackend(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	r := newRig(t, graphs(t, b, nil), shadow.WithMeterProvider(mp))
	amounts := []int{100, 450, 600} // approve/approve, approve/decline, decline/decline
	for i, amt := range amounts {
		if got := r.decide(t, fmt.Sprint("c", i), amt); (got == "decline") != (amt > 500) {
			t.Errorf("live decided %q for %d", got, amt)
		}
	}
	agree := map[int]bool{}
	for range amounts {
		rec := r.next(t)
		sh := rec.Shadow
		if sh == nil || sh.Graph != "cardauth-candidate" || sh.GraphVersion != "8" || sh.Err != "" {
			t.Fatalf("shadow = %+v", sh)
		}
		var amt int
		v, _ := rec.Lookup("amount")
		_ = json.Unmarshal(v.Value, &amt)
		if len(sh.Diff) != 1 || sh.Diff[0].Target != "decision" {
			t.Fatalf("diff = %+v", sh.Diff)
		}
		agree[amt] = sh.Diff[0].Agree
		var live, cand string
		_ = json.Unmarshal(sh.Diff[0].Live, &live)
		_ = json.Unmarshal(sh.Diff[0].Candidate, &cand)
		if lv, _ := rec.Lookup("decision"); string(lv.Value) != string(sh.Diff[0].Live) {
			t.Errorf("diff's live value %s, record's %s", sh.Diff[0].Live, lv.Value)
		}
		if (live == cand) != sh.Diff[0].Agree {
			t.Errorf("live %q candidate %q agree %v", live, cand, sh.Diff[0].Agree)
		}
	}
	if !agree[100] || agree[450] || !agree[600] {
		t.Errorf("agreement by amount: %v", agree)
	}
	// The candidate asked the accounts service nothing the live run had not:
	// one call per request, and one velocity call per request (new in the
	// candidate).
	if got, want := b.count("accounts"), int64(len(amounts)); got != want {
		t.Errorf("accounts called %d times for %d requests: the candidate did not reuse the live fetches", got, want)
	}
	if got := b.count("velocity"); got != int64(len(amounts)) {
		t.Errorf("velocity called %d times", got)
	}
	st := r.runner.Stats().Targets["decision"]
	if st.Compared != 3 || st.Agreed != 2 || st.Live["decline"] != 1 || st.Candidate["decline"] != 2 {
		t.Errorf("stats %+v", st)
	}
	m := collect(t, reader)
	if m[shadow.MetricComparisons+"{agree=true,target=decision}"] != 2 || m[shadow.MetricComparisons+"{agree=false,target=decision}"] != 1 {
		t.Errorf("comparisons %v", m)
	}
	if m[shadow.MetricDecisions+"{side=candidate,target=decision,value=decline}"] != 2 || m[shadow.MetricDecisions+"{side=live,target=decision,value=approve}"] != 2 {
		t.Errorf("decisions %v", m)
	}
}

// collect sums the counters by name{attributes}.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				var kv []string
				for _, a := range dp.Attributes.ToSlice() {
					kv = append(kv, string(a.Key)+"="+a.Value.String())
				}
				out[m.Name+"{"+strings.Join(kv, ",")+"}"] += dp.Value
			}
		}
	}
	return out
}

func TestPanickingCandidateNeverTouchesLive(t *testing.T) {
	b := newBackend(t)
	r := newRig(t, graphs(t, b, func(account, int, int) (string, error) { panic("candidate bug") }))
	if got := r.decide(t, "c1", 100); got != "approve" {
		t.Errorf("live decided %q", got)
	}
	rec := r.next(t)
	if lv, _ := rec.Lookup("decision"); string(lv.Value) != `"approve"` || rec.Err != "" {
		t.Errorf("live record %+v", rec)
	}
	sh := rec.Shadow
	if sh == nil || !strings.Contains(sh.Err, "candidate bug") || sh.Diff[0].Agree || sh.Diff[0].CandidateOutcome != executor.OutcomeError {
		t.Errorf("shadow %+v", sh)
	}
}

func TestFailingCandidate(t *testing.T) {
	b := newBackend(t)
	r := newRig(t, graphs(t, b, func(account, int, int) (string, error) { return "", errors.New("no decision") }))
	if got := r.decide(t, "c1", 100); got != "approve" {
		t.Errorf("live decided %q", got)
	}
	sh := r.next(t).Shadow
	if sh == nil || !strings.Contains(sh.Err, "no decision") || sh.Diff[0].Agree {
		t.Errorf("shadow %+v", sh)
	}
}

// TestHangingCandidate: the candidate's decision blocks and ignores its
// context. The live answer comes back while the candidate is still
// blocked; the candidate is cut off at its budget; a second live run finds
// the single slot taken and is not shadowed.
func TestHangingCandidate(t *testing.T) {
	b := newBackend(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	var finished atomic.Bool
	p := graphs(t, b, func(account, int, int) (string, error) {
		entered <- struct{}{}
		<-release
		finished.Store(true)
		return "approve", nil
	})
	r := newRig(t, p, shadow.MaxInFlight(1), shadow.Budget(200*time.Millisecond))
	defer close(release)
	if got := r.decide(t, "c1", 100); got != "approve" {
		t.Errorf("live decided %q", got)
	}
	<-entered
	// The live run has answered; the candidate is still blocked in its body.
	if got := r.decide(t, "c2", 100); got != "approve" {
		t.Errorf("live decided %q", got)
	}
	if st := r.runner.Stats(); st.Started != 1 || st.Busy != 1 {
		t.Errorf("stats %+v: want the second run turned away", st)
	}
	// The second run's record is logged at once; the first comes when the
	// candidate's budget runs out, although its body is still blocked.
	recs := []*decisionlog.Record{r.next(t), r.next(t)}
	if finished.Load() {
		t.Fatal("the candidate body returned: the test proves nothing")
	}
	var shadowed *decisionlog.Record
	for _, rec := range recs {
		if rec.Shadow != nil {
			shadowed = rec
		}
	}
	if shadowed == nil || shadowed.Shadow.Diff[0].CandidateOutcome != executor.OutcomeTimeout || shadowed.Shadow.Diff[0].Agree {
		t.Fatalf("records %+v %+v", recs[0], recs[1])
	}
}

func TestSampling(t *testing.T) {
	b := newBackend(t)
	r := newRig(t, graphs(t, b, nil), shadow.Sample(0.25))
	const n = 400
	for i := range n {
		r.decide(t, fmt.Sprint("c", i), 100)
	}
	shadowed := 0
	for range n {
		if r.next(t).Shadow != nil {
			shadowed++
		}
	}
	if st := r.runner.Stats(); st.Started != int64(shadowed) || st.Started+st.SampledOut != n {
		t.Errorf("stats %+v, %d shadowed", st, shadowed)
	}
	// Binomial(400, 0.25): mean 100, sd 8.7; 50..150 is ±5.8 sd.
	if shadowed < 50 || shadowed > 150 {
		t.Errorf("%d of %d runs shadowed at 25%%", shadowed, n)
	}
}

func TestOptionsRefused(t *testing.T) {
	b := newBackend(t)
	p := graphs(t, b, nil)
	cex, _ := executor.New(p.cand)
	crec, _ := decisionlog.NewRecorder(p.cand, "c")
	lrec, _ := decisionlog.NewRecorder(p.live, "l")
	if _, err := shadow.New(cex, nil); err == nil {
		t.Error("nil recorder accepted")
	}
	for name, opt := range map[string]shadow.Option{
		"sample": shadow.Sample(1.5), "negative sample": shadow.Sample(-0.1), "budget": shadow.Budget(0), "inflight": shadow.MaxInFlight(0), "target": shadow.Targets("nope"),
	} {
		if _, err := shadow.New(cex, crec, opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := shadow.New(cex, lrec); err == nil {
		t.Error("a recorder of another graph accepted")
	}
}
