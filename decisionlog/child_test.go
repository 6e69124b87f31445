package decisionlog_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
)

const crashChildEnv = "FEATGRAPH_DECISIONLOG_CRASH_CHILD"

// childMain runs the body of a re-executed test binary (the crash test)
// when the environment asks for it; it never returns then.
func childMain() bool {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		return false
	}
	out := bufio.NewWriter(os.Stdout)
	acked := make(chan []string, 1024)
	l, err := decisionlog.Open("file://"+dir+"?max_bytes=16384", decisionlog.BatchSize(16),
		decisionlog.OnWritten(func(batch []decisionlog.Entry) {
			ids := make([]string, len(batch))
			for i, e := range batch {
				ids[i] = e.RunID
			}
			acked <- ids
		}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	go func() {
		for ids := range acked {
			for _, id := range ids {
				fmt.Fprintln(out, "a", id)
			}
			out.Flush()
		}
	}()
	for i := 0; ; i++ {
		id := fmt.Sprint("run-", i)
		fmt.Fprintln(os.Stdout, "q", id) // one write(2): the parent sees it even if killed next
		l.Enqueue(entry(id))
		if i%8 == 0 {
			time.Sleep(200 * time.Microsecond)
		}
	}
}

// TestCrashKeepsAcknowledgedRecords SIGKILLs a process that writes records
// as fast as it can: on restart, every record the file sink acknowledged
// before the kill is readable, and every file parses.
func TestCrashKeepsAcknowledgedRecords(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	queued := 0
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		kind, id, _ := strings.Cut(sc.Text(), " ")
		if kind == "a" {
			acked[id] = true
		}
		if kind == "q" {
			queued++
		}
		if len(acked) >= 2000 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("the child ended by itself with %d records acknowledged", len(acked))
	}
	// What the killed process wrote: its files (recovered on opening) and
	// its spill, sent by the restarted log.
	highest := 0
	for id := range acked {
		var n int
		fmt.Sscanf(id, "run-%d", &n)
		highest = max(highest, n)
	}
	l, err := decisionlog.Open("file://" + dir)
	if err != nil {
		t.Fatal(err)
	}
	shutdown(t, l)
	got := readAll(t, dir) // fails the test on a line that does not parse
	missing := 0
	for id := range acked {
		if got[id] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged records are missing after the crash", missing, len(acked))
	}
	// The child queues run-0, run-1... in order, and says so before each:
	// the queued records not on disk were in flight (in the queue or the
	// batch being written) when it was killed.
	lost, lostBelow := 0, 0
	for i := range queued {
		if got[fmt.Sprint("run-", i)] == 0 {
			lost++
			if i <= highest {
				lostBelow++
			}
		}
	}
	if lostBelow > 0 {
		t.Errorf("%d records queued before the highest acknowledged one are lost", lostBelow)
	}
	t.Logf("queued before the kill: %d; acknowledged: %d; on disk after restart: %d; in flight and lost: %d; re-sent from the spill: %d",
		queued, len(acked), len(got), lost, l.Stats().Resent)
}
