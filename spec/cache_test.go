package spec_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/featgraph/featgraph/cache"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/spec"
)

const cachedSpec = `
version: 1
upstreams:
  customers: {url: %s}
inputs:
  customer_id: string
nodes:
  tenure:
    http: {upstream: customers, path: "/customers/{customer_id}/tenure"}
    type: int
    cache: {ttl: 10m, stale: 1h}
  tenures:
    each: ids
    http: {upstream: customers, path: "/customers/{item}/tenure"}
    type: list
    cache: {ttl: 10m}
  ids:
    expr: '[customer_id, customer_id + "-2"]'
    type: list
targets: [tenure, tenures]
`

func TestSpecCacheForm(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fmt.Fprint(w, "42")
	}))
	defer srv.Close()
	c, err := cache.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := spec.Parse("cached.yaml", []byte(fmt.Sprintf(cachedSpec, srv.URL)), spec.WithCache(c))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 {
		res := run(t, s, executor.BindNamed("customer_id", "u1"))
		if v := value(t, res, "tenure"); v != 42 {
			t.Fatalf("tenure %v (%T)", v, v)
		}
	}
	if n := calls.Load(); n != 3 { // tenure once, tenures' two elements once each
		t.Fatalf("3 runs made %d calls, want 3", n)
	}
	if st := c.Stats(); st.Fetched != 3 || st.Fresh != 6 {
		t.Fatalf("stats %+v", st)
	}

	var out bytes.Buffer
	if err := s.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cache: {ttl: 10m0s, stale: 1h0m0s}", "cache: {ttl: 10m0s}"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("written spec lacks %q:\n%s", want, out.String())
		}
	}
	again, err := spec.Parse("written.yaml", out.Bytes())
	if err != nil {
		t.Fatalf("reloading the written spec: %v", err)
	}
	again.Close() // its own in-process cache
}

func TestSpecCacheErrors(t *testing.T) {
	for _, tc := range []struct{ cache, want string }{
		{"{stale: 1h}", "cache needs ttl"},
		{"{ttl: 0s}", "cache ttl must be positive"},
		{"{ttl: 1m, stale: soon}", "cache stale must be a duration"},
		{"{ttl: 1m, size: 3}", "size"},
	} {
		src := strings.Replace(fmt.Sprintf(cachedSpec, "http://127.0.0.1:1"), "cache: {ttl: 10m, stale: 1h}", "cache: "+tc.cache, 1)
		_, err := spec.Parse("bad.yaml", []byte(src))
		var el spec.ErrorList
		if err == nil || !errors.As(err, &el) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.yaml:") {
			t.Errorf("cache %s: %v, want an error at a line mentioning %q", tc.cache, err, tc.want)
		}
	}
}

func TestSpecCacheOnAComputeNode(t *testing.T) {
	src := `
version: 1
inputs:
  x: int
nodes:
  double:
    go: compute
    deps: [x]
    type: int
    cache: {ttl: 1m}
`
	_, err := spec.Parse("compute.yaml", []byte(src), spec.Bind("double", func(x int) (int, error) { return 2 * x, nil }))
	if err == nil || !strings.Contains(err.Error(), "applies to fetch and Each nodes") || !strings.Contains(err.Error(), "compute.yaml:") {
		t.Fatalf("%v, want an error: cache applies to fetch and each nodes", err)
	}
}
