package backfill_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/executor"
)

func TestRunKeepsInputOrder(t *testing.T) {
	tg := newTestGraph(t)
	tg.fetchHook = delayByID
	r := tg.runner(t, backfill.InFlight(32))
	var c collect
	st, err := r.Run(context.Background(), rowsOf(400), &c, &c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 400 || st.Written != 400 || st.Failed != 0 || len(c.out) != 400 {
		t.Fatalf("stats %+v, %d outputs: want 400 rows written", st, len(c.out))
	}
	for i, o := range c.out {
		if o.Row.N != int64(i+1) {
			t.Fatalf("output %d is row %d: order not kept", i, o.Row.N)
		}
		id := fmt.Sprintf("i%d", i+1)
		if want := expectedDecision(expectedScore(id), i+1, "gold"); o.Values["decision"] != want {
			t.Fatalf("row %d: decision %v, want %v", i+1, o.Values["decision"], want)
		}
		if o.Row.Columns["extra"] != "x" {
			t.Fatalf("row %d lost its extra column: %v", i+1, o.Row.Columns)
		}
		if o.Outcomes != nil {
			t.Fatalf("row %d has outcomes without WithOutcomes", i+1)
		}
	}
	if m := tg.maxInside.Load(); m > 32 {
		t.Fatalf("%d fetches at once with in-flight 32", m)
	}
}

func TestRunUnorderedWritesEveryRowOnce(t *testing.T) {
	tg := newTestGraph(t)
	tg.fetchHook = delayByID
	r := tg.runner(t, backfill.InFlight(16), backfill.Unordered(), backfill.WithOutcomes())
	var c collect
	if _, err := r.Run(context.Background(), rowsOf(300), &c, &c); err != nil {
		t.Fatal(err)
	}
	var ns []int64
	for _, o := range c.out {
		ns = append(ns, o.Row.N)
		if o.Outcomes["score"] != executor.OutcomeOK || o.Outcomes["decision"] != executor.OutcomeOK {
			t.Fatalf("row %d outcomes %v", o.Row.N, o.Outcomes)
		}
		if f := o.Fields(); f["outcome.tier"] != "ok" || f["decision"] == nil || f["id"] == nil {
			t.Fatalf("row %d fields %v", o.Row.N, f)
		}
	}
	slices.Sort(ns)
	for i, n := range ns {
		if n != int64(i+1) {
			t.Fatalf("rows written %v...: want each of 1..300 once", ns[:min(len(ns), 10)])
		}
	}
	if len(ns) != 300 {
		t.Fatalf("%d rows written, want 300", len(ns))
	}
}

func TestRunHoldsInFlightRunsAtOnce(t *testing.T) {
	const inFlight = 8
	tg := newTestGraph(t)
	// Every fetch waits until inFlight of them are running: the backfill
	// can finish only if it really runs inFlight rows at once.
	var arrived atomic.Int64
	all := make(chan struct{})
	tg.fetchHook = func(ctx context.Context, id string) {
		if arrived.Add(1) == inFlight {
			close(all)
		}
		select {
		case <-all:
		case <-ctx.Done():
		}
	}
	r := tg.runner(t, backfill.InFlight(inFlight))
	var c collect
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := r.Run(ctx, rowsOf(100), &c, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.out) != 100 {
		t.Fatalf("%d rows written, %d dead: want 100 written", len(c.out), len(c.dead))
	}
	if m := tg.maxInside.Load(); m != inFlight {
		t.Fatalf("at most %d fetches at once, want %d", m, inFlight)
	}
}

func TestRunReadsAtMostInFlightRowsAhead(t *testing.T) {
	// Row 1 is held; the rows behind it finish but must wait in the reorder
	// buffer. The source must not be read further than the buffer holds:
	// memory stays flat however many rows there are.
	const inFlight = 4
	tg := newTestGraph(t)
	release := make(chan struct{})
	tg.fetchHook = func(ctx context.Context, id string) {
		if id == "i1" {
			<-release
		}
	}
	var pulled atomic.Int64
	src := func(yield func(backfill.Row, error) bool) {
		for row, err := range rowsOf(1000) {
			pulled.Add(1)
			if !yield(row, err) {
				return
			}
		}
	}
	r := tg.runner(t, backfill.InFlight(inFlight))
	var c collect
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(context.Background(), src, &c, &c)
		done <- err
	}()
	// Wait until the pipeline is stuck behind row 1: pulled stops growing.
	for last := int64(-1); ; {
		time.Sleep(20 * time.Millisecond)
		p := pulled.Load()
		if p == last {
			break
		}
		last = p
	}
	if p := pulled.Load(); p > inFlight+1 {
		t.Errorf("%d rows read while row 1 is held, want at most %d", p, inFlight+1)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(c.out) != 1000 {
		t.Fatalf("%d rows written, want 1000", len(c.out))
	}
}

func TestRunBadRowsGoToDeadLetters(t *testing.T) {
	tg := newTestGraph(t)
	r := tg.runner(t)
	in := strings.Join([]string{
		`{"id": "a", "amount": 1}`,
		`{"id": "b", "amount": `,        // malformed
		`{"id": "c", "amount": "lots"}`, // wrong type
		`{"id": "d"}`,                   // missing column
		``,
		`{"id": "bad1", "amount": 3}`, // the fetch fails: the target has no value
		`{"id": "fb", "amount": 2.0}`, // fallback: written; 2.0 is an int
		`[1, 2]`,                      // not an object
		`{"id": "e", "amount": 4}`,
	}, "\n")
	var c collect
	st, err := r.Run(context.Background(), backfill.JSONLSource(strings.NewReader(in), "rows.jsonl"), &c, &c)
	if err != nil {
		t.Fatal(err)
	}
	var written []string
	for _, o := range c.out {
		written = append(written, o.Row.Columns["id"].(string))
	}
	if !slices.Equal(written, []string{"a", "fb", "e"}) {
		t.Fatalf("written %v, want a, fb, e", written)
	}
	if c.out[1].Values["decision"] != expectedDecision(expectedScore("fb"), 2, "basic") {
		t.Fatalf("fallback row: %v", c.out[1].Values)
	}
	want := []struct {
		row    int64
		column string
		text   string
	}{
		{2, "", "rows.jsonl:2: not a JSON object"},
		{3, "amount", `is not an int`},
		{4, "amount", "missing column"},
		{6, "decision", "score service: no such id"},
		{8, "", "rows.jsonl:8: not a JSON object"},
	}
	if len(c.dead) != len(want) {
		t.Fatalf("%d dead letters, want %d: %v", len(c.dead), len(want), c.dead)
	}
	for i, w := range want {
		d := c.dead[i]
		var re *backfill.RowError
		if !errors.As(d.Cause, &re) {
			t.Fatalf("dead letter %d: cause %v is not a *RowError", i, d.Cause)
		}
		if re.Row != w.row || re.Column != w.column || d.Row.N != w.row || !strings.Contains(d.Cause.Error(), w.text) {
			t.Errorf("dead letter %d: row %d column %q cause %q; want row %d column %q containing %q", i, re.Row, re.Column, d.Cause, w.row, w.column, w.text)
		}
		if !strings.HasPrefix(d.Cause.Error(), fmt.Sprintf("row %d", w.row)) {
			t.Errorf("cause %q does not start with the row", d.Cause)
		}
	}
	if !errors.Is(c.dead[2].Cause, backfill.ErrMissingColumn) {
		t.Errorf("missing column cause %v is not ErrMissingColumn", c.dead[2].Cause)
	}
	if st.Rows != 8 || st.Written != 3 || st.Failed != 5 || st.FellBack != 1 {
		t.Fatalf("stats %+v: want 8 rows, 3 written, 5 failed, 1 fell back", st.Progress)
	}
}

func TestRunDeadlinePerRow(t *testing.T) {
	tg := newTestGraph(t)
	r := tg.runner(t, backfill.Deadline(50*time.Millisecond))
	src := func(yield func(backfill.Row, error) bool) {
		for i, id := range []string{"a", "hang", "b"} {
			if !yield(backfill.Row{N: int64(i + 1), Columns: map[string]any{"id": id, "amount": 1}}, nil) {
				return
			}
		}
	}
	var c collect
	st, err := r.Run(context.Background(), src, &c, &c)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.out) != 2 || len(c.dead) != 1 {
		t.Fatalf("%d written, %d dead: want 2 and 1", len(c.out), len(c.dead))
	}
	var re *backfill.RowError
	if !errors.As(c.dead[0].Cause, &re) || re.Row != 2 || re.Column != "decision" || !errors.Is(c.dead[0].Cause, context.DeadlineExceeded) {
		t.Fatalf("dead letter cause %v: want row 2, column decision, a deadline", c.dead[0].Cause)
	}
	score := st.Nodes[slices.IndexFunc(st.Nodes, func(n backfill.NodeStats) bool { return n.Name == "score" })]
	if score.Count(executor.OutcomeTimeout) != 1 || score.Count(executor.OutcomeOK) != 2 {
		t.Fatalf("score outcomes %v: want 2 ok, 1 timeout", score.Outcomes)
	}
}

func TestRunCountsOutcomes(t *testing.T) {
	tg := newTestGraph(t)
	src := func(yield func(backfill.Row, error) bool) {
		for i, id := range []string{"a", "fb1", "fb2", "bad", "c"} {
			if !yield(backfill.Row{N: int64(i + 1), Columns: map[string]any{"id": id, "amount": i}}, nil) {
				return
			}
		}
	}
	var progress []backfill.Progress
	r := tg.runner(t, backfill.InFlight(4), backfill.OnProgress(func(p backfill.Progress) { progress = append(progress, p) }))
	st, err := r.Run(context.Background(), src, &collect{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string][backfill.NumOutcomes]int64{}
	for _, n := range st.Nodes {
		counts[n.Name] = n.Outcomes
	}
	// Row "bad": score fails, so decision fails fast and may cancel its
	// tier call before it ends (nothing else needs it); which comes first
	// is a race.
	if c := counts["tier"]; c[executor.OutcomeOK] < 2 || c[executor.OutcomeOK]+c[executor.OutcomeCanceled] != 3 || c[executor.OutcomeFallback] != 2 {
		t.Errorf("tier outcomes %v: want 2 fallback, and 3 ok except the bad row's, which may be canceled", c)
	}
	if c := counts["score"]; c[executor.OutcomeOK] != 4 || c[executor.OutcomeError] != 1 {
		t.Errorf("score outcomes %v: want 4 ok, 1 error", c)
	}
	if c := counts["decision"]; c[executor.OutcomeOK] != 4 || c[executor.OutcomeError] != 1 {
		t.Errorf("decision outcomes %v: want 4 ok, 1 error", c)
	}
	if st.Written != 4 || st.Failed != 1 || st.FellBack != 2 {
		t.Errorf("stats %+v", st.Progress)
	}
	if len(progress) != 5 || progress[4].Rows != 5 || progress[4].Failed != 1 || progress[4].FellBack != 2 {
		t.Errorf("progress %+v: want 5 calls ending at 5 rows, 1 failed, 2 fell back", progress)
	}
}

func TestRunStopsOnSinkError(t *testing.T) {
	tg := newTestGraph(t)
	r := tg.runner(t, backfill.InFlight(8))
	boom := errors.New("disk full")
	n := 0
	sink := backfill.SinkFunc(func(backfill.Output) error {
		n++
		if n == 10 {
			return boom
		}
		return nil
	})
	st, err := r.Run(context.Background(), rowsOf(10000), sink, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "row 10") {
		t.Fatalf("err %v: want the sink's error naming row 10", err)
	}
	if n != 10 || st.Rows != 9 {
		t.Fatalf("%d writes, %d rows done after the error: want 10 and 9", n, st.Rows)
	}
}

func TestRunStopsOnSourceError(t *testing.T) {
	tg := newTestGraph(t)
	r := tg.runner(t)
	broken := errors.New("connection reset")
	src := func(yield func(backfill.Row, error) bool) {
		for row := range rowsOf(5) {
			if !yield(row, nil) {
				return
			}
		}
		yield(backfill.Row{N: 6}, broken)
	}
	var c collect
	_, err := r.Run(context.Background(), src, &c, &c)
	if !errors.Is(err, broken) {
		t.Fatalf("err %v: want the source's error", err)
	}
}

func TestRunCanceled(t *testing.T) {
	tg := newTestGraph(t)
	ctx, cancel := context.WithCancel(context.Background())
	tg.fetchHook = func(fctx context.Context, id string) {
		if id == "i50" {
			cancel()
		}
		delayByID(fctx, id)
	}
	r := tg.runner(t, backfill.InFlight(8))
	var c collect
	st, err := r.Run(ctx, rowsOf(100000), &c, &c)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v: want context.Canceled", err)
	}
	if st.Rows >= 100000 || len(c.dead) != 0 {
		t.Fatalf("%d rows done, %d dead letters after cancel: want the rest left, none dead", st.Rows, len(c.dead))
	}
}

func TestNewRejects(t *testing.T) {
	tg := newTestGraph(t)
	ex, err := executor.New(tg.g)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		targets []string
		opts    []backfill.Option
	}{
		"no targets":     {nil, nil},
		"unknown target": {[]string{"nope"}, nil},
		"in flight 0":    {[]string{"decision"}, []backfill.Option{backfill.InFlight(0)}},
		"deadline < 0":   {[]string{"decision"}, []backfill.Option{backfill.Deadline(-time.Second)}},
	} {
		if _, err := backfill.New(ex, tc.targets, tc.opts...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := backfill.New(nil, []string{"decision"}); err == nil {
		t.Error("nil executor: no error")
	}
	r, err := backfill.New(ex, []string{"decision"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Inputs(), []string{"id", "amount"}) {
		t.Errorf("inputs %v", r.Inputs())
	}
}
