package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/serve"
	"github.com/featgraph/featgraph/spec"
)

const cardauthSpec = "../examples/specs/cardauth.yaml"

// fixture is the cardauth spec served over loopback HTTP, against the
// simulated cardauth services served over loopback HTTP.
type fixture struct {
	svc  *cardauth.Services
	up   *upstreamServer
	srv  *serve.Server
	url  string // the decision service
	spec string // the spec's version
}

// upstreamServer serves the simulated services and records what the
// calls carried; gate, when set, holds every call until it is closed.
type upstreamServer struct {
	*httptest.Server
	mu        sync.Mutex
	headers   []http.Header
	gate      chan struct{}
	gateCalls chan struct{} // a call is waiting at the gate
}

func (u *upstreamServer) setGate() chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.gate = make(chan struct{})
	u.gateCalls = make(chan struct{}, 1024)
	return u.gate
}

func (u *upstreamServer) seen() []http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]http.Header(nil), u.headers...)
}

// gets counts the GET calls seen: those a request cache shares.
func (u *upstreamServer) gets() int {
	n := 0
	for _, h := range u.seen() {
		if h.Get("X-Test-Method") == http.MethodGet {
			n++
		}
	}
	return n
}

func startUpstreams(t testing.TB, opts ...cardauth.ServiceOption) (*cardauth.Services, *upstreamServer) {
	t.Helper()
	svc, err := cardauth.NewServices(opts...)
	if err != nil {
		t.Fatal(err)
	}
	u := &upstreamServer{}
	handler := svc.Handler()
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		h := r.Header.Clone()
		h.Set("X-Test-Method", r.Method)
		h.Set("X-Test-Path", r.URL.Path)
		u.headers = append(u.headers, h)
		gate, calls := u.gate, u.gateCalls
		u.mu.Unlock()
		if gate != nil {
			select {
			case calls <- struct{}{}:
			default:
			}
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(u.Close)
	return svc, u
}

// generousDeadline is the deadline of the spec the tests serve.
const generousDeadline = 60 * time.Second

// generousSpec writes examples/specs/cardauth.yaml with its node timeouts
// at 30 s, its deadline at 60 s and no hedging, so that a run on a loaded
// machine (under -race, beside other tests) does not time out where a test
// does not ask it to, and every upstream call of a run arrives before the
// run ends.
func generousSpec(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(cardauthSpec)
	if err != nil {
		t.Fatal(err)
	}
	data = regexp.MustCompile(`timeout: \d+ms`).ReplaceAll(data, []byte("timeout: 30s"))
	// No hedges: a late hedge leg would reach the upstreams after its run.
	data = regexp.MustCompile(`, hedge: \{after: \d+ms\}`).ReplaceAll(data, nil)
	data = bytes.Replace(data, []byte("deadline: 700ms"), []byte("deadline: "+generousDeadline.String()), 1)
	path := filepath.Join(t.TempDir(), "cardauth.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadCardauth loads the cardauth spec (generousSpec) against the
// upstreams at url.
func loadCardauth(t testing.TB, url string, gopts ...serve.GraphOption) *serve.Graph {
	t.Helper()
	g, err := serve.LoadSpec("cardauth", generousSpec(t), []spec.Option{
		spec.Getenv(func(k string) string {
			if k == "CARDAUTH_URL" {
				return url
			}
			return ""
		}),
		spec.UpstreamOptions(fetchers.WithPropagator(propagation.TraceContext{})),
	}, gopts...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func newFixture(t testing.TB, svcOpts []cardauth.ServiceOption, opts ...serve.Option) *fixture {
	t.Helper()
	svc, up := startUpstreams(t, svcOpts...)
	g := loadCardauth(t, up.URL)
	opts = append([]serve.Option{serve.WithPropagator(propagation.TraceContext{})}, opts...)
	srv, err := serve.New([]*serve.Graph{g}, opts...)
	if err != nil {
		g.Close()
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &fixture{svc: svc, up: up, srv: srv, url: ts.URL, spec: g.Version()}
}

func req(i string) map[string]any {
	return map[string]any{"transaction_id": "t" + i, "card_id": "c" + i, "customer_id": "u" + i, "merchant_id": "m" + i}
}

// call sends a request and decodes the JSON answer into out (if not nil).
func call(t testing.TB, method, url string, body any, header http.Header, out any) *http.Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	r, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: answer %d is not JSON: %v\n%s", method, url, resp.StatusCode, err, data)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp
}

func bodyOf(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
