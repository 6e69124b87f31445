package decisionlog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

type account struct {
	ID    string `json:"id"`
	Limit int    `json:"limit"`
}

// cardGraph is a small decision: an account fetch, a failing risk fetch
// with a fallback, and a decision.
type cardGraph struct {
	g        *graph.Graph
	card     graph.Ref[string]
	amount   graph.Ref[int]
	account  graph.Ref[account]
	risk     graph.Ref[float64]
	decision graph.Ref[string]
}

func newCardGraph(t testing.TB, opts ...nodes.Option) *cardGraph {
	t.Helper()
	b := graph.NewBuilder()
	c := &cardGraph{}
	c.card = nodes.Input[string](b, "card", opts...)
	c.amount = nodes.Input[int](b, "amount")
	c.account = nodes.Fetch1(b, "account", c.card, func(ctx context.Context, id string) (account, error) {
		return account{ID: "acc-" + id, Limit: 500}, nil
	})
	c.risk = nodes.Fetch1(b, "risk", c.card, func(ctx context.Context, id string) (float64, error) {
		return 0, errors.New("risk service down for " + id)
	}, nodes.Fallback(0.5))
	c.decision = nodes.Compute3(b, "decision", c.account, c.amount, c.risk, func(a account, amt int, r float64) (string, error) {
		if amt > a.Limit {
			return "decline", nil
		}
		if r > 0.8 {
			return "review", nil
		}
		return "approve", nil
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	c.g = g
	return c
}

func (c *cardGraph) run(t testing.TB, card string, amount int) *executor.Result {
	t.Helper()
	res, err := executor.Run(context.Background(), c.g, []executor.Binding{executor.Bind(c.card, card), executor.Bind(c.amount, amount)}, c.decision)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(res.Release)
	return res
}
