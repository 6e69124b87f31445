package spec_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/spec"
)

// cardsSpec calls the cards service with a card id from outside, in the
// path and in the query.
const cardsSpec = `version: 1
upstreams:
  cards: {url: "${CARDS}"}
inputs:
  card_id: string
nodes:
  card:
    http: {upstream: cards, path: "/card/{card_id}", query: {ref: "{card_id}"}}
`

// TestHostileSpecValues feeds an http node card ids as an attacker would
// write them: none may reach another resource than /v1/cards/card/<one
// segment>, nor add a query parameter.
func TestHostileSpecValues(t *testing.T) {
	cases := []struct {
		id      string
		want    executor.Outcome
		wantErr error // matched by the node's cause
	}{
		{id: "../../accounts/balance/a1", want: executor.OutcomeError, wantErr: fetchers.ErrBadPath},
		{id: "a1/../../../accounts/balance/a1", want: executor.OutcomeError, wantErr: fetchers.ErrBadPath},
		{id: `..\..\accounts\balance\a1`, want: executor.OutcomeError, wantErr: fetchers.ErrBadPath},
		{id: "..", want: executor.OutcomeError, wantErr: fetchers.ErrBadPath},
		{id: ".", want: executor.OutcomeError, wantErr: fetchers.ErrBadPath},
		{id: "", want: executor.OutcomeError, wantErr: fetchers.ErrBadPath},
		{id: "%2e%2e", want: executor.OutcomeError, wantErr: fetchers.ErrBadPath},
		{id: "a1/balance", want: executor.OutcomeOK},
		{id: "a1?admin=1", want: executor.OutcomeOK},
		{id: "a1#frag", want: executor.OutcomeOK},
		{id: "a1&admin=1", want: executor.OutcomeOK},
		{id: "%2e%2e%2faccounts%2fbalance%2fa1", want: executor.OutcomeOK}, // one odd segment, sent escaped
		{id: "c 1;x=y,z", want: executor.OutcomeOK},
	}
	var got seen
	mux := http.NewServeMux() // cleans paths and redirects, as many servers do
	mux.HandleFunc("GET /v1/cards/card/{id}", func(w http.ResponseWriter, r *http.Request) {
		got.add(r)
		writeJSONBody(w, `{"kind":"card"}`)
	})
	mux.HandleFunc("GET /v1/accounts/balance/{id}", func(w http.ResponseWriter, r *http.Request) {
		got.add(r)
		writeJSONBody(w, `{"kind":"balance","amount":1000}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		got.add(r)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, err := spec.Parse("cards.yaml", []byte(cardsSpec),
		spec.Getenv(func(string) string { return srv.URL + "/v1/cards" }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			before := len(got.all())
			res := run(t, s, executor.BindNamed("card_id", c.id))
			n := outcome(t, res, "card")
			if n.Outcome != c.want || (c.wantErr != nil && !errors.Is(n.Cause, c.wantErr)) {
				t.Errorf("outcome %v (cause %v), want %v (%v)", n.Outcome, n.Cause, c.want, c.wantErr)
			}
			if n.Outcome == executor.OutcomeOK {
				if v := value(t, res, "card"); !jsonEqual(v, `{"kind":"card"}`) {
					t.Errorf("value %v: another resource answered", v)
				}
			}
			reqs := got.all()[before:]
			if c.want == executor.OutcomeError && len(reqs) != 0 {
				t.Errorf("refused value still sent %q", reqs)
			}
			for _, r := range reqs {
				path, query, _ := strings.Cut(strings.TrimPrefix(r, "GET "), "?")
				if !strings.HasPrefix(path, "/v1/cards/card/") || strings.Count(path, "/") != 4 {
					t.Errorf("request %q left /v1/cards/card/<one segment>", r)
				}
				if q, err := url.ParseQuery(query); err != nil || len(q) != 1 || q.Get("ref") != c.id {
					t.Errorf("request %q: query %v, want only ref=%q", r, q, c.id)
				}
			}
			if n.Cause != nil && strings.Trim(c.id, ".%2e") != "" && strings.Contains(n.Cause.Error(), c.id) {
				t.Errorf("cause shows the value: %v", n.Cause)
			}
		})
	}
}

func writeJSONBody(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(body))
}

// TestHostileSpecFiles: specs that declare bad upstreams or path templates
// fail to load with an error at the line, whether a node uses them or not.
func TestHostileSpecFiles(t *testing.T) {
	cases := []struct {
		name, src string
		opts      []spec.Option
		want      []string
	}{
		{name: "unused ftp upstream",
			src:  "version: 1\nupstreams:\n  legacy: {url: \"ftp://x\"}\nnodes:\n  v: {value: 1}\n",
			want: []string{"bad.yaml:3:", "legacy", "ftp://x", "not an absolute http or https URL"}},
		{name: "unused upstream without host",
			src:  "version: 1\nupstreams:\n  legacy: {url: \"http://:80/\"}\nnodes:\n  v: {value: 1}\n",
			want: []string{"bad.yaml:3:", "legacy"}},
		{name: "unused upstream with a query",
			src:  "version: 1\nupstreams:\n  legacy: {url: \"http://h/?key=s3cr3t\"}\nnodes:\n  v: {value: 1}\n",
			want: []string{"bad.yaml:3:", "legacy", "no query"}},
		{name: "unused upstream whose default is ftp",
			src:  "version: 1\nupstreams:\n  legacy: {url: \"${LEGACY_URL:-ftp://x}\"}\nnodes:\n  v: {value: 1}\n",
			want: []string{"bad.yaml:3:", "legacy", "ftp://x"}},
		{name: "unused upstream set to ftp by UpstreamURL",
			src:  "version: 1\nupstreams:\n  legacy: {url: \"http://h\"}\nnodes:\n  v: {value: 1}\n",
			opts: []spec.Option{spec.UpstreamURL("legacy", "ftp://y")},
			want: []string{"legacy", "ftp://y"}},
		{name: "password in a bad URL is not shown",
			src:  "version: 1\nupstreams:\n  legacy: {url: \"ftp://user:s3cr3t@x\"}\nnodes:\n  v: {value: 1}\n",
			want: []string{"bad.yaml:3:", "legacy", "ftp://x"}},
		{name: "query in a path template",
			src:  "version: 1\nupstreams:\n  u: {url: \"http://h\"}\ninputs: {id: string}\nnodes:\n  a: {http: {upstream: u, path: \"/x?id={id}\"}}\n",
			want: []string{"bad.yaml:6:", "a", "no query"}},
		{name: "dot-dot in a path template",
			src:  "version: 1\nupstreams:\n  u: {url: \"http://h\"}\ninputs: {id: string}\nnodes:\n  a: {http: {upstream: u, path: \"/x/../{id}\"}}\n",
			want: []string{"bad.yaml:6:", "a", `".."`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := spec.Parse("bad.yaml", []byte(c.src), c.opts...)
			if err == nil {
				s.Close()
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

// TestSpecCauseKeepsQueryValuesOut: a transport error of an http node
// whose query holds a value from outside (an api key, a card number) does
// not show the value in the node's cause, which the CLI prints, run
// records keep and OTel exception events carry.
func TestSpecCauseKeepsQueryValuesOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // a transport error, which names the URL
		}
	}))
	defer srv.Close()
	src := "version: 1\nupstreams:\n  u: {url: \"" + srv.URL + "\"}\ninputs: {card: string}\n" +
		"nodes:\n  a: {http: {upstream: u, path: \"/cards/{card}\", query: {pan: \"{card}\"}}}\n"
	s, err := spec.Parse("q.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const pan = "4111111111111111"
	res := run(t, s, executor.BindNamed("card", pan))
	n := outcome(t, res, "a")
	if n.Outcome != executor.OutcomeError || n.Cause == nil {
		t.Fatalf("outcome %v, cause %v: want a transport error", n.Outcome, n.Cause)
	}
	if strings.Contains(n.Cause.Error(), pan) {
		t.Errorf("cause shows the card number: %v", n.Cause)
	}
	if !strings.Contains(n.Cause.Error(), "/cards/{card}") || !strings.Contains(n.Cause.Error(), "pan=REDACTED") {
		t.Errorf("cause %v: want the path template and the redacted query", n.Cause)
	}
}
