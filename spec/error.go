package spec

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every error of Load and Parse
// that comes from the spec's content.
var ErrInvalid = errors.New("invalid spec")

// ErrUnknownUpstream is matched (with errors.Is) by the error of an
// [UpstreamURL] option naming an upstream the spec does not declare.
var ErrUnknownUpstream = errors.New("no such upstream")

// Error is one problem found in a spec, with where it is.
type Error struct {
	// File is the file name given to Load or Parse.
	File string
	// Line and Col locate the problem, both counted from 1; 0 when unknown.
	Line, Col int
	// Node names the node (or input, or upstream) concerned, if any.
	Node string
	// Msg says what is wrong.
	Msg string
	// Err is the underlying error, if any (a *graph.CycleError, an expr
	// compile error...).
	Err error
	// match is what the error also matches (errors.Is, errors.As) without
	// repeating its text: the *graph.UnknownDependencyError of an unknown
	// dependency, as a Go graph's Build reports it; ErrUnknownUpstream.
	match error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Line > 0 && e.Col > 0:
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	case e.Line > 0:
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Node != "" {
		fmt.Fprintf(&b, "%q: ", e.Node)
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error: for an unknown dependency, the
// *graph.UnknownDependencyError a Go graph's Build would return.
func (e *Error) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return e.match
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// ErrorList is every problem found in a spec, in the order of the file.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the errors, so that errors.Is and errors.As look into each.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// err returns l as an error: nil when empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
