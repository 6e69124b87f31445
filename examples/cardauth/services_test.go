package cardauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
)

func newServices(t *testing.T, opts ...cardauth.ServiceOption) *cardauth.Services {
	t.Helper()
	svc, err := cardauth.NewServices(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestServicesAreDeterministic(t *testing.T) {
	ctx := context.Background()
	a, b := newServices(t), newServices(t)
	distinct := map[cardauth.Card]bool{}
	for _, id := range []string{"c1", "c2", "c3", "card-with-a-long-id", ""} {
		x, err := a.Cards.Card(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		y, _ := b.Cards.Card(ctx, id)
		if x != y {
			t.Errorf("card %q: %+v then %+v", id, x, y)
		}
		if x.ID != id || x.AccountRef == "" || x.ProductID == "" || x.IssueCountry == "" {
			t.Errorf("card %q is incomplete: %+v", id, x)
		}
		distinct[x] = true
	}
	if len(distinct) != 5 {
		t.Errorf("5 card ids gave %d distinct cards", len(distinct))
	}
	tx1, _ := a.Transactions.Transaction(ctx, "t1")
	tx2, _ := b.Transactions.Transaction(ctx, "t1")
	if tx1 != tx2 || tx1.AmountCents <= 0 || tx1.DeviceID == "" || tx1.IP == "" {
		t.Errorf("transaction t1: %+v then %+v", tx1, tx2)
	}
}

func TestServicesRespectContext(t *testing.T) {
	svc := newServices(t, cardauth.WithLatency(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	up := svc.Upstreams()
	done := make(chan error, 1)
	go func() {
		_, err := up.AccountLimits(ctx, "lim-1")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a call with an hour of latency ignored its context's deadline")
	}

	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if _, err := svc.Model.Score(canceled, cardauth.Features{}); !errors.Is(err, context.Canceled) {
		t.Errorf("call on a canceled context: err = %v, want context.Canceled", err)
	}
}

func TestServicesLatencyAndJitter(t *testing.T) {
	svc := newServices(t, cardauth.WithLatency(5*time.Millisecond), cardauth.WithJitter(func(c cardauth.Call) time.Duration {
		if c.Service == "geo" {
			return 10 * time.Millisecond
		}
		return 0
	}))
	start := time.Now()
	if _, err := svc.Geo.IP(context.Background(), "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 15*time.Millisecond {
		t.Errorf("geo call took %v, want at least latency + jitter = 15ms", took)
	}
}

func TestServicesFaults(t *testing.T) {
	errDown := errors.New("down for maintenance")
	svc := newServices(t, cardauth.WithFault(func(c cardauth.Call) error {
		if c.Service == "kyc" && c.Method == "sanctions" {
			return errDown
		}
		return nil
	}))
	ctx := context.Background()
	_, err := svc.KYC.Sanctions(ctx, "u7")
	var se *cardauth.ServiceError
	if !errors.Is(err, errDown) || !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *ServiceError wrapping the fault", err)
	}
	if want := (cardauth.Call{Service: "kyc", Method: "sanctions", Key: "u7"}); se.Call != want {
		t.Errorf("fault reports call %+v, want %+v", se.Call, want)
	}
	if _, err := svc.KYC.Status(ctx, "u7"); err != nil {
		t.Errorf("another method of the same service failed: %v", err)
	}
	if got := svc.Calls("kyc"); got != 2 {
		t.Errorf("Calls(kyc) = %d, want 2", got)
	}
}

func TestServicesOptionsRejectBadValues(t *testing.T) {
	for name, opt := range map[string]cardauth.ServiceOption{
		"negative latency": cardauth.WithLatency(-time.Millisecond),
		"nil jitter":       cardauth.WithJitter(nil),
		"nil fault":        cardauth.WithFault(nil),
	} {
		if _, err := cardauth.NewServices(opt); err == nil {
			t.Errorf("%s: NewServices accepted it", name)
		}
	}
}
