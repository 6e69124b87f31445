package spec

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/timeouts"
)

// request is one call of an http node, rendered from its dependencies.
type request struct {
	method     string
	path       string   // a fetchers path template; the upstream's base path is prepended
	pathValues []string // the template's values, each one escaped segment
	query      url.Values
	body       []byte // JSON; nil for none
	idempotent bool
}

// client is where an http node's requests go: an Upstream, or, for an
// upstream whose URL was left unresolved (AllowUnsetEnv), why there is none.
type client struct {
	up         *fetchers.Upstream
	unresolved error
}

// fetch sends req and returns the decoded JSON answer. Retries, the
// breaker, hedging and the request cache are the Upstream's.
func (c client) fetch(ctx context.Context, req request) (any, error) {
	if c.unresolved != nil {
		return nil, c.unresolved
	}
	r := fetchers.Request{Method: req.method, Path: req.path, PathValues: req.pathValues, Query: req.query, Idempotent: req.idempotent}
	if req.body != nil {
		r.Body = json.RawMessage(req.body)
	}
	return fetchers.FetchJSON[any](ctx, c.up, r)
}

// upstreamOptions turns a spec's policies into fetchers options. Without a
// retry policy nothing is retried; without a breaker the fetchers default
// applies (open after more than 5 consecutive failures, for 60 s).
func upstreamOptions(p policies) []fetchers.Option {
	var opts []fetchers.Option
	if r := p.Retry; r != nil {
		backoff := time.Duration(r.Backoff)
		opts = append(opts, fetchers.WithAttempts(r.Attempts, backoff, 16*backoff))
	} else {
		opts = append(opts, fetchers.WithAttempts(1, 0, 0))
	}
	if br := p.Breaker; br != nil {
		failures := uint32(br.Failures)
		opts = append(opts, fetchers.WithBreaker(gobreaker.Settings{
			Timeout:     time.Duration(br.OpenFor),
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			// A call that ran out of its caller's time says nothing of the upstream.
			IsExcluded: func(err error) bool {
				return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
			},
		}))
	}
	if h := p.Hedge; h != nil {
		policy := timeouts.HedgeAfter(time.Duration(h.After))
		if h.Quantile > 0 {
			policy = timeouts.HedgeAtQuantile(h.Quantile, time.Duration(h.After))
			policy.Delay = time.Duration(h.After) // until enough latencies are known
		}
		opts = append(opts, fetchers.WithHedging(policy))
	}
	return opts
}
