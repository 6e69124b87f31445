package fetchers_test

import (
	"context"
	"fmt"
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
		fetchers.WithRetries(2, 5*time.Millisecond, 50*time.Millisecond),
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
	byID := func(id string) (fetchers.Request, error) { return fetchers.Get("/accounts/" + id), nil }

	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card")
	account := fetchers.JSON1[string, Account](b, "account", accounts, card, byID,
		nodes.Timeout(100*time.Millisecond), nodes.Fallback(Account{}))
	currency := fetchers.JSON1[string, Currency](b, "currency", accounts, card, byID,
		nodes.Timeout(100*time.Millisecond))
	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}

	// The cache lives in the context of one run.
	ctx := fetchers.WithRequestCache(context.Background())
	res, err := executor.Run(ctx, g, []executor.Input{executor.Bind(card, "c42")}, account, currency)
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
