package graph

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every validation error of Build.
var ErrInvalid = errors.New("invalid graph")

// DuplicateNodeError reports two nodes declared with the same name.
type DuplicateNodeError struct {
	Name string
}

func (e *DuplicateNodeError) Error() string {
	return fmt.Sprintf("graph: node %q is declared twice", e.Name)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *DuplicateNodeError) Is(target error) bool { return target == ErrInvalid }

// UnknownDependencyError reports a dependency that names no node.
type UnknownDependencyError struct {
	Node       string
	Dependency string
}

func (e *UnknownDependencyError) Error() string {
	return fmt.Sprintf("graph: node %q depends on unknown node %q", e.Node, e.Dependency)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *UnknownDependencyError) Is(target error) bool { return target == ErrInvalid }

// CycleError reports a dependency cycle. Path starts and ends with the same
// node, each node depending on the next: a -> b -> c -> a.
type CycleError struct {
	Path []string
}

func (e *CycleError) Error() string {
	return "graph: dependency cycle: " + strings.Join(e.Path, " -> ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *CycleError) Is(target error) bool { return target == ErrInvalid }

// InvalidNodeError reports a node whose descriptor is malformed: an empty
// name, a missing body, the wrong number of dependencies for its kind.
type InvalidNodeError struct {
	Node   string
	Reason string
}

func (e *InvalidNodeError) Error() string {
	return fmt.Sprintf("graph: node %q: %s", e.Node, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidNodeError) Is(target error) bool { return target == ErrInvalid }

// ErrUnknownNode is matched (with errors.Is) by the errors of [Graph.Lookup],
// [Lookup] and [Graph.Resolve]: the name or Ref given names no node of the
// graph.
var ErrUnknownNode = errors.New("unknown node")

// UnknownNodeError reports a name or a Ref that names no node of a graph.
type UnknownNodeError struct {
	// Name is the name looked up, or the name of the Ref; "" for the zero Ref.
	Name string
	// Reason says why the Ref does not fit ("Ref of another graph"); "" when
	// no node has the name.
	Reason string
}

func (e *UnknownNodeError) Error() string {
	switch {
	case e.Reason == "":
		return fmt.Sprintf("graph: no node %q", e.Name)
	case e.Name == "":
		return "graph: " + e.Reason
	default:
		return fmt.Sprintf("graph: node %q: %s", e.Name, e.Reason)
	}
}

// Is makes errors.Is(err, ErrUnknownNode) true.
func (e *UnknownNodeError) Is(target error) bool { return target == ErrUnknownNode }
