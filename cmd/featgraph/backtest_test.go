package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
)

// answeringServer answers every request with body and counts them.
func answeringServer(t *testing.T, body string) (url string, calls *atomic.Int64) {
	t.Helper()
	calls = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

// getenvOf reads the environment from m.
func getenvOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// runSpec runs the spec at path on each request against the upstreams
// getenv points at, and returns each run's decision (nil when it has none).
// With dir set, it also writes each run as a record into a file decision
// log in dir, through the decisionlog file sink.
func runSpec(t *testing.T, path string, getenv func(string) string, reqs []cardauth.Request, dir string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	s, err := spec.Load(path, spec.Getenv(getenv))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ex, err := executor.New(s.Graph())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := decisionlog.NewRecorder(s.Graph(), "cardauth", decisionlog.GraphVersion("v1"))
	if err != nil {
		t.Fatal(err)
	}
	var sink *decisionlog.FileSink
	if dir != "" {
		if sink, err = decisionlog.NewFileSink(dir); err != nil {
			t.Fatal(err)
		}
	}
	id := graph.Named("decision")
	var out []map[string]any
	for _, r := range reqs {
		inputs := []executor.Binding{
			executor.BindNamed("transaction_id", r.TransactionID), executor.BindNamed("card_id", r.CardID),
			executor.BindNamed("customer_id", r.CustomerID), executor.BindNamed("merchant_id", r.MerchantID),
		}
		res, err := ex.Run(fetchers.WithRequestCache(ctx), inputs, id)
		if res == nil {
			t.Fatal(err)
		}
		v, _ := res.Value(id)
		d, _ := v.(map[string]any)
		out = append(out, d)
		if sink != nil {
			r, err := rec.Record("", res)
			if err != nil {
				t.Fatal(err)
			}
			line, err := decisionlog.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if err := sink.Write(ctx, []decisionlog.Entry{{RunID: r.RunID, Line: line}}); err != nil {
				t.Fatal(err)
			}
		}
		res.Release()
	}
	if sink != nil {
		if err := sink.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// cardauthLog writes a decision log of n cardauth requests served by the
// simulated services, and returns its directory, the live spec's text and
// the live decisions.
func cardauthLog(t *testing.T, n int) (dir, liveSpec string, reqs []cardauth.Request, live []map[string]any) {
	t.Helper()
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	path, data := copySpec(t)
	dir = filepath.Join(t.TempDir(), "decisions")
	reqs = backfillRequests(n)
	live = runSpec(t, path, getenvOf(map[string]string{"CARDAUTH_URL": srv.URL}), reqs, dir)
	return dir, string(data), reqs, live
}

// expectedRates computes independently of the backtest what its report
// must say: how many decisions agree and each verdict's count on both sides.
func expectedRates(live, cand []map[string]any) (agreed int, liveVerdicts, candVerdicts map[string]int) {
	liveVerdicts, candVerdicts = map[string]int{}, map[string]int{}
	for i := range live {
		if reflect.DeepEqual(live[i], cand[i]) {
			agreed++
		}
		liveVerdicts[fmt.Sprint(live[i]["verdict"])]++
		candVerdicts[fmt.Sprint(cand[i]["verdict"])]++
	}
	return agreed, liveVerdicts, candVerdicts
}

// checkReport compares a backtest's JSON report with what is expected.
func checkReport(t *testing.T, rep backtestReport, n, agreed int, liveVerdicts, candVerdicts map[string]int) {
	t.Helper()
	if rep.Replayed != n || rep.Records != n || rep.Bad != 0 || rep.CandidateErrors != 0 || len(rep.Targets) != 1 {
		t.Fatalf("report %+v: want %d records replayed, none bad", rep, n)
	}
	tr := rep.Targets[0]
	if tr.Target != "decision" || tr.Compared != n || tr.Agreed != agreed {
		t.Errorf("target %s: %d of %d agree, want %d of %d", tr.Target, tr.Agreed, tr.Compared, agreed, n)
	}
	gotLive, gotCand := map[string]int{}, map[string]int{}
	for _, v := range tr.Values {
		if v.Live > 0 {
			gotLive[v.Value] = v.Live
		}
		if v.Candidate > 0 {
			gotCand[v.Value] = v.Candidate
		}
	}
	if !reflect.DeepEqual(gotLive, liveVerdicts) || !reflect.DeepEqual(gotCand, candVerdicts) {
		t.Errorf("verdicts live %v, candidate %v; want %v and %v", gotLive, gotCand, liveVerdicts, candVerdicts)
	}
}

// backtestJSON runs featgraph backtest --format json with getenv.
func backtestJSON(t *testing.T, getenv func(string) string, args ...string) (code int, rep backtestReport, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: getenv}
	code = runMain(context.Background(), e, append([]string{"backtest", "--format", "json"}, args...))
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, stdout not a report: %v\n%s\nstderr: %s", code, err, out.String(), errOut.String())
	}
	return code, rep, errOut.String()
}

// TestBacktestThreshold replays a log of the cardauth spec through a
// candidate that reviews from a fraud score of 0.3 instead of 0.5, with
// every upstream pointing at a server that counts calls: the report's
// agreement and rates are those of the candidate run live on the same
// requests, and no upstream is called.
func TestBacktestThreshold(t *testing.T) {
	const n = 80
	dir, liveSpec, reqs, live := cardauthLog(t, n)
	cand := strings.Replace(liveSpec, `score.score >= 0.5 ? ["review"`, `score.score >= 0.3 ? ["review"`, 1)
	if cand == liveSpec {
		t.Fatal("the candidate is the live spec")
	}
	candPath := writeSpec(t, "candidate.yaml", cand)

	// What the candidate decides, run live on the same requests.
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	candDecisions := runSpec(t, candPath, getenvOf(map[string]string{"CARDAUTH_URL": srv.URL}), reqs, "")
	srv.Close()
	agreed, liveV, candV := expectedRates(live, candDecisions)
	if agreed == n {
		t.Fatal("the candidate decides as live on every request: the test proves nothing")
	}

	counter, calls := answeringServer(t, `{}`)
	getenv := getenvOf(map[string]string{"CARDAUTH_URL": counter})
	args := []string{"--log", dir, "--spec", candPath}
	for _, name := range cardauth.ServiceNames { // live calls allowed, none needed
		args = append(args, "--upstream", name+"="+counter+"/"+name)
	}
	code, rep, stderr := backtestJSON(t, getenv, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkReport(t, rep, n, agreed, liveV, candV)
	if c := calls.Load(); c != 0 || len(rep.Live) != 0 || len(rep.NotRecorded) != 0 {
		t.Errorf("%d HTTP calls, live %v, not recorded %v: want none, every fetch was recorded", c, rep.Live, rep.NotRecorded)
	}

	// The text report says the same.
	code, out, errOut := runCommandEnv(t, getenv, "backtest", "--log", dir, "--spec", candPath)
	want := fmt.Sprintf("target decision: agreement %.1f%% (%d of %d)", 100*float64(agreed)/n, agreed, n)
	if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf("%d records replayed", n)) {
		t.Errorf("exit %d, want %q in:\n%s%s", code, want, out, errOut)
	}
}

// runCommandEnv runs the CLI in process with getenv.
func runCommandEnv(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMain(context.Background(), &env{stdout: &out, stderr: &errOut, getenv: getenv}, args)
	return code, out.String(), errOut.String()
}

// TestBacktestNewUpstream replays through a candidate with a node of a new
// upstream, which the log does not hold: without --upstream its fallback
// answers and no call is made; with it, it is called once per record.
func TestBacktestNewUpstream(t *testing.T) {
	const n = 30
	dir, liveSpec, reqs, live := cardauthLog(t, n)
	cand := strings.Replace(liveSpec, "\ninputs:", "\n  watchlist: {url: \"${WATCHLIST_URL}\", timeout: 30s}\n\ninputs:", 1)
	cand = strings.Replace(cand, "\n  # The hard rules", "\n  watch:\n    http: {upstream: watchlist, path: \"/card/{card_id}\"}\n    fallback: {flagged: false}\n\n  # The hard rules", 1)
	cand = strings.Replace(cand, `!affordability.within_credit ? ["decline"`, `watch.flagged ? ["review", "card on the watchlist"] :
        !affordability.within_credit ? ["decline"`, 1)
	if strings.Count(cand, "watch") < 5 {
		t.Fatal("the candidate was not edited")
	}
	candPath := writeSpec(t, "candidate.yaml", cand)
	counter, calls := answeringServer(t, `{"flagged": true}`)
	getenv := getenvOf(map[string]string{"WATCHLIST_URL": counter})

	// Without --upstream: the fallback (not flagged) answers, as live did.
	code, rep, stderr := backtestJSON(t, getenv, "--log", dir, "--spec", candPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	agreed, liveV, _ := expectedRates(live, live)
	checkReport(t, rep, n, agreed, liveV, liveV)
	if c := calls.Load(); c != 0 || !reflect.DeepEqual(rep.NotRecorded, []nodeCount{{Node: "watch", Count: n}}) {
		t.Errorf("%d calls, not recorded %v: want none, and watch failed for its fallback %d times", c, rep.NotRecorded, n)
	}

	// With --upstream: called live, once per record.
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	other, _ := answeringServer(t, `{"flagged": true}`)
	candDecisions := runSpec(t, candPath, getenvOf(map[string]string{"CARDAUTH_URL": srv.URL, "WATCHLIST_URL": other}), reqs, "")
	srv.Close()
	agreed, liveV, candV := expectedRates(live, candDecisions)
	if agreed == n {
		t.Fatal("the watchlist changes no decision: the test proves nothing")
	}
	code, rep, stderr = backtestJSON(t, getenvOf(nil), "--log", dir, "--spec", candPath, "--upstream", "watchlist="+counter)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkReport(t, rep, n, agreed, liveV, candV)
	if c := calls.Load(); c != n || !reflect.DeepEqual(rep.Live, []nodeCount{{Node: "watch", Count: n}}) {
		t.Errorf("%d calls, live %v: want %d", c, rep.Live, n)
	}
}

// TestBacktestBadRecords: a line that is not a record, a record of a node
// the candidate lacks, a record without the candidate's targets, and a
// candidate whose type does not fit a recorded value.
func TestBacktestBadRecords(t *testing.T) {
	const n = 10
	dir, liveSpec, _, _ := cardauthLog(t, n)
	files, err := decisionlog.Files(dir)
	if err != nil || len(files) == 0 {
		t.Fatalf("files %v, %v", files, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	var rec decisionlog.Record
	if err := json.Unmarshal(first, &rec); err != nil {
		t.Fatal(err)
	}
	line := func(edit func(*decisionlog.Record)) string {
		r := rec
		r.Fetches = append([]decisionlog.LoggedValue(nil), rec.Fetches...)
		r.Targets = append([]decisionlog.LoggedValue(nil), rec.Targets...)
		edit(&r)
		b, err := decisionlog.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	extra := strings.Join([]string{
		line(func(r *decisionlog.Record) {
			r.RunID = "legacy"
			r.Fetches = append(r.Fetches, decisionlog.LoggedValue{Name: "legacy_score", Kind: graph.KindFetch, Outcome: executor.OutcomeOK, Value: json.RawMessage(`1`)})
		}),
		`{"version": 1, "run_id": "trunc`,
		line(func(r *decisionlog.Record) { r.RunID = "renamed"; r.Targets[0].Name = "verdict" }),
	}, "\n") + "\n"
	bad := filepath.Join(dir, "zz-extra.jsonl")
	if err := os.WriteFile(bad, []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	candPath := writeSpec(t, "candidate.yaml", liveSpec)
	code, rep, _ := backtestJSON(t, getenvOf(nil), "--log", dir, "--spec", candPath)
	if code != 1 || rep.Replayed != n+1 || rep.Bad != 2 || len(rep.BadRecords) != 2 {
		t.Fatalf("exit %d, report %+v: want exit 1, %d replayed, 2 bad", code, rep, n+1)
	}
	if !strings.HasPrefix(rep.BadRecords[0], bad+":2: ") || !strings.HasPrefix(rep.BadRecords[1], bad+":3: run renamed: ") ||
		!strings.Contains(rep.BadRecords[1], "none of the record's targets (verdict)") {
		t.Errorf("bad records %q", rep.BadRecords)
	}
	if !reflect.DeepEqual(rep.NotInCandidate, []nodeCount{{Node: "legacy_score", Count: 1}}) {
		t.Errorf("not in the candidate: %v", rep.NotInCandidate)
	}
	os.Remove(bad)

	// A candidate whose account_id is an int: no record fits.
	typed := strings.Replace(liveSpec, "path: \"/resolve/{card.account_ref}\"}\n    type: string", "path: \"/resolve/{card.account_ref}\"}\n    type: int", 1)
	if typed == liveSpec {
		t.Fatal("account_id's type was not edited")
	}
	code, out, errOut := runCommandEnv(t, getenvOf(nil), "backtest", "--log", dir, "--spec", writeSpec(t, "typed.yaml", typed))
	if code != 1 || !strings.Contains(errOut, `no record could be replayed; first: `+files[0]+`:1: run `) ||
		!strings.Contains(errOut, `node "account_id": the recorded string value "`) || !strings.Contains(out, fmt.Sprintf("%d bad", n)) {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
}

func TestBacktestUsage(t *testing.T) {
	dir, liveSpec, _, _ := cardauthLog(t, 2)
	candPath := writeSpec(t, "candidate.yaml", liveSpec)
	for _, args := range [][]string{
		{"--spec", candPath},
		{"--log", dir},
		{"--log", dir, "--spec", candPath, "extra"},
		{"--log", dir, "--spec", candPath, "--in-flight", "0"},
		{"--log", dir, "--spec", candPath, "--upstream", "nope=http://x"},
		{"--log", dir, "--spec", candPath, "--format", "yaml"},
	} {
		if code, _, errOut := runCommand(t, append([]string{"backtest"}, args...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
	if code, out, _ := runCommand(t, "backtest", "--help"); code != 0 || !strings.Contains(out, "Usage: featgraph backtest --log DIR --spec CANDIDATE") {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
	if code, _, errOut := runCommand(t, "backtest", "--log", t.TempDir(), "--spec", candPath); code != 1 || !strings.Contains(errOut, "no record files") {
		t.Errorf("empty log: exit %d: %s", code, errOut)
	}
	if code, rep, errOut := backtestJSON(t, getenvOf(nil), "--log", dir, "--spec", candPath, "--graph", "other"); code != 1 ||
		rep.Filtered != 2 || rep.Replayed != 0 || !strings.Contains(errOut, "no record to replay") {
		t.Errorf("--graph other: exit %d, %+v: %s", code, rep, errOut)
	}
	if code, rep, errOut := backtestJSON(t, getenvOf(nil), "--log", dir, "--spec", candPath, "--graph", "cardauth", "--since", "1h"); code != 0 || rep.Replayed != 2 {
		t.Errorf("--graph cardauth --since 1h: exit %d, %+v: %s", code, rep, errOut)
	}
	out := filepath.Join(t.TempDir(), "replayed.jsonl")
	if code, _, errOut := runCommand(t, "backtest", "--log", dir, "--spec", candPath, "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got int
	if err := decisionlog.ReadFile(out, func(r *decisionlog.Record) error {
		if r.Shadow == nil || len(r.Shadow.Diff) != 1 || !r.Shadow.Diff[0].Agree {
			t.Errorf("record %s: shadow %+v", r.RunID, r.Shadow)
		}
		got++
		return nil
	}); err != nil || got != 2 {
		t.Errorf("-o: %d records, %v", got, err)
	}
}
