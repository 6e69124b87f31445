package spec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/batch"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/spec"
)

const batchSpec = `
version: 1
upstreams:
  accounts: {url: %s}
inputs:
  a: string
  b: string
  c: string
nodes:
  limit_a:
    http: {upstream: accounts, path: /limits}
    batch: {key: a, max_wait: 200ms}
    type: int
  limit_b:
    http: {upstream: accounts, path: /limits}
    batch: {key: b, max_wait: 200ms}
    type: int
  limit_c:
    http: {upstream: accounts, path: /limits}
    batch: {key: c, max_wait: 200ms}
    type: int
    fallback: -1
  score_a:
    http: {upstream: accounts, method: POST, path: /scores}
    batch: {key: a, answer: list}
    type: float
targets: [limit_a, limit_b, limit_c, score_a]
`

func TestSpecBatchForm(t *testing.T) {
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		got.add(r)
		switch r.URL.Path {
		case "/limits": // a map by key, without "nobody"
			out := map[string]int{}
			for i, id := range r.URL.Query()["id"] {
				if id != "nobody" {
					out[id] = 100 * (i + 1)
				}
			}
			json.NewEncoder(w).Encode(out)
		case "/scores": // a list in key order
			var ids []string
			json.Unmarshal(body, &ids)
			out := make([]float64, len(ids))
			for i := range out {
				out[i] = 0.5
			}
			json.NewEncoder(w).Encode(out)
		}
	}))
	defer srv.Close()
	s, err := spec.Parse("batch.yaml", []byte(fmt.Sprintf(batchSpec, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res := run(t, s, executor.BindNamed("a", "x"), executor.BindNamed("b", "y"), executor.BindNamed("c", "nobody"))
	la, lb := value(t, res, "limit_a"), value(t, res, "limit_b")
	valid := func(v any) bool { return v == 100 || v == 200 || v == 300 }
	if la == lb || !valid(la) || !valid(lb) {
		t.Errorf("limits %v and %v", la, lb)
	}
	if v := value(t, res, "score_a"); v != 0.5 {
		t.Errorf("score %v", v)
	}
	nc := outcome(t, res, "limit_c")
	var mk *batch.MissingKeyError
	if nc.Outcome != executor.OutcomeFallback || !errors.As(nc.Cause, &mk) || mk.Key != "nobody" {
		t.Errorf("limit_c: %v %v, want a fallback for the missing key", nc.Outcome, nc.Cause)
	}
	var limits, scores int
	for _, r := range got.all() {
		switch {
		case strings.HasPrefix(r, "GET /limits?"):
			limits++
			for _, want := range []string{"id=x", "id=y", "id=nobody"} {
				if !strings.Contains(r, want) {
					t.Errorf("%q lacks %s", r, want)
				}
			}
		case r == `POST /scores ["x"]`:
			scores++
		default:
			t.Errorf("unexpected request %q", r)
		}
	}
	if limits != 1 || scores != 1 {
		t.Errorf("requests %q: want one per endpoint", got.all())
	}

	var out bytes.Buffer
	if err := s.Write(&out); err != nil {
		t.Fatal(err)
	}
	if want := "batch: {key: a, max_wait: 200ms, send: query, param: id, answer: map}"; !strings.Contains(out.String(), want) {
		t.Errorf("written spec lacks %q:\n%s", want, out.String())
	}
	again, err := spec.Parse("written.yaml", out.Bytes())
	if err != nil {
		t.Fatalf("reloading the written spec: %v", err)
	}
	again.Close()
}

func TestSpecBatchErrors(t *testing.T) {
	base := fmt.Sprintf(batchSpec, "http://127.0.0.1:1")
	for _, tc := range []struct{ from, to, want string }{
		{"batch: {key: a, answer: list}", "batch: {answer: list}", "batch needs key"},
		{"batch: {key: a, answer: list}", "batch: {key: a, answer: set}", "batch answer must be map"},
		{"batch: {key: a, answer: list}", "batch: {key: a, send: carrier}", "batch send must be"},
		{"batch: {key: a, answer: list}", "batch: {key: zz}", `"zz"`},
		{"path: /scores}", `path: "/scores/{a}"}`, "no templates"},
	} {
		src := strings.Replace(base, tc.from, tc.to, 1)
		_, err := spec.Parse("bad.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.yaml:") {
			t.Errorf("%s: %v, want an error mentioning %q", tc.to, err, tc.want)
		}
	}
}
