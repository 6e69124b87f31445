// Package graph is the untyped core of featgraph: node descriptors, a
// builder, validation, topological order, ancestors of a set of targets and
// the critical path of a graph for given per-node durations.
//
// Most users never build descriptors by hand: package nodes declares typed
// nodes on a [Builder], and package executor runs the built [Graph]. The
// descriptors are exported so that other front ends (the YAML spec, the test
// harness, the pictures) can read and rewrite a graph.
//
// A built Graph is immutable and safe for concurrent use. Node IDs are dense,
// starting at zero in declaration order, so per-node run state can live in
// flat slices indexed by NodeID.
package graph
