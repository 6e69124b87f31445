package graphdef

// The hooks below are set by package graph's init and called only through
// package graphx, which gives them their real types. They are typed with any
// where the real type is one of graph's (graph imports graphdef, so graphdef
// cannot name graph's types).
var (
	// Add declares n on the *graph.Builder b and returns its NodeID.
	Add func(b any, n Node) int32
	// Fail records a declaration error on the *graph.Builder b.
	Fail func(b any, err error)
	// Declared returns the descriptor declared as id on the *graph.Builder b.
	Declared func(b any, id int32) (Node, bool)
	// Nodes returns the descriptors of the *graph.Graph g, shared: callers
	// must not modify them.
	Nodes func(g any) []Node
	// New builds a *graph.Graph from descriptors. When like, a *graph.Graph,
	// is not nil, the Refs of like are valid for the new graph: the caller
	// keeps every node's ID and name (the test harness, rewriting bodies).
	New func(descs []Node, earlier []error, like any) (any, error)
	// StampRef sets the *graph.Ref[T] ref to node id of the *graph.Builder or
	// *graph.Graph owner.
	StampRef func(ref any, owner any, id int32)
	// RefOf reports the node ID of target when it is a graph.Ref of the
	// *graph.Builder b.
	RefOf func(b any, target any) (int32, bool)
)

// NewOption is set by package nodes' init: it returns a nodes.Option that
// applies apply to the node's descriptor, for packages of this module that
// declare options of their own (package cache).
var NewOption func(apply func(n *Node) error) any

// ApplyOption is set by package nodes' init: it applies the nodes.Option opt
// to n, for front ends that build descriptors themselves (the spec).
var ApplyOption func(opt any, n *Node) error
