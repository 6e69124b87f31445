package decisionlog_test

import (
	"context"
	"testing"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/nodes"
)

// fakeShadow shadows every run with a fixed result.
type fakeShadow struct{ started int }

func (f *fakeShadow) Start(_ context.Context, _ *executor.Result, _ *decisionlog.Record, done func(*decisionlog.Shadow)) bool {
	f.started++
	done(&decisionlog.Shadow{Graph: "candidate"})
	return true
}

func TestObserverLogsSeveralGraphs(t *testing.T) {
	s := newMemSink()
	l, err := decisionlog.NewLog(s, decisionlog.SpillDir(t.TempDir(), 1<<20), decisionlog.OnWritten(nil))
	if err != nil {
		t.Fatal(err)
	}
	sh := &fakeShadow{}
	o, err := decisionlog.NewObserver(l, decisionlog.ShadowGraph("a", sh), decisionlog.RecorderOptions(decisionlog.HashKey(testKey)))
	if err != nil {
		t.Fatal(err)
	}
	a, b := newCardGraph(t), newCardGraph(t)
	noKey := newCardGraph(t, nodes.Meta(decisionlog.MetaKey, "hash"))
	o2, _ := decisionlog.NewObserver(l, decisionlog.RecorderOptions(decisionlog.Getenv(func(string) string { return "" })))
	ctx := context.Background()
	o.Observe(ctx, "a", "v1", "r1", a.run(t, "c", 1))
	o.Observe(ctx, "b", "v1", "r2", b.run(t, "c", 1))
	a2 := newCardGraph(t) // a reload: another graph under the same name
	o.Observe(ctx, "a", "v2", "r3", a2.run(t, "c", 1))
	o2.Observe(ctx, "nokey", "v1", "r4", noKey.run(t, "c", 1))
	shutdown(t, l)
	got := s.snapshot()
	if got["r1"] != 1 || got["r2"] != 1 || got["r3"] != 1 || got["r4"] != 0 {
		t.Errorf("logged %v", got)
	}
	if sh.started != 2 {
		t.Errorf("the shadow of a started %d times, want 2", sh.started)
	}
	if st := l.Stats(); st.Dropped != 1 {
		t.Errorf("stats %+v: the run of a graph that cannot be recorded is not counted as dropped", st)
	}
}
