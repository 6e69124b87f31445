package viz_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// loanGraph has every node kind and option the pictures show.
type loanGraph struct {
	g        *graph.Graph
	customer graph.Ref[string]
	targets  []graph.Target
}

func newLoanGraph(t testing.TB) *loanGraph {
	t.Helper()
	b := graph.NewBuilder()
	customer := nodes.Input[string](b, "customer_id")
	limit := nodes.Value(b, "max_amount", 5000)
	profile := nodes.Fetch1(b, "profile", customer, func(ctx context.Context, id string) (string, error) {
		time.Sleep(12 * time.Millisecond)
		return "gold", nil
	}, nodes.Timeout(80*time.Millisecond), nodes.Meta("upstream", "profiles"), nodes.Describe("the customer's profile"))
	score := nodes.Fetch1(b, "credit_score", customer, func(ctx context.Context, id string) (int, error) {
		time.Sleep(4 * time.Millisecond)
		return 0, errors.New("bureau unavailable")
	}, nodes.Fallback(600), nodes.Retry(2, 2*time.Millisecond), nodes.Meta("upstream", "bureau"))
	accounts := nodes.Fetch1(b, "accounts", customer, func(ctx context.Context, id string) ([]string, error) {
		time.Sleep(10 * time.Millisecond)
		return []string{"a1", "a2", "a3"}, nil
	})
	balances := nodes.Each(b, "balances", accounts, func(ctx context.Context, acct string) (int, error) {
		time.Sleep(8 * time.Millisecond)
		return len(acct) * 100, nil
	}, nodes.Limit(2))
	total := nodes.Compute1(b, "total_balance", balances, func(bs []int) (int, error) {
		sum := 0
		for _, v := range bs {
			sum += v
		}
		return sum, nil
	})
	rich := nodes.Compute2(b, "rich", total, limit, func(t, l int) (bool, error) { return t > l/100, nil })
	idCheck := nodes.Fetch1(b, "id_check", customer, func(ctx context.Context, id string) (bool, error) {
		time.Sleep(6 * time.Millisecond)
		return true, nil
	})
	docCheck := nodes.Fetch1(b, "document_check", customer, func(ctx context.Context, id string) (bool, error) {
		<-ctx.Done() // slow; the Or decides without it and cancels it
		return false, ctx.Err()
	})
	verified := nodes.Or(b, "verified", []nodes.Ref[bool]{idCheck, docCheck})
	ok := nodes.And(b, "eligible", []nodes.Ref[bool]{verified, rich})
	fraud := nodes.Fetch1(b, "fraud_score", customer, func(ctx context.Context, id string) (float64, error) {
		time.Sleep(60 * time.Millisecond) // ignores its context: its timeout ends it
		return 0.1, nil
	}, nodes.Timeout(20*time.Millisecond), nodes.Meta("upstream", "fraud"))
	audit := nodes.Fetch1(b, "audit_log", customer, func(ctx context.Context, id string) (bool, error) {
		time.Sleep(3 * time.Millisecond)
		return false, errors.New("audit service: 503")
	})
	premium := nodes.Value(b, "premium_offer", "premium")
	standard := nodes.Fetch0(b, "standard_offer", func(ctx context.Context) (string, error) { return "standard", nil })
	manual := nodes.Value(b, "manual_review", "manual")
	offer := nodes.Switch(b, "offer", profile, nodes.Cases(nodes.On("gold", premium), nodes.On("silver", standard)), nodes.Default(manual))
	decision := nodes.If(b, "decision", ok, offer, manual)
	approve := nodes.Fetch1(b, "approve", decision, func(ctx context.Context, d string) (string, error) {
		time.Sleep(5 * time.Millisecond)
		return d, nil
	}, nodes.Meta("upstream", "ledger"))
	final := nodes.Compute2(b, "final", approve, score, func(d string, s int) (string, error) {
		return d, nil
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return &loanGraph{g: g, customer: customer, targets: []graph.Target{final, fraud, audit}}
}

func (l *loanGraph) run(t testing.TB) *executor.Record {
	t.Helper()
	res, err := executor.Run(context.Background(), l.g, []executor.Binding{executor.Bind(l.customer, "c1")}, l.targets...)
	if err == nil {
		t.Fatal("the loan run should fail: fraud_score times out and audit_log fails")
	}
	defer res.Release()
	return res.Record()
}

// awkwardGraph has names that need quoting in DOT and escaping in XML.
func awkwardGraph(t testing.TB) *graph.Graph {
	t.Helper()
	b := graph.NewBuilder()
	in := nodes.Input[string](b, `in "quoted" \N`)
	f := nodes.Fetch1(b, "<fetch> & ünïcode\\l", in, func(ctx context.Context, s string) (string, error) { return s, nil },
		nodes.Fallback(`a "fallback" {x}`), nodes.Meta("upstream", `host:8080/"path"`))
	nodes.Compute1(b, "digraph", f, func(s string) (int, error) { return len(s), nil })
	nodes.Compute1(b, strings.Repeat("long_name_", 12), f, func(s string) (int, error) { return 1, nil })
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}
