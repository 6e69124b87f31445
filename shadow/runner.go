package shadow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// Runner runs a candidate graph beside live runs. It is safe for concurrent use.
type Runner struct {
	ex      *executor.Executor
	rec     *decisionlog.Recorder
	targets []graph.NodeID // of the candidate
	inputs  []graph.NodeID // of the candidate
	sample  float64
	budget  time.Duration
	sem     chan struct{}
	logger  *slog.Logger
	m       *instruments

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup

	started, busy, sampledOut atomic.Int64
	statsMu                   sync.Mutex
	stats                     map[string]*TargetStats
}

// Option configures a [Runner].
type Option func(*config) error

type config struct {
	sample   float64
	budget   time.Duration
	inFlight int
	targets  []string
	mp       metricProvider
	logger   *slog.Logger
	field    string
}

// Sample sets the share of live runs shadowed, in [0, 1] (default 1).
func Sample(share float64) Option {
	return func(c *config) error {
		if !(share >= 0 && share <= 1) {
			return fmt.Errorf("shadow: Sample(%v): want a share in [0, 1]", share)
		}
		c.sample = share
		return nil
	}
}

// Budget bounds each candidate run (default: the candidate executor's run
// timeout, else 1 s). A candidate still running then is cut off, its
// unfinished nodes marked timed out.
func Budget(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("shadow: Budget(%v): not positive", d)
		}
		c.budget = d
		return nil
	}
}

// MaxInFlight caps the candidate runs under way at once (default 64); a
// live run that finds no room is not shadowed.
func MaxInFlight(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("shadow: MaxInFlight(%d): not positive", n)
		}
		c.inFlight = n
		return nil
	}
}

// Targets names the candidate's targets (default: the candidate's nodes
// that have the names of the live run's targets, found at the first run).
func Targets(names ...string) Option {
	return func(c *config) error { c.targets = append(c.targets, names...); return nil }
}

// DecisionField names the field of object target values that holds the
// decision, for the decision metrics and Stats (default: the first of
// DecisionFields the value has).
func DecisionField(name string) Option {
	return func(c *config) error { c.field = name; return nil }
}

// WithLogger logs panics of the candidate's runner (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("shadow: nil logger")
		}
		c.logger = l
		return nil
	}
}

// New returns a Runner of the candidate executor. rec records the
// candidate's runs (its graph name and version, its privacy marks); its
// graph must be the executor's.
func New(candidate *executor.Executor, rec *decisionlog.Recorder, opts ...Option) (*Runner, error) {
	if candidate == nil || rec == nil {
		return nil, errors.New("shadow: New: nil executor or recorder")
	}
	if rec.Graph() != candidate.Graph() {
		return nil, errors.New("shadow: New: the recorder is not of the candidate's graph")
	}
	cfg := config{sample: 1, budget: candidate.RunTimeout(), inFlight: 64, logger: slog.Default()}
	if cfg.budget <= 0 {
		cfg.budget = time.Second
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	g := candidate.Graph()
	r := &Runner{
		ex: candidate, rec: rec, sample: cfg.sample, budget: cfg.budget,
		sem: make(chan struct{}, cfg.inFlight), logger: cfg.logger, stats: map[string]*TargetStats{},
	}
	for _, name := range cfg.targets {
		id, err := g.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("shadow: Targets: the candidate has no node %q", name)
		}
		r.targets = append(r.targets, id)
	}
	for i := range g.Len() {
		if graphx.Node(g, graph.NodeID(i)).Kind == graph.KindInput {
			r.inputs = append(r.inputs, graph.NodeID(i))
		}
	}
	m, err := newInstruments(cfg.mp)
	if err != nil {
		return nil, err
	}
	m.field = cfg.field
	r.m = m
	return r, nil
}

// captured is a live target, copied before the live result is released.
type captured struct {
	name    string
	outcome executor.Outcome
	raw     []byte // JSON of the value, nil when none
	shown   json.RawMessage
}

// Start implements [decisionlog.Shadower]: when the run is sampled and a
// slot is free, it copies the live inputs and targets and starts the
// candidate on its own goroutine, then returns. done is called once with
// the candidate's result, whatever happens to it.
func (r *Runner) Start(ctx context.Context, res *executor.Result, live *decisionlog.Record, done func(*decisionlog.Shadow)) bool {
	if res == nil || done == nil {
		return false
	}
	if r.sample < 1 && rand.Float64() >= r.sample {
		r.sampledOut.Add(1)
		r.m.run(ctx, "sampled_out")
		return false
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	select {
	case r.sem <- struct{}{}:
	default:
		r.mu.Unlock()
		r.busy.Add(1)
		r.m.run(ctx, "busy")
		return false
	}
	r.wg.Add(1)
	r.mu.Unlock()
	r.started.Add(1)

	g := r.ex.Graph()
	inputs := make([]executor.Binding, 0, len(r.inputs))
	for _, id := range r.inputs {
		name := g.Name(id)
		if lid, err := res.Graph().Lookup(name); err == nil {
			if v, bound := res.Bound(graphx.At(res.Graph(), lid)); bound {
				inputs = append(inputs, executor.BindNamed(name, v))
			}
		}
	}
	targets := r.targets
	if targets == nil {
		for _, tg := range res.Targets() {
			if cid, err := g.Lookup(tg.Name()); err == nil {
				targets = append(targets, cid)
			}
		}
	}
	lives := make([]captured, len(targets))
	for i, id := range targets {
		c := captured{name: g.Name(id)}
		if nr, err := res.Lookup(c.name); err == nil {
			c.outcome = nr.Outcome
			if nr.Outcome.HasValue() {
				v, _ := res.Value(graphx.At(res.Graph(), nr.ID))
				c.raw, _ = json.Marshal(v)
			}
		}
		if live != nil {
			if v, err := live.Lookup(c.name); err == nil {
				c.shown = shown(v)
			}
		} else {
			c.shown = c.raw
		}
		lives[i] = c
	}
	ctx = context.WithoutCancel(ctx)
	go r.shadow(ctx, inputs, targets, lives, done)
	return true
}

// shadow runs the candidate and hands its result to done.
func (r *Runner) shadow(ctx context.Context, inputs []executor.Binding, targets []graph.NodeID, lives []captured, done func(*decisionlog.Shadow)) {
	defer r.wg.Done()
	defer func() { <-r.sem }()
	sh := &decisionlog.Shadow{Graph: r.rec.Name(), GraphVersion: r.rec.Version(), Targets: []decisionlog.LoggedValue{}, Diff: []decisionlog.Diff{}}
	func() {
		defer func() {
			if p := recover(); p != nil {
				sh.Err = fmt.Sprintf("shadow: panic: %v", p)
				r.logger.Error("shadow: candidate run panicked", "graph", r.rec.Name(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		r.runCandidate(ctx, inputs, targets, lives, sh)
	}()
	result := "ok"
	if sh.Err != "" {
		result = "error"
	}
	r.m.run(ctx, result)
	defer func() {
		if p := recover(); p != nil {
			r.logger.Error("shadow: the done callback panicked", "panic", fmt.Sprint(p))
		}
	}()
	done(sh)
}

func (r *Runner) runCandidate(ctx context.Context, inputs []executor.Binding, targets []graph.NodeID, lives []captured, sh *decisionlog.Shadow) {
	if len(targets) == 0 {
		sh.Err = "shadow: the candidate has none of the live run's targets"
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.budget)
	defer cancel()
	ts := make([]graph.Target, len(targets))
	for i, id := range targets {
		ts[i] = graphx.At(r.ex.Graph(), id)
	}
	start := time.Now()
	res, err := r.ex.Run(ctx, inputs, ts...)
	sh.Duration = time.Since(start)
	if res == nil {
		sh.Err = err.Error()
		for _, lv := range lives {
			r.compare(ctx, sh, lv, captured{name: lv.name, outcome: executor.OutcomeError})
		}
		return
	}
	defer res.Release()
	crec, rerr := r.rec.Record("", res)
	if rerr != nil {
		sh.Err = rerr.Error()
		return
	}
	sh.Duration = res.Duration()
	sh.Err = crec.Err
	if sh.Err == "" && err != nil {
		sh.Err = err.Error()
	}
	sh.Targets, sh.Nodes = crec.Targets, crec.Nodes
	for i := range targets {
		c := captured{name: lives[i].name}
		nr := res.Node(ts[i])
		c.outcome = nr.Outcome
		if nr.Outcome.HasValue() {
			v, _ := res.Value(ts[i])
			c.raw, _ = json.Marshal(v)
		}
		if v, err := crec.Lookup(c.name); err == nil {
			c.shown = shown(v)
		}
		r.compare(ctx, sh, lives[i], c)
	}
}

// compare adds the diff of one target to sh and counts it.
func (r *Runner) compare(ctx context.Context, sh *decisionlog.Shadow, live, cand captured) {
	agree := bytes.Equal(live.raw, cand.raw) && (live.raw != nil || !live.outcome.HasValue() && !cand.outcome.HasValue())
	sh.Diff = append(sh.Diff, decisionlog.Diff{
		Target: live.name, Agree: agree, LiveOutcome: live.outcome, CandidateOutcome: cand.outcome,
		Live: live.shown, Candidate: cand.shown,
	})
	r.m.compare(ctx, live.name, agree, live.raw, cand.raw)
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	ts := r.stats[live.name]
	if ts == nil {
		ts = &TargetStats{Live: map[string]int64{}, Candidate: map[string]int64{}}
		r.stats[live.name] = ts
	}
	ts.Compared++
	if agree {
		ts.Agreed++
	}
	if k, ok := decisionKey(live.raw, r.m.field); ok {
		ts.Live[k]++
	}
	if k, ok := decisionKey(cand.raw, r.m.field); ok {
		ts.Candidate[k]++
	}
}

// shown is how a record shows a value: its JSON, or its hash as a JSON string.
func shown(v decisionlog.LoggedValue) json.RawMessage {
	switch {
	case v.Value != nil:
		return v.Value
	case v.Hash != "":
		b, _ := json.Marshal(v.Hash)
		return b
	}
	return nil
}

// Close stops starting candidates and waits for those in flight, or for
// ctx to end.
func (r *Runner) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	ch := make(chan struct{})
	go func() { r.wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shadow: closing with candidates in flight: %w", context.Cause(ctx))
	}
}
