package nodes_test

import (
	"context"
	"fmt"
	"log"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// Switch picks one branch by key, with a default for keys no case names;
// only the chosen branch runs. Here the rules of the card's region give the
// review threshold: a French card reads the EU rules, and the US rules are
// never fetched.
func ExampleSwitch() {
	b := graph.NewBuilder()
	country := nodes.Input[string](b, "country")
	region := nodes.Compute1(b, "region", country, func(c string) (string, error) {
		switch c {
		case "FR", "DE", "IT":
			return "eu", nil
		}
		return c, nil
	})
	eu := nodes.Fetch0(b, "eu_rules", func(ctx context.Context) (int, error) { return 30, nil })
	us := nodes.Fetch0(b, "us_rules", func(ctx context.Context) (int, error) { return 50, nil })
	other := nodes.Value(b, "default_rules", 10)
	threshold := nodes.Switch(b, "threshold", region,
		nodes.Cases(nodes.On("eu", eu), nodes.On("US", us)),
		nodes.Default(other)) // without a Default, a key no case names is an error

	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range []string{"FR", "BR"} {
		res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(country, c)}, threshold)
		if err != nil {
			log.Fatal(err)
		}
		t, _ := executor.Get(res, threshold)
		fmt.Printf("%s: threshold %d (eu_rules %s, us_rules %s, default_rules %s)\n", c, t,
			res.Node(eu).Outcome, res.Node(us).Outcome, res.Node(other).Outcome)
		res.Release()
	}
	// Output:
	// FR: threshold 30 (eu_rules ok, us_rules skipped, default_rules skipped)
	// BR: threshold 10 (eu_rules skipped, us_rules skipped, default_rules ok)
}
