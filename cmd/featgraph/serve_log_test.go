package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/featgraph/featgraph/shadow"
)

func TestServeLogFlagsRefused(t *testing.T) {
	spec := "../../examples/specs/cardauth.yaml"
	for _, args := range [][]string{
		{spec, "--log", "ftp://x"},
		{spec, "--shadow", "nope=" + spec + "@10%"},
		{spec, "--shadow", "cardauth=" + spec},
		{spec, "--shadow", "cardauth=" + spec + "@0%"},
		{spec, "--shadow", "cardauth=" + spec + "@101%"},
		{spec, "--shadow", "cardauth=" + spec + "@10%", "--shadow", "cardauth=" + spec + "@20%"},
		{spec, "--shadow-max-in-flight", "0"},
	} {
		var stdout, stderr bytes.Buffer
		code := runMain(context.Background(), &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}, append([]string{"serve"}, args...))
		if code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, stderr.String())
		}
	}
}

// TestServeLogAndShadow serves the cardauth spec (with generous timeouts)
// with a file decision log
// and a candidate that reviews from a fraud score of 0.3 instead of 0.5 on
// every request; after SIGTERM the log holds a shadowed record of every
// decision, and featgraph log reads them.
func TestServeLogAndShadow(t *testing.T) {
	liveFile, data := copySpec(t) // generous timeouts: the machine is loaded
	cand := bytes.Replace(data, []byte(`score.score >= 0.5 ? ["review"`), []byte(`score.score >= 0.3 ? ["review"`), 1)
	if bytes.Equal(cand, data) {
		t.Fatal("the candidate is the live spec: the test proves nothing")
	}
	candFile := filepath.Join(t.TempDir(), "candidate.yaml")
	if err := os.WriteFile(candFile, cand, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "decisions")
	r := startServe(t, 0, nil, "cardauth="+liveFile, "--addr", "127.0.0.1:0",
		"--log", "file://"+dir, "--shadow", "cardauth="+candFile+"@100%")
	const n = 30
	runIDs := map[string]bool{}
	for i := range n {
		body := strings.NewReader(fmt.Sprintf(`{"transaction_id":"t%d","card_id":"c%d","customer_id":"u1","merchant_id":"m1"}`, i, i))
		resp, err := http.Post(r.url+"/v1/graphs/cardauth/decide", "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		var ans struct {
			RunID string `json:"run_id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		runIDs[ans.RunID] = true
	}
	sendSignal(t, syscall.SIGTERM)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderr.String())
	}
	code, out, errOut := runCommand(t, "log", "shadow-report", "--format", "json", dir)
	if code != 0 {
		t.Fatalf("shadow-report: exit %d: %s", code, errOut)
	}
	var rep shadow.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Records != n || rep.Shadowed != n || rep.CandidateErrors != 0 || len(rep.Targets) != 1 {
		t.Fatalf("report %+v", rep)
	}
	tr := rep.Targets[0]
	var liveReview, candReview, live, cands int
	for _, v := range tr.Values {
		live, cands = live+v.Live, cands+v.Candidate
		if v.Value == "review" {
			liveReview, candReview = v.Live, v.Candidate
		}
	}
	if live != n || cands != n || candReview < liveReview || tr.Compared != n {
		t.Errorf("target %+v: want %d verdicts on each side, the candidate reviewing at least as often", tr, n)
	}
	t.Logf("agreement %d of %d; review live %d, candidate %d", tr.Agreed, tr.Compared, liveReview, candReview)
	code, out, _ = runCommand(t, "log", "tail", "--follow=false", dir)
	if code != 0 || strings.Count(out, "cardauth@") != n || strings.Count(out, "shadow cardauth-candidate@") != n {
		t.Errorf("tail (exit %d):\n%s", code, out)
	}
	for id := range runIDs {
		if !strings.Contains(out, "run "+id) {
			t.Errorf("run %s answered but not in the log", id)
		}
	}
}
