package decisionlog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// Record a run, with the card number hashed, into a file:// log, and read
// the log back.
func Example() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card", nodes.Meta(decisionlog.MetaKey, "hash"))
	amount := nodes.Input[int](b, "amount")
	limit := nodes.Fetch1(b, "limit", card, func(ctx context.Context, c string) (int, error) { return 500, nil })
	decision := nodes.Compute2(b, "decision", amount, limit, func(a, l int) (string, error) {
		if a > l {
			return "decline", nil
		}
		return "approve", nil
	})
	g, _ := b.Build()

	dir, _ := os.MkdirTemp("", "decisions")
	defer os.RemoveAll(dir)
	log, err := decisionlog.Open("file://" + dir)
	if err != nil {
		panic(err)
	}
	rec, err := decisionlog.NewRecorder(g, "cardauth", decisionlog.GraphVersion("1"),
		decisionlog.HashKey([]byte("a secret of 16+ bytes"))) // or $FEATGRAPH_LOG_HMAC_KEY
	if err != nil {
		panic(err)
	}
	logger, _ := decisionlog.NewLogger(rec, log, nil)

	res, _ := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(card, "4111111111111111"), executor.Bind(amount, 120)}, decision)
	logger.Observe(context.Background(), "run-1", res) // never waits on the sink
	res.Release()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = log.Shutdown(ctx) // flushes, fsyncs, renames the file into place

	files, _ := decisionlog.Files(dir)
	fmt.Println(len(files), "file:", filepath.Ext(files[0]))
	_ = decisionlog.ReadDir(dir, func(r *decisionlog.Record) error {
		c, _ := r.Lookup("card")
		d, _ := r.Lookup("decision")
		fmt.Println(r.RunID, r.Graph, "decision", string(d.Value), "card hashed:", c.Hash != "" && c.Value == nil)
		return nil
	})
	// Output:
	// 1 file: .jsonl
	// run-1 cardauth decision "approve" card hashed: true
}
