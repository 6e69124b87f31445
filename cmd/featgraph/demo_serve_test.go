package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDemoServe runs demo --serve addr in process with short timeouts and
// returns the URL it prints and its stderr; it stops when the test ends.
func startDemoServe(t *testing.T, addr string) (url string, stderr *syncBuffer) {
	t.Helper()
	saved := demoServeTimeouts
	demoServeTimeouts = serveTimeouts{readHeader: 200 * time.Millisecond, read: time.Second, write: time.Second, idle: 200 * time.Millisecond}
	var stdout syncBuffer
	stderr = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, &env{stdout: &stdout, stderr: stderr, getenv: func(string) string { return "" }}, []string{"demo", "--serve", addr, "--latency", "0"})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo --serve exited %d: %s", code, stderr.String())
		}
		demoServeTimeouts = saved
	})
	re := regexp.MustCompile(`on (http://\S+)\n`)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stderr
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("demo --serve exited %d: %s", code, stderr.String())
		default:
		}
	}
	t.Fatalf("demo --serve printed no address: %q", stdout.String())
	return "", nil
}

// closedWithin reports whether the server closes conn within limit.
func closedWithin(t *testing.T, conn net.Conn, limit time.Duration) bool {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestDemoServeTimeouts: a client that never finishes its header, and an
// idle keep-alive connection, are closed by the server.
func TestDemoServeTimeouts(t *testing.T) {
	url, _ := startDemoServe(t, "127.0.0.1:0")
	host := strings.TrimPrefix(url, "http://")

	slow, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET /cards/c1 HTTP/1.1\r\nHost: x\r\n") // the header never ends
	if !closedWithin(t, slow, 20*time.Second) {
		t.Error("a connection whose header never ends is still open")
	}

	idle, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /nosuch HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !closedWithin(t, idle, 20*time.Second) {
		t.Error("an idle keep-alive connection is still open")
	}

	srv := newDemoServer(http.NotFoundHandler(), demoConfig{latency: time.Second, jitter: time.Second}, serveTimeouts{readHeader: 1, read: 2, write: 3, idle: 4})
	if srv.ReadHeaderTimeout != 1 || srv.ReadTimeout != 2 || srv.WriteTimeout != 3+2*time.Second || srv.IdleTimeout != 4 || srv.MaxHeaderBytes == 0 {
		t.Errorf("server %+v", srv)
	}
	d := demoServeTimeouts
	if d.readHeader <= 0 || d.read <= 0 || d.write <= 0 || d.idle <= 0 {
		t.Errorf("a default timeout is not set: %+v", d)
	}
}

// TestDemoServeEveryInterface: --serve :PORT says that it listens on every
// interface and prints a loopback URL that works.
func TestDemoServeEveryInterface(t *testing.T) {
	url, stderr := startDemoServe(t, ":0")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("printed URL %s, want a loopback one", url)
	}
	if !strings.Contains(stderr.String(), "listening on every network interface") {
		t.Errorf("stderr does not say that every interface listens: %q", stderr.String())
	}
	resp, err := http.Get(url + "/nosuch")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for addr, want := range map[string]bool{":8080": true, "0.0.0.0:1": true, "[::]:1": true, "127.0.0.1:8080": false, "localhost:1": false} {
		if everyInterface(addr) != want {
			t.Errorf("everyInterface(%q) = %v", addr, !want)
		}
	}
}
