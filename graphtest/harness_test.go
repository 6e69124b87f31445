package graphtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/graphtest"
	"github.com/featgraph/featgraph/nodes"
)

var errDown = errors.New("kyc service down")

// stubsExcept returns stubs for every fetch node of the auth graph, minus
// the names given, so that tests can replace one or two.
func stubsExcept(a *authGraph, except ...string) []graphtest.Option {
	all := map[string]graphtest.Option{
		"account": graphtest.Stub(a.account, Account{ID: "a1", Limit: 500, Country: "FR"}),
		"device":  graphtest.Stub(a.device, Device{Risk: 0.1}),
		"kyc":     graphtest.Forbid(a.kyc),
		"recent":  graphtest.Stub(a.recent, []string{"t1", "t2"}),
		"amounts": graphtest.Stub(a.amounts, []int{10, 20}),
		"model":   graphtest.Stub(a.model, 0.2),
	}
	var out []graphtest.Option
	for _, n := range []string{"account", "device", "kyc", "recent", "amounts", "model"} {
		skip := false
		for _, e := range except {
			skip = skip || e == n
		}
		if !skip {
			out = append(out, all[n])
		}
	}
	return out
}

func inputs(a *authGraph) []executor.Binding {
	return []executor.Binding{executor.Bind(a.card, "c1")}
}

func TestStubsDecideTheRun(t *testing.T) {
	a := newAuthGraph(t)
	h := graphtest.New(t, a.g, append(stubsExcept(a, "device", "model"),
		graphtest.StubHang(a.device),
		graphtest.Stub(a.model, 0.93),
	)...)
	run := h.Run(context.Background(), inputs(a), a.decision)
	graphtest.ExpectValue(run, a.decision, "review")
	run.ExpectRan(a.model)
	run.ExpectOK(a.account, a.model, a.decision)
	run.ExpectFellBack(a.device)
	run.ExpectCause(a.device, context.DeadlineExceeded)
	run.ExpectSkipped(a.kyc)
	run.ExpectBranch(a.kycScore, a.noKYC)
	if got := graphtest.Value(run, a.device); got.Risk != 0.5 {
		t.Errorf("device fell back to %+v, want the fallback Risk 0.5", got)
	}
	if n := h.Calls(a.kyc); n != 0 {
		t.Errorf("kyc called %d times, want 0", n)
	}
	if n := h.Calls(a.model); n != 1 {
		t.Errorf("model called %d times, want 1", n)
	}
}

func TestStubFuncSeesTypedDependencies(t *testing.T) {
	a := newAuthGraph(t)
	h := graphtest.New(t, a.g, append(stubsExcept(a, "model", "kyc", "account"),
		graphtest.Stub(a.account, Account{ID: "a2", Limit: 900, Country: "US"}),
		graphtest.StubFunc1(a.kyc, a.account, func(acc Account) (float64, error) { return float64(acc.Limit) / 1000, nil }),
		graphtest.StubFunc2(a.model, a.kycScore, a.spent, func(kyc float64, spent int) (float64, error) {
			return kyc + float64(spent)/1000, nil
		}),
	)...)
	run := h.Run(context.Background(), inputs(a), a.decision, a.model)
	graphtest.ExpectValue(run, a.model, 0.9+0.03)
	graphtest.ExpectValue(run, a.decision, "review")
	run.ExpectBranch(a.kycScore, a.kyc)
	run.ExpectOK(a.kyc)
}

func TestStubFuncWithDeps(t *testing.T) {
	a := newAuthGraph(t)
	h := graphtest.New(t, a.g, append(stubsExcept(a, "model"), graphtest.ExecutorOptions(executor.WithRunTimeout(time.Minute)),
		graphtest.StubFunc(a.model, func(ctx context.Context, args nodes.Args) (float64, error) {
			if _, ok := ctx.Deadline(); !ok {
				return 0, errors.New("the model got no deadline")
			}
			return nodes.Arg(args, a.device).Risk + float64(nodes.Arg(args, a.spent))/100, nil
		}),
	)...)
	run := h.Run(context.Background(), inputs(a), a.decision)
	graphtest.ExpectValue(run, a.model, 0.1+0.3)

	// A Ref that is not a dependency of the node is an error of the node.
	h = graphtest.New(t, a.g, append(stubsExcept(a, "model"),
		graphtest.StubFunc(a.model, func(_ context.Context, args nodes.Args) (float64, error) {
			return float64(len(nodes.Arg(args, a.card))), nil
		}),
	)...)
	run = h.Run(context.Background(), inputs(a), a.model)
	run.ExpectErrored(a.model)
	if cause := run.Node(a.model).Cause; cause == nil || !strings.Contains(cause.Error(), `"card" is not a declared dependency`) {
		t.Errorf("model's cause = %v, want nodes.Arg's complaint about card", cause)
	}
}

func TestElementStubs(t *testing.T) {
	a := newAuthGraph(t)
	errTxn := errors.New("txn store down")
	h := graphtest.New(t, a.g, append(stubsExcept(a, "amounts", "recent"),
		graphtest.Stub(a.recent, []string{"t1", "t2", "t3"}),
		graphtest.StubElem(a.amounts, 1, 100),
		graphtest.StubEach(a.amounts, func(i int, txn string) (int, error) { return len(txn) * (i + 1), nil }),
	)...)
	run := h.Run(context.Background(), inputs(a), a.amounts)
	graphtest.ExpectValue(run, a.amounts, []int{2, 100, 6})
	if n := h.Calls(a.amounts); n != 3 {
		t.Errorf("amounts called %d times, want one per element: 3", n)
	}

	h = graphtest.New(t, a.g, append(stubsExcept(a, "amounts"),
		graphtest.StubElem(a.amounts, 0, 5),
		graphtest.StubElemError(a.amounts, 1, errTxn),
	)...)
	run = h.Run(context.Background(), inputs(a), a.decision, a.spent)
	run.ExpectErrored(a.amounts)
	run.ExpectCause(a.amounts, errTxn)
	run.ExpectFellBack(a.spent)
	graphtest.ExpectValue(run, a.decision, "approve")
}

func TestElementHangIsReleased(t *testing.T) {
	a := newAuthGraph(t)
	h := graphtest.New(t, a.g, append(stubsExcept(a, "amounts"),
		graphtest.StubElem(a.amounts, 0, 5),
		graphtest.StubElemHang(a.amounts, 1),
	)...)
	run := h.Run(context.Background(), inputs(a), a.spent)
	run.ExpectTimedOut(a.amounts)
	run.ExpectCause(a.amounts, context.DeadlineExceeded)
	run.ExpectFellBack(a.spent)
	graphtest.ExpectValue(run, a.spent, 0)
}

func TestElementNotStubbedFailsTheTest(t *testing.T) {
	a := newAuthGraph(t)
	f := capture(t, func(tb testing.TB) {
		h := graphtest.New(tb, a.g, append(stubsExcept(a, "amounts"), graphtest.StubElem(a.amounts, 0, 5))...)
		h.Run(context.Background(), inputs(a), a.amounts).ExpectErrored(a.amounts)
	})
	mustContain(t, f.output(), `element 1 of node "amounts" ran but is not stubbed`)
}

func TestStrictModeListsUnstubbedFetches(t *testing.T) {
	a := newAuthGraph(t)
	f := capture(t, func(tb testing.TB) {
		h := graphtest.New(tb, a.g, graphtest.Stub(a.account, Account{Country: "FR"}))
		h.Run(context.Background(), inputs(a), a.decision)
		tb.Errorf("Run did not stop the test")
	})
	out := f.output()
	mustContain(t, out, "strict mode", `"device" (fetch)`, `"kyc" (fetch)`, `"recent" (fetch)`, `"amounts" (each)`, `"model" (fetch)`, "graphtest.Allow")
	if strings.Contains(out, `"account" (fetch)`) || strings.Contains(out, "did not stop") {
		t.Errorf("wrong strict report:\n%s", out)
	}
	// Only the ancestors of the targets count.
	f = capture(t, func(tb testing.TB) {
		h := graphtest.New(tb, a.g, graphtest.Stub(a.recent, []string{"x"}), graphtest.StubEach(a.amounts, func(int, string) (int, error) { return 1, nil }))
		graphtest.ExpectValue(h.Run(context.Background(), inputs(a), a.spent), a.spent, 1)
	})
	if f.Failed() {
		t.Errorf("a run needing only stubbed nodes failed:\n%s", f.output())
	}
}

func TestAllowRunsTheRealBody(t *testing.T) {
	f := capture(t, func(tb testing.TB) {
		a := newAuthGraph(tb)
		h := graphtest.New(tb, a.g, append(stubsExcept(a, "device"), graphtest.Allow(a.device))...)
		run := h.Run(context.Background(), inputs(a), a.device)
		run.ExpectFellBack(a.device)
		run.ExpectCause(a.device, errRealService)
	})
	// The real body reports itself to tb.
	mustContain(t, f.output(), `the real body of "device" ran`)
}

func TestForbidFailsWhenTheNodeRuns(t *testing.T) {
	a := newAuthGraph(t)
	f := capture(t, func(tb testing.TB) {
		h := graphtest.New(tb, a.g, append(stubsExcept(a, "account"), graphtest.Stub(a.account, Account{Country: "US"}))...)
		h.Run(context.Background(), inputs(a), a.decision)
	})
	mustContain(t, f.output(), `node "kyc" ran, but the test forbids it`)
}

func TestBuildErrorsAreListed(t *testing.T) {
	a := newAuthGraph(t)
	f := capture(t, func(tb testing.TB) {
		graphtest.New(tb, a.g,
			graphtest.StubNamed("account", "not an account"),
			graphtest.StubNamed("nope", 1),
			graphtest.StubNamed("model", 0.5),
			graphtest.StubError(a.model, errDown),
			graphtest.StubHang(a.foreign),
			graphtest.Stub(a.kycScore, 1.0),
			graphtest.StubElem(a.amounts, -1, 3),
			graphtest.StubEach(a.amounts, func(i int, elem int) (int, error) { return 0, nil }),
			graphtest.Delay(a.spent, time.Millisecond),
			graphtest.StubFunc1(a.model, a.card, func(string) (float64, error) { return 0, nil }),
		)
		tb.Errorf("New did not stop the test")
	})
	mustContain(t, f.output(),
		`StubNamed("account"): value of type string, node "account" has type graphtest_test.Account`,
		`StubNamed("nope"): the graph has no node "nope"`,
		`StubError("model"): node "model" is stubbed or allowed twice`,
		`StubHang("foreign"): node "foreign" is a compute node, which runs inline: it cannot hang`,
		`Stub("kyc_score"): node "kyc_score" is a if node; only fetch, compute and each nodes`,
		`StubElem("amounts", -1): negative element index`,
		`StubEach("amounts"): the function takes elements of type int, the list "recent" has type []string`,
		`Delay("spent", 1ms): node "spent" is a compute node`,
		`StubFunc1("model"): "card" is not a dependency of node "model"`,
	)
	if strings.Contains(f.output(), "did not stop") {
		t.Errorf("New did not stop the test")
	}
}

func TestHangNeedsADeadline(t *testing.T) {
	a := newAuthGraph(t)
	f := capture(t, func(tb testing.TB) {
		h := graphtest.New(tb, a.g, append(stubsExcept(a, "model"), graphtest.StubHang(a.model))...)
		h.Run(context.Background(), inputs(a), a.decision)
		tb.Errorf("Run did not stop the test")
	})
	mustContain(t, f.output(), `node(s) "model" may hang and have no timeout, and the run has no deadline`)
	// A context deadline is enough.
	h := graphtest.New(t, a.g, append(stubsExcept(a, "model"), graphtest.StubHang(a.model))...)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond) // time to start model on a loaded machine
	defer cancel()
	run := h.Run(ctx, inputs(a), a.decision)
	run.ExpectTimedOut(a.model)
	run.ExpectCanceled(a.decision)
}

func TestFailureShowsTheOutcomeTable(t *testing.T) {
	a := newAuthGraph(t)
	f := capture(t, func(tb testing.TB) {
		h := graphtest.New(tb, a.g, append(stubsExcept(a, "kyc", "account"),
			graphtest.Stub(a.account, Account{Country: "US"}),
			graphtest.StubError(a.kyc, errDown))...)
		run := h.Run(context.Background(), inputs(a), a.decision)
		graphtest.ExpectValue(run, a.decision, "approve")
		run.ExpectOK(a.kyc)
		run.ExpectOutcomes(graphtest.Outcomes{"kyc": executor.OutcomeOK, "model": executor.OutcomeCanceled, "account": executor.OutcomeOK})
	})
	out := f.output()
	mustContain(t, out,
		`node "decision" has no value, want "approve"`,
		`expected ok: "kyc" (error)`,
		`node "kyc" ended error, want ok`,
		`node "model" ended error, want canceled`,
		"(outcomes in the table above)",
	)
	if n := strings.Count(out, "outcomes of the run:"); n != 1 {
		t.Errorf("the table is printed %d times, want once:\n%s", n, out)
	}
	// The table: a header and one aligned row per node, the cause's first line.
	lines := strings.Split(out, "\n")
	var header int
	for i, l := range lines {
		if strings.Contains(l, "node") && strings.Contains(l, "outcome") && strings.Contains(l, "cause") {
			header = i
			break
		}
	}
	rows := lines[header : header+a.g.Len()+1]
	col := strings.Index(rows[0], "outcome")
	for _, row := range rows[1:] {
		fields := strings.Fields(row)
		if len(fields) < 4 || !strings.HasPrefix(row[col:], fields[2]) {
			t.Errorf("row %q is not aligned under the header %q", row, rows[0])
		}
	}
	mustContain(t, strings.Join(rows, "\n"),
		"kyc ", "error", `node "kyc": kyc service down`, "error kyc service down",
		"kyc_score", "took kyc",
		"no_kyc", "skipped",
		"model", `node "model" not run: dependency "kyc_score" failed: node "kyc": kyc service down`, "value 0.2",
	)
}

func TestValueFailsWithoutValue(t *testing.T) {
	a := newAuthGraph(t)
	f := capture(t, func(tb testing.TB) {
		h := graphtest.New(tb, a.g, append(stubsExcept(a, "model"), graphtest.StubError(a.model, errDown))...)
		run := h.Run(context.Background(), inputs(a), a.decision)
		graphtest.Value(run, a.decision)
		tb.Errorf("Value did not stop the test")
	})
	mustContain(t, f.output(), `node "decision" has no value`)
	if strings.Contains(f.output(), "did not stop") {
		t.Errorf("Value did not stop the test:\n%s", f.output())
	}
}

func TestPanicStub(t *testing.T) {
	a := newAuthGraph(t)
	h := graphtest.New(t, a.g, append(stubsExcept(a, "model"), graphtest.StubPanic(a.model, "boom"))...)
	run := h.Run(context.Background(), inputs(a), a.decision)
	run.ExpectErrored(a.model, a.decision)
	var p *executor.PanicError
	if !errors.As(run.Node(a.model).Cause, &p) || fmt.Sprint(p.Value) != "boom" {
		t.Errorf("model's cause %v is not the stub's panic", run.Node(a.model).Cause)
	}
}

func TestDelayIsSeen(t *testing.T) {
	a := newAuthGraph(t)
	h := graphtest.New(t, a.g, append(stubsExcept(a), graphtest.Delay(a.model, 20*time.Millisecond))...)
	run := h.Run(context.Background(), inputs(a), a.decision)
	graphtest.ExpectValue(run, a.decision, "approve")
	if d := run.Node(a.model).Duration(); d < 20*time.Millisecond {
		t.Errorf("model took %v, less than its 20ms delay", d)
	}
}

func TestExecutorRunTimeoutBoundsHungStubs(t *testing.T) {
	b := graph.NewBuilder()
	hung := nodes.Fetch0(b, "hung", func(context.Context) (int, error) { return 1, nil })
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	h := graphtest.New(t, g, graphtest.StubHang(hung),
		graphtest.ExecutorOptions(executor.WithRunTimeout(500*time.Millisecond)))
	run := h.Run(context.Background(), nil, hung)
	run.ExpectTimedOut(hung)
}
