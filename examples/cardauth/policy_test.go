package cardauth_test

import (
	"strings"
	"testing"

	"github.com/featgraph/featgraph/examples/cardauth"
)

// eligibleInputs passes every hard rule: each case below breaks one.
func eligibleInputs() cardauth.PolicyInputs {
	return cardauth.PolicyInputs{
		Transaction: cardauth.Transaction{AmountCents: 5_000, Channel: "online", Country: "GB"},
		Card:        cardauth.Card{Status: cardauth.CardActive, IssueCountry: "GB"},
		Controls:    cardauth.CardControls{OnlineEnabled: true, InternationalEnabled: true},
		Product:     cardauth.CardProduct{ID: "classic", HardLimitCents: 10_000},
	}
}

func TestCheckPolicy(t *testing.T) {
	listed := cardauth.Listing{Listed: true}
	tests := []struct {
		name   string
		change func(*cardauth.PolicyInputs)
		reason string // empty: eligible
	}{
		{"all clear", func(*cardauth.PolicyInputs) {}, ""},
		{"amount at the hard limit", func(in *cardauth.PolicyInputs) { in.Transaction.AmountCents = 10_000 }, ""},
		{"abroad, allowed", func(in *cardauth.PolicyInputs) { in.Transaction.Country = "FR" }, ""},
		{"card blocked", func(in *cardauth.PolicyInputs) { in.Card.Status = cardauth.CardBlocked }, "card blocked"},
		{"card lost", func(in *cardauth.PolicyInputs) { in.Card.Status = cardauth.CardLost }, "card lost"},
		{"card listed", func(in *cardauth.PolicyInputs) { in.CardListed = listed }, "card on blocklist"},
		{"sanctions", func(in *cardauth.PolicyInputs) { in.Sanctions.Hit = true }, "sanctions"},
		{"merchant listed", func(in *cardauth.PolicyInputs) { in.MerchantListed = listed }, "merchant on blocklist"},
		{"device listed", func(in *cardauth.PolicyInputs) { in.DeviceListed = listed }, "device on blocklist"},
		{"ip listed", func(in *cardauth.PolicyInputs) { in.IPListed = listed }, "ip address on blocklist"},
		{"over the hard limit", func(in *cardauth.PolicyInputs) { in.Transaction.AmountCents = 10_001 }, "over the classic card's hard limit £100.00"},
		{"online disabled", func(in *cardauth.PolicyInputs) { in.Controls.OnlineEnabled = false }, "online payments disabled"},
		{"online disabled, in shop", func(in *cardauth.PolicyInputs) {
			in.Controls.OnlineEnabled, in.Transaction.Channel = false, "pos"
		}, ""},
		{"abroad disabled", func(in *cardauth.PolicyInputs) {
			in.Controls.InternationalEnabled, in.Transaction.Country = false, "US"
		}, "payments abroad disabled"},
		{"the most severe rule wins", func(in *cardauth.PolicyInputs) {
			in.Card.Status, in.IPListed = cardauth.CardExpired, listed
		}, "card expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := eligibleInputs()
			tt.change(&in)
			got := cardauth.CheckPolicy(in)
			if got.Eligible != (tt.reason == "") {
				t.Fatalf("CheckPolicy = %+v, want eligible %v", got, tt.reason == "")
			}
			if !strings.Contains(got.Reason, tt.reason) || (tt.reason == "") != (got.Reason == "") {
				t.Errorf("reason %q, want one containing %q", got.Reason, tt.reason)
			}
		})
	}
}

func TestAfford(t *testing.T) {
	limits := cardauth.Limits{CreditCents: 100_000, DailyCents: 20_000}
	tests := []struct {
		name                string
		amount, owed, today int64
		want                cardauth.Affordability
	}{
		{"room to spare", 1_000, 50_000, 0, cardauth.Affordability{AvailableCents: 50_000, WithinCredit: true, WithinDaily: true}},
		{"exactly the available credit", 50_000, 50_000, 0, cardauth.Affordability{AvailableCents: 50_000, WithinCredit: true, WithinDaily: false}},
		{"over the credit", 50_001, 50_000, 0, cardauth.Affordability{AvailableCents: 50_000, WithinCredit: false, WithinDaily: false}},
		{"overdrawn already", 1, 120_000, 0, cardauth.Affordability{AvailableCents: -20_000, WithinDaily: true}},
		{"over the daily limit", 5_000, 0, 15_001, cardauth.Affordability{AvailableCents: 100_000, WithinCredit: true}},
		{"exactly the daily limit", 5_000, 0, 15_000, cardauth.Affordability{AvailableCents: 100_000, WithinCredit: true, WithinDaily: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cardauth.Afford(cardauth.Transaction{AmountCents: tt.amount}, cardauth.Balance{OutstandingCents: tt.owed, SpentTodayCents: tt.today}, limits)
			if got != tt.want {
				t.Errorf("Afford = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	eligible := cardauth.PrePolicy{Eligible: true}
	affordable := cardauth.Affordability{AvailableCents: 100_000, WithinCredit: true, WithinDaily: true}
	model := func(s float64) cardauth.ModelScore {
		return cardauth.ModelScore{Score: s, Source: cardauth.ScoreFromModel}
	}
	features := cardauth.Features{AmountCents: 2_000, KYCLevel: 2}
	tests := []struct {
		name   string
		p      cardauth.PrePolicy
		s      cardauth.ModelScore
		a      cardauth.Affordability
		change func(*cardauth.Features)
		want   cardauth.Verdict
		reason string
	}{
		{"clean", eligible, model(0.1), affordable, nil, cardauth.Approve, "all checks passed"},
		{"not eligible, model skipped", cardauth.PrePolicy{Reason: "card lost"}, cardauth.SkippedScore, affordable, nil, cardauth.Decline, "card lost"},
		{"not eligible even with a good score", cardauth.PrePolicy{Reason: "card lost"}, model(0.01), affordable, nil, cardauth.Decline, "card lost"},
		{"over the credit", eligible, model(0.1), cardauth.Affordability{AvailableCents: 1_000, WithinDaily: true}, nil, cardauth.Decline, "over the available credit £10.00"},
		{"seriously late", eligible, model(0.1), affordable, func(f *cardauth.Features) { f.DaysPastDue = cardauth.SeriouslyLateDays + 1 }, cardauth.Decline, "61 days past due"},
		{"a little late", eligible, model(0.1), affordable, func(f *cardauth.Features) { f.DaysPastDue = cardauth.SeriouslyLateDays }, cardauth.Approve, "all checks passed"},
		{"score at the decline threshold", eligible, model(cardauth.DeclineScore), affordable, nil, cardauth.Decline, "fraud score too high"},
		{"score at the review threshold", eligible, model(cardauth.ReviewScore), affordable, nil, cardauth.Review, "fraud score elevated"},
		{"score just under review", eligible, model(cardauth.ReviewScore - 0.01), affordable, nil, cardauth.Approve, "all checks passed"},
		{"model fell back", eligible, cardauth.FallbackScore, affordable, nil, cardauth.Review, "fraud model unavailable"},
		{"fell back but over the credit", eligible, cardauth.FallbackScore, cardauth.Affordability{}, nil, cardauth.Decline, "over the available credit"},
		{"over the daily limit", eligible, model(0.1), cardauth.Affordability{AvailableCents: 100_000, WithinCredit: true}, nil, cardauth.Review, "daily spending limit"},
		{"large and unverified", eligible, model(0.1), affordable, func(f *cardauth.Features) {
			f.KYCLevel, f.AmountCents = 0, cardauth.LargeUnverifiedCents+1
		}, cardauth.Review, "unverified customer"},
		{"small and unverified", eligible, model(0.1), affordable, func(f *cardauth.Features) { f.KYCLevel = 0 }, cardauth.Approve, "all checks passed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := features
			if tt.change != nil {
				tt.change(&f)
			}
			got, err := cardauth.Decide(tt.p, tt.s, tt.a, f)
			if err != nil {
				t.Fatal(err)
			}
			if got.Verdict != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("Decide = %v, want %s containing %q", got, tt.want, tt.reason)
			}
			if got.Score != tt.s.Score || got.ScoreSource != tt.s.Source {
				t.Errorf("Decide kept score %v (%s), want %v (%s)", got.Score, got.ScoreSource, tt.s.Score, tt.s.Source)
			}
		})
	}
}

func TestDecideRejectsSkippedModelForEligiblePayment(t *testing.T) {
	_, err := cardauth.Decide(cardauth.PrePolicy{Eligible: true}, cardauth.SkippedScore, cardauth.Affordability{WithinCredit: true, WithinDaily: true}, cardauth.Features{})
	if err == nil || !strings.Contains(err.Error(), "skipped") {
		t.Fatalf("Decide = %v, want an error saying the model was skipped", err)
	}
}

func TestFraudProbability(t *testing.T) {
	calm := cardauth.Features{AmountCents: 2_000, KYCLevel: 2, MerchantRiskTier: 1, DeviceAgeDays: 400}
	risky := calm
	risky.Emulator, risky.DeviceRisk, risky.CardPaymentsHour, risky.International = true, 0.9, 6, true
	p, q := cardauth.FraudProbability(calm), cardauth.FraudProbability(risky)
	if p <= 0 || p >= cardauth.ReviewScore {
		t.Errorf("calm payment scores %v, want in (0, %v)", p, cardauth.ReviewScore)
	}
	if q < cardauth.DeclineScore || q >= 1 {
		t.Errorf("risky payment scores %v, want in [%v, 1)", q, cardauth.DeclineScore)
	}
}
