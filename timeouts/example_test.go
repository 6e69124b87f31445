package timeouts_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/timeouts"
)

// A call still unanswered after the policy's delay sends one backup
// request; the first answer wins and the other request is canceled.
func ExampleHedgeAfter() {
	// A service whose first request gets stuck on a slow replica.
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			<-r.Context().Done() // until the hedge wins and this request is canceled
			return
		}
		fmt.Fprint(w, `{"score":0.93}`)
	}))
	defer srv.Close()

	scores, err := fetchers.NewUpstream("scores", srv.URL,
		fetchers.WithHedging(timeouts.HedgeAfter(10*time.Millisecond)))
	if err != nil {
		log.Fatal(err)
	}
	defer scores.Close()

	type Score struct {
		Score float64 `json:"score"`
	}
	s, err := fetchers.FetchJSON[Score](context.Background(), scores, fetchers.GetRequest("/score"))
	if err != nil {
		log.Fatal(err)
	}
	st := scores.Stats()
	fmt.Printf("score %v; hedges sent %d, won %d\n", s.Score, st.HedgesSent, st.HedgesWon)
	// Output: score 0.93; hedges sent 1, won 1
}

// A policy that follows the upstream's latency: hedge the slowest 5% of
// calls, never sooner than 2ms after the first request, after 20ms while too
// few latencies are known, and never add more than 2% extra requests.
func ExampleHedgeAtQuantile() {
	p := timeouts.HedgeAtQuantile(0.95, 2*time.Millisecond)
	p.Delay = 20 * time.Millisecond
	p.MaxExtra = 0.02
	scores, err := fetchers.NewUpstream("scores", "http://scores.internal:8080", fetchers.WithHedging(p))
	if err != nil {
		log.Fatal(err)
	}
	defer scores.Close()
	fmt.Printf("%+v\n", p)

	// A policy that cannot work is refused when the upstream is made.
	_, err = fetchers.NewUpstream("scores", "http://scores.internal:8080",
		fetchers.WithHedging(timeouts.HedgeAtQuantile(95, time.Millisecond)))
	fmt.Println(err != nil)
	// Output:
	// {Delay:20ms Quantile:0.95 MinDelay:2ms MaxExtra:0.02 Burst:0}
	// true
}
