package graph

import "github.com/featgraph/featgraph/internal/graphdef"

// init hands package graphdef the functions that reach into a Builder or a
// Graph; package graphx wraps them with their real types. See doc.go.
func init() {
	graphdef.Add = func(b any, n graphdef.Node) int32 { return int32(b.(*Builder).add(n)) }
	graphdef.Fail = func(b any, err error) { b.(*Builder).fail(err) }
	graphdef.Declared = func(b any, id int32) (graphdef.Node, bool) {
		bb := b.(*Builder)
		if id < 0 || int(id) >= len(bb.nodes) {
			return graphdef.Node{}, false
		}
		return bb.nodes[id], true
	}
	graphdef.Nodes = func(g any) []graphdef.Node { return g.(*Graph).nodes }
	graphdef.New = func(descs []graphdef.Node, earlier []error, like any) (any, error) {
		self := new(identity)
		if l, ok := like.(*Graph); ok {
			self = l.self
		}
		g, err := build(descs, earlier, self)
		if err != nil {
			return nil, err
		}
		return g, nil
	}
	graphdef.StampRef = func(ref any, owner any, id int32) {
		r := ref.(interface {
			stamp(NodeID, string, *identity)
		})
		switch o := owner.(type) {
		case *Builder:
			r.stamp(NodeID(id), o.nodes[id].Name, o.identity())
		case *Graph:
			r.stamp(NodeID(id), o.nodes[id].Name, o.self)
		}
	}
	graphdef.RefOf = func(b any, target any) (int32, bool) {
		bb := b.(*Builder)
		r, ok := target.(refHandle)
		if !ok {
			return 0, false
		}
		id, name, owner := r.handle()
		if owner == nil || owner != bb.identity() || id < 0 || int(id) >= len(bb.nodes) || bb.nodes[id].Name != name {
			return 0, false
		}
		return int32(id), true
	}
}
