package executor_test

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func TestRecordRoundTripsThroughJSON(t *testing.T) {
	m := newMixedGraph(t)
	e, err := executor.New(m.g)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := m.run(t, e)
	rec := res.Record()
	wantPath := res.CriticalPath()
	res.Release()

	if got := lookup(t, rec, "risk"); got.Outcome != executor.OutcomeFallback || !strings.Contains(got.Cause, "risk service down") ||
		!got.HasFallback || got.FallbackValue != "0.5" {
		t.Errorf("risk record %+v, want a fallback to 0.5 caused by the fetch error", got)
	}
	if got := lookup(t, rec, "route"); got.Branch != "premium" || !reflect.DeepEqual(got.Lazy, []string{"premium", "basic"}) {
		t.Errorf("route record %+v, want lazy [premium basic] and branch premium", got)
	}
	if got := lookup(t, rec, "basic"); got.Outcome != executor.OutcomeSkipped {
		t.Errorf("basic outcome %v, want skipped", got.Outcome)
	}
	if got := lookup(t, rec, "account"); got.Meta["upstream"] != "accounts" || got.Kind != graph.KindFetch {
		t.Errorf("account record %+v, want a fetch with upstream accounts", got)
	}
	if rec.Err == "" || !lookup(t, rec, "decision").Target {
		t.Errorf("record error %q, decision target %v: want an error and a target", rec.Err, lookup(t, rec, "decision").Target)
	}

	var buf bytes.Buffer
	if err := rec.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := executor.ReadRecord(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Started.Equal(rec.Started) {
		t.Errorf("started %v, want %v", back.Started, rec.Started)
	}
	back.Started = rec.Started
	if !reflect.DeepEqual(back, rec) {
		t.Errorf("round trip changed the record:\n got %+v\nwant %+v", back, rec)
	}
	if got := back.CriticalPath(); !reflect.DeepEqual(got, wantPath) {
		t.Errorf("critical path of the read record %+v, want the result's %+v", got, wantPath)
	}
}

func TestReadRecordRejectsBadRecords(t *testing.T) {
	for name, tc := range map[string]struct{ json, want string }{
		"syntax":      {`{"nodes": [`, "reading run record"},
		"unknown key": {`{"nodes": [], "colour": 1}`, "colour"},
		"unknown dep": {`{"nodes": [{"name": "a", "kind": "fetch", "deps": ["ghost"], "outcome": "ok"}]}`, `"a" depends on unknown node "ghost"`},
		"duplicate":   {`{"nodes": [{"name": "a", "kind": "input", "outcome": "ok"}, {"name": "a", "kind": "input", "outcome": "ok"}]}`, `"a" appears twice`},
		"no name":     {`{"nodes": [{"kind": "input", "outcome": "ok"}]}`, "#0 has no name"},
		"backwards":   {`{"nodes": [{"name": "a", "kind": "fetch", "outcome": "ok", "start_ms": 10, "end_ms": 5}]}`, `"a" ends`},
		"bad outcome": {`{"nodes": [{"name": "a", "kind": "fetch", "outcome": "meh"}]}`, `unknown outcome "meh"`},
		"bad kind":    {`{"nodes": [{"name": "a", "kind": "teleport", "outcome": "ok"}]}`, `unknown node kind "teleport"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := executor.ReadRecord(strings.NewReader(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestCriticalPathFollowsTheLastDependency(t *testing.T) {
	const slowFor = 50 * time.Millisecond
	b := graph.NewBuilder()
	x := nodes.Input[int](b, "x")
	slow := nodes.Fetch1(b, "slow", x, func(ctx context.Context, v int) (int, error) {
		time.Sleep(slowFor)
		return v, nil
	})
	fast := nodes.Fetch1(b, "fast", x, func(ctx context.Context, v int) (int, error) { return v, nil })
	sum := nodes.Compute2(b, "sum", slow, fast, func(a, b int) (int, error) { return a + b, nil })
	then := nodes.Fetch1(b, "then", sum, func(ctx context.Context, v int) (int, error) {
		time.Sleep(slowFor / 5)
		return v, nil
	})
	other := nodes.Value(b, "other", 0)
	flag := nodes.Value(b, "flag", true)
	pick := nodes.If(b, "pick", flag, then, other)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(x, 1)}, pick)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	path := res.CriticalPath()
	var names []string
	for _, p := range path {
		names = append(names, p.Node)
	}
	if want := []string{"x", "slow", "sum", "then", "pick"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("critical path %v, want %v", names, want)
	}
	var prevEnd, total time.Duration
	for _, p := range path {
		if p.Work != p.End-max(p.Start, prevEnd) || p.Wait != max(p.Start-prevEnd, 0) || p.Work < 0 {
			t.Errorf("step %+v: work or wait inconsistent with its times (previous end %v)", p, prevEnd)
		}
		prevEnd = p.End
		total += p.Wait + p.Work
	}
	if total != res.Duration() {
		t.Errorf("waits and work of the path add up to %v, the run took %v", total, res.Duration())
	}
	// pick started when its condition was known, then waited for its branch:
	// its work on the path is only what came after the branch ended.
	if last := path[len(path)-1]; last.Start > path[len(path)-2].Start || last.Work > last.End-path[len(path)-2].End {
		t.Errorf("pick %+v: want it started before its branch and working only after it", last)
	}
	if path[1].Work < slowFor {
		t.Errorf("slow worked %v, less than its %v sleep", path[1].Work, slowFor)
	}
	if last := path[len(path)-1]; last.End != res.Duration() {
		t.Errorf("path ends at %v, the run at %v", last.End, res.Duration())
	}
}

func TestCriticalPathOfARecordWithNothingRun(t *testing.T) {
	rec := &executor.Record{Nodes: []executor.NodeRecord{{Name: "a", Kind: graph.KindInput}}}
	if got := rec.CriticalPath(); len(got) != 0 {
		t.Errorf("critical path %+v of a run where nothing ran, want none", got)
	}
}

// RecordValues keeps the values of inputs and fetches only; Record none.
// Both write durations as milliseconds and read back the same.
func TestRecordValuesAndMilliseconds(t *testing.T) {
	b := graph.NewBuilder()
	in := nodes.Input[string](b, "card")
	f := nodes.Fetch1(b, "limit", in, func(_ context.Context, c string) (int, error) {
		time.Sleep(time.Millisecond)
		return len(c) * 100, nil
	}, nodes.Timeout(1500*time.Microsecond+time.Second))
	c := nodes.Compute1(b, "double", f, func(v int) (int, error) { return 2 * v, nil })
	res := mustRun(t, mustBuild(t, b), []executor.Binding{executor.Bind(in, "c42")}, c)
	defer res.Release()

	rec, err := res.RecordValues()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"card": `"c42"`, "limit": "300", "double": ""}
	for _, n := range rec.Nodes {
		if string(n.Recorded) != want[n.Name] {
			t.Errorf("%s recorded %q, want %q", n.Name, n.Recorded, want[n.Name])
		}
	}
	if plain := res.Record(); plain.Nodes[0].Recorded != nil || plain.Nodes[1].Recorded != nil {
		t.Error("Record holds values")
	}
	var buf bytes.Buffer
	if err := rec.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	js := buf.String()
	if strings.Contains(js, "_ns") || !strings.Contains(js, `"timeout_ms": 1001.5`) || !strings.Contains(js, `"duration_ms"`) {
		t.Errorf("durations are not milliseconds:\n%s", js)
	}
	back, err := executor.ReadRecord(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Nodes, rec.Nodes) || back.Duration != rec.Duration || !back.Started.Equal(rec.Started) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, rec)
	}
}

func lookup(t *testing.T, rec *executor.Record, name string) executor.NodeRecord {
	t.Helper()
	n, err := rec.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
