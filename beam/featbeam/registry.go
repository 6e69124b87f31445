package featbeam

import (
	"context"
	"fmt"
	"sync"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/executor"
)

// Built is a graph ready to run in a worker.
type Built struct {
	// Executor runs the graph.
	Executor *executor.Executor
	// Targets names the nodes to compute for every row.
	Targets []string
	// Options are given to the backfill.Runner (RowContext, say); InFlight,
	// Deadline and WithOutcomes come from the Config.
	Options []backfill.Option
	// Close, if set, is called when no DoFn of the worker uses the graph
	// any more.
	Close func()
}

// A Factory builds a registered graph in a worker from the config given to
// Run (Config.GraphConfig).
type Factory func(ctx context.Context, config []byte) (*Built, error)

var (
	mu        sync.Mutex
	factories = map[string]Factory{}
	shared    = map[sharedKey]*sharedGraph{}
)

// Register makes a graph available to Run by name. Call it from an init
// function, so that it is registered in every worker too: the name travels
// with the pipeline, the Factory does not. Registering a name again
// replaces it.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	factories[name] = f
}

type sharedKey struct{ name, config string }

// sharedGraph is one built graph, shared by the DoFns of a worker.
type sharedGraph struct {
	built *Built
	refs  int
}

// acquire returns the worker's graph for name and config, building it the
// first time: one Executor per worker, however many DoFn instances.
func acquire(ctx context.Context, name string, config []byte) (*Built, error) {
	mu.Lock()
	defer mu.Unlock()
	k := sharedKey{name, string(config)}
	if sg, ok := shared[k]; ok {
		sg.refs++
		return sg.built, nil
	}
	f, ok := factories[name]
	if !ok {
		return nil, fmt.Errorf("featbeam: no graph registered as %q in this worker (register it in an init function)", name)
	}
	b, err := f(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("featbeam: building graph %q: %w", name, err)
	}
	if b == nil || b.Executor == nil || len(b.Targets) == 0 {
		return nil, fmt.Errorf("featbeam: graph %q: the factory returned no executor or no targets", name)
	}
	shared[k] = &sharedGraph{built: b, refs: 1}
	return b, nil
}

// release gives back a graph acquire returned; the last release closes it.
func release(name string, config []byte) {
	mu.Lock()
	defer mu.Unlock()
	k := sharedKey{name, string(config)}
	sg, ok := shared[k]
	if !ok {
		return
	}
	sg.refs--
	if sg.refs > 0 {
		return
	}
	delete(shared, k)
	if sg.built.Close != nil {
		sg.built.Close()
	}
}
