package serve

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"net/http"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// Server is the decision service: an http.Handler serving a set of graphs.
// It is safe for concurrent use; Swap replaces the graphs while serving.
type Server struct {
	cfg     config
	mux     *http.ServeMux
	cur     atomic.Pointer[graphSet]
	tracer  trace.Tracer
	metrics *httpMetrics

	inFlight atomic.Int64
	draining atomic.Bool
	closed   atomic.Bool

	runPrefix string
	runSeq    atomic.Uint64

	recentMu sync.Mutex
	recent   map[string]*recentRuns // by graph name, kept across swaps
}

// served is a Graph ready to run: its executor and resolved targets.
type served struct {
	*Graph
	ex      *executor.Executor
	targets []graph.Target
	byName  map[string]int // input name -> index in Graph.inputs
	pics    pictures
	recent  *recentRuns
}

// graphSet is the graphs served at one time. A request holds a reference
// to the set it started with, so that Swap can close a replaced set's
// specs once its last run has ended.
type graphSet struct {
	byName  map[string]*served
	names   []string
	refs    atomic.Int64
	retired atomic.Bool
	once    sync.Once
}

func (gs *graphSet) release() {
	if gs.refs.Add(-1) == 0 && gs.retired.Load() {
		gs.once.Do(func() {
			for _, name := range gs.names {
				gs.byName[name].Close()
			}
		})
	}
}

// ErrDuplicate is matched by the error of New or Swap given two graphs of
// the same name.
var ErrDuplicate = errors.New("serve: two graphs of the same name")

// New returns a Server for graphs. The Server takes the graphs over: it
// closes their specs when they are replaced by Swap or when it is closed.
// On error, the graphs are left to the caller.
func New(graphs []*Graph, opts ...Option) (*Server, error) {
	cfg := defaults()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	cfg.fill()
	s := &Server{cfg: cfg, recent: map[string]*recentRuns{}}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	s.runPrefix = hex.EncodeToString(b[:])
	s.tracer = cfg.tp.Tracer(ScopeName)
	m, err := newHTTPMetrics(cfg.mp, s)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	set, err := s.newSet(graphs)
	if err != nil {
		m.close()
		return nil, err
	}
	set.refs.Store(1)
	s.cur.Store(set)
	s.routes()
	return s, nil
}

// ScopeName is the OpenTelemetry instrumentation scope of the Server's
// spans and metrics.
const ScopeName = "github.com/featgraph/featgraph/serve"

func (s *Server) newSet(graphs []*Graph) (*graphSet, error) {
	set := &graphSet{byName: make(map[string]*served, len(graphs))}
	for _, g := range graphs {
		if g == nil {
			return nil, errors.New("serve: nil Graph")
		}
		if _, dup := set.byName[g.name]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicate, g.name)
		}
		deadline := g.deadline
		if deadline <= 0 {
			deadline = s.cfg.defaultDeadline
		}
		ex, err := executor.New(g.g,
			executor.WithRunTimeout(deadline),
			executor.WithTracerProvider(s.cfg.tp),
			executor.WithMeterProvider(s.cfg.mp))
		if err != nil {
			return nil, fmt.Errorf("serve: graph %s: %w", g.name, err)
		}
		sv := &served{Graph: g, ex: ex, byName: make(map[string]int, len(g.inputs)), recent: s.recentFor(g.name)}
		for _, t := range g.targets {
			id, err := g.g.Lookup(t)
			if err != nil {
				return nil, fmt.Errorf("serve: graph %s: target: %w", g.name, err)
			}
			sv.targets = append(sv.targets, graphx.At(g.g, id))
		}
		for i, in := range g.inputs {
			sv.byName[in.name] = i
		}
		set.byName[g.name] = sv
		set.names = append(set.names, g.name)
	}
	return set, nil
}

// Swap replaces the graphs served, at once for every new request: a run
// that has started finishes on the graph it started with, and the replaced
// graphs' specs are closed once their last run has ended. On error nothing
// changes and the new graphs are left to the caller.
func (s *Server) Swap(graphs []*Graph) error {
	if s.closed.Load() {
		return errors.New("serve: Swap on a closed Server")
	}
	set, err := s.newSet(graphs)
	if err != nil {
		return err
	}
	set.refs.Store(1)
	old := s.cur.Swap(set)
	old.retired.Store(true)
	old.release()
	return nil
}

// acquire returns the current graph set with a reference held; release it
// when the request is done.
func (s *Server) acquire() *graphSet {
	for {
		set := s.cur.Load()
		set.refs.Add(1)
		if s.cur.Load() == set {
			return set
		}
		set.release() // swapped meanwhile: take the new one
	}
}

// Drain marks the Server as draining: /readyz answers 503, and so do new
// decide requests, so that a load balancer stops sending them; requests
// already admitted finish. Use it before http.Server.Shutdown.
func (s *Server) Drain() { s.draining.Store(true) }

// InFlight returns the number of decide and decide-batch requests being
// answered.
func (s *Server) InFlight() int { return int(s.inFlight.Load()) }

// Close stops serving: the graphs' specs are closed once their last run
// has ended. Call it after http.Server.Shutdown has returned.
func (s *Server) Close() {
	if s.closed.Swap(true) {
		return
	}
	s.draining.Store(true)
	set := s.cur.Load()
	set.retired.Store(true)
	set.release()
	s.metrics.close()
}

// Runs returns the number of runs started so far (decides and batch
// rows). Run ids count them: the n-th run's id ends in -n, in hex.
func (s *Server) Runs() uint64 { return s.runSeq.Load() }

// Graphs returns the names of the graphs served.
func (s *Server) Graphs() []string {
	set := s.cur.Load()
	return append([]string(nil), set.names...)
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/graphs/{name}/decide", s.handleDecide)
	mux.HandleFunc("POST /v1/graphs/{name}/decide-batch", s.handleBatch)
	mux.HandleFunc("GET /v1/graphs", s.handleList)
	mux.HandleFunc("GET /v1/graphs/{name}", s.handleDescribe)
	mux.HandleFunc("GET /v1/graphs/{name}/graph.svg", s.handleSVG)
	mux.HandleFunc("GET /v1/graphs/{name}/graph.dot", s.handleDOT)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.HandleFunc("GET /debug/featgraph", s.handleDebug)
	if s.cfg.metrics != nil {
		mux.Handle("GET /metrics", s.cfg.metrics)
	}
	s.mux = mux
}

// ServeHTTP serves one request: trace context, auth, then the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := nowNano()
	ctx := s.cfg.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := s.tracer.Start(ctx, "HTTP "+knownMethod(r.Method), trace.WithSpanKind(trace.SpanKindServer))
	r = r.WithContext(ctx)
	sw := statusWriter{ResponseWriter: w}
	if s.cfg.authSet && !isHealth(r.URL.Path) && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="featgraph"`)
		writeError(&sw, http.StatusUnauthorized, "", "missing or wrong bearer token")
	} else {
		s.mux.ServeHTTP(&sw, r)
	}
	route := r.Pattern // "POST /v1/graphs/{name}/decide": method and route
	if route == "" {
		route = knownMethod(r.Method) + " other"
	}
	span.SetName(route)
	code := sw.code
	if code == 0 {
		code = http.StatusOK
	}
	s.metrics.request(ctx, r.Method, route, code, start)
	endSpan(span, code)
}

func isHealth(path string) bool { return path == "/healthz" || path == "/readyz" }

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
