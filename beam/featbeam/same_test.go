package featbeam_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/beam/featbeam"
	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/serve"
)

// The card-authorization graph against the in-process simulated services;
// the config is the services' latency ("2ms").
func init() {
	featbeam.Register("test.cardauth", func(ctx context.Context, config []byte) (*featbeam.Built, error) {
		ex, err := cardauthExecutor(string(config))
		if err != nil {
			return nil, err
		}
		return &featbeam.Built{Executor: ex, Targets: []string{"decision"}}, nil
	})
}

func cardauthExecutor(latency string) (*executor.Executor, error) {
	d, err := time.ParseDuration(latency)
	if err != nil {
		return nil, err
	}
	svc, err := cardauth.NewServices(cardauth.WithLatency(d))
	if err != nil {
		return nil, err
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		return nil, err
	}
	return executor.New(ca.Graph)
}

// writeCardauthRows writes n card-authorization requests as JSON lines, and
// after every 100th a row that cannot run.
func writeCardauthRows(t testing.TB, path string, n int) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"transaction_id":"t%d","card_id":"c%d","customer_id":"u%d","merchant_id":"m%d","label":%d}`+"\n", i, i%5000, i%4000, i%300, i%2)
		if i%100 == 99 {
			fmt.Fprintf(&b, `{"transaction_id":"bad%d","card_id":%d}`+"\n", i, i)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readShards returns the lines of every file matching glob, sorted.
func readShards(t testing.TB, glob string) []string {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no file matches %s (%v)", glob, err)
	}
	var lines []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.Lines(string(data)) {
			lines = append(lines, strings.TrimSuffix(l, "\n"))
		}
	}
	slices.Sort(lines)
	return lines
}

// TestSameRowsSameOutputsAsBackfill runs 1,000 rows (and 10 bad ones)
// through backfill on one machine and through the Beam transform on prism:
// the output rows and the dead letters are the same, byte for byte. The
// same rows sent to serve's decide-batch get the same decisions.
func TestSameRowsSameOutputsAsBackfill(t *testing.T) {
	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.jsonl")
	writeCardauthRows(t, rows, 1000)

	// On one machine.
	ex, err := cardauthExecutor("0s")
	if err != nil {
		t.Fatal(err)
	}
	r, err := backfill.New(ex, []string{"decision"}, backfill.InFlight(32), backfill.WithOutcomes())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(rows)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var outBuf, deadBuf bytes.Buffer
	outW, deadW := backfill.NewJSONLWriter(&outBuf), backfill.NewJSONLWriter(&deadBuf)
	st, err := r.Run(context.Background(), backfill.JSONLSource(f, rows), outW, deadW)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(outW.Flush(), deadW.Flush()); err != nil {
		t.Fatal(err)
	}
	if st.Written != 1000 || st.Failed != 10 {
		t.Fatalf("backfill: %d written, %d failed; want 1000 and 10", st.Written, st.Failed)
	}
	sameAsServe(t, rows, outBuf.String())
	sortedLines := func(b *bytes.Buffer) []string {
		l := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		slices.Sort(l)
		return l
	}
	wantOut, wantDead := sortedLines(&outBuf), sortedLines(&deadBuf)

	// On Beam.
	p, s := beam.NewPipelineWithRoot()
	out, dead := featbeam.Run(s, featbeam.ReadLines(s, rows), featbeam.Config{Graph: "test.cardauth", GraphConfig: []byte("0s"), InFlight: 32, Outcomes: true})
	featbeam.WriteSharded(s, filepath.Join(dir, "out"), ".jsonl", 4, out)
	featbeam.WriteSharded(s, filepath.Join(dir, "dead"), ".jsonl", 1, dead)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	gotOut := readShards(t, filepath.Join(dir, "out-*-of-00004.jsonl"))
	gotDead := readShards(t, filepath.Join(dir, "dead-00000-of-00001.jsonl"))
	if len(gotOut) != 1000 || !slices.Equal(gotOut, wantOut) {
		t.Errorf("Beam wrote %d rows; they differ from backfill's %d", len(gotOut), len(wantOut))
		for i := range min(len(gotOut), len(wantOut)) {
			if gotOut[i] != wantOut[i] {
				t.Fatalf("first difference:\nbeam     %s\nbackfill %s", gotOut[i], wantOut[i])
			}
		}
	}
	if !slices.Equal(gotDead, wantDead) {
		t.Errorf("dead letters differ:\nbeam     %q\nbackfill %q", gotDead, wantDead)
	}
	if !strings.Contains(strings.Join(wantDead, "\n"), `row 101: column \"card_id\": float64 99 is not a string`) {
		t.Errorf("dead letters do not name the bad row and column: %q", wantDead)
	}
	shards := 0
	for i := range 4 {
		if fi, err := os.Stat(featbeam.ShardName(filepath.Join(dir, "out"), ".jsonl", i, 4)); err == nil && fi.Size() > 0 {
			shards++
		}
	}
	if shards < 2 {
		t.Errorf("rows went to %d of 4 shards", shards)
	}
}

// sameAsServe sends the rows of the file at path to serve's decide-batch
// (the cardauth graph, served) and checks that every row backfill wrote
// (backfillOut, JSON lines) gets the same decision, and the others a 400.
func sameAsServe(t *testing.T, path, backfillOut string) {
	t.Helper()
	want := map[string]string{} // transaction_id -> decision, as JSON
	for l := range strings.Lines(backfillOut) {
		var row map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatal(err)
		}
		want[string(row["transaction_id"])] = canonical(t, row["decision"])
	}
	ex, err := cardauthExecutor("0s")
	if err != nil {
		t.Fatal(err)
	}
	g, err := serve.FromGraph("cardauth", ex.Graph(), []string{"decision"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New([]*serve.Graph{g})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	for l := range strings.Lines(string(data)) {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatal(err)
		}
		delete(row, "label") // serve takes the graph's inputs only
		batch = append(batch, row)
	}
	same, rejected := 0, 0
	for start := 0; start < len(batch); start += 500 {
		rows := batch[start:min(start+500, len(batch))]
		body, err := json.Marshal(rows)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(hs.URL+"/v1/graphs/cardauth/decide-batch", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var ans serve.BatchAnswer
		err = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if err != nil || len(ans.Results) != len(rows) {
			t.Fatalf("decide-batch: status %d, %d results for %d rows, %v", resp.StatusCode, len(ans.Results), len(rows), err)
		}
		for i, a := range ans.Results {
			id, _ := json.Marshal(rows[i]["transaction_id"])
			w, ok := want[string(id)]
			switch {
			case !ok && a.Status == http.StatusBadRequest:
				rejected++
			case ok && a.Status == http.StatusOK:
				d, err := json.Marshal(a.Targets["decision"])
				if err != nil {
					t.Fatal(err)
				}
				if got := canonical(t, d); got != w {
					t.Errorf("row %s: serve decided %s, backfill %s", id, got, w)
				}
				same++
			default:
				t.Errorf("row %s: serve answered %d (%s); in backfill's output: %v", id, a.Status, a.Error, ok)
			}
		}
	}
	if same != 1000 || rejected != 10 {
		t.Errorf("serve: %d rows decided as backfill did, %d rejected; want 1000 and 10", same, rejected)
	}
}

// canonical re-encodes a JSON value with sorted keys.
func canonical(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
