package serve_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/serve"
)

// A Go-built graph served over HTTP: inputs come from a flat JSON object,
// converted to the input nodes' Go types.
func ExampleFromGraph() {
	b := graph.NewBuilder()
	amount := nodes.Input[float64](b, "amount")
	country := nodes.Input[string](b, "country")
	fee := nodes.Compute2(b, "fee", amount, country, func(a float64, c string) (float64, error) {
		if c != "GB" {
			return a * 0.03, nil
		}
		return a * 0.01, nil
	})
	_ = fee
	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	fees, err := serve.FromGraph("fees", g, []string{"fee"})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := serve.New([]*serve.Graph{fees})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv) // or http.ListenAndServe(addr, srv)
	defer ts.Close()

	for _, body := range []string{`{"amount": 200, "country": "FR"}`, `{"amount": "200", "country": "FR"}`} {
		resp, err := http.Post(ts.URL+"/v1/graphs/fees/decide", "application/json", strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The answer's run_id, version and duration vary: show the rest.
		fmt.Println(resp.StatusCode, between(string(answer), `"targets":`, `}`)+between(string(answer), `"error":`, `,`))
	}
	// Output:
	// 200 {"fee":6
	// 400 "input \"amount\": \"200\" is not a float"
}

// between returns s from the first start up to the next end, or "".
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

// Every decide run can be observed, for a decision log or a shadow graph.
// The observer runs before the run's Result is released, with the run's
// request cache in ctx; it must not block nor keep the Result.
func ExampleWithRunObserver() {
	b := graph.NewBuilder()
	x := nodes.Input[int](b, "x")
	nodes.Compute1(b, "double", x, func(v int) (int, error) { return 2 * v, nil })
	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	double, err := serve.FromGraph("double", g, []string{"double"})
	if err != nil {
		log.Fatal(err)
	}
	seen := make(chan string, 1)
	srv, err := serve.New([]*serve.Graph{double}, serve.WithRunObserver(func(ctx context.Context, run serve.RunInfo) {
		v, _ := run.Result.Value(graph.Named("double"))
		seen <- fmt.Sprintf("graph %s, inputs %v, double = %v", run.Graph, run.Inputs, v)
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/v1/graphs/double/decide", "application/json", strings.NewReader(`{"x": 21}`))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(<-seen)
	// Output:
	// graph double, inputs map[x:21], double = 42
}
