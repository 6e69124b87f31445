package decisionlog

import (
	"context"
	"errors"
	"log/slog"

	"github.com/featgraph/featgraph/executor"
)

// Shadower runs a candidate graph beside a live run; package shadow's
// Runner is one.
type Shadower interface {
	// Start starts the candidate for the live run res, whose record is
	// live, when the run is sampled and there is room. It returns at once;
	// done is then called exactly once, on another goroutine, with the
	// candidate's result. It returns false, and never calls done, when the
	// candidate does not run.
	Start(ctx context.Context, res *executor.Result, live *Record, done func(*Shadow)) bool
}

// Logger records every run it observes and logs the record, after the
// shadow candidate's result when the run is shadowed. It is what a service
// (or a Go controller calling executor.Run itself) calls once per run.
type Logger struct {
	rec    *Recorder
	log    *Log
	shadow Shadower
	logger *slog.Logger
}

// NewLogger returns a Logger recording with rec into log (nil: no log,
// for a shadow without a decision log) and shadowing with shadow (nil:
// none).
func NewLogger(rec *Recorder, log *Log, shadow Shadower) (*Logger, error) {
	if rec == nil {
		return nil, errors.New("decisionlog: NewLogger: nil recorder")
	}
	return &Logger{rec: rec, log: log, shadow: shadow, logger: slog.Default()}, nil
}

// Observe records res, a run of the recorder's graph, under runID (a new
// one when empty), starts the shadow candidate if the run is sampled, and
// logs the record. Call it before res.Release, with the request's context
// (it carries the request cache the candidate reuses). It never waits on
// the sink or on the candidate. It returns the record's run id.
func (lg *Logger) Observe(ctx context.Context, runID string, res *executor.Result) string {
	rec, err := lg.rec.Record(runID, res)
	if err != nil {
		lg.logger.Error("decisionlog: recording a run", "graph", lg.rec.Name(), "err", err)
		return runID
	}
	if lg.shadow != nil && lg.shadow.Start(ctx, res, rec, func(sh *Shadow) {
		rec.Shadow = sh
		lg.put(rec)
	}) {
		return rec.RunID
	}
	lg.put(rec)
	return rec.RunID
}

func (lg *Logger) put(rec *Record) {
	if lg.log == nil {
		return
	}
	if err := lg.log.Log(rec); err != nil {
		lg.logger.Error("decisionlog: encoding a record", "run_id", rec.RunID, "err", err)
	}
}
