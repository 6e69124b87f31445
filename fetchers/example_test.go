package fetchers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/timeouts"
)

// Two fetch nodes read the same account; the request cache of the run
// makes it one call, with retries, a breaker and hedging around it.
func Example() {
	// A stand-in for the accounts service.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id":%q,"limit":500,"currency":"EUR"}`, strings.TrimPrefix(r.URL.Path, "/accounts/"))
	}))
	defer srv.Close()

	// One Upstream per service, shared by every run.
	accounts, err := fetchers.NewUpstream("accounts", srv.URL,
		fetchers.WithAttempts(3, 5*time.Millisecond, 50*time.Millisecond),
		fetchers.WithHedging(timeouts.HedgeAtQuantile(0.95, time.Millisecond)),
		fetchers.WithHeader("X-Client", "cardauth"))
	if err != nil {
		log.Fatal(err)
	}
	defer accounts.Close()

	type Account struct {
		ID    string `json:"id"`
		Limit int    `json:"limit"`
	}
	type Currency struct {
		Code string `json:"currency"`
	}
	// The card id comes from outside: GetPath makes it exactly one path
	// segment, so "../admin" or "a1/balance" cannot ask for another resource.
	byID := func(id string) (fetchers.Request, error) { return fetchers.GetPathRequest("/accounts/{id}", id) }

	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card")
	account := fetchers.JSON1[Account](b, "account", accounts, card, byID,
		nodes.Timeout(time.Second), nodes.Fallback(Account{}))
	currency := fetchers.JSON1[Currency](b, "currency", accounts, card, byID,
		nodes.Timeout(time.Second))
	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}

	// The cache lives in the context of one run.
	ctx := fetchers.WithRequestCache(context.Background())
	res, err := executor.Run(ctx, g, []executor.Binding{executor.Bind(card, "c42")}, account, currency)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	a, _ := executor.Get(res, account)
	c, _ := executor.Get(res, currency)
	fmt.Printf("%s: limit %d %s\n", a.ID, a.Limit, c.Code)
	s := accounts.Stats()
	fmt.Printf("calls %d, cache hits %d, attempts %d\n", s.Calls, s.CacheHits, s.Attempts)
	// Output:
	// c42: limit 500 EUR
	// calls 1, cache hits 1, attempts 1
}

// A model is asked with named features from other nodes, sent as one flat
// JSON object; its flat answer comes back as a Score.
func ExampleModelScore() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var row map[string]any
		if err := json.NewDecoder(r.Body).Decode(&row); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		score := row["amount"].(float64) / 1000
		if row["country"] != "FR" {
			score += 0.3
		}
		fmt.Fprintf(w, `{"score":%g,"reason":"amount"}`, score)
	}))
	defer srv.Close()
	model, err := fetchers.NewUpstream("fraud-model", srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()

	b := graph.NewBuilder()
	amount := nodes.Input[float64](b, "amount")
	country := nodes.Value(b, "country", "DE")
	score := fetchers.ModelScore(b, "fraud_score", model, "/v1/score", []fetchers.Feature{
		fetchers.FeatureOf("amount", amount),
		fetchers.FeatureOf("country", country),
	}, nodes.Timeout(time.Second), nodes.Fallback(fetchers.Score{Value: 0.5}))
	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(amount, 300.0)}, score)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	s, _ := executor.Get(res, score)
	fmt.Printf("score %.2f, reason %v, upstream %s\n", s.Value, s.Extra["reason"], graphx.Node(g, score.ID()).Meta[fetchers.MetaUpstream])
	// Output:
	// score 0.60, reason amount, upstream fraud-model
}
