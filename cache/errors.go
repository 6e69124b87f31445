package cache

import (
	"fmt"
	"runtime/debug"
)

// PanicError is a panic of a cached node's body, caught by the cache (a
// background refresh has no executor above it to catch it).
type PanicError struct {
	// Node names the node whose body panicked.
	Node string
	// Value is what the body panicked with.
	Value any
	// Stack is the stack of the panicking goroutine.
	Stack []byte
}

func newPanicError(node string, v any) *PanicError {
	return &PanicError{Node: node, Value: v, Stack: debug.Stack()}
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("node %q panicked: %v\n%s", e.Node, e.Value, e.Stack)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
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
