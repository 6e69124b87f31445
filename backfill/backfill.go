package backfill

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
)

// Runner runs one graph's targets over rows. It is safe for concurrent use:
// Run and RunRow may be called from many goroutines.
type Runner struct {
	ex       *executor.Executor
	targets  []graph.Target
	names    []string
	inputs   []inputColumn
	inFlight int
	deadline time.Duration
	ordered  bool
	outcomes bool
	rowCtx   func(context.Context) context.Context
	progress func(Progress)
}

// inputColumn is an input node the targets may need, and how a column's
// value is typed for it.
type inputColumn struct {
	name  string
	typ   spec.Type
	typed bool // false: a Go type the spec format has no name for; the executor checks it
}

// New returns a Runner computing the targets, named, with ex. Each row must
// have a column for every input the targets may need.
func New(ex *executor.Executor, targets []string, opts ...Option) (*Runner, error) {
	if ex == nil {
		return nil, errors.New("backfill: nil executor")
	}
	if len(targets) == 0 {
		return nil, errors.New("backfill: no targets")
	}
	r := &Runner{ex: ex, inFlight: DefaultInFlight, ordered: true}
	g := ex.Graph()
	for _, name := range targets {
		id, ok := g.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("backfill: target %q: no such node", name)
		}
		r.targets = append(r.targets, id)
		r.names = append(r.names, name)
	}
	for _, id := range g.Ancestors(r.targets...) {
		n := g.Node(id)
		if n.Kind != graph.KindInput {
			continue
		}
		in := inputColumn{name: n.Name}
		if n.Type != nil {
			in.typ, in.typed = spec.TypeOf(n.Type)
		}
		r.inputs = append(r.inputs, in)
	}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Targets returns the names of the targets, in the order given to New.
func (r *Runner) Targets() []string { return r.names }

// Inputs returns the input columns every row must have, in graph order.
func (r *Runner) Inputs() []string {
	out := make([]string, len(r.inputs))
	for i, in := range r.inputs {
		out[i] = in.name
	}
	return out
}

// Executor returns the Executor the Runner runs with.
func (r *Runner) Executor() *executor.Executor { return r.ex }

// RowResult is how one row ended: an Output, or a DeadLetter.
type RowResult struct {
	// Output is the output row, when Dead is nil.
	Output Output
	// Dead is the row and its cause when it failed.
	Dead *DeadLetter
	// Outcomes holds every node's outcome, indexed by graph.NodeID; nil when
	// the row did not run (a missing column, a wrong type).
	Outcomes []executor.Outcome
	// Duration is the run's wall time.
	Duration time.Duration
}

// FellBack reports whether a node of the row's run fell back.
func (rr RowResult) FellBack() bool {
	for _, o := range rr.Outcomes {
		if o == executor.OutcomeFallback {
			return true
		}
	}
	return false
}

// RunRow types row's columns by the inputs' declared types, runs the targets
// and returns the output row, or the dead letter saying which column or
// target failed. It is what Run does for every row; a caller with its own
// pipeline (a Beam transform) calls it directly.
func (r *Runner) RunRow(ctx context.Context, row Row) RowResult {
	inputs := make([]executor.Binding, 0, len(r.inputs))
	var errs []error
	for _, in := range r.inputs {
		v, ok := row.Columns[in.name]
		if !ok {
			errs = append(errs, &RowError{Row: row.N, Column: in.name, Err: ErrMissingColumn})
			continue
		}
		if in.typed {
			cv, err := in.typ.Convert(v)
			if err != nil {
				errs = append(errs, &RowError{Row: row.N, Column: in.name, Err: err})
				continue
			}
			v = cv
		}
		inputs = append(inputs, executor.BindNamed(in.name, v))
	}
	if len(errs) > 0 {
		return RowResult{Dead: &DeadLetter{Row: row, Cause: errors.Join(errs...)}}
	}
	if r.rowCtx != nil {
		ctx = r.rowCtx(ctx)
	}
	if r.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.deadline)
		defer cancel()
	}
	start := time.Now()
	res, err := r.ex.Run(ctx, inputs, r.targets...)
	took := time.Since(start)
	if res == nil {
		return RowResult{Dead: &DeadLetter{Row: row, Cause: &RowError{Row: row.N, Err: err}}, Duration: took}
	}
	defer res.Release()
	// Node by node, not res.Nodes(): that builds every node's NodeResult
	// (~5 KB a row for 45 nodes) where only the outcomes are kept.
	g := r.ex.Graph()
	rr := RowResult{Outcomes: make([]executor.Outcome, g.Len()), Duration: took}
	for i := range rr.Outcomes {
		rr.Outcomes[i] = res.Node(graph.NodeID(i)).Outcome
	}
	values := make(map[string]any, len(r.targets))
	for i, t := range r.targets {
		v, err := res.Value(t)
		if err != nil {
			errs = append(errs, &RowError{Row: row.N, Column: r.names[i], Err: err})
			continue
		}
		values[r.names[i]] = v
	}
	if len(errs) > 0 {
		rr.Dead = &DeadLetter{Row: row, Cause: errors.Join(errs...)}
		return rr
	}
	rr.Output = Output{Row: row, Values: values}
	if r.outcomes {
		rr.Output.Outcomes = make(map[string]executor.Outcome, len(rr.Outcomes))
		for i, o := range rr.Outcomes {
			rr.Output.Outcomes[g.Name(graph.NodeID(i))] = o
		}
	}
	return rr
}

// A Source yields the rows of a backfill. A *RowError (checked with
// errors.As) says that one row could not be read: it goes to the dead letters
// and the backfill goes on. Any other error ends the backfill.
type Source = iter.Seq2[Row, error]

// job is one row on its way through Run.
type job struct {
	seq int64
	row Row
	res RowResult
}

// Run runs every row of src, writing outputs to sink and failed rows to dead
// (which may be nil: failed rows are then only counted). It returns when src
// is exhausted and every row is written, or on the first error of src, sink
// or dead, or when ctx ends; rows still running then are not written.
// The error does not count failed rows: see Stats.Failed.
//
// Each of the InFlight workers reads a row (one at a time), runs it and
// writes it (one at a time; in ordered mode, with the rows finished before
// it that it lets through): no goroutine hands rows to another, which on a
// busy machine costs more scheduling than the rows' own work.
func (r *Runner) Run(ctx context.Context, src Source, sink Sink, dead DeadLetterSink) (Stats, error) {
	if sink == nil {
		return Stats{}, errors.New("backfill: nil sink")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g := r.ex.Graph()
	st := Stats{Nodes: make([]NodeStats, g.Len())}
	for i := range st.Nodes {
		st.Nodes[i].Name = g.Name(graph.NodeID(i))
	}
	next, stop := iter.Pull2(src)
	defer stop()
	p := &pipeline{r: r, ctx: ctx, cancel: cancel, start: time.Now(), next: next, sink: sink, dead: dead, st: &st}
	p.room = sync.NewCond(&p.mu)
	if r.ordered {
		p.ring = make([]*job, r.inFlight)
	}
	// A reader waiting for room in the reorder buffer wakes when ctx ends.
	defer context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.room.Broadcast()
		p.mu.Unlock()
	})()
	var workers sync.WaitGroup
	for range r.inFlight {
		workers.Go(p.work)
	}
	workers.Wait()
	st.Elapsed = time.Since(p.start)
	switch {
	case p.writeErr != nil:
		return st, p.writeErr
	case p.srcErr != nil:
		return st, p.srcErr
	}
	return st, context.Cause(ctx)
}

// pipeline is one Run: its source, under readMu, and its reorder buffer,
// stats and sinks, under mu.
type pipeline struct {
	r      *Runner
	ctx    context.Context
	cancel context.CancelCauseFunc
	start  time.Time

	readMu sync.Mutex
	next   func() (Row, error, bool)
	seq    int64 // of the next row read
	over   bool  // the source is exhausted, failed, or the run stopped
	srcErr error

	mu       sync.Mutex
	room     *sync.Cond // written moved, or the run stopped
	ring     []*job     // ordered: the rows finished before their turn
	written  int64      // ordered: the seq of the next row to write
	sink     Sink
	dead     DeadLetterSink
	st       *Stats
	writeErr error
}

// work reads, runs and writes rows until there are none.
func (p *pipeline) work() {
	for {
		j, ok := p.read()
		if !ok {
			return
		}
		if j.res.Dead == nil {
			j.res = p.r.RunRow(p.ctx, j.row)
		}
		p.finish(j)
	}
}

// read returns the next row of the source, once the reorder buffer has
// room for it: at most InFlight rows exist at once, running or waiting to
// be written in order.
func (p *pipeline) read() (*job, bool) {
	p.readMu.Lock()
	defer p.readMu.Unlock()
	if p.over {
		return nil, false
	}
	p.mu.Lock()
	for p.ring != nil && p.seq >= p.written+int64(len(p.ring)) && p.ctx.Err() == nil {
		p.room.Wait()
	}
	stopped := p.ctx.Err() != nil
	p.mu.Unlock()
	if stopped {
		p.over = true
		return nil, false
	}
	row, err, ok := p.next()
	if !ok {
		p.over = true
		return nil, false
	}
	j := &job{seq: p.seq, row: row}
	p.seq++
	if err != nil {
		var re *RowError
		if !errors.As(err, &re) {
			// The rows read before it are still written.
			p.over, p.srcErr = true, fmt.Errorf("backfill: reading rows: %w", err)
			return nil, false
		}
		j.res.Dead = &DeadLetter{Row: row, Cause: err}
	}
	return j, true
}

// finish writes j, in ordered mode with the rows after it that waited for
// it, and makes room for more rows.
func (p *pipeline) finish(j *job) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ring == nil {
		p.emit(j)
		return
	}
	n := int64(len(p.ring))
	p.ring[j.seq%n] = j
	moved := false
	for w := p.ring[p.written%n]; w != nil; w = p.ring[p.written%n] {
		p.ring[p.written%n] = nil
		p.written++
		moved = true
		p.emit(w)
	}
	if moved {
		p.room.Broadcast()
	}
}

// emit writes one row to the sink or the dead letters and counts it.
func (p *pipeline) emit(j *job) {
	if p.writeErr != nil || p.ctx.Err() != nil {
		return // stopping: drain without writing
	}
	st := p.st
	for id, o := range j.res.Outcomes {
		st.Nodes[id].Outcomes[o]++
	}
	var err error
	if j.res.Dead != nil {
		st.Failed++
		if p.dead != nil {
			if werr := p.dead.WriteDeadLetter(*j.res.Dead); werr != nil {
				err = fmt.Errorf("backfill: writing the dead letter of row %d: %w", j.row.N, werr)
			}
		}
	} else {
		st.Written++
		if j.res.FellBack() {
			st.FellBack++
		}
		if werr := p.sink.Write(j.res.Output); werr != nil {
			err = fmt.Errorf("backfill: writing row %d: %w", j.row.N, werr)
		}
	}
	if err != nil {
		p.writeErr = err
		p.cancel(err)
		return
	}
	st.Rows++
	if p.r.progress != nil {
		st.Elapsed = time.Since(p.start)
		p.r.progress(st.Progress)
	}
}
