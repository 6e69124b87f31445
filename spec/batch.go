package spec

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"net/url"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/featgraph/featgraph/batch"
	"github.com/featgraph/featgraph/graph"
)

// metaBatch is the JSON batch declaration of an http node, for Write.
const metaBatch = "spec.batch"

// batchDecl makes an http node one key of a batch endpoint:
//
//	batch: {key: merchant_id, max: 50, max_wait: 1ms, send: query, param: id, answer: map}
//
// The node's request (upstream, method, path, fixed query) names the
// endpoint; the keys go as a JSON array body (send: body) or as a repeated
// query parameter (send: query, param: id); the answer is a JSON object by
// key (answer: map) or a list in the order of the keys (answer: list).
// Nodes with the same endpoint and batch settings share calls.
type batchDecl struct {
	Key     string   `json:"key"`
	Max     int      `json:"max,omitempty"`
	MaxWait duration `json:"max_wait,omitempty"`
	Send    string   `json:"send"`
	Param   string   `json:"param,omitempty"`
	Answer  string   `json:"answer"`
	at      pos
}

// parseBatch reads the batch key of an http node.
func (p *parser) parseBatch(fs map[string]entry, node string, d *nodeDecl) {
	e, has := fs["batch"]
	if !has || d.kind != "http" {
		return
	}
	bf, ok := p.fields(e.value, node, "batch", "key", "max", "max_wait", "send", "param", "answer")
	if !ok {
		return
	}
	bd := &batchDecl{at: at(e.value), Send: "query", Answer: "map"}
	if d.http != nil && (d.http.Method == "POST" || d.http.Method == "PUT") {
		bd.Send = "body"
	}
	if k, has := bf["key"]; has {
		if s, ok := p.name(k.value, node, "batch key"); ok {
			bd.Key = s
			if _, seen := d.refs[s]; !seen {
				d.refs[s] = at(k.value)
			}
		}
	} else {
		p.fail(e.value, node, "batch needs key: the input or node whose value is this node's key")
	}
	if m, has := bf["max"]; has {
		bd.Max, _ = p.integer(m.value, node, "batch max", 1)
	}
	if w, has := bf["max_wait"]; has {
		v, _ := p.duration(w.value, node, "batch max_wait")
		bd.MaxWait = duration(v)
	}
	if s, has := bf["send"]; has {
		if v, ok := p.str(s.value, node, "batch send"); ok {
			if v != "body" && v != "query" {
				p.fail(s.value, node, "batch send must be body (a JSON array) or query (a repeated parameter), not %q", v)
			}
			bd.Send = v
		}
	}
	if bd.Send == "query" {
		bd.Param = "id"
	}
	if s, has := bf["param"]; has {
		bd.Param, _ = p.str(s.value, node, "batch param")
	}
	if a, has := bf["answer"]; has {
		if v, ok := p.str(a.value, node, "batch answer"); ok {
			if v != "map" && v != "list" {
				p.fail(a.value, node, "batch answer must be map (an object by key) or list (values in key order), not %q", v)
			}
			bd.Answer = v
		}
	}
	d.batch = bd
}

// batchNode builds an http node with a batch: one key of a shared call.
func (b *builder) batchNode(n *nodeDecl, d *graphdef.Node) {
	d.Kind = graph.KindFetch
	r, c, ok := b.request(n, d)
	if !ok {
		return
	}
	h, bd := n.http, n.batch
	if len(r.deps) > 0 || h.Body != nil {
		b.failAt(bd.at, n.name, "a batch request has no templates and no body: its keys come from batch key")
		return
	}
	sig, _ := json.Marshal([]any{h.Upstream, h.Method, h.Path, h.Query, bd.Max, bd.MaxWait, bd.Send, bd.Param, bd.Answer, fmt.Sprintf("%p", c.up)})
	bt := b.batches[string(sig)]
	if bt == nil {
		var opts []batch.Option
		if bd.Max > 0 {
			opts = append(opts, batch.MaxSize(bd.Max))
		}
		if bd.MaxWait > 0 {
			opts = append(opts, batch.MaxWait(time.Duration(bd.MaxWait)))
		}
		var err error
		bt, err = batch.New(h.Upstream+" "+h.Method+" "+h.Path, batchFetch(c, h, bd), opts...)
		if err != nil {
			b.failAt(bd.at, n.name, "%v", err)
			return
		}
		if b.batches == nil {
			b.batches = map[string]*batch.Batch[string, any]{}
		}
		b.batches[string(sig)] = bt
	}
	t := b.types[n.name]
	d.Deps = []string{bd.Key}
	d.Fetch = func(ctx context.Context, args []any) (any, error) {
		v, err := bt.Load(ctx, fmt.Sprint(args[0]))
		if err != nil {
			return nil, err
		}
		return t.Convert(v)
	}
	js, _ := json.Marshal(bd)
	d.Meta[metaBatch] = string(js)
	d.Meta[batch.MetaKey] = bt.Name()
}

// batchFetch is the call of a batch endpoint for many keys.
func batchFetch(c client, h *httpDecl, bd *batchDecl) batch.Func[string, any] {
	return func(ctx context.Context, keys []string) (map[string]any, error) {
		req := request{method: h.Method, path: h.Path, idempotent: true} // a batch read
		for _, q := range h.Query {
			if req.query == nil {
				req.query = url.Values{}
			}
			req.query.Add(q.Name, q.Value)
		}
		if bd.Send == "query" {
			if req.query == nil {
				req.query = url.Values{}
			}
			req.query[bd.Param] = keys
		} else {
			req.body, _ = json.Marshal(keys) // strings always encode
		}
		v, err := c.fetch(ctx, req)
		if err != nil {
			return nil, err
		}
		if bd.Answer == "list" {
			list, ok := v.([]any)
			if !ok || len(list) != len(keys) {
				return nil, fmt.Errorf("answer of %s %s: want a list of %d values, got %s", h.Method, h.Path, len(keys), describe(v))
			}
			out := make(map[string]any, len(keys))
			for i, k := range keys {
				out[k] = list[i]
			}
			return out, nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("answer of %s %s: want an object by key, got %s", h.Method, h.Path, describe(v))
		}
		return m, nil
	}
}

// declareBatch reads a node's batch declaration back for Write.
func declareBatch(n *graphdef.Node, d *nodeDecl) error {
	js, ok := n.Meta[metaBatch]
	if !ok {
		return nil
	}
	d.batch = &batchDecl{}
	if err := json.Unmarshal([]byte(js), d.batch); err != nil {
		return fmt.Errorf("bad %s annotation: %w", metaBatch, err)
	}
	return nil
}

// encodeBatch writes a node's batch key.
func encodeBatch(m *yaml.Node, bd *batchDecl) {
	if bd == nil {
		return
	}
	bm := add(m, "batch", mapping(true))
	add(bm, "key", scalar(bd.Key))
	if bd.Max > 0 {
		add(bm, "max", scalar(fmt.Sprint(bd.Max)))
	}
	if bd.MaxWait > 0 {
		add(bm, "max_wait", durationNode(time.Duration(bd.MaxWait)))
	}
	add(bm, "send", scalar(bd.Send))
	if bd.Param != "" {
		add(bm, "param", scalar(bd.Param))
	}
	add(bm, "answer", scalar(bd.Answer))
}

// closeBatches closes the batches a spec made.
func closeBatches(bs map[string]*batch.Batch[string, any]) {
	for _, bt := range bs {
		bt.Close()
	}
}
