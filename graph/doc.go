// Package graph is the untyped core of featgraph: a [Builder] that collects
// nodes, validation, topological order, ancestors of a set of targets and
// the critical path of a graph for given per-node durations.
//
// Users declare nodes with the typed constructors of package nodes, which
// return a [Ref] per node, and run the built [Graph] with package executor.
// A Ref belongs to the builder it was declared on: the executor and
// [Graph.Resolve] reject the zero Ref and a Ref of another graph rather than
// answer for another node. Callers that know nodes by name only use
// [Named].
//
// A built Graph is immutable and safe for concurrent use: nothing it
// returns gives access to its node descriptors. Node IDs are dense,
// starting at zero in declaration order, so per-node data can live in flat
// slices indexed by NodeID.
//
// Every Lookup of this module (Graph.Lookup, [Lookup], executor's
// Result.Lookup) returns its answer and an error, which matches
// [ErrUnknownNode] when there is no such node.
package graph

// For maintainers: how the packages of this module reach the descriptors.
//
// The node descriptors (graphdef.Node with its body funcs, retry policy,
// Each spec) live in internal/graphdef, so users can neither build one nor
// change one inside a built graph, and their fields are not public API.
// Builder and Graph keep them in unexported fields and export no method
// that hands them out. The front ends of this module (nodes, spec,
// graphtest, viz, cache, batch, fetchers, executor, ...) still need to add
// descriptors to a *Builder and read them from a *Graph. They do so through
// hooks, grpc's pattern: graphdef declares function variables (Add, Fail,
// Declared, Nodes, New, StampRef, RefOf), typed with any where graph's own
// types would make an import cycle, and this package's init (hooks.go) sets
// them. internal/graphx imports both packages and wraps each hook with its
// real types, so callers stay type-safe (graphx.Add[T](b, desc) returns a
// Ref[T]; graphx.Node(g, id) returns the descriptor, read-only by
// contract). The same trick lets package cache make a nodes.Option and the
// spec apply one (graphdef.NewOption, ApplyOption, set by nodes' init).
//
// Ref identity: a Builder makes an identity (a pointer) on first use and
// stamps it on every Ref declared on it; Build hands it to the Graph, and
// graphx.Rebuild (the test harness's stubbed copy) keeps it. Resolve
// compares it, so the zero Ref (nil identity) and Refs of other builders
// fail even when their ID and name happen to match.
