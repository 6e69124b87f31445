package spec

import (
	"encoding/json"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/featgraph/featgraph/cache"
	"github.com/featgraph/featgraph/graph"
)

// metaCache is the JSON cache policy of a node, for Write.
const metaCache = "spec.cache"

// cacheDecl is a node's cache: {ttl: 10m, stale: 1h}.
type cacheDecl struct {
	TTL   duration `json:"ttl"`
	Stale duration `json:"stale,omitempty"`
	at    pos
}

// WithCache keeps the values of the spec's nodes that declare cache in c
// (shared with other specs and graphs, with a Redis tier if c has one).
// Without it, a spec with cached nodes makes an in-process cache of its
// own, closed by Spec.Close.
func WithCache(c *cache.Cache) Option {
	return func(cfg *config) { cfg.cache = c }
}

// parseCache reads a node's cache key, if it has one.
func (p *parser) parseCache(fs map[string]entry, node string, d *nodeDecl) {
	e, has := fs["cache"]
	if !has {
		return
	}
	cf, ok := p.fields(e.value, node, "cache", "ttl", "stale")
	if !ok {
		return
	}
	cd := &cacheDecl{at: at(e.value)}
	good := true
	if t, has := cf["ttl"]; has {
		v, ok := p.duration(t.value, node, "cache ttl")
		if ok && v <= 0 {
			p.fail(t.value, node, "cache ttl must be positive, not %v", v)
			ok = false
		}
		good = good && ok
		cd.TTL = duration(v)
	} else {
		p.fail(e.value, node, "cache needs ttl: how long a value is served fresh, such as 10m")
		good = false
	}
	if s, has := cf["stale"]; has {
		v, ok := p.duration(s.value, node, "cache stale")
		good = good && ok
		cd.Stale = duration(v)
	}
	if good {
		d.cache = cd
	}
}

// applyCache puts a built fetch or each node behind the spec's cache.
func (b *builder) applyCache(n *nodeDecl, d *graphdef.Node) {
	if n.cache == nil || (d.Kind == graph.KindFetch && d.Fetch == nil) { // an unbound go node
		return
	}
	if b.c.cache == nil {
		c, err := cache.New()
		if err != nil {
			b.failAt(n.cache.at, n.name, "cache: %v", err)
			return
		}
		b.c.cache, b.ownCache = c, c
	}
	if err := graphdef.ApplyOption(cache.For(b.c.cache, time.Duration(n.cache.TTL), cache.Stale(time.Duration(n.cache.Stale))), d); err != nil {
		b.failAt(n.cache.at, n.name, "%v", err)
		return
	}
	js, _ := json.Marshal(n.cache)
	d.Meta[metaCache] = string(js)
}

// declareCache reads a node's cache policy back for Write.
func declareCache(n *graphdef.Node, d *nodeDecl) error {
	js, ok := n.Meta[metaCache]
	if !ok {
		// A Go-built node with cache.For: "ttl=10m0s stale=1h0m0s".
		var ttl, stale string
		if _, err := fmt.Sscanf(n.Meta[cache.MetaKey], "ttl=%s stale=%s", &ttl, &stale); err != nil {
			return nil
		}
		t, err1 := time.ParseDuration(ttl)
		s, err2 := time.ParseDuration(stale)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad %s annotation %q", cache.MetaKey, n.Meta[cache.MetaKey])
		}
		d.cache = &cacheDecl{TTL: duration(t), Stale: duration(s)}
		return nil
	}
	d.cache = &cacheDecl{}
	if err := json.Unmarshal([]byte(js), d.cache); err != nil {
		return fmt.Errorf("bad %s annotation: %w", metaCache, err)
	}
	return nil
}

// encodeCache writes a node's cache key.
func encodeCache(m *yaml.Node, c *cacheDecl) {
	if c == nil {
		return
	}
	cm := add(m, "cache", mapping(true))
	add(cm, "ttl", durationNode(time.Duration(c.TTL)))
	if c.Stale > 0 {
		add(cm, "stale", durationNode(time.Duration(c.Stale)))
	}
}
