package fetchers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/fetchers"
)

// fake is an httptest upstream whose behaviour a test scripts per hit.
type fake struct {
	srv      *httptest.Server
	hits     atomic.Int64
	canceled atomic.Int64 // handlers that saw their request canceled
	release  chan struct{}

	mu      sync.Mutex
	handler func(w http.ResponseWriter, r *http.Request, hit int64)
	headers []http.Header
	bodies  []string
}

// newFake starts a fake upstream; handler gets the 1-based hit number.
// Hung handlers are released and the server closed when the test ends.
func newFake(t testing.TB, handler func(w http.ResponseWriter, r *http.Request, hit int64)) *fake {
	t.Helper()
	f := &fake{release: make(chan struct{}), handler: handler}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.headers = append(f.headers, r.Header.Clone())
		f.bodies = append(f.bodies, string(body))
		h := f.handler
		f.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
	})
	return f
}

func (f *fake) setHandler(h func(w http.ResponseWriter, r *http.Request, hit int64)) {
	f.mu.Lock()
	f.handler = h
	f.mu.Unlock()
}

func (f *fake) lastHeader() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.headers[len(f.headers)-1]
}

func (f *fake) lastBody() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[len(f.bodies)-1]
}

// hang blocks until the request is canceled or the test ends.
func (f *fake) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
		f.canceled.Add(1)
	case <-f.release:
	}
}

// sleep waits d unless the request is canceled first; it reports whether
// the full wait happened.
func (f *fake) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		f.canceled.Add(1)
		return false
	case <-f.release:
		return false
	}
}

func newUpstream(t testing.TB, f *fake, opts ...fetchers.Option) *fetchers.Upstream {
	t.Helper()
	u, err := fetchers.NewUpstream("accounts", f.srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	return u
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// reset closes the connection without answering.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// truncate declares a body of declared bytes, sends part of it and drops
// the connection.
func truncate(w http.ResponseWriter, declared int, part string) {
	w.Header().Set("Content-Length", fmt.Sprint(declared))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, part)
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

type account struct {
	ID    string `json:"id"`
	Limit int    `json:"limit"`
}

const okAccount = `{"id":"a1","limit":500}`

// eventually polls cond for up to 5 s; timing on a shared machine is never
// asserted tighter than that.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func asError(t *testing.T, err error) *fetchers.Error {
	t.Helper()
	var e *fetchers.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *fetchers.Error", err, err)
	}
	return e
}

func mustContain(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%q does not contain %q", s, p)
		}
	}
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
