package cardauth

import "fmt"

// PolicyInputs are what the pre-policy looks at.
type PolicyInputs struct {
	Transaction    Transaction
	Card           Card
	Controls       CardControls
	Product        CardProduct
	CardListed     Listing
	MerchantListed Listing
	DeviceListed   Listing
	IPListed       Listing
	Sanctions      Sanctions
}

// PrePolicy is the verdict of the hard rules checked before any scoring: a
// payment that is not eligible is declined for Reason, without asking the model.
type PrePolicy struct {
	Eligible bool   `json:"eligible"`
	Reason   string `json:"reason,omitempty"`
}

// CheckPolicy applies the hard rules, in order of severity.
func CheckPolicy(in PolicyInputs) PrePolicy {
	t := in.Transaction
	switch {
	case in.Card.Status != CardActive:
		return PrePolicy{Reason: "card " + string(in.Card.Status)}
	case in.CardListed.Listed:
		return PrePolicy{Reason: "card on blocklist"}
	case in.Sanctions.Hit:
		return PrePolicy{Reason: "customer matches a sanctions list"}
	case in.MerchantListed.Listed:
		return PrePolicy{Reason: "merchant on blocklist"}
	case in.DeviceListed.Listed:
		return PrePolicy{Reason: "device on blocklist"}
	case in.IPListed.Listed:
		return PrePolicy{Reason: "ip address on blocklist"}
	case t.AmountCents > in.Product.HardLimitCents:
		return PrePolicy{Reason: fmt.Sprintf("amount %s over the %s card's hard limit %s", money(t.AmountCents), in.Product.ID, money(in.Product.HardLimitCents))}
	case t.Channel == "online" && !in.Controls.OnlineEnabled:
		return PrePolicy{Reason: "online payments disabled by the cardholder"}
	case t.Country != in.Card.IssueCountry && !in.Controls.InternationalEnabled:
		return PrePolicy{Reason: "payments abroad disabled by the cardholder"}
	}
	return PrePolicy{Eligible: true}
}

// Affordability says whether the account can take the payment.
type Affordability struct {
	AvailableCents int64 `json:"available_cents"`
	WithinCredit   bool  `json:"within_credit"`
	WithinDaily    bool  `json:"within_daily"`
}

// Afford checks the payment against the account's credit and daily limits.
func Afford(t Transaction, b Balance, l Limits) Affordability {
	available := l.CreditCents - b.OutstandingCents
	return Affordability{
		AvailableCents: available,
		WithinCredit:   t.AmountCents <= available,
		WithinDaily:    b.SpentTodayCents+t.AmountCents <= l.DailyCents,
	}
}

// Verdict is the answer to an authorization request.
type Verdict string

// The verdicts.
const (
	Approve Verdict = "approve"
	Review  Verdict = "review"
	Decline Verdict = "decline"
)

// Decision is the verdict with its reason and the score it was made with.
type Decision struct {
	Verdict     Verdict     `json:"verdict"`
	Reason      string      `json:"reason"`
	Score       float64     `json:"score"`
	ScoreSource ScoreSource `json:"score_source"`
}

func (d Decision) String() string {
	return fmt.Sprintf("%s: %s (score %.2f, %s)", d.Verdict, d.Reason, d.Score, d.ScoreSource)
}

// The score thresholds of [Decide].
const (
	DeclineScore = 0.85
	ReviewScore  = 0.5
	// LargeUnverifiedCents is the amount above which a customer without
	// KYC is sent to review.
	LargeUnverifiedCents = 50_000
	// SeriouslyLateDays is the delinquency above which payments are declined.
	SeriouslyLateDays = 60
)

// FallbackScore is the model score used when the model fails: a cautious
// score that sends the payment to review rather than approving it blind.
var FallbackScore = ModelScore{Score: ReviewScore, Source: ScoreFallback}

// SkippedScore stands for the model score when the pre-policy made the
// call pointless.
var SkippedScore = ModelScore{Source: ScoreSkipped}

// Decide is the authorization logic: the pre-policy first, then what the
// account can afford, then the fraud score.
func Decide(p PrePolicy, s ModelScore, a Affordability, f Features) (Decision, error) {
	d := Decision{Score: s.Score, ScoreSource: s.Source}
	switch {
	case !p.Eligible:
		d.Verdict, d.Reason = Decline, p.Reason
	case s.Source == ScoreSkipped:
		return Decision{}, fmt.Errorf("cardauth: the model was skipped for an eligible payment")
	case !a.WithinCredit:
		d.Verdict, d.Reason = Decline, fmt.Sprintf("amount %s over the available credit %s", money(f.AmountCents), money(a.AvailableCents))
	case f.DaysPastDue > SeriouslyLateDays:
		d.Verdict, d.Reason = Decline, fmt.Sprintf("account %d days past due", f.DaysPastDue)
	case s.Score >= DeclineScore:
		d.Verdict, d.Reason = Decline, "fraud score too high"
	case s.Source == ScoreFallback:
		d.Verdict, d.Reason = Review, "fraud model unavailable"
	case !a.WithinDaily:
		d.Verdict, d.Reason = Review, "over the daily spending limit"
	case s.Score >= ReviewScore:
		d.Verdict, d.Reason = Review, "fraud score elevated"
	case f.KYCLevel == 0 && f.AmountCents > LargeUnverifiedCents:
		d.Verdict, d.Reason = Review, "large amount from an unverified customer"
	default:
		d.Verdict, d.Reason = Approve, "all checks passed"
	}
	return d, nil
}

// money formats minor units as pounds.
func money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s£%d.%02d", sign, cents/100, cents%100)
}
