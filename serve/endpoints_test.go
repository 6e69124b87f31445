package serve_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/featgraph/featgraph/graph"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/serve"
)

func TestAuthIs401(t *testing.T) {
	f := newFixture(t, nil, serve.WithTokens("s3cret-one", "s3cret-two"))
	decide := f.url + "/v1/graphs/cardauth/decide"
	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Bearer s3cret", http.StatusUnauthorized},
		{"longer token", "Bearer s3cret-one1", http.StatusUnauthorized},
		{"basic", "Basic czNjcmV0LW9uZQ==", http.StatusUnauthorized},
		{"first token", "Bearer s3cret-one", http.StatusOK},
		{"second token, lower case", "bearer s3cret-two", http.StatusOK},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Authorization", tc.header)
		}
		resp := call(t, "POST", decide, req("1"), h, nil)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusUnauthorized {
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
			}
			if b := bodyOf(t, resp); strings.Contains(b, "s3cret") {
				t.Errorf("%s: the answer shows a token: %s", tc.name, b)
			}
		}
	}
	// Every endpoint but the health checks is behind the token.
	for _, p := range []string{"/v1/graphs", "/v1/graphs/cardauth", "/v1/graphs/cardauth/graph.dot", serve.DebugPath} {
		if resp := call(t, "GET", f.url+p, nil, nil, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp := call(t, "GET", f.url+p, nil, nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s without a token: %d, want 200", p, resp.StatusCode)
		}
	}
}

func TestShedIs429AtOnce(t *testing.T) {
	f := newFixture(t, nil, serve.WithMaxInFlight(2), serve.WithRetryAfter(2*time.Second))
	gate := f.up.setGate()
	decide := f.url + "/v1/graphs/cardauth/decide"
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- call(t, "POST", decide, req("1"), nil, nil).StatusCode
		}()
	}
	for f.srv.InFlight() < 2 {
		time.Sleep(time.Millisecond)
	}
	// Both slots are held by runs waiting at the upstreams' gate.
	var e serve.ErrorAnswer
	resp := call(t, "POST", decide, req("2"), nil, &e)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("third request: %d Retry-After %q, want 429 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp = call(t, "POST", f.url+"/v1/graphs/cardauth/decide-batch", []any{req("2")}, nil, nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("batch: %d, want 429", resp.StatusCode)
	}
	close(gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a request admitted before the limit got %d", c)
		}
	}
	if resp := call(t, "POST", decide, req("2"), nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after the runs ended: %d, want 200", resp.StatusCode)
	}
}

func TestDrainIs503(t *testing.T) {
	f := newFixture(t, nil)
	if resp := call(t, "GET", f.url+"/readyz", nil, nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz before draining: %d", resp.StatusCode)
	}
	f.srv.Drain()
	for _, c := range []struct{ method, path string }{{"GET", "/readyz"}, {"POST", "/v1/graphs/cardauth/decide"}, {"POST", "/v1/graphs/cardauth/decide-batch"}} {
		if resp := call(t, c.method, f.url+c.path, req("1"), nil, nil); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s %s while draining: %d, want 503", c.method, c.path, resp.StatusCode)
		}
	}
	if resp := call(t, "GET", f.url+"/healthz", nil, nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("healthz while draining: %d, want 200", resp.StatusCode)
	}
}

func TestBatchNRowsInNRowsOut(t *testing.T) {
	f := newFixture(t, nil, serve.WithBatch(100, 3))
	ids := []string{"1", "2", "3", "5", "8", "13", "21", "34", "55", "89"}
	rows := make([]any, 0, len(ids)+1)
	for _, id := range ids[:4] {
		rows = append(rows, req(id))
	}
	rows = append(rows, map[string]any{"card_id": 7}) // a bad row in the middle
	for _, id := range ids[4:] {
		rows = append(rows, req(id))
	}
	var out serve.BatchAnswer
	resp := call(t, "POST", f.url+"/v1/graphs/cardauth/decide-batch", rows, nil, &out)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, bodyOf(t, resp))
	}
	if len(out.Results) != len(rows) {
		t.Fatalf("%d rows in, %d results out", len(rows), len(out.Results))
	}
	seen := map[string]bool{}
	for i, a := range out.Results {
		if i == 4 {
			if a.Status != http.StatusBadRequest || a.Field == "" || !strings.Contains(a.Error, "row 4") {
				t.Errorf("bad row: %+v, want 400 naming the row and the field", a)
			}
			continue
		}
		j := i
		if i > 4 {
			j = i - 1
		}
		id := ids[j]
		if a.Status != http.StatusOK || seen[a.RunID] {
			t.Errorf("row %d: status %d run id %q", i, a.Status, a.RunID)
			continue
		}
		seen[a.RunID] = true
		// Each row answers for its own inputs, in order: the same as a decide.
		var one serve.Answer
		call(t, "POST", f.url+"/v1/graphs/cardauth/decide", req(id), nil, &one)
		got, _ := a.Targets["decision"].(map[string]any)
		want, _ := one.Targets["decision"].(map[string]any)
		if got["verdict"] != want["verdict"] || got["score"] != want["score"] || got["reason"] != want["reason"] {
			t.Errorf("row %d (%s): %v; a decide of it gives %v", i, id, got, want)
		}
	}
	var e serve.ErrorAnswer
	if resp := call(t, "POST", f.url+"/v1/graphs/cardauth/decide-batch", req("1"), nil, &e); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an object instead of an array: %d, want 400", resp.StatusCode)
	}
}

func TestDescribeAndPictures(t *testing.T) {
	f := newFixture(t, nil)
	var list serve.GraphList
	call(t, "GET", f.url+"/v1/graphs", nil, nil, &list)
	if len(list.Graphs) != 1 || list.Graphs[0].Name != "cardauth" || list.Graphs[0].Version != f.spec || list.Graphs[0].Nodes != nil {
		t.Fatalf("list %+v", list)
	}
	var info serve.GraphInfo
	call(t, "GET", f.url+"/v1/graphs/cardauth", nil, nil, &info)
	if info.DeadlineMS != float64(generousDeadline/time.Millisecond) || len(info.Inputs) != 4 || info.Inputs[1].Name != "card_id" || info.Inputs[1].Type != "string" ||
		len(info.Targets) != 1 || info.Targets[0] != "decision" {
		t.Errorf("info %+v", info)
	}
	byName := map[string]serve.NodeInfo{}
	for _, n := range info.Nodes {
		byName[n.Name] = n
	}
	if n := byName["account_limits"]; n.Kind != "fetch" || n.Upstream != "accounts" || len(n.Deps) != 1 || n.Deps[0] != "account" {
		t.Errorf("account_limits: %+v", n)
	}
	if n := byName["score"]; n.Kind != "if" || len(n.Lazy) != 2 {
		t.Errorf("score: %+v", n)
	}
	resp := call(t, "GET", f.url+"/v1/graphs/cardauth/graph.dot", nil, nil, nil)
	if b := bodyOf(t, resp); resp.StatusCode != http.StatusOK || !strings.HasPrefix(b, "digraph") || !strings.Contains(b, "account_limits") {
		t.Errorf("graph.dot: %d %.100s", resp.StatusCode, b)
	}
	resp = call(t, "GET", f.url+"/v1/graphs/cardauth/graph.svg", nil, nil, nil)
	if b := bodyOf(t, resp); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" ||
		!strings.Contains(b, "<svg") || !strings.Contains(b, "account_limits") {
		t.Errorf("graph.svg: %d %s %.100s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

func TestMetricsThroughThePrometheusExporter(t *testing.T) {
	reg := prom.NewRegistry()
	exp, err := prometheus.New(prometheus.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	f := newFixture(t, nil, serve.WithMeterProvider(mp), serve.WithMetricsHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	call(t, "POST", f.url+"/v1/graphs/cardauth/decide", req("1"), nil, nil)
	call(t, "POST", f.url+"/v1/graphs/cardauth/decide", map[string]any{}, nil, nil)
	resp := call(t, "GET", f.url+"/metrics", nil, nil, nil)
	b := bodyOf(t, resp)
	for _, want := range []string{
		`http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="200",http_route="POST /v1/graphs/{name}/decide"`,
		`http_response_status_code="400"`,
		`featgraph_node_outcomes`,
		`featgraph_run_duration`,
		`featgraph_serve_in_flight`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", b)
	}
}

func TestTraceContextIsContinued(t *testing.T) {
	f := newFixture(t, nil)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	h := http.Header{"Traceparent": {"00-" + traceID + "-00f067aa0ba902b7-01"}}
	var ans serve.Answer
	call(t, "POST", f.url+"/v1/graphs/cardauth/decide", req("1"), h, &ans)
	if ans.TraceID != traceID {
		t.Errorf("answer's trace id %q, want %q", ans.TraceID, traceID)
	}
	seen := f.up.seen()
	if len(seen) < 32 {
		t.Fatalf("%d upstream calls", len(seen))
	}
	for _, h := range seen {
		if tp := h.Get("Traceparent"); !strings.Contains(tp, traceID) {
			t.Errorf("an upstream call carried traceparent %q, want trace %s", tp, traceID)
		}
	}
}

func TestRunObserverSeesEveryRunAndReusesFetches(t *testing.T) {
	type seen struct {
		info     serve.RunInfo
		decision any
		extra    int // GET calls made by a shadow run of the same graph (the model's POST is not cached)
		failed   []string
	}
	var (
		mu   sync.Mutex
		runs []seen
	)
	var fx *fixture
	var ex *executor.Executor
	observer := func(ctx context.Context, run serve.RunInfo) {
		v, _ := run.Result.Value(graph.Named("decision"))
		// A shadow run with the request's context: every fetch is in its cache.
		before := fx.up.gets()
		var inputs []executor.Binding
		for k, v := range run.Inputs {
			inputs = append(inputs, executor.BindNamed(k, v))
		}
		res, err := ex.Run(ctx, inputs, graph.Named("decision"))
		if err != nil {
			t.Errorf("shadow run: %v", err)
		}
		if res != nil {
			res.Release()
		}
		var failed []string
		for _, n := range run.Result.Nodes() {
			if n.Outcome != executor.OutcomeOK && n.Outcome != executor.OutcomeSkipped {
				failed = append(failed, n.Name+" "+n.Outcome.String()+": "+fmt.Sprint(n.Cause))
			}
		}
		mu.Lock()
		runs = append(runs, seen{info: run, decision: v, extra: fx.up.gets() - before, failed: failed})
		mu.Unlock()
	}
	var logged syncBuffer
	// Batch rows run one at a time here: the upstream's call counter is
	// shared, and a sibling row's live calls must not count as this row's.
	fx = newFixture(t, nil, serve.WithBatch(10, 1), serve.WithRunObserver(observer), serve.WithRunObserver(func(context.Context, serve.RunInfo) {
		panic("an observer that panics")
	}), serve.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	g := loadCardauth(t, fx.up.URL)
	defer g.Close()
	var err error
	if ex, err = executor.New(g.Graph()); err != nil {
		t.Fatal(err)
	}
	var one serve.Answer
	if resp := call(t, "POST", fx.url+"/v1/graphs/cardauth/decide", req("1"), nil, &one); resp.StatusCode != http.StatusOK {
		t.Fatalf("a panicking observer changed the answer: %d", resp.StatusCode)
	}
	var batch serve.BatchAnswer
	call(t, "POST", fx.url+"/v1/graphs/cardauth/decide-batch", []any{req("2"), req("3")}, nil, &batch)
	if n := strings.Count(logged.String(), "an observer that panics"); n != 3 {
		t.Errorf("%d observer panics logged, want 3:\n%s", n, logged.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(runs) != 3 {
		t.Fatalf("the observer saw %d runs, want 3", len(runs))
	}
	byID := map[string]seen{}
	for _, r := range runs {
		byID[r.info.RunID] = r
		if r.extra != 0 {
			t.Errorf("run %s: the shadow run made %d GET calls, want 0 (all cached); last calls: %v; live not ok: %v", r.info.RunID, r.extra, lastPaths(fx.up.seen(), r.extra+2), r.failed)
		}
		if r.info.Graph != "cardauth" || r.info.Version != fx.spec || r.info.Inputs["card_id"] == nil {
			t.Errorf("run info %+v", r.info)
		}
	}
	r, ok := byID[one.RunID]
	if !ok || r.info.Row != -1 || r.info.Inputs["card_id"] != "c1" {
		t.Errorf("decide run %s: %+v", one.RunID, r.info)
	}
	rd, _ := r.decision.(map[string]any)
	if d, _ := one.Targets["decision"].(map[string]any); d == nil || rd == nil || d["verdict"] != rd["verdict"] {
		t.Errorf("the observer saw %v, the answer %v", r.decision, d)
	}
	for i, a := range batch.Results {
		if r := byID[a.RunID]; r.info.Row != i {
			t.Errorf("batch row %d: observer saw row %d", i, r.info.Row)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func lastPaths(hs []http.Header, n int) []string {
	var out []string
	for _, h := range hs[max(0, len(hs)-n):] {
		out = append(out, h.Get("X-Test-Method")+" "+h.Get("X-Test-Path"))
	}
	return out
}
