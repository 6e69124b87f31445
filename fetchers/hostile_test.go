package fetchers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/featgraph/featgraph/fetchers"
)

// recorder is a server that records what reached it.
type recorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []*http.Request // clones, bodies not kept
}

func newRecorder(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.got = append(rec.got, r.Clone(context.Background()))
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) requests() []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]*http.Request(nil), rec.got...)
}

const secret = "s3cr3t-4111111111111111"

// hostileCase is one request an attacker shapes (through a value, an
// upstream's answer, a redirect) and what must hold.
type hostileCase struct {
	name string
	opts []fetchers.Option
	// handler is the upstream's; other is the URL of a server of another
	// origin (another host: localhost rather than 127.0.0.1).
	handler func(w http.ResponseWriter, r *http.Request, other string)
	req     func() (fetchers.Request, error)
	// timeout, when set, is the call's deadline; without, it has none.
	timeout time.Duration
	// wantErr is what the call's error must match; nil for success.
	wantErr error
	// check looks at what each server saw.
	check func(t *testing.T, up, other []*http.Request)
}

func answer(w http.ResponseWriter, _ *http.Request, _ string) { writeJSON(w, http.StatusOK, okAccount) }

func redirectTo(target func(other string, r *http.Request) string) func(w http.ResponseWriter, r *http.Request, other string) {
	return func(w http.ResponseWriter, r *http.Request, other string) {
		http.Redirect(w, r, target(other, r), http.StatusFound)
	}
}

func getPath(tmpl string, values ...string) func() (fetchers.Request, error) {
	return func() (fetchers.Request, error) { return fetchers.GetPathRequest(tmpl, values...) }
}

func plain(r fetchers.Request) func() (fetchers.Request, error) {
	return func() (fetchers.Request, error) { return r, nil }
}

func sent(n int) func(t *testing.T, up, other []*http.Request) {
	return func(t *testing.T, up, other []*http.Request) {
		t.Helper()
		if len(up) != n || len(other) != 0 {
			t.Errorf("upstream saw %d requests, other origin %d: want %d and 0", len(up), len(other), n)
		}
	}
}

func onePath(escaped string, segments int) func(t *testing.T, up, other []*http.Request) {
	return func(t *testing.T, up, other []*http.Request) {
		t.Helper()
		if len(up) != 1 {
			t.Fatalf("upstream saw %d requests, want 1", len(up))
		}
		r := up[0]
		if got := r.URL.EscapedPath(); got != escaped {
			t.Errorf("path on the wire = %q, want %q", got, escaped)
		}
		if n := len(strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")); n != segments {
			t.Errorf("path has %d segments, want %d", n, segments)
		}
		if r.URL.RawQuery != "" {
			t.Errorf("a path value made a query %q", r.URL.RawQuery)
		}
	}
}

// headersStayHome checks that nothing the Upstream or its hooks set
// reached the other origin.
func headersStayHome(t *testing.T, up, other []*http.Request) {
	t.Helper()
	if len(other) != 1 {
		t.Fatalf("other origin saw %d requests, want 1", len(other))
	}
	for _, h := range []string{"X-Api-Key", "Authorization", "Cookie", "Traceparent", fetchers.DeadlineHeader, "X-Per-Request", "Referer"} {
		if v := other[0].Header.Get(h); v != "" {
			t.Errorf("header %s = %q reached the other origin", h, v)
		}
	}
}

func TestHostileInputs(t *testing.T) {
	cases := []hostileCase{
		// Path traversal through values.
		{name: "dot-dot value in a path template", handler: answer,
			req: getPath("/cards/{id}", "../../accounts/balance/a1"), wantErr: fetchers.ErrBadPath, check: sent(0)},
		{name: "dot-dot concatenated into a path", handler: answer,
			req: plain(fetchers.GetRequest("/cards/" + "../../accounts/balance/a1")), wantErr: fetchers.ErrBadPath, check: sent(0)},
		{name: "escaped dot-dot concatenated into a path", handler: answer,
			req: plain(fetchers.GetRequest("/cards/" + "%2e%2e/%2E%2E/admin")), wantErr: fetchers.ErrBadPath, check: sent(0)},
		{name: "escaped slashes around dot-dot concatenated", handler: answer,
			req: plain(fetchers.GetRequest("/cards/" + "a1%2F..%2Fadmin")), wantErr: fetchers.ErrBadPath, check: sent(0)},
		{name: "backslash dot-dot value", handler: answer,
			req: getPath("/cards/{id}", `..\..\admin`), wantErr: fetchers.ErrBadPath, check: sent(0)},
		{name: "dot value", handler: answer, req: getPath("/cards/{id}/x", "."), wantErr: fetchers.ErrBadPath, check: sent(0)},
		{name: "empty value", handler: answer, req: getPath("/cards/{id}/balance", ""), wantErr: fetchers.ErrBadPath, check: sent(0)},
		{name: "empty segment concatenated", handler: answer,
			req: plain(fetchers.GetRequest("/cards/" + "" + "/balance")), wantErr: fetchers.ErrBadPath, check: sent(0)},
		{name: "slash value stays one segment", handler: answer,
			req: getPath("/cards/{id}", "a1/balance"), check: onePath("/cards/a1%2Fbalance", 2)},
		{name: "query and fragment in a value stay in the segment", handler: answer,
			req: getPath("/cards/{id}", "a1?admin=1#x"), check: onePath("/cards/a1%3Fadmin=1%23x", 2)},
		{name: "percent in a value is escaped", handler: answer,
			req: getPath("/cards/{id}", "100%"), check: onePath("/cards/100%25", 2)},
		{name: "escaped dot-dot value (for servers that decode twice)", handler: answer,
			req: getPath("/cards/{id}", "%2e%2e"), wantErr: fetchers.ErrBadPath, check: sent(0)},
		{name: "query in a concatenated path is escaped", handler: answer,
			req: plain(fetchers.GetRequest("/cards/" + "a1?admin=1")), check: onePath("/cards/a1%3Fadmin=1", 2)},
		{name: "query value cannot add parameters", handler: answer,
			req: plain(fetchers.GetRequest("/cards", "id", "a1&admin=1")),
			check: func(t *testing.T, up, _ []*http.Request) {
				if len(up) != 1 {
					t.Fatalf("upstream saw %d requests", len(up))
				}
				q := up[0].URL.Query()
				if q.Get("id") != "a1&admin=1" || q.Has("admin") {
					t.Errorf("query = %v", q)
				}
			}},
		// Redirects.
		{name: "redirect to another host is refused",
			opts:    []fetchers.Option{fetchers.WithHeader("X-Api-Key", secret)},
			handler: redirectTo(func(other string, _ *http.Request) string { return other + "/steal" }),
			req:     plain(fetchers.GetRequest("/a")), wantErr: fetchers.ErrRedirect, check: sent(1)},
		{name: "redirect to another port is refused",
			opts: []fetchers.Option{fetchers.WithBearerToken(func(context.Context) (string, error) { return secret, nil })},
			handler: redirectTo(func(other string, _ *http.Request) string {
				return strings.Replace(other, "localhost", "127.0.0.1", 1) + "/steal"
			}),
			req: plain(fetchers.GetRequest("/a")), wantErr: fetchers.ErrRedirect, check: sent(1)},
		{name: "redirect to https on the same host is refused",
			handler: redirectTo(func(_ string, r *http.Request) string { return "https://" + r.Host + "/a" }),
			req:     plain(fetchers.GetRequest("/a")), wantErr: fetchers.ErrRedirect, check: sent(1)},
		{name: "redirect within the origin is followed",
			handler: func(w http.ResponseWriter, r *http.Request, _ string) {
				if r.URL.Path == "/old" {
					http.Redirect(w, r, "/new", http.StatusMovedPermanently)
					return
				}
				answer(w, r, "")
			},
			req: plain(fetchers.GetRequest("/old")), check: sent(2)},
		{name: "redirect loop stops after a few hops",
			handler: redirectTo(func(_ string, r *http.Request) string { return r.URL.Path + "x" }),
			req:     plain(fetchers.GetRequest("/a")), wantErr: fetchers.ErrRedirect, check: sent(1 + fetchers.DefaultMaxRedirects)},
		{name: "no redirects at all when MaxHops is 0",
			opts:    []fetchers.Option{fetchers.WithRedirects(fetchers.RedirectPolicy{})},
			handler: redirectTo(func(_ string, _ *http.Request) string { return "/b" }),
			req:     plain(fetchers.GetRequest("/a")), wantErr: fetchers.ErrRedirect, check: sent(1)},
		{name: "cross-origin redirects allowed carry no credentials",
			opts: []fetchers.Option{
				fetchers.WithRedirects(fetchers.RedirectPolicy{MaxHops: 2, CrossOrigin: true}),
				fetchers.WithHeader("X-Api-Key", secret),
				fetchers.WithHeader("Cookie", "session="+secret),
				fetchers.WithBearerToken(func(context.Context) (string, error) { return secret, nil }),
				fetchers.WithPropagator(propagation.TraceContext{}),
			},
			handler: redirectTo(func(other string, _ *http.Request) string { return other + "/elsewhere" }),
			req: plain(fetchers.Request{Path: "/a", Query: map[string][]string{"k": {secret}},
				Header: http.Header{"X-Per-Request": {secret}}}),
			check: headersStayHome},
		// Secrets in errors.
		{name: "redirect error names the location without its secrets",
			handler: redirectTo(func(other string, _ *http.Request) string {
				return strings.Replace(other, "://", "://user:"+secret+"@", 1) + "/x?token=" + secret
			}),
			req: plain(fetchers.GetRequest("/a")), wantErr: fetchers.ErrRedirect, check: sent(1)},
		{name: "transport error keeps query values out",
			handler: func(w http.ResponseWriter, r *http.Request, _ string) { reset(w) },
			opts:    []fetchers.Option{fetchers.WithAttempts(1, 0, 0)},
			req:     plain(fetchers.GetRequest("/a", "api_key", secret)), wantErr: errAny, check: sent(1)},
		{name: "transport error keeps templated path values out",
			handler: func(w http.ResponseWriter, r *http.Request, _ string) { reset(w) },
			opts:    []fetchers.Option{fetchers.WithAttempts(1, 0, 0)},
			req:     getPath("/cards/{id}", secret), wantErr: errAny, check: sent(1)},
		{name: "retry-budget error keeps query values out",
			handler: func(w http.ResponseWriter, r *http.Request, _ string) { reset(w) },
			opts:    []fetchers.Option{fetchers.WithAttempts(4, time.Hour, time.Hour)}, timeout: time.Minute,
			req: plain(fetchers.GetRequest("/a", "api_key", secret)), wantErr: fetchers.ErrRetryBudget, check: sent(1)},
		// Hostile upstream answers and hooks.
		{name: "Retry-After longer than the max wait is not waited for",
			opts: []fetchers.Option{fetchers.WithAttempts(3, time.Millisecond, 50*time.Millisecond)},
			handler: func(w http.ResponseWriter, r *http.Request, _ string) {
				w.Header().Set("Retry-After", "30")
				writeJSON(w, http.StatusTooManyRequests, `{}`)
			},
			req: plain(fetchers.GetRequest("/a")), wantErr: fetchers.ErrRetryBudget, check: sent(1)},
		{name: "a panicking hook fails the call",
			opts:    []fetchers.Option{fetchers.WithRequestHook(func(*http.Request) error { panic("hook bug") })},
			handler: answer, req: plain(fetchers.GetRequest("/a")), wantErr: fetchers.ErrBadRequest, check: sent(0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			other := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, okAccount) })
			otherURL := strings.Replace(other.srv.URL, "127.0.0.1", "localhost", 1)
			up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { c.handler(w, r, otherURL) })
			u, err := fetchers.NewUpstream("accounts", up.srv.URL, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close()
			req, err := c.req()
			if err == nil {
				ctx := context.Background()
				if c.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, c.timeout)
					defer cancel()
				}
				_, err = fetchers.FetchJSON[account](ctx, u, req)
			}
			switch {
			case c.wantErr == nil && err != nil:
				t.Errorf("err = %v, want success", err)
			case c.wantErr == errAny && err == nil, c.wantErr != nil && c.wantErr != errAny && !errors.Is(err, c.wantErr):
				t.Errorf("err = %v, want %v", err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the secret: %v", err)
			}
			c.check(t, up.requests(), other.requests())
		})
	}
}

// errAny stands for "some error" in a hostileCase.
var errAny = errors.New("any error")

func TestHostileUpstreamURLs(t *testing.T) {
	for _, raw := range []string{
		"ftp://x", "file:///etc/passwd", "gopher://h:70", "http://", "https:///path", "//host/x", "host:80",
		"javascript:alert(1)", "http://h/?k=v", "http://h/#frag", "",
	} {
		if _, err := fetchers.NewUpstream("u", raw); err == nil {
			t.Errorf("NewUpstream(%q) accepted", raw)
		}
	}
	_, err := fetchers.NewUpstream("u", "ftp://user:"+secret+"@h/")
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "ftp://h/") {
		t.Errorf("err = %v: want one that names the URL without its password", err)
	}
}

func TestRedirectErrorRedactsLocation(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		http.Redirect(w, r, "http://user:"+secret+"@evil.example:8443/x?token="+secret+"&id=7", http.StatusFound)
	})
	u := newUpstream(t, f)
	_, err := fetchers.FetchJSON[account](withTimeout(t, 10*time.Second), u, fetchers.GetRequest("/a"))
	var re *fetchers.RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a *RedirectError", err)
	}
	if want := "http://evil.example:8443/x?id=REDACTED&token=REDACTED"; re.Location != want {
		t.Errorf("Location = %q, want %q", re.Location, want)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the secret: %v", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@h:8443/a/b?k=v&x=1#f": "https://h:8443/a/b?k=REDACTED&x=REDACTED",
		"http://h/a":                       "http://h/a",
		"http://h/a?":                      "http://h/a?",
		"http://u@h/%zz?k=v":               "http://h/%zz?" + fetchers.Redacted,
		"/relative?token=t":                "/relative?token=REDACTED",
	} {
		if got := fetchers.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// A trace context set in the run must not reach another origin either:
// checked apart because it needs a sampled span in the context.
func TestCrossOriginRedirectDropsTraceContext(t *testing.T) {
	other := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, okAccount) })
	otherURL := strings.Replace(other.srv.URL, "127.0.0.1", "localhost", 1)
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, otherURL+"/x", http.StatusFound) })
	u, err := fetchers.NewUpstream("accounts", up.srv.URL,
		fetchers.WithPropagator(propagation.TraceContext{}),
		fetchers.WithRedirects(fetchers.RedirectPolicy{MaxHops: 1, CrossOrigin: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	ctx, cancel := context.WithTimeout(trace.ContextWithSpanContext(context.Background(), sc), 10*time.Second)
	defer cancel()
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); err != nil {
		t.Fatal(err)
	}
	if got := up.requests()[0].Header.Get("Traceparent"); got == "" {
		t.Fatal("the upstream itself got no traceparent: the test does not test")
	}
	if got := up.requests()[0].Header.Get(fetchers.DeadlineHeader); got == "" {
		t.Fatal("the upstream itself got no deadline header: the test does not test")
	}
	headersStayHome(t, up.requests(), other.requests())
}
