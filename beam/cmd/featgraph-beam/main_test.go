package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"go.uber.org/goleak"

	"github.com/featgraph/featgraph/examples/cardauth"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	// Prism serves its job service in process from the first pipeline on,
	// for every later pipeline of the process: by design, not a leak.
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism/internal/jobservices.(*Server).Serve"))
}

// setFlags sets the command's flags for one test.
func setFlags(t *testing.T, kv map[string]string) {
	t.Helper()
	for _, name := range []string{"spec", "in", "out", "dead-letter", "shards", "in-flight", "deadline", "outcomes"} {
		f := flag.Lookup(name)
		if err := f.Value.Set(f.DefValue); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range kv {
		if err := flag.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunsASpecOverFiles(t *testing.T) {
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	t.Setenv("CARDAUTH_URL", srv.URL) // read by the in-process prism workers

	dir := t.TempDir()
	src, err := os.ReadFile("../../../examples/specs/cardauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Generous timeouts: the test checks what is computed, on a loaded machine.
	patient := regexp.MustCompile(`timeout: \d+ms`).ReplaceAllString(string(src), "timeout: 1m")
	specPath := filepath.Join(dir, "cardauth.yaml")
	if err := os.WriteFile(specPath, []byte(patient), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, part := range []string{"a", "b"} {
		var b strings.Builder
		for j := range 30 {
			n := i*30 + j
			fmt.Fprintf(&b, `{"transaction_id":"t%d","card_id":"c%d","customer_id":"u%d","merchant_id":"m%d"}`+"\n", n, n, n%7, n%5)
		}
		b.WriteString(`{"transaction_id":"x","card_id":"c"}` + "\n")
		if err := os.WriteFile(filepath.Join(dir, "rows-"+part+".jsonl"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setFlags(t, map[string]string{"spec": specPath, "in": filepath.Join(dir, "rows-*.jsonl"), "out": filepath.Join(dir, "out", "part"),
		"shards": "3", "in-flight": "4", "outcomes": "true"})
	var stderr bytes.Buffer
	if code := run(context.Background(), &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1 (two rows failed):\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "60 rows written to "+filepath.Join(dir, "out", "part")+"-*.jsonl, 2 failed") {
		t.Errorf("summary: %s", stderr.String())
	}
	var rows, dead int
	files, _ := filepath.Glob(filepath.Join(dir, "out", "part-*-of-00003.jsonl"))
	if len(files) != 3 {
		t.Fatalf("shards %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.Lines(string(data)) {
			rows++
			if !strings.Contains(l, `"outcome.decision":"ok"`) || !strings.Contains(l, `"verdict":`) {
				t.Errorf("row %s", l)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "out", "part-dead-00000-of-00001.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(string(data)) {
		dead++
		if !strings.Contains(l, `"row":31`) || !strings.Contains(l, `column \"customer_id\": missing column`) {
			t.Errorf("dead letter %s", l)
		}
	}
	if rows != 60 || dead != 2 {
		t.Errorf("%d rows and %d dead letters, want 60 and 2", rows, dead)
	}
}

func TestUsage(t *testing.T) {
	for _, kv := range []map[string]string{
		{},
		{"spec": "x.yaml", "in": "rows.jsonl"},
		{"spec": "x.yaml", "in": "rows.jsonl", "out": "o", "shards": "0"},
		{"spec": "../../../examples/specs/cardauth.yaml", "in": "rows.jsonl", "out": "o", "in-flight": "0"},
	} {
		setFlags(t, kv)
		var stderr bytes.Buffer
		if code := run(context.Background(), &stderr); code != 2 {
			t.Errorf("%v: exit code %d, want 2: %s", kv, code, stderr.String())
		}
	}
}
