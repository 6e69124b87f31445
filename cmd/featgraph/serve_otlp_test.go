package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// collector is an OTLP/HTTP collector that counts the non-empty protobuf
// payloads it receives per path.
type collector struct {
	mu       sync.Mutex
	payloads map[string]int
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/x-protobuf" && len(body) > 0 {
		c.mu.Lock()
		c.payloads[r.URL.Path]++
		c.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK) // an empty Export…ServiceResponse
}

func (c *collector) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.payloads[path]
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, featgraph serve sends its spans and
// metrics to the collector; they are flushed on SIGTERM at the latest.
func TestServeExportsOTLP(t *testing.T) {
	col := &collector{payloads: map[string]int{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	path, _ := copySpec(t)
	r := startServe(t, 0, map[string]string{otlpEndpointVar: srv.URL}, path, "--addr", "127.0.0.1:0")
	resp, err := http.Post(r.url+"/v1/graphs/cardauth/decide", "application/json", strings.NewReader(cardauthBody))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("decide: %d", resp.StatusCode)
	}
	sendSignal(t, syscall.SIGTERM)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderr.String())
	}
	if col.count("/v1/traces") == 0 || col.count("/v1/metrics") == 0 {
		t.Errorf("collector got %v, want spans at /v1/traces and metrics at /v1/metrics", col.payloads)
	}
}

// A malformed endpoint is a usage error, before anything listens.
func TestServeOTLPEndpointMustBeHTTP(t *testing.T) {
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string {
		if k == otlpEndpointVar {
			return "ftp://collector:4318"
		}
		return ""
	}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := runMain(ctx, e, []string{"serve", "../../examples/specs/cardauth.yaml", "--addr", "127.0.0.1:0"})
	if code != 2 || !strings.Contains(stderr.String(), otlpEndpointVar) {
		t.Errorf("exit %d, stderr %q: want 2 naming %s", code, stderr.String(), otlpEndpointVar)
	}
}
