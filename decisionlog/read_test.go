package decisionlog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestScanFileGoesOnPastBadLines: every bad line is handed over with its
// file and line, the records around it are read, and an error of bad stops.
func TestScanFileGoesOnPastBadLines(t *testing.T) {
	good := func(id string) string {
		b, err := decisionlog.Marshal(&decisionlog.Record{Version: decisionlog.SchemaVersion, RunID: id})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	name := filepath.Join(t.TempDir(), "d.jsonl")
	long := `{"version":1,"run_id":"` + strings.Repeat("x", 17<<20) + `"}`
	data := good("a") + "\nnot json\n" + good("b") + "\n" + long + "\n\n" + good("c") // no final newline
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := decisionlog.ScanFile(name, func(r *decisionlog.Record) error {
		got = append(got, r.RunID)
		return nil
	}, func(le *decisionlog.LineError) error {
		if le.File != name {
			t.Errorf("bad line of %s", le.File)
		}
		got = append(got, fmt.Sprint("bad:", le.Line))
		return nil
	})
	if want := "a bad:2 b bad:4 bad:5 c"; err != nil || strings.Join(got, " ") != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	stop := errors.New("stop")
	err = decisionlog.ScanFile(name, func(*decisionlog.Record) error { return nil }, func(*decisionlog.LineError) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("bad's error: got %v", err)
	}
	var le *decisionlog.LineError
	if err := decisionlog.ReadFile(name, func(*decisionlog.Record) error { return nil }); !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("ReadFile: %v, want line 2", err)
	}
}
