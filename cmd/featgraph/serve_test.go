package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/serve"
)

// lockedBuffer is an output a command writes while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is featgraph serve running in process.
type running struct {
	url            string
	stdout, stderr *lockedBuffer
	done           chan int // the exit code
}

// startServe runs featgraph serve with args in process, against the
// simulated cardauth services (each call taking latency), and waits for
// it to listen. The test ends it with a signal and reads its exit code
// from done.
func startServe(t *testing.T, latency time.Duration, vars map[string]string, args ...string) *running {
	t.Helper()
	svc, err := cardauth.NewServices(cardauth.WithLatency(latency))
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(svc.Handler())
	t.Cleanup(up.Close)
	r := &running{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan int, 1)}
	e := &env{stdout: r.stdout, stderr: r.stderr, getenv: func(k string) string {
		if k == "CARDAUTH_URL" {
			return up.URL
		}
		return vars[k]
	}}
	go func() { r.done <- runMain(context.Background(), e, append([]string{"serve"}, args...)) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		out := r.stdout.String()
		if i := strings.Index(out, "listening on "); i >= 0 {
			line, _, _ := strings.Cut(out[i+len("listening on "):], "\n")
			r.url = line
			return r
		}
		select {
		case code := <-r.done:
			t.Fatalf("featgraph serve exited %d before listening: %s", code, r.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("featgraph serve did not listen: %s", r.stderr.String())
	return nil
}

// sendSignal sends sig to this process, where featgraph serve catches it.
func sendSignal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatal(err)
	}
}

func (r *running) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		return code
	case <-time.After(2 * time.Minute):
		t.Fatalf("featgraph serve did not stop; stderr: %s", r.stderr.String())
	}
	return -1
}

var cardauthBody = `{"transaction_id":"t1","card_id":"c1","customer_id":"u1","merchant_id":"m1"}`

// outcome is what a load client saw of one request.
type outcome struct {
	code    int
	version string
	runID   string
	err     error
	body    string
}

// load sends decide requests from n clients until stop is closed, each
// request on a new connection when fresh is set.
func load(url string, n int, fresh bool, stop <-chan struct{}) <-chan outcome {
	out := make(chan outcome, 1<<16)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: fresh, MaxIdleConnsPerHost: n}}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(url+"/v1/graphs/cardauth/decide", "application/json", strings.NewReader(cardauthBody))
				if err != nil {
					out <- outcome{err: err}
					continue
				}
				var a serve.Answer
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					err = json.Unmarshal(body, &a)
				}
				// A complete answer: JSON, with its status; a 200 has the decision.
				switch {
				case err != nil:
				case resp.StatusCode == http.StatusOK && a.Targets["decision"] == nil:
					err = fmt.Errorf("a 200 without a decision: %s", body)
				case resp.StatusCode != http.StatusServiceUnavailable && a.Status != resp.StatusCode:
					err = fmt.Errorf("an incomplete %d answer: %s", resp.StatusCode, body)
				}
				out <- outcome{code: resp.StatusCode, version: a.Version, runID: a.RunID, err: err, body: string(body)}
			}
		}()
	}
	go func() {
		wg.Wait()
		client.CloseIdleConnections()
		close(out)
	}()
	return out
}

// TestServeSIGTERMDrainsUnderLoad sends SIGTERM while 8 clients keep
// sending requests, each on a new connection: every run the server started
// must reach its client as a complete answer, and the process exits 0. A
// client may fail only on a connection the server never accepted (refused,
// or reset from the listen queue when the listener closes).
func TestServeSIGTERMDrainsUnderLoad(t *testing.T) {
	path, _ := copySpec(t)
	r := startServe(t, 20*time.Millisecond, nil, path, "--addr", "127.0.0.1:0")
	stop := make(chan struct{})
	results := load(r.url, 8, true, stop)
	var before, after, refused, draining, other int
	answered := map[uint64]bool{}
	for o := range results {
		if _, n, ok := strings.Cut(o.runID, "-"); ok {
			if id, err := strconv.ParseUint(n, 16, 64); err == nil {
				answered[id] = true
			}
		}
		if before == 40 {
			sendSignal(t, syscall.SIGTERM) // with 8 runs of 80 ms or more in flight
			before++
		}
		switch {
		case o.err != nil && before >= 40:
			// After the signal: a connection the server did not accept
			// (checked below by the run ids), or refused.
			refused++
			if refused == 1 {
				close(stop)
			}
		case o.err != nil:
			t.Errorf("a request got no complete answer before SIGTERM: %v", o.err)
		case o.code == http.StatusOK && before < 40:
			before++
		case o.code == http.StatusOK:
			after++ // in flight when the signal came, answered in full
		case o.code == http.StatusServiceUnavailable:
			draining++
		default:
			other++ // a complete answer: a 502 or 504 on a loaded machine
		}
		if refused == 0 && after+draining > 10000 {
			close(stop)
			t.Fatal("the server kept accepting after SIGTERM")
		}
	}
	if code := r.wait(t); code != 0 {
		t.Errorf("exit code %d, want 0; stderr: %s", code, r.stderr.String())
	}
	if after == 0 || refused == 0 {
		t.Errorf("%d answered after the signal, %d refused: the test did not drain under load", after, refused)
	}
	var runs uint64
	out := r.stdout.String()
	i := strings.Index(out, "stopped after")
	if i < 0 {
		t.Fatalf("stdout does not say it stopped:\n%s", out)
	}
	if _, err := fmt.Sscanf(out[i:], "stopped after %d runs", &runs); err != nil || runs == 0 {
		t.Fatalf("stdout does not say how many runs: %v\n%s", err, out)
	}
	for id := uint64(1); id <= runs; id++ {
		if !answered[id] {
			t.Errorf("run %d of %d started but its answer never reached the client", id, runs)
		}
	}
	t.Logf("%d ok before SIGTERM, %d ok after, %d draining 503, %d other complete answers, %d not accepted", before, after, draining, other, refused)
}

// copySpec copies the cardauth spec into a temporary directory, with
// timeouts and deadline so generous that no run fails on a loaded machine:
// a failed request is then the server's fault.
func copySpec(t *testing.T) (path string, data []byte) {
	t.Helper()
	data, err := os.ReadFile("../../examples/specs/cardauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = regexp.MustCompile(`timeout: \d+ms`).ReplaceAll(data, []byte("timeout: 30s"))
	data = bytes.Replace(data, []byte("deadline: 700ms"), []byte("deadline: 60s"), 1)
	path = filepath.Join(t.TempDir(), "cardauth.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// badSpec breaks the expression of the eligible node (line 126).
func badSpec(t *testing.T, data []byte) []byte {
	t.Helper()
	bad := bytes.Replace(data, []byte("expr: pre_policy.eligible\n"), []byte("expr: pre_policy.eligible +\n"), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("the spec changed: cannot break it")
	}
	return bad
}

func TestServeSIGHUPReloadsUnderLoad(t *testing.T) {
	path, data := copySpec(t)
	r := startServe(t, 2*time.Millisecond, nil, path, "--addr", "127.0.0.1:0")
	stop := make(chan struct{})
	results := load(r.url, 4, false, stop)
	versions := map[string]int{}
	var order []string
	n := 0
	step := 0
	for o := range results {
		n++
		if o.err != nil || o.code != http.StatusOK {
			t.Errorf("request %d failed during reloads: %d %v", n, o.code, o.err)
			continue
		}
		if versions[o.version] == 0 {
			order = append(order, o.version)
		}
		versions[o.version]++
		switch {
		case step == 0 && n >= 30:
			// A new version of the spec: a new description.
			changed := bytes.Replace(data, []byte("description: >\n"), []byte("description: >\n  Reloaded.\n"), 1)
			if err := os.WriteFile(path, changed, 0o644); err != nil {
				t.Fatal(err)
			}
			sendSignal(t, syscall.SIGHUP)
			step++
		case step == 1 && len(order) == 2:
			// An invalid spec: the new version keeps serving.
			if err := os.WriteFile(path, badSpec(t, data), 0o644); err != nil {
				t.Fatal(err)
			}
			sendSignal(t, syscall.SIGHUP)
			step++
		case step == 2 && strings.Contains(r.stderr.String(), "reload failed"):
			step++
			n = 0
		case step == 3 && n >= 30:
			close(stop)
			step++
		case step < 4 && n > 20000:
			close(stop)
			step = 4
			t.Errorf("stuck at step %d; stderr: %s", step, r.stderr.String())
		}
	}
	sendSignal(t, syscall.SIGTERM)
	if code := r.wait(t); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if len(order) != 2 {
		t.Fatalf("versions served %v (in order %v): want the old, then the reloaded one", versions, order)
	}
	logged := r.stderr.String()
	if !strings.Contains(logged, path+":126:") {
		t.Errorf("the invalid spec is not reported with its file:line:col:\n%s", logged)
	}
	t.Logf("versions served: %v", versions)
}

func TestServeWatchReloads(t *testing.T) {
	path, data := copySpec(t)
	r := startServe(t, 0, nil, path, "--addr", "127.0.0.1:0", "--watch", "--watch-interval", "20ms")
	version := func() string {
		resp, err := http.Get(r.url + "/v1/graphs/cardauth")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var info serve.GraphInfo
		if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
			t.Fatal(err)
		}
		return info.Version
	}
	first := version()
	if err := os.WriteFile(path, badSpec(t, data), 0o644); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(r.stderr.String(), "reload failed") {
		time.Sleep(10 * time.Millisecond)
	}
	if v := version(); v != first {
		t.Errorf("an invalid spec replaced version %s by %s", first, v)
	}
	changed := bytes.Replace(data, []byte("description: >\n"), []byte("description: >\n  Watched.\n"), 1)
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	for version() == first {
		time.Sleep(10 * time.Millisecond)
	}
	sendSignal(t, syscall.SIGINT)
	if code := r.wait(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestServeAuthAndAddress(t *testing.T) {
	spec := "../../examples/specs/cardauth.yaml"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"all interfaces without auth", []string{spec, "--addr", ":0"}, "not a loopback address"},
		{"public address without auth", []string{spec, "--addr", "192.0.2.1:0"}, "not a loopback address"},
		{"no spec", []string{"--addr", "127.0.0.1:0"}, "no spec file"},
		{"two specs of one name", []string{spec, spec}, "both serve as"},
		{"tls cert without key", []string{spec, "--tls-cert", "c.pem"}, "go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runMain(context.Background(), &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}, append([]string{"serve"}, tc.args...))
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q: want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
	t.Run("empty token variable", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := runMain(context.Background(), &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }},
			[]string{"serve", spec, "--auth-token-env", "TOKENS"})
		if code != 1 || !strings.Contains(stderr.String(), "TOKENS") {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
	})

	// With a token from a file, any address may be given; the token is
	// asked for and never printed.
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("# serve tokens\nt0ken-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startServe(t, 0, map[string]string{"TOKENS": "t0ken-a, t0ken-b"}, spec, "--addr", "127.0.0.1:0",
		"--auth-token-file", file, "--auth-token-env", "TOKENS")
	for token, want := range map[string]int{"": 401, "t0ken": 401, "t0ken-from-file": 200, "t0ken-b": 200} {
		rq, _ := http.NewRequest("POST", r.url+"/v1/graphs/cardauth/decide", strings.NewReader(cardauthBody))
		if token != "" {
			rq.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(rq)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %q: %d, want %d", token, resp.StatusCode, want)
		}
	}
	sendSignal(t, syscall.SIGTERM)
	if code := r.wait(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if out := r.stdout.String() + r.stderr.String(); strings.Contains(out, "t0ken") {
		t.Errorf("a token was printed:\n%s", out)
	}
}

func TestServeHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), &env{stdout: &stdout, stderr: &stderr, getenv: os.Getenv}, []string{"serve", "--help"})
	help := stdout.String() + stderr.String()
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	for _, flag := range []string{"-addr", "-auth-token-file", "-auth-token-env", "-insecure-no-auth", "-tls-cert", "-tls-key",
		"-max-body", "-max-in-flight", "-max-batch", "-batch-parallel", "-read-timeout", "-read-header-timeout", "-write-timeout",
		"-idle-timeout", "-grace", "-watch", "-deadline", "decide-batch", "429", "504", "502"} {
		if !strings.Contains(help, flag) {
			t.Errorf("help lacks %s", flag)
		}
	}
}
