package backfill

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
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
	all      []graph.Target // every node, by NodeID, made once for the per-row outcomes
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
	r.all = make([]graph.Target, g.Len())
	for i := range r.all {
		r.all[i] = graphx.At(g, graph.NodeID(i))
	}
	for _, name := range targets {
		id, err := g.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("backfill: target: %w", err)
		}
		r.targets = append(r.targets, graphx.At(g, id))
		r.names = append(r.names, name)
	}
	ancestors, err := g.Ancestors(r.targets...)
	if err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	for _, id := range ancestors {
		n := graphx.Node(g, id)
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
		rr.Outcomes[i] = res.Node(r.all[i]).Outcome
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
func (r *Runner) Run(ctx context.Context, src Source, sink Sink, dead DeadLetterSink) (Stats, error) {
	if sink == nil {
		return Stats{}, errors.New("backfill: nil sink")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := time.Now()
	jobs := make(chan *job)
	results := make(chan *job, r.inFlight)
	// A token is held from the moment a row is read until it is written:
	// at most inFlight rows exist at once, running or waiting in order.
	tokens := make(chan struct{}, r.inFlight)

	var workers sync.WaitGroup
	for range r.inFlight {
		workers.Go(func() {
			for j := range jobs {
				j.res = r.RunRow(ctx, j.row)
				results <- j
			}
		})
	}
	g := r.ex.Graph()
	st := Stats{Nodes: make([]NodeStats, g.Len())}
	for i := range st.Nodes {
		st.Nodes[i].Name = g.Name(graph.NodeID(i))
	}
	var writeErr error
	written := make(chan struct{})
	go func() {
		defer close(written)
		writeErr = r.write(ctx, cancel, start, results, tokens, sink, dead, &st)
	}()
	srcErr := r.feed(ctx, src, jobs, results, tokens)
	close(jobs)
	workers.Wait()
	close(results)
	<-written
	st.Elapsed = time.Since(start)
	switch {
	case writeErr != nil:
		return st, writeErr
	case srcErr != nil:
		return st, srcErr
	}
	return st, context.Cause(ctx)
}

// feed reads src and hands its rows to the workers, each after taking a token.
func (r *Runner) feed(ctx context.Context, src Source, jobs, results chan<- *job, tokens chan struct{}) error {
	var seq int64
	for row, err := range src {
		select {
		case tokens <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		j := &job{seq: seq, row: row}
		seq++
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) {
				<-tokens
				return fmt.Errorf("backfill: reading rows: %w", err)
			}
			j.res.Dead = &DeadLetter{Row: row, Cause: err}
			results <- j // never blocks: it has room for every token
			continue
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
			<-tokens
			return nil
		}
	}
	return nil
}

// write writes the rows as they come, or in order, and gives their tokens back.
func (r *Runner) write(ctx context.Context, cancel context.CancelCauseFunc, start time.Time, results <-chan *job, tokens <-chan struct{}, sink Sink, dead DeadLetterSink, st *Stats) error {
	var err error
	emit := func(j *job) {
		defer func() { <-tokens }()
		if err != nil || ctx.Err() != nil {
			return // stopping: drain without writing
		}
		for id, o := range j.res.Outcomes {
			st.Nodes[id].Outcomes[o]++
		}
		if j.res.Dead != nil {
			st.Failed++
			if dead != nil {
				if werr := dead.WriteDeadLetter(*j.res.Dead); werr != nil {
					err = fmt.Errorf("backfill: writing the dead letter of row %d: %w", j.row.N, werr)
				}
			}
		} else {
			st.Written++
			if j.res.FellBack() {
				st.FellBack++
			}
			if werr := sink.Write(j.res.Output); werr != nil {
				err = fmt.Errorf("backfill: writing row %d: %w", j.row.N, werr)
			}
		}
		if err != nil {
			cancel(err)
			return
		}
		st.Rows++
		if r.progress != nil {
			st.Elapsed = time.Since(start)
			r.progress(st.Progress)
		}
	}
	if !r.ordered {
		for j := range results {
			emit(j)
		}
		return err
	}
	ring := make([]*job, r.inFlight)
	var next int64
	n := int64(r.inFlight)
	for j := range results {
		ring[j.seq%n] = j
		for ring[next%n] != nil {
			emit(ring[next%n])
			ring[next%n] = nil
			next++
		}
	}
	return err
}
