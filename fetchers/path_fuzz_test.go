package fetchers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/featgraph/featgraph/fetchers"
)

// capture is a transport that records the URL of each request and answers
// {} at once: the fuzz target sees exactly what would go on the wire.
type capture struct {
	mu   sync.Mutex
	last *url.URL
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	u := *r.URL
	c.last = &u
	c.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}, nil
}

// refused says whether a value must be refused in a path: empty, or with a
// piece (between '/' or '\') that a server could take for a dot segment,
// or an empty piece between slashes.
func refused(v string) bool {
	if v == "" || strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/") || strings.Contains(v, "//") {
		return true
	}
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == '/' || r == '\\' }) {
		switch strings.ToLower(p) {
		case ".", "..", "%2e", "%2e%2e", ".%2e", "%2e.":
			return true
		}
	}
	return false
}

// FuzzPathTemplate: whatever the value and query value, a request built
// with GetPath goes to /base/a/<exactly the value, one segment>/b with
// exactly the query given, or is refused with ErrBadPath before it is
// sent; and whatever the template, a path it expands to is a valid
// escaped path without query or fragment.
func FuzzPathTemplate(f *testing.F) {
	for _, s := range [][3]string{
		{"/a/{x}/b", "a1", "k"},
		{"/a/{x}/b", "../../admin", "x&admin=1"},
		{"/a/{x}/b", "a1/balance", "#frag"},
		{"/a/{x}/b", "a1?admin=1#f", "%zz"},
		{"/a/{x}/b", "%2e%2e", "?"},
		{"/a/{x}/b", `..\admin`, ""},
		{"/files/{name}.json", "..", "a b"},
		{"/{{literal}}/{x}", "ü€\x00\n", "\xff"},
		{"/a%20b/{x}", "%", "="},
		{"/x?{y}", "v", "q"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	tr := &capture{}
	u, err := fetchers.NewUpstream("fuzz", "http://upstream.test/base/", fetchers.WithTransport(tr), fetchers.WithAttempts(1, 0, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(u.Close)
	f.Fuzz(func(t *testing.T, tmpl, v, q string) {
		// Any template: parsing never panics, and what it expands to is
		// an escaped path that parses back without query or fragment.
		if pt, err := fetchers.ParsePath(tmpl); err == nil {
			values := make([]string, len(pt.Names()))
			for i := range values {
				values[i] = v
			}
			if p, err := pt.Expand(values...); err == nil {
				pu, perr := url.Parse("http://h/" + strings.TrimPrefix(p, "/"))
				if perr != nil || pu.RawQuery != "" || pu.Fragment != "" || pu.EscapedPath() != "/"+strings.TrimPrefix(p, "/") {
					t.Fatalf("ParsePath(%q).Expand(%q) = %q: not a clean escaped path (%v)", tmpl, v, p, perr)
				}
			} else if !errors.Is(err, fetchers.ErrBadPath) {
				t.Fatalf("Expand error %v does not match ErrBadPath", err)
			}
		} else if !errors.Is(err, fetchers.ErrBadPath) {
			t.Fatalf("ParsePath error %v does not match ErrBadPath", err)
		}

		// The fixed template: one value, one segment, one query value.
		req, err := fetchers.GetPathRequest("/a/{x}/b", v)
		if refused(v) {
			if !errors.Is(err, fetchers.ErrBadPath) {
				t.Fatalf("GetPath with %q: err = %v, want ErrBadPath", v, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("GetPath with %q: %v", v, err)
		}
		req.Query = url.Values{"q": {q}}
		if _, err := u.Do(context.Background(), req); err != nil {
			t.Fatalf("Do with %q: %v", v, err)
		}
		tr.mu.Lock()
		sent := tr.last
		tr.mu.Unlock()
		segs := strings.Split(sent.EscapedPath(), "/")
		if len(segs) != 5 || segs[0] != "" || segs[1] != "base" || segs[2] != "a" || segs[4] != "b" {
			t.Fatalf("value %q: sent path %q, want /base/a/<one segment>/b", v, sent.EscapedPath())
		}
		if got, err := url.PathUnescape(segs[3]); err != nil || got != v {
			t.Fatalf("value %q: segment %q decodes to %q (%v)", v, segs[3], got, err)
		}
		if got := sent.Query(); len(got) != 1 || len(got["q"]) != 1 || got.Get("q") != q {
			t.Fatalf("query value %q: sent query %q", q, sent.RawQuery)
		}
		if sent.Fragment != "" || sent.User != nil || sent.Host != "upstream.test" {
			t.Fatalf("value %q: sent URL %v", v, sent)
		}
	})
}
