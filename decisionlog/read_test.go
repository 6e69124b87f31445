package decisionlog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/featgraph/featgraph/decisionlog"
)

// TestFollowSeesOpenFilesOnce: records are followed from the file still
// being written, and not given again when it is renamed into place.
func TestFollowSeesOpenFilesOnce(t *testing.T) {
	dir := t.TempDir()
	l, err := decisionlog.Open("file://" + dir + "?max_age=1h")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- decisionlog.Follow(ctx, dir, 5e6, func(r *decisionlog.Record) error {
			mu.Lock()
			got[r.RunID]++
			mu.Unlock()
			return nil
		})
	}()
	for i := range 50 {
		l.Enqueue(entry(fmt.Sprint("run-", i)))
	}
	waitFor(t, "the follower to read the open file", func() bool { return count() == 50 })
	if files, _ := decisionlog.Files(dir); len(files) != 0 {
		t.Fatalf("a closed file already: %v; the test proves nothing", files)
	}
	shutdown(t, l) // renames the file into place
	l2, err := decisionlog.Open("file://" + dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 50; i < 100; i++ {
		l2.Enqueue(entry(fmt.Sprint("run-", i)))
	}
	shutdown(t, l2)
	waitFor(t, "the follower to read the second log", func() bool { return count() == 100 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	expectEach(t, got, 100, true)
}

func TestReadFileNamesTheBadLine(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "decisions-x.jsonl")
	good := entry("run-0").Line
	data := append(append(append([]byte{}, good...), '\n'), []byte("{\"version\":1,\"run_id\":\n")...)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := decisionlog.ReadDir(dir, func(*decisionlog.Record) error { n++; return nil })
	var le *decisionlog.LineError
	if !errors.As(err, &le) || le.Line != 2 || le.File != name || !errors.Is(err, decisionlog.ErrSchema) || n != 1 {
		t.Errorf("err %v (%d records read)", err, n)
	}
}
