package spec

import (
	"errors"
	"fmt"
)

// Limits bounds what loading a spec and evaluating its expressions may use,
// so that a spec written by another team, or values sent by whoever calls
// the service, cannot stall or crash the process. A zero field takes its
// default (see [DefaultLimits]); give limits to Load and Parse with
// [WithLimits].
type Limits struct {
	// FileSize is the largest spec file Load reads, in bytes.
	FileSize int64
	// ExprSize is the longest expression source, in bytes.
	ExprSize int
	// ExprDepth is the deepest nesting of brackets and prefix operators in
	// an expression.
	ExprDepth int
	// ExprMemory is about how many bytes one evaluation of an expression
	// may allocate in all: strings it builds, lists and maps it makes,
	// ranges. An evaluation that would go past it fails, before allocating.
	ExprMemory int64
	// ExprSteps is how many iterations of predicates (the {...} of all,
	// any, count, map, filter, reduce...) one evaluation may run.
	ExprSteps int64
}

// DefaultLimits are the limits Load and Parse use when not told otherwise.
var DefaultLimits = Limits{
	FileSize:   8 << 20,
	ExprSize:   16 << 10,
	ExprDepth:  100,
	ExprMemory: 64 << 20,
	ExprSteps:  10_000_000,
}

// WithLimits sets the limits of loading and of the expressions of the
// spec; its zero fields keep their defaults.
func WithLimits(l Limits) Option {
	return func(c *config) { c.limits = l }
}

// resolve fills the zero fields of l with the defaults.
func (l Limits) resolve() Limits {
	d := DefaultLimits
	if l.FileSize > 0 {
		d.FileSize = l.FileSize
	}
	if l.ExprSize > 0 {
		d.ExprSize = l.ExprSize
	}
	if l.ExprDepth > 0 {
		d.ExprDepth = l.ExprDepth
	}
	if l.ExprMemory > 0 {
		d.ExprMemory = l.ExprMemory
	}
	if l.ExprSteps > 0 {
		d.ExprSteps = l.ExprSteps
	}
	return d
}

// ErrLimit is matched (with errors.Is) by the error of an expression that
// went past its memory or step budget, and by the error of Load for a file
// larger than its size limit.
var ErrLimit = errors.New("limit exceeded")

// limitError says which limit was exceeded; it matches ErrLimit.
type limitError struct {
	what  string
	limit int64
	count bool // the limit is a count, not bytes
}

func (e *limitError) Error() string {
	return fmt.Sprintf("%s exceeded (the limit is %s)", e.what, human(e.limit, !e.count))
}

func (e *limitError) Is(target error) bool { return target == ErrLimit }

// human writes n as bytes (64 MB) or as a count.
func human(n int64, bytes bool) string {
	if !bytes {
		return fmt.Sprint(n)
	}
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
