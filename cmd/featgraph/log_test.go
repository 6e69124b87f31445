package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/shadow"
)

// writeShadowLog logs n decisions of a graph that approves amounts up to
// 500, shadowed by a candidate that approves up to 400, into dir.
func writeShadowLog(t *testing.T, dir string, amounts []int) {
	t.Helper()
	build := func(limit int) (*graph.Graph, graph.Ref[int], graph.Ref[string]) {
		b := graph.NewBuilder()
		amount := nodes.Input[int](b, "amount")
		dec := nodes.Compute1(b, "decision", amount, func(a int) (string, error) {
			if a > limit {
				return "decline", nil
			}
			return "approve", nil
		})
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return g, amount, dec
	}
	live, amount, dec := build(500)
	cand, _, _ := build(400)
	cex, _ := executor.New(cand)
	crec, _ := decisionlog.NewRecorder(cand, "limits", decisionlog.GraphVersion("2"))
	runner, err := shadow.New(cex, crec)
	if err != nil {
		t.Fatal(err)
	}
	log, err := decisionlog.Open("file://" + dir)
	if err != nil {
		t.Fatal(err)
	}
	lrec, _ := decisionlog.NewRecorder(live, "limits", decisionlog.GraphVersion("1"))
	lg, _ := decisionlog.NewLogger(lrec, log, runner)
	ex, _ := executor.New(live)
	for _, a := range amounts {
		res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(amount, a)}, dec)
		if err != nil {
			t.Fatal(err)
		}
		lg.Observe(context.Background(), "", res)
		res.Release()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := runner.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := log.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLogTailAndShadowReport(t *testing.T) {
	dir := t.TempDir()
	amounts := []int{100, 450, 450, 600, 200, 300, 700, 420}
	writeShadowLog(t, dir, amounts)

	code, out, errOut := runCommand(t, "log", "tail", "--follow=false", dir)
	if code != 0 {
		t.Fatalf("tail: exit %d: %s", code, errOut)
	}
	if got := strings.Count(out, "limits@1  run "); got != len(amounts) {
		t.Errorf("tail printed %d records, want %d:\n%s", got, len(amounts), out)
	}
	if got := strings.Count(out, "(DIFFERS)"); got != 3 {
		t.Errorf("tail shows %d differences, want 3 (450, 450, 420):\n%s", got, out)
	}

	code, out, errOut = runCommand(t, "log", "shadow-report", "--format", "json", dir)
	if code != 0 {
		t.Fatalf("shadow-report: exit %d: %s", code, errOut)
	}
	var rep shadow.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Records != 8 || rep.Shadowed != 8 || len(rep.Targets) != 1 || rep.Candidates[0] != "limits@2" {
		t.Fatalf("report %+v", rep)
	}
	tr := rep.Targets[0]
	if tr.Compared != 8 || tr.Agreed != 5 || tr.Agreement != 5.0/8 {
		t.Errorf("target %+v", tr)
	}
	rates := map[string]shadow.ValueRate{}
	for _, v := range tr.Values {
		rates[v.Value] = v
	}
	if a, d := rates["approve"], rates["decline"]; a.Live != 6 || a.Candidate != 3 || d.Live != 2 || d.Candidate != 5 || a.LiveRate != 0.75 {
		t.Errorf("rates %+v", rates)
	}

	code, out, _ = runCommand(t, "log", "shadow-report", dir)
	if code != 0 || !strings.Contains(out, "target decision: agreement 62.5% (5 of 8)") || !strings.Contains(out, "-37.5 pt") {
		t.Errorf("text report (exit %d):\n%s", code, out)
	}
	code, out, _ = runCommand(t, "log", "shadow-report", "--since", time.Now().Add(time.Hour).Format(time.RFC3339), "--format", "json", dir)
	if code != 0 || !strings.Contains(out, `"records": 0`) {
		t.Errorf("--since in the future (exit %d):\n%s", code, out)
	}
}

func TestLogUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"log"}, {"log", "nope"}, {"log", "tail"}, {"log", "tail", "--format", "xml", dir}, {"log", "tail", "--poll", "0s", dir},
		{"log", "shadow-report"}, {"log", "shadow-report", "--since", "yesterday", dir}, {"log", "shadow-report", "a", "b"},
	} {
		if code, _, _ := runCommand(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, _ := runCommand(t, "log", "tail", "--follow=false", dir+"/missing"); code != 1 {
		t.Errorf("missing dir: exit %d, want 1", code)
	}
}
