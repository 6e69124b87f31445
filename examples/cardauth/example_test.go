package cardauth_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
)

func ExampleNew() {
	svc, err := cardauth.NewServices(cardauth.WithLatency(time.Millisecond))
	if err != nil {
		panic(err)
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		panic(err)
	}
	ex, err := executor.New(ca.Graph, executor.WithRunTimeout(700*time.Millisecond))
	if err != nil {
		panic(err)
	}
	req := cardauth.Request{TransactionID: "t1", CardID: "c1", CustomerID: "u1", MerchantID: "m1"}
	res, err := ex.Run(context.Background(), ca.Inputs(req), ca.Decision)
	if err != nil {
		panic(err)
	}
	defer res.Release()
	decision, err := executor.Get(res, ca.Decision)
	if err != nil {
		panic(err)
	}
	fmt.Println(decision)
	fmt.Println("model:", res.Node(ca.ModelScore).Outcome)
	// Output:
	// approve: all checks passed (score 0.08, model)
	// model: ok
}

// A model that fails does not fail the authorization: its fallback score
// sends the payment to review.
func ExampleWithFault() {
	svc, err := cardauth.NewServices(cardauth.WithFault(func(c cardauth.Call) error {
		if c.Service == "model" {
			return errors.New("model overloaded")
		}
		return nil
	}))
	if err != nil {
		panic(err)
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		panic(err)
	}
	req := cardauth.Request{TransactionID: "t1", CardID: "c1", CustomerID: "u1", MerchantID: "m1"}
	res, err := executor.Run(context.Background(), ca.Graph, ca.Inputs(req), ca.Decision)
	if err != nil {
		panic(err)
	}
	defer res.Release()
	decision, _ := executor.Get(res, ca.Decision)
	fmt.Println(decision)
	fmt.Println("model:", res.Node(ca.ModelScore).Outcome)
	// Output:
	// review: fraud model unavailable (score 0.50, fallback)
	// model: fallback
}
