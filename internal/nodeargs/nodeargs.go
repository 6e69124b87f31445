// Package nodeargs lets graphtest hand a stub function the same nodes.Args
// a FetchN or ComputeN body gets, without a constructor in nodes' public
// API. Package nodes sets New when it is initialized.
package nodeargs

import "github.com/featgraph/featgraph/graph"

// New returns a function that wraps the values of the dependencies ids
// (with their names, in declaration order) as a nodes.Args, typed any to
// avoid an import cycle. Set by package nodes.
var New func(ids []graph.NodeID, names []string) func(vals []any) any
