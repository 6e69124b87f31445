package fetchers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Request is one call to an Upstream: what a fetch node builds from its
// dependencies.
type Request struct {
	// Method is the HTTP method; empty means GET.
	Method string
	// Path is appended to the upstream's base path, in escaped form (as
	// it goes on the wire: a valid %XX escape stands for its byte, other
	// characters a path may not hold, '?' and '#' included, are escaped).
	// A path with a "." or ".." segment or an empty segment between two
	// slashes, as written or once decoded, is refused with ErrBadPath.
	//
	// With PathValues set, Path is a template (see PathTemplate) whose
	// placeholders take PathValues, each as exactly one escaped segment,
	// and errors show the template rather than the values. Build paths
	// that hold values from outside with GetPath or PathOf, never by
	// concatenation: a value such as "../../admin" or "a1/balance" would
	// otherwise choose another resource.
	Path string
	// PathValues, when not nil, fill the placeholders of the template in
	// Path, in order.
	PathValues []string
	// Query is the URL query; its values are escaped as query values.
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

// GetRequest returns a GET Request of path (in escaped form, see Request.Path)
// with query given as key, value pairs; query values are escaped. An odd
// trailing key gets an empty value. A path holding values from outside is
// built with GetPath instead.
func GetRequest(path string, keyValues ...string) Request {
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

// PostJSONRequest returns a POST Request of path that sends body as JSON. For a
// path holding values from outside, give a template and set PathValues:
//
//	r := fetchers.PostJSONRequest("/cards/{id}/holds", hold)
//	r.PathValues = []string{cardID}
func PostJSONRequest(path string, body any) Request {
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
	path   string // Request.Path: the template when there are PathValues
	// shown is the URL errors show when the path came from a template:
	// the template in place of the values, query values redacted.
	shown  string
	header http.Header
	body   []byte
	repeat bool
}

func (u *Upstream) prepare(node string, r Request) (*prepared, error) {
	p := &prepared{node: node, method: r.method(), path: r.Path, header: r.Header, repeat: r.repeatable()}
	path, err := r.escapedPath()
	if err != nil {
		return nil, u.errorf(p, 0, 0, fmt.Errorf("%w: %w", ErrBadRequest, err))
	}
	p.url = u.resolve(path, r.Query)
	if r.PathValues != nil {
		p.shown = u.shownURL(r.Path, r.Query)
	}
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
// same answer. It holds the method, URL, body and the request's own
// headers, each part length-prefixed so that no two requests share a key
// by a trick of separators.
func (p *prepared) cacheKey(upstream string) string {
	var b strings.Builder
	part := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	part(upstream)
	part(p.method)
	part(p.url)
	part(string(p.body))
	for _, k := range slices.Sorted(maps.Keys(p.header)) {
		ck := http.CanonicalHeaderKey(k)
		for _, v := range p.header[k] {
			part(ck)
			part(v)
		}
	}
	return b.String()
}
