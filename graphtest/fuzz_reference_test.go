package graphtest_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"slices"
	"strings"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/graphtest"
)

// This file is FuzzExecutor's reference: a sequential evaluator of the
// generated graph, and the comparison of a run with it.

// failure says why a node failed, in the reference.
type failure uint8

const (
	failNone    failure = iota
	failSelf            // its body returned an error (for an each: an element failed or panicked)
	failPanic           // its body panicked
	failTimeout         // its own timeout passed
	failUnbound         // an input the run did not bind
	failDep             // a dependency (or the branch taken, or an operand) failed
)

func (f failure) String() string {
	return [...]string{"-", "error", "panic", "timeout", "unbound", "dependency"}[f]
}

// expect is the reference's view of one node, as if the run needed it.
type expect struct {
	// never: the node cannot end before the run's deadline (deadline mode):
	// it depends on a hung node with no timeout. neverRunning says whether
	// it is running then (so times out) or waiting (so is canceled).
	never, neverRunning bool
	outcome             executor.Outcome
	value               any
	fail                failure
	// causes lists, for failDep, what the DependencyError may say: the
	// direct dependency and the root, the failure first in time. Of several
	// failed dependencies any may be first, so each is allowed.
	causes    []depCause
	fbRefused bool
	attempts  int    // tries of a fetch node that ran its body; 0 to not check
	branch    string // the branch an if takes
}

// depCause is one DependencyError a node may end with.
type depCause struct {
	dep, root string
	timeout   bool // the root failure was a timeout
}

func (e *expect) hasValue() bool { return !e.never && e.outcome.HasValue() }

// need says how surely the run needs a node.
type need uint8

const (
	needNone  need = iota // nothing the targets need: skipped
	needMaybe             // only an And/Or that may decide without it needs it
	needMust              // a target needs it: it must end as the reference says
)

func (n need) String() string { return [...]string{"none", "maybe", "must"}[n] }

// evaluate computes every node's expectation in declaration order
// (dependencies come first), for the sequential engine (executor.WithSequential)
// or the concurrent one.
func (fz *fuzzGraph) evaluate(sequential bool) []expect {
	ex := make([]expect, len(fz.nodes))
	for i := range fz.nodes {
		ex[i] = fz.eval(i, ex, sequential)
	}
	return ex
}

func (fz *fuzzGraph) eval(i int, ex []expect, sequential bool) expect {
	n := &fz.nodes[i]
	var e expect
	failDep := func(ds ...int) {
		e.fail = failDep
		for _, d := range ds {
			if ex[d].fail == failDep {
				for _, c := range ex[d].causes {
					e.causes = append(e.causes, depCause{dep: fz.name(d), root: c.root, timeout: c.timeout})
				}
			} else {
				e.causes = append(e.causes, depCause{dep: fz.name(d), root: fz.name(d), timeout: ex[d].fail == failTimeout})
			}
		}
	}
	// staticDeps reports whether the node may run its body: every static
	// dependency ended, and none failed. A failed dependency fails the node
	// at once, without waiting for the others (even one that never ends).
	staticDeps := func() bool {
		var failed []int
		for _, d := range n.deps {
			if !ex[d].never && !ex[d].hasValue() && !slices.Contains(failed, d) {
				failed = append(failed, d)
			}
		}
		if len(failed) > 0 {
			failDep(failed...)
			return false
		}
		for _, d := range n.deps {
			if ex[d].never {
				e.never = true
				return false
			}
		}
		return true
	}
	args := func() []any {
		out := make([]any, len(n.deps))
		for j, d := range n.deps {
			out[j] = ex[d].value
		}
		return out
	}
	switch n.kind {
	case kInput:
		if n.bound {
			e.value = project(tInt, n.c)
		} else {
			e.fail = failUnbound
		}
	case kValue:
		e.value = project(tInt, n.c)
	case kCompute:
		if !staticDeps() {
			break
		}
		switch n.fault {
		case fError:
			e.fail = failSelf
		case fPanic:
			e.fail = failPanic
		default:
			e.value = project(n.typ, n.base(args()))
		}
	case kFetch:
		if !staticDeps() {
			break
		}
		e.attempts = 1
		switch n.fault {
		case fError:
			e.fail = failSelf
		case fPanic:
			e.fail = failPanic
		case fHang, fSlow:
			if n.timeout == 0 {
				e.never, e.neverRunning, e.attempts = true, true, 0
				break
			}
			// The executor counts a try when its body returns, and a hung
			// body never does: the count of a timed-out node is not checked.
			e.fail, e.attempts = failTimeout, 0
		case fFlaky:
			if n.tries > n.fails {
				e.attempts = n.fails + 1
				e.value = project(n.typ, n.base(args()))
			} else {
				e.attempts, e.fail = n.tries, failSelf
			}
		default:
			e.value = project(n.typ, n.base(args()))
		}
	case kEach:
		if !staticDeps() {
			break
		}
		list := ex[n.deps[0]].value.([]int)
		hang, failed := false, false
		out := make([]int, len(list))
		for j, x := range list {
			switch n.elemFault(x) {
			case fHang:
				hang = true
			case fError, fPanic:
				failed = true
			}
			out[j] = n.elem(x)
			if (sequential || n.limit == 1) && (hang || failed) {
				break // one element at a time: the first to hang or fail is the last to start
			}
		}
		switch {
		case hang && n.timeout == 0:
			e.never, e.neverRunning = true, true
		case hang: // the failed elements cannot end the node: it waits for the hung one
			e.fail = failTimeout
		case failed:
			e.fail = failSelf
		default:
			e.value = out
		}
	case kIf:
		if !staticDeps() {
			break
		}
		b := n.lazy[1]
		if ex[n.deps[0]].value.(bool) {
			b = n.lazy[0]
		}
		e.branch = fz.name(b)
		switch {
		case ex[b].never:
			e.never, e.neverRunning = true, true
		case !ex[b].hasValue():
			failDep(b)
		default:
			e.value = ex[b].value
		}
	case kAnd, kOr:
		decisive := n.kind == kOr
		pending, failed := false, -1
		for _, op := range n.lazy {
			switch {
			case ex[op].never:
				pending = true
			case !ex[op].hasValue():
				if failed < 0 {
					failed = op
				}
			case ex[op].value.(bool) == decisive:
				e.value, e.outcome = decisive, executor.OutcomeOK
				return e
			}
		}
		switch {
		case pending:
			e.never, e.neverRunning = true, true
		case failed >= 0:
			failDep(failed)
		default:
			e.value = !decisive
		}
	}
	switch {
	case e.never:
	case e.fail == failNone:
		e.outcome = executor.OutcomeOK
	default:
		e.outcome = executor.OutcomeError
		if e.fail == failTimeout {
			e.outcome = executor.OutcomeTimeout
		}
		switch n.fb {
		case fbValue, fbFunc:
			e.outcome, e.value = executor.OutcomeFallback, n.fallbackValue(e.fail == failTimeout)
		case fbRefuses:
			e.fbRefused = true
		}
	}
	return e
}

// needs says, from the targets down, how surely the run needs each node.
func (fz *fuzzGraph) needs(ex []expect) []need {
	nd := make([]need, len(fz.nodes))
	raise := func(i int, l need) { nd[i] = max(nd[i], l) }
	for _, t := range fz.targets {
		raise(t, needMust)
	}
	for i := len(fz.nodes) - 1; i >= 0; i-- {
		l := nd[i]
		if l == needNone {
			continue
		}
		n := &fz.nodes[i]
		failedFast := ex[i].fail == failDep && slices.ContainsFunc(n.deps, func(d int) bool {
			return slices.ContainsFunc(ex[i].causes, func(c depCause) bool { return c.dep == fz.name(d) })
		})
		for _, d := range n.deps {
			// A node that fails fast no longer needs its other dependencies:
			// each may end first, or be canceled. Only a sole failed one is
			// sure to have ended as the reference says.
			if failedFast && !(len(ex[i].causes) > 0 && allSameDep(ex[i].causes) && ex[i].causes[0].dep == fz.name(d)) {
				raise(d, min(l, needMaybe))
				continue
			}
			raise(d, l)
		}
		switch n.kind {
		case kIf:
			if c := n.deps[0]; ex[c].hasValue() {
				b := n.lazy[1]
				if ex[c].value.(bool) {
					b = n.lazy[0]
				}
				raise(b, l)
			}
		case kAnd, kOr:
			decided := false
			for _, op := range n.lazy {
				decided = decided || ex[op].hasValue() && ex[op].value.(bool) == (n.kind == kOr)
			}
			for _, op := range n.lazy {
				if decided {
					raise(op, min(l, needMaybe))
				} else {
					raise(op, l)
				}
			}
		}
	}
	return nd
}

func allSameDep(cs []depCause) bool {
	for _, c := range cs {
		if c.dep != cs[0].dep {
			return false
		}
	}
	return true
}

// staticUnbound returns the inputs the targets need through static
// dependencies that the run does not bind: with one, nothing starts.
func (fz *fuzzGraph) staticUnbound() (closure []bool, unbound []int) {
	closure = make([]bool, len(fz.nodes))
	stack := slices.Clone(fz.targets)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if closure[i] {
			continue
		}
		closure[i] = true
		if fz.nodes[i].kind == kInput && !fz.nodes[i].bound {
			unbound = append(unbound, i)
		}
		stack = append(stack, fz.nodes[i].deps...)
	}
	return closure, unbound
}

// checkDoomed checks a run that needs an unbound input: the input failed,
// every other node it statically needs was canceled before it started, the
// rest skipped.
func (fz *fuzzGraph) checkDoomed(run *graphtest.Run, closure []bool) []string {
	res := run.Result()
	var problems []string
	nrs := res.Nodes()
	for i := range fz.nodes {
		nr := nrs[i]
		want := executor.OutcomeSkipped
		switch {
		case closure[i] && fz.nodes[i].kind == kInput && !fz.nodes[i].bound:
			want = executor.OutcomeError
			var ue *executor.UnboundInputError
			if !errors.As(nr.Cause, &ue) || ue.Input != fz.name(i) {
				problems = append(problems, fmt.Sprintf("%s: cause %v, want an UnboundInputError", fz.name(i), nr.Cause))
			}
		case closure[i]:
			want = executor.OutcomeCanceled
		}
		if nr.Outcome != want {
			problems = append(problems, fmt.Sprintf("%s: ended %s (%v); an input it needs is unbound: want %s", fz.name(i), nr.Outcome, nr.Cause, want))
		}
	}
	var ue *executor.UnboundInputError
	if !errors.As(run.Err(), &ue) {
		problems = append(problems, fmt.Sprintf("run error %v, want an UnboundInputError", run.Err()))
	}
	return problems
}

// check compares a run with the reference and returns the differences.
// With the sequential engine in deadline mode, a node that never ends
// holds up every node after it in the engine's order: those may end
// canceled at the run's deadline, having never started, or skipped, when
// what would have demanded them never started, or timed out at the run's
// deadline (a conditional waiting for an operand held up).
func (fz *fuzzGraph) check(run *graphtest.Run, ex []expect, sequential bool) []string {
	if closure, unbound := fz.staticUnbound(); len(unbound) > 0 {
		return fz.checkDoomed(run, closure)
	}
	res := run.Result()
	nd := fz.needs(ex)
	var problems []string
	bad := func(i int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s (%s, %s): %s", fz.name(i), fz.nodes[i].kind, nd[i], fmt.Sprintf(format, args...)))
	}
	nrs := res.Nodes()
	for i := range fz.nodes {
		nr := nrs[i]
		e := &ex[i]
		switch nd[i] {
		case needNone:
			if nr.Outcome != executor.OutcomeSkipped {
				bad(i, "ended %s (%v), but nothing needs it: want skipped", nr.Outcome, nr.Cause)
			}
			continue
		case needMust:
			var te *executor.TimeoutError
			heldUp := sequential && fz.deadlineMode && (nr.Outcome == executor.OutcomeCanceled || nr.Outcome == executor.OutcomeSkipped ||
				nr.Outcome == executor.OutcomeTimeout && errors.As(nr.Cause, &te) && te.RunDeadline)
			if e.never {
				want := executor.OutcomeCanceled
				if e.neverRunning {
					want = executor.OutcomeTimeout
				}
				if nr.Outcome != want && !heldUp {
					bad(i, "ended %s (%v), want %s at the run's deadline", nr.Outcome, nr.Cause, want)
				}
				continue
			}
			if heldUp {
				continue
			}
			if nr.Outcome != e.outcome {
				bad(i, "ended %s (%v), want %s", nr.Outcome, nr.Cause, e.outcome)
				continue
			}
			if e.attempts > 0 && nr.Attempts != e.attempts {
				bad(i, "took %d attempts, want %d", nr.Attempts, e.attempts)
			}
			if fz.nodes[i].kind == kIf && nr.Branch != e.branch {
				bad(i, "took branch %q, want %q", nr.Branch, e.branch)
			}
		case needMaybe:
			allowed := []executor.Outcome{executor.OutcomeSkipped, executor.OutcomeCanceled}
			if fz.deadlineMode || e.never {
				allowed = append(allowed, executor.OutcomeTimeout)
			}
			if !e.never {
				allowed = append(allowed, e.outcome)
			}
			if !slices.Contains(allowed, nr.Outcome) {
				bad(i, "ended %s (%v), want one of %v", nr.Outcome, nr.Cause, allowed)
				continue
			}
			if e.never || nr.Outcome != e.outcome {
				continue
			}
		}
		// The node ended as the reference says: check its value and cause.
		if e.outcome.HasValue() {
			v, err := res.Value(graphx.At(res.Graph(), graph.NodeID(i)))
			if err != nil || !sameValue(v, e.value) {
				bad(i, "value %#v (%v), want %#v", v, err, e.value)
			}
		}
		if e.fail != failNone {
			if msg := fz.checkCause(i, nr.Cause, e); msg != "" {
				bad(i, "%s", msg)
			}
		}
	}
	// The run's error says whether every target has a value.
	allValues := true
	for _, t := range fz.targets {
		allValues = allValues && res.Node(graphx.At(res.Graph(), graph.NodeID(t))).Outcome.HasValue()
	}
	if allValues != (run.Err() == nil) {
		problems = append(problems, fmt.Sprintf("every target has a value: %v, but the run's error is %v", allValues, run.Err()))
	}
	return problems
}

// checkCause checks a failed (or fallen back) node's cause against the
// reference; it returns what is wrong, or "".
func (fz *fuzzGraph) checkCause(i int, cause error, e *expect) string {
	if cause == nil {
		return fmt.Sprintf("no cause, want a %s failure", e.fail)
	}
	// (A dependency's refusal shows through a DependencyError too.)
	if e.fbRefused && !errors.Is(cause, errFbRefuses) {
		return fmt.Sprintf("cause %q does not say that the fallback refused", cause)
	}
	var (
		de *executor.DependencyError
		ne *executor.NodeError
		pe *executor.PanicError
		te *executor.TimeoutError
		ue *executor.UnboundInputError
	)
	ok := false
	switch e.fail {
	case failDep:
		ok = errors.As(cause, &de) && de.Node == fz.name(i) && slices.ContainsFunc(e.causes, func(c depCause) bool {
			return de.Dependency == c.dep && de.Root == c.root && errors.Is(cause, context.DeadlineExceeded) == c.timeout
		})
	case failSelf:
		if fz.nodes[i].kind == kEach {
			ok = !errors.As(cause, &de) && (errors.Is(cause, errFuzz) || errors.As(cause, &pe))
		} else {
			ok = errors.As(cause, &ne) && ne.Node == fz.name(i) && (errors.Is(cause, errFuzz) || errors.Is(cause, errFlaky))
		}
	case failPanic:
		ok = errors.As(cause, &pe) && pe.Node == fz.name(i)
	case failTimeout:
		ok = errors.As(cause, &te) && te.Node == fz.name(i) && !te.RunDeadline
	case failUnbound:
		ok = errors.As(cause, &ue) && ue.Input == fz.name(i)
	}
	if !ok {
		want := e.fail.String()
		if e.fail == failDep {
			want = fmt.Sprintf("dependency failure, one of %v", e.causes)
		}
		return fmt.Sprintf("cause %q, want a %s failure", firstLineOf(cause.Error()), want)
	}
	return ""
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func sameValue(got, want any) bool {
	if w, ok := want.([]int); ok {
		g, ok := got.([]int)
		return ok && slices.Equal(g, w) // nil and empty are the same list
	}
	return got == want
}

// bindings binds the inputs the generator chose to bind.
func (fz *fuzzGraph) bindings(refs []fuzzRef) []executor.Binding {
	var in []executor.Binding
	for i, n := range fz.nodes {
		if n.kind == kInput && n.bound {
			in = append(in, executor.Bind(refs[i].(graph.Ref[int]), project(tInt, n.c).(int)))
		}
	}
	return in
}

// describe lists the generated graph, one node a line.
func (fz *fuzzGraph) describe() string {
	var b strings.Builder
	mode := "normal"
	if fz.deadlineMode {
		mode = fmt.Sprintf("deadline (%v)", runDeadline)
	}
	fmt.Fprintf(&b, "mode %s; targets", mode)
	for _, t := range fz.targets {
		fmt.Fprintf(&b, " %s", fz.name(t))
	}
	b.WriteString("\n")
	names := func(ids []int) string {
		s := make([]string, len(ids))
		for j, d := range ids {
			s[j] = fz.name(d)
		}
		return strings.Join(s, ",")
	}
	for i, n := range fz.nodes {
		fmt.Fprintf(&b, "  %s = %s %s c=%d", fz.name(i), n.kind, n.typ, n.c)
		if len(n.deps) > 0 {
			fmt.Fprintf(&b, " deps=%s", names(n.deps))
		}
		if len(n.lazy) > 0 {
			fmt.Fprintf(&b, " lazy=%s", names(n.lazy))
		}
		if n.fault != fNone {
			fmt.Fprintf(&b, " fault=%s", n.fault)
		}
		if n.fault == fDelay {
			fmt.Fprintf(&b, "(%v)", n.delay)
		}
		if n.fault == fFlaky {
			fmt.Fprintf(&b, "(fails %d, tries %d)", n.fails, n.tries)
		}
		if n.elems != nil {
			fmt.Fprintf(&b, " elems=%v limit=%d", n.elems, n.limit)
		}
		if n.timeout > 0 {
			fmt.Fprintf(&b, " timeout=%v", n.timeout)
		}
		if n.fb != fbNone {
			fmt.Fprintf(&b, " fallback=%s(%d)", [...]string{"", "value", "func", "refuses"}[n.fb], n.fbBase)
		}
		if n.kind == kInput && !n.bound {
			b.WriteString(" unbound")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// describeRef lists the reference's expectations of the nodes a target needs.
func (fz *fuzzGraph) describeRef(ex []expect) string {
	nd := fz.needs(ex)
	var b strings.Builder
	for i, e := range ex {
		if nd[i] == needNone {
			continue
		}
		fmt.Fprintf(&b, "  %s %s: ", fz.name(i), nd[i])
		switch {
		case e.never && e.neverRunning:
			b.WriteString("never ends (running at the deadline)")
		case e.never:
			b.WriteString("never ends (waiting at the deadline)")
		default:
			fmt.Fprintf(&b, "%s", e.outcome)
			if e.outcome.HasValue() {
				fmt.Fprintf(&b, " %v", e.value)
			}
			if e.fail != failNone {
				fmt.Fprintf(&b, " after %s", e.fail)
				if e.fail == failDep {
					fmt.Fprintf(&b, " (one of %v)", e.causes)
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
