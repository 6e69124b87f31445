package executor_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"golang.org/x/sync/errgroup"
)

// The card-authorization graph three ways: featgraph, a careful hand-written
// errgroup version, and plain sequential calls. Run with
//
//	go test ./executor -run '^$' -bench 'CardAuth' -benchmem -count 6

var benchRequest = cardauth.Request{TransactionID: "t1", CardID: "c1", CustomerID: "u1", MerchantID: "m1"}

// BenchmarkCardAuth measures the engine's overhead: every fetch answers at once.
func BenchmarkCardAuth(b *testing.B) {
	svc, err := cardauth.NewServices()
	if err != nil {
		b.Fatal(err)
	}
	up := svc.Upstreams()
	ctx := context.Background()
	b.Run("featgraph", func(b *testing.B) { benchFeatgraph(b, up) })
	b.Run("featgraph-otel-noop", func(b *testing.B) { benchFeatgraph(b, up, otelNoopOptions()...) })
	b.Run("featgraph-otel-sdk", func(b *testing.B) { benchFeatgraph(b, up, otelSDKOptions(b)...) })
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := authorizeErrgroup(ctx, up, benchRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := authorizeSequential(ctx, up, benchRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCardAuthLatency measures wall time when every fetch takes 1 ms,
// against the floor: the longest chain's 4 fetches called one after another.
// The errgroup and sequential versions show what the graph saves.
func BenchmarkCardAuthLatency(b *testing.B) {
	svc, err := cardauth.NewServices(cardauth.WithLatency(time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	up := svc.Upstreams()
	ctx := context.Background()
	b.Run("featgraph", func(b *testing.B) { benchFeatgraph(b, up) })
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := authorizeErrgroup(ctx, up, benchRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := authorizeSequential(ctx, up, benchRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := longestChain(ctx, up, benchRequest.CardID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchFeatgraph(b *testing.B, up cardauth.Upstreams, opts ...executor.Option) {
	ca, err := cardauth.New(up)
	if err != nil {
		b.Fatal(err)
	}
	ex, err := executor.New(ca.Graph, opts...)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	inputs := ca.Inputs(benchRequest)
	b.ReportAllocs()
	for b.Loop() {
		res, err := ex.Run(ctx, inputs, ca.Decision)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := executor.Get(res, ca.Decision); err != nil {
			b.Fatal(err)
		}
		res.Release()
	}
}

// longestChain is card -> account_id -> account -> account_limits.
func longestChain(ctx context.Context, up cardauth.Upstreams, cardID string) (cardauth.Limits, error) {
	card, err := up.Card(ctx, cardID)
	if err != nil {
		return cardauth.Limits{}, err
	}
	accountID, err := up.AccountID(ctx, card.AccountRef)
	if err != nil {
		return cardauth.Limits{}, err
	}
	account, err := up.Account(ctx, accountID)
	if err != nil {
		return cardauth.Limits{}, err
	}
	return up.AccountLimits(ctx, account.LimitsID)
}

// TestCardAuthBaselinesAgree checks that the hand-written versions compute
// what the graph computes, so that the benchmark compares like with like.
func TestCardAuthBaselinesAgree(t *testing.T) {
	errModel := errors.New("model down")
	for _, tc := range []struct {
		name string
		opts []cardauth.ServiceOption
	}{
		{"healthy", nil},
		{"model failing", []cardauth.ServiceOption{cardauth.WithFault(func(c cardauth.Call) error {
			if c.Service == "model" {
				return errModel
			}
			return nil
		})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, err := cardauth.NewServices(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			up := svc.Upstreams()
			ca, err := cardauth.New(up)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := executor.New(ca.Graph)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			verdicts := map[cardauth.Verdict]int{}
			for i := range 40 {
				r := cardauth.Request{
					TransactionID: fmt.Sprintf("t%d", i), CardID: fmt.Sprintf("c%d", i),
					CustomerID: fmt.Sprintf("u%d", i), MerchantID: fmt.Sprintf("m%d", i),
				}
				res, err := ex.Run(ctx, ca.Inputs(r), ca.Decision)
				if err != nil {
					t.Fatal(err)
				}
				want, err := executor.Get(res, ca.Decision)
				res.Release()
				if err != nil {
					t.Fatal(err)
				}
				verdicts[want.Verdict]++
				eg, err := authorizeErrgroup(ctx, up, r)
				if err != nil || eg != want {
					t.Errorf("%+v: errgroup decided %v (%v), featgraph %v", r, eg, err, want)
				}
				seq, err := authorizeSequential(ctx, up, r)
				if err != nil || seq != want {
					t.Errorf("%+v: sequential decided %v (%v), featgraph %v", r, seq, err, want)
				}
			}
			if len(verdicts) < 2 {
				t.Errorf("40 requests gave only %v: the comparison covers too little", verdicts)
			}
		})
	}
}

// TestCardAuthBaselinesFail checks that the baselines report a failed fetch
// rather than deciding on zero values.
func TestCardAuthBaselinesFail(t *testing.T) {
	errDown := errors.New("accounts down")
	svc, err := cardauth.NewServices(cardauth.WithFault(func(c cardauth.Call) error {
		if c.Service == "accounts" && c.Method == "limits" {
			return errDown
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	up := svc.Upstreams()
	ctx := context.Background()
	if _, err := authorizeErrgroup(ctx, up, benchRequest); !errors.Is(err, errDown) {
		t.Errorf("errgroup: err = %v, want the accounts fault", err)
	}
	if _, err := authorizeSequential(ctx, up, benchRequest); !errors.Is(err, errDown) {
		t.Errorf("sequential: err = %v, want the accounts fault", err)
	}
}

// authorizeSequential makes every call one after another.
func authorizeSequential(ctx context.Context, up cardauth.Upstreams, r cardauth.Request) (cardauth.Decision, error) {
	var (
		err error
		pol cardauth.PolicyInputs
		sig cardauth.Signals
	)
	tx := call(ctx, &err, up.Transaction, r.TransactionID)
	card := call(ctx, &err, up.Card, r.CardID)
	pol.Controls = call(ctx, &err, up.CardControls, r.CardID)
	pol.Product = call(ctx, &err, up.CardProduct, card.ProductID)
	sig.CardVelocity = call(ctx, &err, up.CardVelocity, r.CardID)
	pol.CardListed = call(ctx, &err, up.CardListed, r.CardID)
	accountID := call(ctx, &err, up.AccountID, card.AccountRef)
	sig.Account = call(ctx, &err, up.Account, accountID)
	balance := call(ctx, &err, up.AccountBalance, accountID)
	limits := call(ctx, &err, up.AccountLimits, sig.Account.LimitsID)
	sig.Delinquency = call(ctx, &err, up.AccountDelinquency, accountID)
	sig.AccountVelocity = call(ctx, &err, up.AccountVelocity, accountID)
	sig.Customer = call(ctx, &err, up.Customer, r.CustomerID)
	sig.CustomerVelocity = call(ctx, &err, up.CustomerVelocity, r.CustomerID)
	sig.CustomerDisputes = call(ctx, &err, up.CustomerDisputes, r.CustomerID)
	sig.HomePlace = call(ctx, &err, up.HomePlace, sig.Customer.HomePlaceID)
	sig.KYC = call(ctx, &err, up.KYC, r.CustomerID)
	sig.KYCDocuments = call(ctx, &err, up.KYCDocuments, sig.KYC.CaseID)
	pol.Sanctions = call(ctx, &err, up.Sanctions, r.CustomerID)
	sig.Merchant = call(ctx, &err, up.Merchant, r.MerchantID)
	sig.MerchantStats = call(ctx, &err, up.MerchantStats, r.MerchantID)
	pol.MerchantListed = call(ctx, &err, up.MerchantListed, r.MerchantID)
	sig.MerchantVelocity = call(ctx, &err, up.MerchantVelocity, r.MerchantID)
	sig.MerchantDisputes = call(ctx, &err, up.MerchantDisputes, r.MerchantID)
	sig.MerchantPlace = call(ctx, &err, up.MerchantPlace, sig.Merchant.PlaceID)
	sig.Device = call(ctx, &err, up.Device, tx.DeviceID)
	sig.DeviceReputation = call(ctx, &err, up.DeviceReputation, sig.Device.Fingerprint)
	pol.DeviceListed = call(ctx, &err, up.DeviceListed, tx.DeviceID)
	sig.DeviceVelocity = call(ctx, &err, up.DeviceVelocity, tx.DeviceID)
	sig.IPLocation = call(ctx, &err, up.IPLocation, tx.IP)
	pol.IPListed = call(ctx, &err, up.IPListed, tx.IP)
	if err != nil {
		return cardauth.Decision{}, err
	}
	pol.Transaction, pol.Card = tx, card
	sig.Transaction, sig.Card = tx, card
	pre := cardauth.CheckPolicy(pol)
	features := cardauth.ExtractFeatures(sig)
	score := cardauth.SkippedScore
	if pre.Eligible {
		if score, err = up.ModelScore(ctx, features); err != nil {
			score = cardauth.FallbackScore
		}
	}
	return cardauth.Decide(pre, score, cardauth.Afford(tx, balance, limits), features)
}

// call is one sequential fetch; after the first error it calls nothing more.
func call[K, T any](ctx context.Context, err *error, fetch func(context.Context, K) (T, error), key K) T {
	var v T
	if *err == nil {
		v, *err = fetch(ctx, key)
	}
	return v
}

// authorizeErrgroup is the graph written by hand with errgroup: one
// goroutine per fetch, each waiting on the done channels of the fetches it
// needs, so that every fetch starts the moment its last dependency finishes.
// The first error cancels the rest. The pure steps run inline where their
// inputs are ready: the pre-policy, features and model call on the model's
// goroutine, affordability and the decision after Wait.
func authorizeErrgroup(ctx context.Context, up cardauth.Upstreams, r cardauth.Request) (cardauth.Decision, error) {
	g, ctx := errgroup.WithContext(ctx)
	var (
		pol                  cardauth.PolicyInputs
		sig                  cardauth.Signals
		tx                   cardauth.Transaction
		card                 cardauth.Card
		accountID            string
		balance              cardauth.Balance
		limits               cardauth.Limits
		pre                  cardauth.PrePolicy
		features             cardauth.Features
		score                cardauth.ModelScore
		txDone, cardDone     = make(chan struct{}), make(chan struct{})
		accountIDDone        = make(chan struct{})
		accountDone          = make(chan struct{})
		customerDone         = make(chan struct{})
		kycDone              = make(chan struct{})
		merchantDone         = make(chan struct{})
		deviceDone           = make(chan struct{})
		policyDone           = make(chan struct{}) // closed when the policy's last fetch is in
		signalsDone          = make(chan struct{}) // closed when the features' last fetch is in
		policyLeft, sigsLeft atomic.Int32
	)
	// The pre-policy needs 7 fetches besides the transaction and the card,
	// the features 19; the last of each to finish closes the channel.
	policyLeft.Store(7)
	sigsLeft.Store(19)
	forPolicy := func() {
		if policyLeft.Add(-1) == 0 {
			close(policyDone)
		}
	}
	forSignals := func() {
		if sigsLeft.Add(-1) == 0 {
			close(signalsDone)
		}
	}
	wait := func(done chan struct{}) error {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	g.Go(func() (err error) {
		if tx, err = up.Transaction(ctx, r.TransactionID); err == nil {
			close(txDone)
		}
		return err
	})
	g.Go(func() (err error) {
		if card, err = up.Card(ctx, r.CardID); err == nil {
			close(cardDone)
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(cardDone); err == nil {
			if accountID, err = up.AccountID(ctx, card.AccountRef); err == nil {
				close(accountIDDone)
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(accountIDDone); err == nil {
			if sig.Account, err = up.Account(ctx, accountID); err == nil {
				close(accountDone)
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(accountDone); err == nil {
			limits, err = up.AccountLimits(ctx, sig.Account.LimitsID)
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(accountIDDone); err == nil {
			balance, err = up.AccountBalance(ctx, accountID)
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(accountIDDone); err == nil {
			if sig.Delinquency, err = up.AccountDelinquency(ctx, accountID); err == nil {
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(accountIDDone); err == nil {
			if sig.AccountVelocity, err = up.AccountVelocity(ctx, accountID); err == nil {
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(cardDone); err == nil {
			if pol.Product, err = up.CardProduct(ctx, card.ProductID); err == nil {
				forPolicy()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if pol.Controls, err = up.CardControls(ctx, r.CardID); err == nil {
			forPolicy()
		}
		return err
	})
	g.Go(func() (err error) {
		if pol.CardListed, err = up.CardListed(ctx, r.CardID); err == nil {
			forPolicy()
		}
		return err
	})
	g.Go(func() (err error) {
		if sig.CardVelocity, err = up.CardVelocity(ctx, r.CardID); err == nil {
			forSignals()
		}
		return err
	})
	g.Go(func() (err error) {
		if sig.Customer, err = up.Customer(ctx, r.CustomerID); err == nil {
			close(customerDone)
			forSignals()
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(customerDone); err == nil {
			if sig.HomePlace, err = up.HomePlace(ctx, sig.Customer.HomePlaceID); err == nil {
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if sig.CustomerVelocity, err = up.CustomerVelocity(ctx, r.CustomerID); err == nil {
			forSignals()
		}
		return err
	})
	g.Go(func() (err error) {
		if sig.CustomerDisputes, err = up.CustomerDisputes(ctx, r.CustomerID); err == nil {
			forSignals()
		}
		return err
	})
	g.Go(func() (err error) {
		if sig.KYC, err = up.KYC(ctx, r.CustomerID); err == nil {
			close(kycDone)
			forSignals()
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(kycDone); err == nil {
			if sig.KYCDocuments, err = up.KYCDocuments(ctx, sig.KYC.CaseID); err == nil {
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if pol.Sanctions, err = up.Sanctions(ctx, r.CustomerID); err == nil {
			forPolicy()
		}
		return err
	})
	g.Go(func() (err error) {
		if sig.Merchant, err = up.Merchant(ctx, r.MerchantID); err == nil {
			close(merchantDone)
			forSignals()
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(merchantDone); err == nil {
			if sig.MerchantPlace, err = up.MerchantPlace(ctx, sig.Merchant.PlaceID); err == nil {
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if sig.MerchantStats, err = up.MerchantStats(ctx, r.MerchantID); err == nil {
			forSignals()
		}
		return err
	})
	g.Go(func() (err error) {
		if pol.MerchantListed, err = up.MerchantListed(ctx, r.MerchantID); err == nil {
			forPolicy()
		}
		return err
	})
	g.Go(func() (err error) {
		if sig.MerchantVelocity, err = up.MerchantVelocity(ctx, r.MerchantID); err == nil {
			forSignals()
		}
		return err
	})
	g.Go(func() (err error) {
		if sig.MerchantDisputes, err = up.MerchantDisputes(ctx, r.MerchantID); err == nil {
			forSignals()
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(txDone); err == nil {
			if sig.Device, err = up.Device(ctx, tx.DeviceID); err == nil {
				close(deviceDone)
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(deviceDone); err == nil {
			if sig.DeviceReputation, err = up.DeviceReputation(ctx, sig.Device.Fingerprint); err == nil {
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(txDone); err == nil {
			if pol.DeviceListed, err = up.DeviceListed(ctx, tx.DeviceID); err == nil {
				forPolicy()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(txDone); err == nil {
			if sig.DeviceVelocity, err = up.DeviceVelocity(ctx, tx.DeviceID); err == nil {
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(txDone); err == nil {
			if sig.IPLocation, err = up.IPLocation(ctx, tx.IP); err == nil {
				forSignals()
			}
		}
		return err
	})
	g.Go(func() (err error) {
		if err = wait(txDone); err == nil {
			if pol.IPListed, err = up.IPListed(ctx, tx.IP); err == nil {
				forPolicy()
			}
		}
		return err
	})
	// The model's goroutine: the pre-policy, then the features, then the
	// model call if the payment is eligible, falling back on failure.
	g.Go(func() error {
		for _, done := range [...]chan struct{}{txDone, cardDone, policyDone} {
			if err := wait(done); err != nil {
				return err
			}
		}
		pol.Transaction, pol.Card = tx, card
		pre = cardauth.CheckPolicy(pol)
		if err := wait(signalsDone); err != nil {
			return err
		}
		sig.Transaction, sig.Card = tx, card
		features = cardauth.ExtractFeatures(sig)
		score = cardauth.SkippedScore
		if pre.Eligible {
			var err error
			if score, err = up.ModelScore(ctx, features); err != nil {
				score = cardauth.FallbackScore
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return cardauth.Decision{}, err
	}
	return cardauth.Decide(pre, score, cardauth.Afford(tx, balance, limits), features)
}

// BenchmarkCardAuthParallel is the shape of a loaded service: many
// authorizations at once (b.RunParallel), every fetch answering at once;
// featgraph against its errgroup twin, in runs per second (ns/op is per run).
//
//	go test ./executor -run '^$' -bench CardAuthParallel -benchmem -count 6
func BenchmarkCardAuthParallel(b *testing.B) {
	svc, err := cardauth.NewServices()
	if err != nil {
		b.Fatal(err)
	}
	up := svc.Upstreams()
	b.Run("featgraph", func(b *testing.B) {
		ca, err := cardauth.New(up)
		if err != nil {
			b.Fatal(err)
		}
		ex, err := executor.New(ca.Graph)
		if err != nil {
			b.Fatal(err)
		}
		inputs := ca.Inputs(benchRequest)
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				res, err := ex.Run(ctx, inputs, ca.Decision)
				if err != nil {
					b.Error(err)
					return
				}
				res.Release()
			}
		})
	})
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if _, err := authorizeErrgroup(ctx, up, benchRequest); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
