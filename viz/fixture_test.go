package viz_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
)

var regenFixture = flag.Bool("regen-fixture", false, "record a new testdata/run.json from a live run of the loan graph")

var regenerated bool

// loadFixture reads testdata/run.json: a recorded run of the loan graph with
// fixed times, so that the pictures drawn from it are stable golden files.
func loadFixture(t *testing.T) *executor.Record {
	t.Helper()
	path := filepath.Join("testdata", "run.json")
	if *regenFixture && !regenerated {
		regenerated = true
		rec := newLoanGraph(t).run(t)
		rec.Started = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.WriteJSON(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := executor.ReadRecord(f)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
