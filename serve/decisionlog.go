package serve

import (
	"context"
	"errors"

	"github.com/featgraph/featgraph/decisionlog"
)

// WithDecisionLog records every decide run (every row of a batch) with o:
// a decision record per run, under the run id of the answer, into o's
// log, and the shadow candidates o was given (decisionlog.ShadowGraph with
// a shadow.Runner) beside the graphs they shadow. It is a run observer:
// the record is made before the answer is written and the log and the
// shadow never make the answer wait.
func WithDecisionLog(o *decisionlog.Observer) Option {
	if o == nil {
		return func(*config) error { return errors.New("serve: WithDecisionLog(nil)") }
	}
	return WithRunObserver(func(ctx context.Context, run RunInfo) {
		o.Observe(ctx, run.Graph, run.Version, run.RunID, run.Result)
	})
}
