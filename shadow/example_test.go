package shadow_test

import (
	"context"
	"fmt"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/shadow"
)

// A candidate with a lower limit runs beside every live run; the shadow's
// diff rides in the decision record.
func Example() {
	build := func(limit int) (*graph.Graph, graph.Ref[int], graph.Ref[string]) {
		b := graph.NewBuilder()
		amount := nodes.Input[int](b, "amount")
		d := nodes.Compute1(b, "decision", amount, func(a int) (string, error) {
			if a > limit {
				return "decline", nil
			}
			return "approve", nil
		})
		g, _ := b.Build()
		return g, amount, d
	}
	live, amount, decision := build(500)
	candidate, _, _ := build(400)

	cex, _ := executor.New(candidate)
	crec, _ := decisionlog.NewRecorder(candidate, "limits", decisionlog.GraphVersion("2"))
	runner, err := shadow.New(cex, crec, shadow.Sample(1), shadow.Budget(100*time.Millisecond), shadow.MaxInFlight(8))
	if err != nil {
		panic(err)
	}
	lrec, _ := decisionlog.NewRecorder(live, "limits", decisionlog.GraphVersion("1"))
	sink := decisionlog.NewWriterSink(nopWriter{})
	log, _ := decisionlog.NewLog(sink, decisionlog.OnWritten(func(batch []decisionlog.Entry) {
		for _, e := range batch {
			rec, _ := decisionlog.Unmarshal(e.Line)
			d := rec.Shadow.Diff[0]
			fmt.Printf("live %s candidate %s agree %v\n", d.Live, d.Candidate, d.Agree)
		}
	}))
	logger, _ := decisionlog.NewLogger(lrec, log, runner)

	ex, _ := executor.New(live)
	ctx := fetchers.WithRequestCache(context.Background()) // what the candidate's fetches reuse
	res, _ := ex.Run(ctx, []executor.Binding{executor.Bind(amount, 450)}, decision)
	logger.Observe(ctx, "", res) // returns at once; the candidate runs on its own
	res.Release()

	_ = runner.Close(context.Background())
	_ = log.Shutdown(context.Background())
	st := runner.Stats().Targets["decision"]
	fmt.Printf("agreement %.0f%%\n", 100*st.AgreementRate())
	// Output:
	// live "approve" candidate "decline" agree false
	// agreement 0%
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
