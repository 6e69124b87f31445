package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
)

// TestEndToEnd builds the CLI, serves the simulated cardauth services over
// HTTP with demo --serve, runs examples/specs/cardauth.yaml against them
// with featgraph run, and checks each decision against the Go-built
// cardauth graph run in process on the same ids.
func TestEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Fatal("Graphviz's dot is needed (.ci/run installs graphviz)")
	}
	bin := filepath.Join(t.TempDir(), "featgraph")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "featgraph ") {
		t.Errorf("featgraph --version: %v, %q", err, out)
	}
	url := startServer(t, bin)
	specFile := "../../examples/specs/cardauth.yaml"
	// The shipped timeouts (hundreds of milliseconds) suit a real-time
	// service, not a race build on a busy machine: this test compares
	// decisions, not speed, so it runs a copy with generous ones.
	runSpec, _ := copySpec(t)

	want := goDecisions(t)
	verdicts := map[cardauth.Verdict]int{}
	for _, req := range requests {
		cmd := exec.Command(bin, "run", runSpec, "--format", "json", "--deadline", "60s",
			"--input", "transaction_id="+req.TransactionID, "--input", "card_id="+req.CardID,
			"--input", "customer_id="+req.CustomerID, "--input", "merchant_id="+req.MerchantID)
		cmd.Env = append(os.Environ(), "CARDAUTH_URL="+url)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%+v: featgraph run: %v\n%s", req, err, stderr.String())
		}
		var res runJSON
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
		}
		got, _ := res.Targets["decision"].(map[string]any)
		w := want[req]
		score, _ := got["score"].(float64)
		if got["verdict"] != string(w.decision.Verdict) || got["score_source"] != string(w.decision.ScoreSource) || math.Abs(score-w.decision.Score) > 1e-9 {
			t.Errorf("%+v: spec decided %v; the Go graph %+v", req, got, w.decision)
		}
		if w.decision.Verdict != cardauth.Decline && got["reason"] != w.decision.Reason {
			t.Errorf("%+v: reason %q, want %q", req, got["reason"], w.decision.Reason)
		}
		verdicts[w.decision.Verdict]++
		var names []string
		for _, n := range res.Nodes {
			names = append(names, n.Name)
			if wantOutcome := w.outcomes[n.Name]; n.Outcome != wantOutcome {
				t.Errorf("%+v: node %s ended %s (%s), in the Go graph %s", req, n.Name, n.Outcome, n.Cause, wantOutcome)
			}
		}
		if !sameSet(names, w.names) {
			t.Errorf("the spec's nodes %v differ from the Go graph's %v", names, w.names)
		}
	}

	if len(verdicts) < 2 {
		t.Errorf("the requests reach only %v; pick ids that exercise more of the decision", verdicts)
	}
	t.Logf("verdicts compared: %v", verdicts)

	svg := filepath.Join(t.TempDir(), "cardauth.svg")
	if out, err := exec.Command(bin, "dot", specFile, "-o", svg).CombinedOutput(); err != nil {
		t.Fatalf("featgraph dot: %v\n%s", err, out)
	}
	checkSVG(t, svg, "account_limits")
}

// requests cover approvals, reviews and declines of the simulated data.
var requests = func() []cardauth.Request {
	out := []cardauth.Request{{TransactionID: "t1", CardID: "c1", CustomerID: "u1", MerchantID: "m1"}}
	for _, i := range []string{"2", "3", "5", "8", "13", "21", "34", "55"} {
		out = append(out, cardauth.Request{TransactionID: "t" + i, CardID: "c" + i, CustomerID: "u" + i, MerchantID: "m" + i})
	}
	return out
}()

type goRun struct {
	decision cardauth.Decision
	outcomes map[string]string
	names    []string
}

// goDecisions runs the Go-built cardauth graph in process for each request.
func goDecisions(t *testing.T) map[cardauth.Request]goRun {
	t.Helper()
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		t.Fatal(err)
	}
	out := map[cardauth.Request]goRun{}
	for _, req := range requests {
		res, err := executor.Run(context.Background(), ca.Graph, ca.Inputs(req), ca.Decision)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		d, err := executor.Get(res, ca.Decision)
		if err != nil {
			t.Fatal(err)
		}
		r := goRun{decision: d, outcomes: map[string]string{}}
		for _, n := range res.Nodes() {
			r.outcomes[n.Name] = n.Outcome.String()
			r.names = append(r.names, n.Name)
		}
		res.Release()
		out[req] = r
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// startServer starts featgraph demo --serve on a free port and returns its
// URL; the server is interrupted and waited for when the test ends.
func startServer(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "demo", "--serve", "127.0.0.1:0", "--latency", "1ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		var rest []string
		timeout := time.After(30 * time.Second)
	drain:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break drain
				}
				rest = append(rest, l)
			case <-timeout:
				_ = cmd.Process.Kill()
				t.Errorf("demo --serve did not stop on interrupt")
				for range lines { // the pipe closes once the process is dead
				}
				break drain
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("demo --serve exited with %v: %s", err, stderr.String())
		}
		if !slices.Contains(rest, "stopped") {
			t.Errorf("demo --serve did not say it stopped: %q", rest)
		}
	})
	select {
	case first, ok := <-lines:
		const prefix = " on "
		i := strings.LastIndex(first, prefix)
		if !ok || i < 0 || !strings.HasPrefix(first[i+len(prefix):], "http://127.0.0.1:") {
			t.Fatalf("demo --serve printed %q, want its address; stderr: %s", first, stderr.String())
		}
		return first[i+len(prefix):]
	case <-time.After(60 * time.Second):
		t.Fatalf("demo --serve printed nothing; stderr: %s", stderr.String())
	}
	return ""
}
