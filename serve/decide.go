package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
)

// Answer is the answer to a decide, and one row of a decide-batch.
type Answer struct {
	// RunID identifies the run (in logs, the debug page, a decision log).
	RunID string `json:"run_id,omitempty"`
	// Graph and Version name the graph that ran and its content hash.
	Graph   string `json:"graph"`
	Version string `json:"version"`
	// TraceID is the run's trace, when the request carried trace context or
	// the Server samples traces.
	TraceID string `json:"trace_id,omitempty"`
	// Status is the answer's HTTP status code (the same as the response's
	// for a decide; each row's own in a batch).
	Status int `json:"status"`
	// DurationMS is the run's wall time in milliseconds.
	DurationMS float64 `json:"duration_ms"`
	// Targets holds the value of every target that has one, by name.
	Targets map[string]any `json:"targets"`
	// NotOK lists the nodes that ended neither ok nor skipped: fell back,
	// failed, timed out or were canceled, with their cause.
	NotOK []NodeAnswer `json:"not_ok,omitempty"`
	// Error says why a row could not run (a batch row with bad inputs), or
	// why targets have no value.
	Error string `json:"error,omitempty"`
	// Field names the input at fault in a row with bad inputs.
	Field string `json:"field,omitempty"`
	// Nodes (every node, in graph order) and CriticalPath come with ?explain=1.
	Nodes        []NodeAnswer `json:"nodes,omitempty"`
	CriticalPath []PathAnswer `json:"critical_path,omitempty"`
}

// NodeAnswer is how one node ended.
type NodeAnswer struct {
	Node       string  `json:"node"`
	Outcome    string  `json:"outcome"`
	Cause      string  `json:"cause,omitempty"`
	StartMS    float64 `json:"start_ms"`
	DurationMS float64 `json:"duration_ms"`
	Attempts   int     `json:"attempts,omitempty"`
	Branch     string  `json:"branch,omitempty"`
}

// PathAnswer is one step of the critical path.
type PathAnswer struct {
	Node   string  `json:"node"`
	WaitMS float64 `json:"wait_ms"`
	WorkMS float64 `json:"work_ms"`
}

// DeadlineHeader is the header that carries a caller's deadline in
// milliseconds from now: the one featgraph's fetchers send.
const DeadlineHeader = fetchers.DeadlineHeader

// ExplainParam is the query parameter (?explain=1) that adds every node
// and the critical path to an answer.
const ExplainParam = "explain"

func (s *Server) handleDecide(w http.ResponseWriter, r *http.Request) {
	sv, ctx, done, ok := s.admit(w, r)
	if !ok {
		return
	}
	defer done()
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	named, inputs, field, err := sv.parseInputs(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, field, err.Error())
		return
	}
	explain := r.URL.Query().Get(ExplainParam)
	ctx = fetchers.WithRequestCache(ctx) // one per run, seen by the observers too
	res, ans := s.run(ctx, sv, inputs, explain != "" && explain != "0" && explain != "false")
	if res == nil {
		writeJSON(w, ans.Status, &ans)
		return
	}
	writeJSON(w, ans.Status, &ans)
	if len(s.cfg.observers) > 0 {
		// The answer is out before the observers run, so that they do not
		// add to the caller's latency.
		_ = http.NewResponseController(w).Flush() // not every writer flushes
		s.observe(ctx, sv, ans.RunID, -1, named, res)
	}
	res.Release()
}

// admit checks that a decide may start: not draining, a run slot free
// (else 429 at once), a known graph, a readable deadline. On success the
// caller holds a slot, a reference on the graph set and the run's context,
// and gives all three back with done.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (sv *served, ctx context.Context, done func(), ok bool) {
	if s.draining.Load() {
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusServiceUnavailable, "", "draining: this server is shutting down")
		return nil, nil, nil, false
	}
	if s.inFlight.Add(1) > int64(s.cfg.maxInFlight) {
		s.inFlight.Add(-1)
		s.metrics.shed.Add(r.Context(), 1)
		w.Header().Set("Retry-After", strconv.Itoa(int((s.cfg.retryAfter+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, "", "too many runs in flight: retry later")
		return nil, nil, nil, false
	}
	set := s.acquire()
	sv = set.byName[r.PathValue("name")]
	if sv == nil {
		set.release()
		s.inFlight.Add(-1)
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("no graph %q", r.PathValue("name")))
		return nil, nil, nil, false
	}
	ctx, cancel, err := callerDeadline(r)
	if err != nil {
		set.release()
		s.inFlight.Add(-1)
		writeError(w, http.StatusBadRequest, DeadlineHeader, err.Error())
		return nil, nil, nil, false
	}
	return sv, ctx, func() {
		cancel()
		set.release()
		s.inFlight.Add(-1)
	}, true
}

// callerDeadline applies the caller's X-Request-Deadline-Ms, if any, to
// the request's context; the graph's own deadline is the executor's run
// timeout, so the run gets the smaller of the two.
func callerDeadline(r *http.Request) (context.Context, context.CancelFunc, error) {
	h := r.Header.Get(DeadlineHeader)
	if h == "" {
		ctx, cancel := context.WithCancel(r.Context())
		return ctx, cancel, nil
	}
	ms, err := strconv.ParseInt(h, 10, 64)
	if err != nil || ms <= 0 || ms > 24*3600*1000 {
		return nil, nil, fmt.Errorf("%s %s: want a whole number of milliseconds from 1 to 86400000", DeadlineHeader, excerpt([]byte(h)))
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(ms)*time.Millisecond)
	return ctx, cancel, nil
}

// readBody reads the whole body within the size limit, answering 413 or
// 400 itself when it cannot.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > s.cfg.maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("body of %d bytes: the limit is %d", r.ContentLength, s.cfg.maxBody))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("body over the limit of %d bytes", s.cfg.maxBody))
		} else {
			writeError(w, http.StatusBadRequest, "", "reading the body: "+err.Error())
		}
		return nil, false
	}
	return body, true
}

// parseInputs reads a flat JSON object of inputs, converting each to its
// declared type. An unknown, missing or ill-typed input is an error naming
// the field.
func (sv *served) parseInputs(body []byte) (map[string]any, []executor.Binding, string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, nil, "", errors.New("the body must be a JSON object of inputs, such as {\"" + sv.firstInput() + "\": ...}")
	}
	named := make(map[string]any, len(sv.inputs))
	inputs := make([]executor.Binding, 0, len(sv.inputs))
	for name, v := range raw {
		i, ok := sv.byName[name]
		if !ok {
			return nil, nil, name, fmt.Errorf("unknown input %q: graph %s takes %s", name, sv.name, sv.inputList())
		}
		x, err := sv.inputs[i].convert(v)
		if err != nil {
			return nil, nil, name, fmt.Errorf("input %q: %w", name, err)
		}
		named[name] = x
		inputs = append(inputs, executor.BindNamed(name, x))
	}
	if len(named) < len(sv.inputs) {
		for _, in := range sv.inputs {
			if _, ok := named[in.name]; !ok {
				return nil, nil, in.name, fmt.Errorf("missing input %q (%s)", in.name, in.typ)
			}
		}
	}
	return named, inputs, "", nil
}

func (sv *served) firstInput() string {
	if len(sv.inputs) == 0 {
		return ""
	}
	return sv.inputs[0].name
}

func (sv *served) inputList() string {
	out := ""
	for i, in := range sv.inputs {
		if i > 0 {
			out += ", "
		}
		out += in.name + " (" + in.typ + ")"
	}
	if out == "" {
		return "no inputs"
	}
	return out
}

// run runs the graph once and makes its answer. ctx carries the run's
// request cache. The Result is nil when the run could not start; otherwise
// the caller releases it.
func (s *Server) run(ctx context.Context, sv *served, inputs []executor.Binding, explain bool) (*executor.Result, Answer) {
	ans := Answer{Graph: sv.name, Version: sv.version, RunID: s.newRunID()}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		ans.TraceID = sc.TraceID().String()
	}
	res, err := sv.ex.Run(ctx, inputs, sv.targets...)
	if res == nil {
		ans.Status = http.StatusBadRequest
		ans.Error = err.Error()
		return nil, ans
	}
	ans.DurationMS = ms(res.Duration())
	ans.Targets = make(map[string]any, len(sv.targets))
	ans.Status = http.StatusOK
	for i, t := range sv.targets {
		v, err := res.Value(t)
		if err == nil {
			ans.Targets[sv.Graph.targets[i]] = v
			continue
		}
		code := http.StatusBadGateway
		if errors.Is(res.Node(t).Cause, context.DeadlineExceeded) {
			code = http.StatusGatewayTimeout
		}
		if ans.Status != http.StatusGatewayTimeout {
			ans.Status = code
		}
	}
	if ans.Status != http.StatusOK {
		if err := res.Err(); err != nil {
			ans.Error = err.Error()
		} else {
			ans.Error = "a target has no value"
		}
	}
	kinds := s.collectNodes(sv, res, &ans, explain)
	if explain {
		for _, st := range res.CriticalPath() {
			ans.CriticalPath = append(ans.CriticalPath, PathAnswer{Node: st.Node, WaitMS: ms(st.Wait), WorkMS: ms(st.Work)})
		}
	}
	s.noteRun(sv, res, &ans, kinds)
	return res, ans
}

// runKinds says what a run had that makes it worth a look.
type runKinds struct{ fallback, failed bool }

// collectNodes fills NotOK (and Nodes with explain) and says whether any
// node fell back or failed.
func (s *Server) collectNodes(sv *served, res *executor.Result, ans *Answer, explain bool) runKinds {
	var k runKinds
	n := sv.g.Len()
	if explain {
		ans.Nodes = make([]NodeAnswer, 0, n)
	}
	for _, nr := range res.Nodes() {
		switch nr.Outcome {
		case executor.OutcomeOK, executor.OutcomeSkipped:
		case executor.OutcomeFallback:
			k.fallback = true
		default:
			k.failed = true
		}
		notOK := nr.Outcome != executor.OutcomeOK && nr.Outcome != executor.OutcomeSkipped
		if !notOK && !explain {
			continue
		}
		na := NodeAnswer{Node: nr.Name, Outcome: nr.Outcome.String(), StartMS: ms(nr.Start),
			DurationMS: ms(nr.Duration()), Attempts: nr.Attempts, Branch: nr.Branch}
		if nr.Cause != nil {
			na.Cause = nr.Cause.Error()
		}
		if notOK {
			ans.NotOK = append(ans.NotOK, na)
		}
		if explain {
			ans.Nodes = append(ans.Nodes, na)
		}
	}
	return k
}

// observe calls the run observers, recovering their panics.
func (s *Server) observe(ctx context.Context, sv *served, runID string, row int, named map[string]any, res *executor.Result) {
	info := RunInfo{Graph: sv.name, Version: sv.version, RunID: runID, Row: row, Inputs: named, Result: res}
	for _, fn := range s.cfg.observers {
		func() {
			defer func() {
				if p := recover(); p != nil {
					s.cfg.logger.Error("featgraph serve: a run observer panicked", "graph", sv.name, "run_id", runID, "panic", fmt.Sprint(p))
				}
			}()
			fn(ctx, info)
		}()
	}
}

func (s *Server) newRunID() string {
	n := s.runSeq.Add(1)
	var b [8 + 1 + 16]byte
	out := append(b[:0], s.runPrefix...)
	out = append(out, '-')
	out = strconv.AppendUint(out, n, 16)
	return string(out)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
