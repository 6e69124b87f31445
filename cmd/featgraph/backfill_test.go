package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
)

// cardauthServer serves the simulated cardauth services over HTTP and
// returns the env of an in-process CLI pointed at them by CARDAUTH_URL.
func cardauthServer(t *testing.T) (*env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	var out, errOut bytes.Buffer
	return &env{stdout: &out, stderr: &errOut, getenv: func(k string) string {
		if k == "CARDAUTH_URL" {
			return srv.URL
		}
		return ""
	}}, &out, &errOut
}

// patientCardauthSpec writes examples/specs/cardauth.yaml with timeouts of
// a minute, so that a loaded machine running tests under -race does not
// time fetches out: these tests check what is computed, not how fast.
func patientCardauthSpec(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../examples/specs/cardauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	patient := regexp.MustCompile(`timeout: \d+ms`).ReplaceAllString(string(src), "timeout: 1m")
	if patient == string(src) {
		t.Fatal("no timeouts found in cardauth.yaml")
	}
	return writeSpec(t, "cardauth.yaml", patient)
}

// backfillRequests are n cardauth requests.
func backfillRequests(n int) []cardauth.Request {
	var out []cardauth.Request
	for i := range n {
		out = append(out, cardauth.Request{TransactionID: fmt.Sprintf("t%d", i), CardID: fmt.Sprintf("c%d", i),
			CustomerID: fmt.Sprintf("u%d", i%7), MerchantID: fmt.Sprintf("m%d", i%5)})
	}
	return out
}

// goDecisionOf runs the Go-built cardauth graph in process.
func goDecisionOf(t *testing.T, reqs []cardauth.Request) []cardauth.Decision {
	t.Helper()
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		t.Fatal(err)
	}
	var out []cardauth.Decision
	for _, req := range reqs {
		res, err := executor.Run(context.Background(), ca.Graph, ca.Inputs(req), ca.Decision)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		d, err := executor.Get(res, ca.Decision)
		res.Release()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// sameDecision compares a spec's decision with the Go graph's; as in
// TestEndToEnd, the reasons of declines are worded differently (the Go graph
// prints amounts).
func sameDecision(got map[string]any, want cardauth.Decision) bool {
	score, _ := got["score"].(float64)
	return got["verdict"] == string(want.Verdict) && got["score_source"] == string(want.ScoreSource) &&
		(want.Verdict == cardauth.Decline || got["reason"] == want.Reason) && math.Abs(score-want.Score) < 1e-9
}

func TestBackfillJSONLToParquetWithBadRows(t *testing.T) {
	e, stdout, stderr := cardauthServer(t)
	dir := t.TempDir()
	reqs := backfillRequests(40)
	var in strings.Builder
	for i, r := range reqs {
		fmt.Fprintf(&in, `{"transaction_id":%q,"card_id":%q,"customer_id":%q,"merchant_id":%q,"label":%d}`+"\n", r.TransactionID, r.CardID, r.CustomerID, r.MerchantID, i)
		if i == 9 {
			in.WriteString(`{"transaction_id":"t9b","card_id":7,"customer_id":"u","merchant_id":"m"}` + "\n") // wrong type
			in.WriteString(`{"transaction_id":"t9c","card_id":"c","customer_id":"u"` + "\n")                  // malformed
			in.WriteString(`{"transaction_id":"t9d","card_id":"c","customer_id":"u"}` + "\n")                 // missing column
		}
	}
	rows := filepath.Join(dir, "rows.jsonl")
	if err := os.WriteFile(rows, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, dead := filepath.Join(dir, "out.parquet"), filepath.Join(dir, "dead.jsonl")
	code := runMain(context.Background(), e, []string{"backfill", patientCardauthSpec(t), "--in", rows, "--out", out,
		"--dead-letter", dead, "--in-flight", "4", "--deadline", "5m", "--progress", "lines", "--every", "1ns"})
	if code != 1 {
		t.Fatalf("exit code %d, want 1 (rows failed):\n%s\n%s", code, stdout, stderr)
	}
	for _, re := range []string{`(?m)^43 rows in .*: 40 written to .*out.parquet, 3 failed \(in .*dead.jsonl\)`, `(?m)^decision +40 +0 +0 +0 +0 +0$`, `(?m)^card +40 `} {
		if !regexp.MustCompile(re).MatchString(stdout.String()) {
			t.Errorf("summary does not match %s:\n%s", re, stdout)
		}
	}
	for _, want := range []string{"backfill: 43/43 rows (100%)", "featgraph backfill: 3 of 43 rows failed", `failed: row 11: column "card_id"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	// The dead letters name row and column.
	f, err := os.Open(dead)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var causes []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var d struct {
			Row   int64  `json:"row"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		causes = append(causes, d.Error)
	}
	wantCauses := []string{`row 11: column "card_id": float64 7 is not a string`, `row 12: ` + rows + `:12: not a JSON object`, `row 13: column "merchant_id": missing column`}
	if len(causes) != 3 {
		t.Fatalf("dead letters %q", causes)
	}
	for i, w := range wantCauses {
		if !strings.HasPrefix(causes[i], w) {
			t.Errorf("dead letter %d: %q, want it to start with %q", i, causes[i], w)
		}
	}

	// The Parquet rows are the input's, in order, with the Go graph's decisions.
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cols, n, err := backfill.ParquetShape(bytes.NewReader(data), int64(len(data)))
	if err != nil || n != 40 || strings.Join(cols, ",") != "card_id,customer_id,decision,label,merchant_id,transaction_id" {
		t.Fatalf("parquet columns %v, %d rows, %v", cols, n, err)
	}
	want := goDecisionOf(t, reqs)
	i := 0
	for row, err := range backfill.ParquetSource(bytes.NewReader(data), int64(len(data)), out) {
		if err != nil {
			t.Fatal(err)
		}
		if row.Columns["label"] != float64(i) || row.Columns["transaction_id"] != reqs[i].TransactionID {
			t.Fatalf("row %d: %v", i, row.Columns)
		}
		if d, _ := row.Columns["decision"].(map[string]any); !sameDecision(d, want[i]) {
			t.Errorf("row %d: decision %v, the Go graph's %+v", i, d, want[i])
		}
		i++
	}
}

func TestBackfillCSVToJSONLWithOutcomes(t *testing.T) {
	e, stdout, stderr := cardauthServer(t)
	dir := t.TempDir()
	reqs := backfillRequests(25)
	var in strings.Builder
	in.WriteString("transaction_id,card_id,customer_id,merchant_id\n")
	for _, r := range reqs {
		fmt.Fprintf(&in, "%s,%s,%s,%s\n", r.TransactionID, r.CardID, r.CustomerID, r.MerchantID)
	}
	rows, out := filepath.Join(dir, "rows.csv"), filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(rows, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code := runMain(context.Background(), e, []string{"backfill", patientCardauthSpec(t), "--in", rows, "--out", out,
		"--outcomes", "--unordered", "--progress", "bar", "--in-flight", "4"})
	if code != 0 {
		t.Fatalf("exit code %d:\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr.String(), "25/25") || !strings.Contains(stderr.String(), "rows/s") {
		t.Errorf("no progress bar on stderr:\n%q", stderr)
	}
	want := goDecisionOf(t, reqs)
	byID := map[string]cardauth.Decision{}
	for i, r := range reqs {
		byID[r.TransactionID] = want[i]
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 25 {
		t.Fatalf("%d lines out", len(lines))
	}
	for _, l := range lines {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatal(err)
		}
		d, _ := row["decision"].(map[string]any)
		if !sameDecision(d, byID[row["transaction_id"].(string)]) || row["outcome.decision"] != "ok" || row["outcome.card"] != "ok" {
			t.Errorf("row %v", row)
		}
	}
}

func TestBackfillUsage(t *testing.T) {
	spec := "../../examples/specs/cardauth.yaml"
	for _, args := range [][]string{
		{"backfill", spec},
		{"backfill", spec, "--in", "rows.txt", "--out", "out.jsonl"},
		{"backfill", spec, "--in", "rows.jsonl", "--out", "out.csv"},
		{"backfill", spec, "--in", "rows.jsonl", "--out", "out.jsonl", "--in-flight", "0"},
		{"backfill", spec, "--in", "rows.jsonl", "--out", "out.jsonl", "--progress", "fancy"},
		{"backfill", "--in", "rows.jsonl", "--out", "out.jsonl"},
	} {
		if code, _, errOut := runCommand(t, args...); code != 2 {
			t.Errorf("%q: exit code %d, want 2: %s", args, code, errOut)
		}
	}
	code, _, errOut := runCommand(t, "backfill", spec, "--in", filepath.Join(t.TempDir(), "none.jsonl"), "--out", filepath.Join(t.TempDir(), "o.jsonl"))
	if code != 1 || !strings.Contains(errOut, "none.jsonl") {
		t.Errorf("a missing input: exit code %d, %s", code, errOut)
	}
}
