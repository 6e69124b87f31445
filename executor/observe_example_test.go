package executor_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func ExampleResult_CriticalPath() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	account := nodes.Fetch1(b, "account", card, func(ctx context.Context, id string) (string, error) {
		time.Sleep(20 * time.Millisecond)
		return "acct-" + id, nil
	})
	device := nodes.Fetch0(b, "device", func(ctx context.Context) (string, error) { return "d1", nil })
	decision := nodes.Compute2(b, "decision", account, device, func(a, d string) (bool, error) { return true, nil })
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(card, "c1")}, decision)
	if err != nil {
		panic(err)
	}
	defer res.Release()
	for _, step := range res.CriticalPath() {
		fmt.Println(step.Node, step.Work >= 20*time.Millisecond)
	}
	// Output:
	// card_id false
	// account true
	// decision false
}

// A stored record is read back, with its times in milliseconds.
func ExampleReadRecord() {
	stored := `{
	  "started": "2026-11-25T20:00:00Z",
	  "duration_ms": 30,
	  "nodes": [
	    {"name": "card_id", "kind": "input", "outcome": "ok", "start_ms": 0, "end_ms": 0},
	    {"name": "account", "kind": "fetch", "deps": ["card_id"], "outcome": "fallback",
	     "cause": "accounts: 503", "start_ms": 0, "end_ms": 30.5, "attempts": 2}
	  ]
	}`
	rec, err := executor.ReadRecord(bytes.NewBufferString(stored))
	if err != nil {
		panic(err)
	}
	for _, step := range rec.CriticalPath() {
		fmt.Printf("%s waited %v, worked %v\n", step.Node, step.Wait, step.Work)
	}
	// Output:
	// card_id waited 0s, worked 0s
	// account waited 0s, worked 30.5ms
}

func ExampleWithTracerProvider() {
	spans := tracetest.NewSpanRecorder() // in a service: an OTLP exporter, see the README
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	nodes.Fetch1(b, "account", card, func(ctx context.Context, id string) (string, error) {
		return "", fmt.Errorf("accounts: 503")
	}, nodes.Fallback("unknown"))
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	ex, err := executor.New(g, executor.WithTracerProvider(tp))
	if err != nil {
		panic(err)
	}
	account := graph.Named("account")
	res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(card, "c1")}, account)
	if err != nil {
		panic(err)
	}
	res.Release()
	for _, s := range spans.Ended() {
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		fmt.Println(strings.TrimSpace(strings.Join([]string{s.Name(), attrs["featgraph.node.outcome"], attrs["featgraph.node.fallback_cause"]}, " ")))
	}
	// Unordered output:
	// card_id ok
	// account fallback node "account": accounts: 503
	// featgraph.run
}
