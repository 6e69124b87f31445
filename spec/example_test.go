package spec_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/spec"
)

func ExampleParse() {
	src := `version: 1
inputs:
  amount: float
  country: string
nodes:
  abroad:
    expr: country != "GB"
    type: bool
  large:
    expr: amount > 500
    type: bool
  review:
    or: [abroad, large]
targets: [review]
`
	s, err := spec.Parse("review.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	review, _ := graph.Lookup[bool](s.Graph(), "review")
	res, err := executor.Run(context.Background(), s.Graph(),
		[]executor.Binding{executor.BindNamed("amount", 120.0), executor.BindNamed("country", "FR")}, review)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Release()
	v, _ := executor.Get(res, review)
	fmt.Println("review:", v)
	// Output: review: true
}

// Errors name the file, line, column and node.
func ExampleParse_errors() {
	src := `version: 1
inputs:
  amount: float
nodes:
  large:
    expr: amount > limit
    type: bool
  small:
    expr: amount < 10
    type: string
`
	_, err := spec.Parse("bad.yaml", []byte(src))
	fmt.Println(err)
	// Output:
	// bad.yaml:6:20: "large": expression "amount > limit": unknown name limit
	// bad.yaml:9:11: "small": expression "amount < 10": expected string, but got bool
}

func ExampleBind() {
	src := `version: 1
inputs:
  customer: string
nodes:
  tenure_days:
    go: fetch
    deps: [customer]
    type: int
  loyal:
    expr: tenure_days > 365
    type: bool
`
	tenure := func(ctx context.Context, customer string) (int, error) { return len(customer) * 100, nil }
	s, err := spec.Parse("loyal.yaml", []byte(src), spec.Bind("tenure_days", tenure))
	if err != nil {
		fmt.Println(err)
		return
	}
	loyal, _ := graph.Lookup[bool](s.Graph(), "loyal")
	res, err := executor.Run(context.Background(), s.Graph(), []executor.Binding{executor.BindNamed("customer", "u-1234")}, loyal)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Release()
	v, _ := executor.Get(res, loyal)
	fmt.Println("loyal:", v)

	// A function of the wrong shape is refused at load.
	_, err = spec.Parse("loyal.yaml", []byte(src), spec.Bind("tenure_days", func(customer string) (int, error) { return 0, nil }))
	fmt.Println(strings.Contains(err.Error(), "does not fit the node"))
	// Output:
	// loyal: true
	// true
}

func ExampleWrite() {
	b := graph.NewBuilder()
	amount := nodes.Input[float64](b, "amount")
	fee := nodes.Compute1(b, "fee", amount, func(a float64) (float64, error) { return a * 0.01, nil }, nodes.Fallback(0.0))
	_ = fee
	g, err := b.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := spec.Write(os.Stdout, g, "fee"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// version: 1
	// inputs:
	//   amount: float
	// nodes:
	//   fee:
	//     go: compute
	//     deps: [amount]
	//     type: float
	//     fallback: 0
	// targets: [fee]
}
