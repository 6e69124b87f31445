package viz_test

import (
	"context"
	"os"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/viz"
)

func ExampleWriteGraphDOT() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	account := nodes.Fetch1(b, "account", card, func(ctx context.Context, id string) (string, error) {
		return "acct-" + id, nil
	}, nodes.Timeout(50*time.Millisecond), nodes.Fallback("unknown"), nodes.Meta("upstream", "accounts"))
	nodes.Compute1(b, "known", account, func(a string) (bool, error) { return a != "unknown", nil })
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	if err := viz.WriteGraphDOT(os.Stdout, g); err != nil {
		panic(err)
	}
	// Output:
	// digraph featgraph {
	//   graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.6];
	//   node [fontname="Helvetica", fontsize=10, style="filled", fillcolor="#ffffff", color="#374151"];
	//   edge [fontname="Helvetica", fontsize=9, color="#6b7280", arrowsize=0.7];
	//   "card_id" [shape=invhouse, fillcolor="#dbeafe", label="card_id\ninput"];
	//   "account" [shape=box, fillcolor="#fef9c3", label="account\nfetch · timeout 50.0ms\nfallback: unknown\nupstream: accounts"];
	//   "known" [shape=ellipse, fillcolor="#ffffff", label="known\ncompute"];
	//   "card_id" -> "account";
	//   "account" -> "known";
	// }
}
