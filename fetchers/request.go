package fetchers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Request is one call to an Upstream: what a fetch node builds from its
// dependencies.
type Request struct {
	// Method is the HTTP method; empty means GET.
	Method string
	// Path is appended to the upstream's base URL (unescaped, like url.URL.Path).
	Path string
	// Query is the URL query.
	Query url.Values
	// Header holds headers of this request only; WithHeader sets headers
	// of every request.
	Header http.Header
	// Body, when not nil, is sent as JSON: a []byte or json.RawMessage as
	// is, anything else through encoding/json.
	Body any
	// Idempotent marks a request with another method than GET, HEAD,
	// OPTIONS, TRACE, PUT or DELETE as safe to send more than once, so
	// that it may be retried, hedged and shared through the request cache
	// (a model-scoring POST, say).
	Idempotent bool
}

// Get returns a GET Request of path with query given as key, value pairs.
// An odd trailing key gets an empty value.
func Get(path string, keyValues ...string) Request {
	r := Request{Method: http.MethodGet, Path: path}
	if len(keyValues) > 0 {
		r.Query = url.Values{}
		for i := 0; i < len(keyValues); i += 2 {
			v := ""
			if i+1 < len(keyValues) {
				v = keyValues[i+1]
			}
			r.Query.Add(keyValues[i], v)
		}
	}
	return r
}

// PostJSON returns a POST Request of path that sends body as JSON.
func PostJSON(path string, body any) Request {
	return Request{Method: http.MethodPost, Path: path, Body: body}
}

func (r Request) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// repeatable reports whether the request may be sent more than once.
func (r Request) repeatable() bool {
	if r.Idempotent {
		return true
	}
	switch r.method() {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// prepared is a Request resolved against its Upstream: what every attempt,
// hedge and cache key is made from.
type prepared struct {
	node   string
	method string
	url    string
	path   string
	header http.Header
	body   []byte
	repeat bool
}

func (u *Upstream) prepare(node string, r Request) (*prepared, error) {
	p := &prepared{node: node, method: r.method(), url: u.resolve(r.Path, r.Query), path: r.Path, header: r.Header, repeat: r.repeatable()}
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		p.body = b
	case json.RawMessage:
		p.body = b
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(b); err != nil {
			return nil, &Error{Upstream: u.name, Node: node, Method: p.method, Path: r.Path, Err: fmt.Errorf("%w: %w", ErrBadRequest, err)}
		}
		p.body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	return p, nil
}

// cacheKey identifies the request within its upstream: equal keys get the
// same answer.
func (p *prepared) cacheKey(upstream string) string {
	return upstream + "\x00" + p.method + "\x00" + p.url + "\x00" + string(p.body)
}
