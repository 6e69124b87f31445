package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/examples/cardauth"
)

// runCommand runs the CLI in-process and returns its exit code and output.
func runCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
	code = runMain(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

// nodeNames returns the names of the cardauth graph's nodes.
func nodeNames(t *testing.T) []string {
	t.Helper()
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, id := range ca.Graph.Order() {
		names = append(names, ca.Graph.Name(id))
	}
	return names
}

func TestDemo(t *testing.T) {
	code, out, errOut := runCommand(t, "demo", "--latency", "1ms", "--jitter", "1ms", "--deadline", "1m", "--out-dir", "")
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^decision: (APPROVE|REVIEW|DECLINE) \(`).MatchString(out) {
		t.Errorf("output names no decision:\n%s", out)
	}
	names := nodeNames(t)
	if len(names) < 32 {
		t.Fatalf("the graph has %d nodes", len(names))
	}
	for _, name := range names {
		row := regexp.MustCompile(`(?m)^` + name + ` +\w+ +(ok|fallback|error|timeout|skipped|canceled) `)
		if !row.MatchString(out) {
			t.Errorf("no row for node %q in:\n%s", name, out)
		}
	}
	for _, line := range []string{"wall time", "critical path", "sequential sum"} {
		if !regexp.MustCompile(`(?m)^ *` + line + ` +\d+\.\d\dms`).MatchString(out) {
			t.Errorf("no %q line with a duration in:\n%s", line, out)
		}
	}
}

func TestDemoModelFailing(t *testing.T) {
	code, out, errOut := runCommand(t, "demo", "--latency", "0", "--fail", "model", "--out-dir", "")
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "decision: REVIEW (fraud model unavailable") {
		t.Errorf("a failing model should send t1 to review:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^model_score +fetch +fallback .*injected fault`).MatchString(out) {
		t.Errorf("model_score should show its fallback and cause:\n%s", out)
	}
}

func TestDemoCardFailing(t *testing.T) {
	code, out, errOut := runCommand(t, "demo", "--latency", "0", "--fail", "cards", "--out-dir", "")
	if code != 1 {
		t.Errorf("exit code %d, want 1 when the run cannot decide", code)
	}
	if !strings.Contains(out, "decision: none") || !strings.Contains(errOut, "injected fault") {
		t.Errorf("the failure should be reported:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestDemoBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--latency", "-1ms"},
		{"demo", "--deadline", "0s"},
		{"demo", "--fail", "nosuch"},
		{"demo", "extra"},
		{"demo", "--latency", "soon"},
	} {
		if code, _, errOut := runCommand(t, args...); code != 2 || errOut == "" {
			t.Errorf("%q: exit code %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}
