package decisionlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// Observer logs the runs of the graphs of a service: it makes a [Recorder]
// for each graph the first time it sees it (again when a reload replaces
// the graph), and shadows the graphs given a [Shadower]. It is safe for
// concurrent use.
type Observer struct {
	log     *Log
	recOpts []Option
	shadows map[string]Shadower
	logger  *slog.Logger

	mu   sync.RWMutex
	recs map[string]*observed // by graph name
}

type observed struct {
	g       *graph.Graph
	version string
	logger  *Logger
	err     error
}

// ObserverOption configures an [Observer].
type ObserverOption func(*Observer) error

// RecorderOptions are given to the Recorder of every graph (privacy marks,
// a hash key).
func RecorderOptions(opts ...Option) ObserverOption {
	return func(o *Observer) error { o.recOpts = append(o.recOpts, opts...); return nil }
}

// ShadowGraph runs s beside the live graph called name.
func ShadowGraph(name string, s Shadower) ObserverOption {
	return func(o *Observer) error {
		if name == "" || s == nil {
			return errors.New("decisionlog: ShadowGraph: want a graph name and a Shadower")
		}
		o.shadows[name] = s
		return nil
	}
}

// NewObserver returns an Observer logging into log (nil: no log, only
// shadows).
func NewObserver(log *Log, opts ...ObserverOption) (*Observer, error) {
	o := &Observer{log: log, shadows: map[string]Shadower{}, recs: map[string]*observed{}, logger: slog.Default()}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Observe records and logs res, a run of the graph served as name at
// version, and starts its shadow; see [Logger.Observe]. A graph whose
// Recorder cannot be made (a hash mark without a key) is not logged: each of
// its records counts as dropped, and the error is logged once.
func (o *Observer) Observe(ctx context.Context, name, version, runID string, res *executor.Result) string {
	ob := o.recorder(name, version, res.Graph())
	if ob.err != nil {
		if o.log != nil {
			o.log.count(&o.log.dropped, 3, 1)
		}
		return runID
	}
	return ob.logger.Observe(ctx, runID, res)
}

func (o *Observer) recorder(name, version string, g *graph.Graph) *observed {
	o.mu.RLock()
	ob := o.recs[name]
	o.mu.RUnlock()
	if ob != nil && ob.g == g && ob.version == version {
		return ob
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if ob = o.recs[name]; ob != nil && ob.g == g && ob.version == version {
		return ob
	}
	ob = &observed{g: g, version: version}
	rec, err := NewRecorder(g, name, append([]Option{GraphVersion(version)}, o.recOpts...)...)
	if err == nil {
		var sh Shadower
		if s, ok := o.shadows[name]; ok {
			sh = s
		}
		ob.logger, err = NewLogger(rec, o.log, sh)
	}
	if err != nil {
		ob.err = fmt.Errorf("decisionlog: graph %q: %w", name, err)
		o.logger.Error("decisionlog: the runs of a graph cannot be logged; counted as dropped", "graph", name, "err", err)
	}
	o.recs[name] = ob
	return ob
}
