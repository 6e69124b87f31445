package featbeam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/graph"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/executor"
)

// Row is one input row: a JSON object on one line, with where it comes
// from, so that a dead letter can name it.
type Row struct {
	// Source names the file the row comes from; empty if none.
	Source string
	// N is the row's line in Source, counted from 1.
	N int64
	// Line is the JSON object.
	Line string
}

// Config says what Run runs.
type Config struct {
	// Graph is the name a graph was registered with.
	Graph string
	// GraphConfig is given to the graph's Factory in every worker.
	GraphConfig []byte
	// InFlight bounds the rows a bundle runs at once (default
	// backfill.DefaultInFlight).
	InFlight int
	// Deadline, if positive, bounds each row's run.
	Deadline time.Duration
	// Outcomes adds every node's outcome to the output rows.
	Outcomes bool
}

func init() {
	register.DoFn4x1[context.Context, Row, func(string), func(string), error](&runGraphFn{})
	register.Emitter1[string]()
}

// Run runs the registered graph on every row of rows (a PCollection of Row)
// and returns the output rows and the dead letters, both PCollections of
// JSON lines (strings) as package backfill writes them.
func Run(s beam.Scope, rows beam.PCollection, cfg Config) (out, dead beam.PCollection) {
	s = s.Scope("featgraph." + cfg.Graph)
	if cfg.InFlight <= 0 {
		cfg.InFlight = backfill.DefaultInFlight
	}
	fn := &runGraphFn{Graph: cfg.Graph, GraphConfig: cfg.GraphConfig, InFlight: cfg.InFlight,
		DeadlineNS: int64(cfg.Deadline), Outcomes: cfg.Outcomes}
	return beam.ParDo2(s, fn, rows)
}

// runGraphFn is the DoFn of Run. Its exported fields travel to the workers.
type runGraphFn struct {
	Graph       string
	GraphConfig []byte
	InFlight    int
	DeadlineNS  int64
	Outcomes    bool

	runner *backfill.Runner
	ctx    context.Context // the runs' context, from Setup to Teardown
	cancel context.CancelFunc
	done   chan finished // the bundle's runs that finished, not yet emitted
	// pending counts the bundle's runs started and not yet emitted.
	pending int

	nodeNames []string
	outcomes  [][backfill.NumOutcomes]beam.Counter // by node, then outcome
	written   beam.Counter
	failed    beam.Counter
	fellBack  beam.Counter
	runTime   beam.Distribution
}

// finished is one row's result, on its way from its goroutine to the
// bundle's.
type finished struct {
	row Row
	res backfill.RowResult
}

// Setup builds the graph (or shares the worker's) and the counters.
func (f *runGraphFn) Setup(ctx context.Context) error {
	if f.InFlight < 1 {
		return fmt.Errorf("featbeam: in flight %d: want at least 1", f.InFlight)
	}
	b, err := acquire(ctx, f.Graph, f.GraphConfig)
	if err != nil {
		return err
	}
	opts := append([]backfill.Option{backfill.InFlight(f.InFlight), backfill.Deadline(time.Duration(f.DeadlineNS))}, b.Options...)
	if f.Outcomes {
		opts = append(opts, backfill.WithOutcomes())
	}
	r, err := backfill.New(b.Executor, b.Targets, opts...)
	if err != nil {
		release(f.Graph, f.GraphConfig)
		return err
	}
	f.runner = r
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.done = make(chan finished, f.InFlight)
	g := b.Executor.Graph()
	f.nodeNames = make([]string, g.Len())
	f.outcomes = make([][backfill.NumOutcomes]beam.Counter, g.Len())
	for id := range g.Len() {
		n := g.Name(graph.NodeID(id))
		f.nodeNames[id] = n
		for o := range backfill.NumOutcomes {
			f.outcomes[id][o] = beam.NewCounter("featgraph", "node."+n+"."+executor.Outcome(o).String())
		}
	}
	f.written = beam.NewCounter("featgraph", "rows.written")
	f.failed = beam.NewCounter("featgraph", "rows.failed")
	f.fellBack = beam.NewCounter("featgraph", "rows.fell_back")
	f.runTime = beam.NewDistribution("featgraph", "run_time_us")
	return nil
}

// ProcessElement starts row's run, first emitting finished rows until
// fewer than InFlight are running. It emits only from this goroutine.
func (f *runGraphFn) ProcessElement(ctx context.Context, row Row, emitOut, emitDead func(string)) error {
	for f.pending >= f.InFlight {
		if err := f.emit(ctx, <-f.done, emitOut, emitDead); err != nil {
			return err
		}
	}
	var cols map[string]any
	if err := json.Unmarshal([]byte(row.Line), &cols); err != nil || cols == nil {
		if err == nil {
			err = errors.New("null")
		}
		cause := &backfill.RowError{Row: row.N, Err: fmt.Errorf("%s:%d: not a JSON object: %w", row.Source, row.N, err)}
		f.failed.Inc(ctx, 1)
		return emitDeadLetter(emitDead, backfill.DeadLetter{Row: backfill.Row{N: row.N}, Cause: cause})
	}
	f.pending++
	go func() {
		f.done <- finished{row: row, res: f.runner.RunRow(f.ctx, backfill.Row{N: row.N, Columns: cols})}
	}()
	for {
		select {
		case fin := <-f.done:
			if err := f.emit(ctx, fin, emitOut, emitDead); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// FinishBundle waits for the bundle's rows still running and emits them.
func (f *runGraphFn) FinishBundle(ctx context.Context, emitOut, emitDead func(string)) error {
	var errs []error
	for f.pending > 0 {
		if err := f.emit(ctx, <-f.done, emitOut, emitDead); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Teardown gives the graph back; the worker's last DoFn closes it.
func (f *runGraphFn) Teardown() error {
	if f.runner == nil {
		return nil
	}
	for f.pending > 0 { // a bundle that failed midway: let its runs end
		f.cancel()
		<-f.done
		f.pending--
	}
	f.cancel()
	f.runner = nil
	release(f.Graph, f.GraphConfig)
	return nil
}

// emit writes one finished row, counts it, and marks it no longer pending.
func (f *runGraphFn) emit(ctx context.Context, fin finished, emitOut, emitDead func(string)) error {
	f.pending--
	res := fin.res
	for id, o := range res.Outcomes {
		f.outcomes[id][o].Inc(ctx, 1)
	}
	if res.Outcomes != nil {
		f.runTime.Update(ctx, res.Duration.Microseconds())
	}
	if res.Dead != nil {
		f.failed.Inc(ctx, 1)
		return emitDeadLetter(emitDead, *res.Dead)
	}
	b, err := backfill.MarshalOutput(res.Output)
	if err != nil {
		// A value JSON cannot hold (NaN...) makes the row a dead letter.
		f.failed.Inc(ctx, 1)
		return emitDeadLetter(emitDead, backfill.DeadLetter{Row: res.Output.Row,
			Cause: &backfill.RowError{Row: fin.row.N, Err: fmt.Errorf("encoding the output: %w", err)}})
	}
	f.written.Inc(ctx, 1)
	if res.FellBack() {
		f.fellBack.Inc(ctx, 1)
	}
	emitOut(string(b))
	return nil
}

func emitDeadLetter(emit func(string), d backfill.DeadLetter) error {
	b, err := backfill.MarshalDeadLetter(d)
	if err != nil {
		return err
	}
	emit(string(b))
	return nil
}
