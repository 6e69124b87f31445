package cache

import (
	"fmt"
	"runtime/debug"

	"github.com/featgraph/featgraph/executor"
)

// newPanicError is a panic of a cached node's body, caught by the cache (a
// background refresh has no executor above it to catch it): the executor's
// own [executor.PanicError], so that one errors.As finds both.
func newPanicError(node string, v any) *executor.PanicError {
	return &executor.PanicError{Node: node, Value: v, Stack: debug.Stack()}
}

// KeyError says why a key function could not key a node's dependency
// values; the node then runs uncached (see Stats.Bypassed).
type KeyError struct {
	// Index is the position of the dependency value that has no key.
	Index int
	// Type is its Go type.
	Type string
	// Err is the encoder's error, if any.
	Err error
}

func (e *KeyError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cache: argument %d (%s) has no key: %v", e.Index, e.Type, e.Err)
	}
	return fmt.Sprintf("cache: argument %d (%s) has no key", e.Index, e.Type)
}

// Unwrap returns the encoder's error.
func (e *KeyError) Unwrap() error { return e.Err }
