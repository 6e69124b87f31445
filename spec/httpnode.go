package spec

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
)

// compiledRequest is an http node's request with its templates parsed.
type compiledRequest struct {
	node   string
	method string
	path   template
	// pathTmpl is path as a fetchers path template: each placeholder one
	// escaped segment, and errors show the template, not the values.
	pathTmpl fetchers.PathTemplate
	query    []struct {
		name string
		tmpl template
	}
	body       any // with templates in its strings
	idempotent bool
	deps       []string
}

// compileRequest parses h's templates and lists the names they use, in order.
func compileRequest(node string, h *httpDecl) (*compiledRequest, error) {
	r := &compiledRequest{node: node, method: h.Method, idempotent: h.Idempotent}
	var err error
	if r.path, err = parseTemplate(h.Path); err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	if r.pathTmpl, err = r.path.pathTemplate(); err != nil {
		return nil, fmt.Errorf("path %q: %w", h.Path, err)
	}
	add := func(t template) {
		for _, ref := range t.refs() {
			if !contains(r.deps, ref) {
				r.deps = append(r.deps, ref)
			}
		}
	}
	add(r.path)
	for _, q := range h.Query {
		t, err := parseTemplate(q.Value)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Name, err)
		}
		add(t)
		r.query = append(r.query, struct {
			name string
			tmpl template
		}{q.Name, t})
	}
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch x := v.(type) {
		case string:
			t, err := parseTemplate(x)
			if err != nil {
				return nil, fmt.Errorf("body: %w", err)
			}
			add(t)
			return t, nil
		case map[string]any:
			out := make(map[string]any, len(x))
			for _, k := range slices.Sorted(maps.Keys(x)) { // sorted: the dependencies' order is stable
				if out[k], err = walk(x[k]); err != nil {
					return nil, err
				}
			}
			return out, nil
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				if out[i], err = walk(e); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		return v, nil
	}
	if h.Body != nil {
		if r.body, err = walk(h.Body); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// render builds the request from the values of the node's dependencies.
func (r *compiledRequest) render(vals map[string]any) (request, error) {
	req := request{method: r.method, idempotent: r.idempotent, path: r.pathTmpl.String()}
	var err error
	if req.pathValues, err = r.path.values(vals); err != nil {
		return req, err
	}
	if _, err := r.pathTmpl.Expand(req.pathValues...); err != nil {
		// A value that would change the path's shape: refused before
		// anything is sent (the fetcher checks again).
		return req, err
	}
	for _, p := range r.query {
		v, err := p.tmpl.render(vals)
		if err != nil {
			return req, err
		}
		if req.query == nil {
			req.query = url.Values{}
		}
		req.query.Add(p.name, v)
	}
	if r.body != nil {
		body, err := renderBody(r.body, vals)
		if err != nil {
			return req, err
		}
		if req.body, err = json.Marshal(body); err != nil {
			return req, fmt.Errorf("body: %w", err)
		}
	}
	return req, nil
}

// renderBody fills a body's templates: a string that is one placeholder
// takes the value itself (a number stays a number), any other its text.
func renderBody(v any, vals map[string]any) (any, error) {
	switch x := v.(type) {
	case template:
		if p, ok := x.whole(); ok {
			return p.lookup(vals)
		}
		return x.render(vals)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := renderBody(e, vals)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderBody(e, vals)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// request prepares the request of an http node or each element: its
// upstream's client and its compiled templates.
func (b *builder) request(n *nodeDecl, d *graphdef.Node) (*compiledRequest, client, bool) {
	h := n.http
	if h == nil {
		return nil, client{}, false
	}
	u, ok := b.ups[h.Upstream]
	if !ok {
		b.failAt(h.at, n.name, "unknown upstream %q (the spec has %s)", h.Upstream, b.upstreamNames())
		return nil, client{}, false
	}
	r, err := compileRequest(n.name, h)
	if err != nil {
		b.failAt(h.at, n.name, "%v", err)
		return nil, client{}, false
	}
	c, ok := b.upstream(n, u)
	if !ok {
		return nil, client{}, false
	}
	if d.Timeout == 0 {
		d.Timeout = time.Duration(u.Timeout)
	}
	hjs, _ := json.Marshal(h)
	ujs, _ := json.Marshal(u)
	d.Meta[metaHTTP], d.Meta[metaUpstream] = string(hjs), string(ujs)
	d.Meta["upstream"] = u.Name // what package viz labels a fetch with
	b.setPolicies(n, d)
	return r, c, true
}

func (b *builder) httpNode(n *nodeDecl, d *graphdef.Node) {
	d.Kind = graph.KindFetch
	r, c, ok := b.request(n, d)
	if !ok {
		return
	}
	d.Deps = r.deps
	t := b.types[n.name]
	deps := r.deps
	d.Fetch = func(ctx context.Context, args []any) (any, error) {
		vals := make(map[string]any, len(deps))
		for i, name := range deps {
			vals[name] = args[i]
		}
		req, err := r.render(vals)
		if err != nil {
			return nil, err
		}
		v, err := c.fetch(ctx, req)
		if err != nil {
			return nil, err
		}
		v, err = t.Convert(v)
		if err != nil {
			return nil, fmt.Errorf("answer of %s %s: %w", req.method, req.path, err)
		}
		return v, nil
	}
}
