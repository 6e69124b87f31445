package cardauth

import (
	"context"
	"fmt"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// Request names the payment to authorize and who is involved. Any ids work
// with the simulated services.
type Request struct {
	TransactionID, CardID, CustomerID, MerchantID string
}

// Graph is the built card-authorization graph and the typed refs of its
// inputs and of the nodes worth reading back.
type Graph struct {
	// Graph is the graph to run; its target is usually Decision.
	Graph *graph.Graph

	TransactionID, CardID, CustomerID, MerchantID nodes.Ref[string]

	// PrePolicy is the verdict of the hard rules; Eligible says whether the
	// model is worth asking.
	PrePolicy nodes.Ref[PrePolicy]
	Eligible  nodes.Ref[bool]
	// Features are the model's inputs.
	Features nodes.Ref[Features]
	// ModelScore is the model call, with FallbackScore as its fallback;
	// Score is ModelScore when Eligible, SkippedScore otherwise.
	ModelScore nodes.Ref[ModelScore]
	Score      nodes.Ref[ModelScore]
	// AccountLimits ends the longest chain of fetches:
	// card -> account_id -> account -> account_limits.
	AccountLimits nodes.Ref[Limits]
	Affordability nodes.Ref[Affordability]
	// Decision is the verdict: approve, review or decline.
	Decision nodes.Ref[Decision]
}

// Inputs binds the request's ids to the graph's inputs.
func (g *Graph) Inputs(r Request) []executor.Binding {
	return []executor.Binding{
		executor.Bind(g.TransactionID, r.TransactionID),
		executor.Bind(g.CardID, r.CardID),
		executor.Bind(g.CustomerID, r.CustomerID),
		executor.Bind(g.MerchantID, r.MerchantID),
	}
}

// Option configures the graph built by [New].
type Option func(*config) error

type config struct {
	modelTimeout time.Duration
}

// WithModelTimeout bounds the model call to d; past it the model's fallback
// score is used. Without it, only the run's deadline bounds the call.
func WithModelTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("cardauth: model timeout %v is not positive", d)
		}
		c.modelTimeout = d
		return nil
	}
}

// New builds the card-authorization graph on the given upstreams.
func New(up Upstreams, opts ...Option) (*Graph, error) {
	var cfg config
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if missing := up.missing(); len(missing) > 0 {
		return nil, &MissingUpstreamError{Names: missing}
	}
	b := graph.NewBuilder()
	g := &Graph{}
	d := nodes.Describe

	g.TransactionID = nodes.Input[string](b, "transaction_id", d("Id of the payment to authorize."))
	g.CardID = nodes.Input[string](b, "card_id", d("Id of the card that pays."))
	g.CustomerID = nodes.Input[string](b, "customer_id", d("Id of the cardholder."))
	g.MerchantID = nodes.Input[string](b, "merchant_id", d("Id of the merchant paid."))

	// The payment, and what its device and address say.
	transaction := nodes.Fetch1(b, "transaction", g.TransactionID, up.Transaction, d("The payment's amount, channel, country, device and IP address (transactions)."))
	device := nodes.Fetch1(b, "device", transaction, by(Transaction.deviceID, up.Device), d("The device the payment came from: age, emulator flag, fingerprint (devices)."))
	deviceReputation := nodes.Fetch1(b, "device_reputation", device, by(Device.fingerprint, up.DeviceReputation), d("Shared risk rating of the device's fingerprint (devices)."))
	deviceListed := nodes.Fetch1(b, "device_listed", transaction, by(Transaction.deviceID, up.DeviceListed), d("Whether the device is on the fraud team's blocklist (blocklists)."))
	deviceVelocity := nodes.Fetch1(b, "device_velocity", transaction, by(Transaction.deviceID, up.DeviceVelocity), d("Recent payments from the same device (velocity)."))
	ipLocation := nodes.Fetch1(b, "ip_location", transaction, by(Transaction.ip, up.IPLocation), d("Where the payer's IP address is (geo)."))
	ipListed := nodes.Fetch1(b, "ip_listed", transaction, by(Transaction.ip, up.IPListed), d("Whether the IP address is on a blocklist (blocklists)."))

	// The card, and the account behind it: the longest chain.
	card := nodes.Fetch1(b, "card", g.CardID, up.Card, d("The card's status, product, issuing country and account reference (cards)."))
	cardControls := nodes.Fetch1(b, "card_controls", g.CardID, up.CardControls, d("The cardholder's switches for online and foreign payments (cards)."))
	cardProduct := nodes.Fetch1(b, "card_product", card, by(Card.productID, up.CardProduct), d("The card product's per-payment hard limit (cards)."))
	cardVelocity := nodes.Fetch1(b, "card_velocity", g.CardID, up.CardVelocity, d("Recent payments with the card (velocity)."))
	cardListed := nodes.Fetch1(b, "card_listed", g.CardID, up.CardListed, d("Whether the card is on the fraud team's blocklist (blocklists)."))
	accountID := nodes.Fetch1(b, "account_id", card, by(Card.accountRef, up.AccountID), d("Resolves the card system's account reference to the account id (accounts)."))
	account := nodes.Fetch1(b, "account", accountID, up.Account, d("The credit account: age and limits id (accounts)."))
	balance := nodes.Fetch1(b, "account_balance", accountID, up.AccountBalance, d("What the account owes and has spent today (accounts)."))
	delinquency := nodes.Fetch1(b, "account_delinquency", accountID, up.AccountDelinquency, d("How late the account's repayments are (accounts)."))
	accountVelocity := nodes.Fetch1(b, "account_velocity", accountID, up.AccountVelocity, d("Recent payments on the account, all cards together (velocity)."))
	g.AccountLimits = nodes.Fetch1(b, "account_limits", account, by(Account.limitsID, up.AccountLimits), d("The account's credit and daily limits (accounts)."))

	// The customer.
	customer := nodes.Fetch1(b, "customer", g.CustomerID, up.Customer, d("The cardholder's tenure and home (customers)."))
	customerVelocity := nodes.Fetch1(b, "customer_velocity", g.CustomerID, up.CustomerVelocity, d("Recent payments by the customer on any card (velocity)."))
	customerDisputes := nodes.Fetch1(b, "customer_disputes", g.CustomerID, up.CustomerDisputes, d("Chargebacks the customer raised and lost (disputes)."))
	homePlace := nodes.Fetch1(b, "home_place", customer, by(Customer.homePlaceID, up.HomePlace), d("Where the customer lives (geo)."))
	kyc := nodes.Fetch1(b, "kyc", g.CustomerID, up.KYC, d("How far the customer's identity is verified (kyc)."))
	kycDocuments := nodes.Fetch1(b, "kyc_documents", kyc, by(KYC.caseID, up.KYCDocuments), d("The documents of the customer's KYC case (kyc)."))
	sanctions := nodes.Fetch1(b, "sanctions", g.CustomerID, up.Sanctions, d("Sanctions-list screening of the customer (kyc)."))

	// The merchant.
	merchant := nodes.Fetch1(b, "merchant", g.MerchantID, up.Merchant, d("The merchant's category, country, place and risk tier (merchants)."))
	merchantStats := nodes.Fetch1(b, "merchant_stats", g.MerchantID, up.MerchantStats, d("The merchant's chargeback rate and age (merchants)."))
	merchantListed := nodes.Fetch1(b, "merchant_listed", g.MerchantID, up.MerchantListed, d("Whether the merchant is on a blocklist (blocklists)."))
	merchantVelocity := nodes.Fetch1(b, "merchant_velocity", g.MerchantID, up.MerchantVelocity, d("Recent payments at the merchant (velocity)."))
	merchantDisputes := nodes.Fetch1(b, "merchant_disputes", g.MerchantID, up.MerchantDisputes, d("Disputes raised against the merchant (disputes)."))
	merchantPlace := nodes.Fetch1(b, "merchant_place", merchant, by(Merchant.placeID, up.MerchantPlace), d("Where the merchant is (geo)."))

	// The hard rules, checked before any scoring.
	g.PrePolicy = nodes.ComputeN(b, "pre_policy",
		[]nodes.Dep{transaction, card, cardControls, cardProduct, cardListed, merchantListed, deviceListed, ipListed, sanctions},
		func(a nodes.Args) (PrePolicy, error) {
			return CheckPolicy(PolicyInputs{
				Transaction:    nodes.Arg(a, transaction),
				Card:           nodes.Arg(a, card),
				Controls:       nodes.Arg(a, cardControls),
				Product:        nodes.Arg(a, cardProduct),
				CardListed:     nodes.Arg(a, cardListed),
				MerchantListed: nodes.Arg(a, merchantListed),
				DeviceListed:   nodes.Arg(a, deviceListed),
				IPListed:       nodes.Arg(a, ipListed),
				Sanctions:      nodes.Arg(a, sanctions),
			}), nil
		}, d("Hard rules: card status, blocklists, sanctions, hard limit, cardholder controls."))
	g.Eligible = nodes.Compute1(b, "eligible", g.PrePolicy, func(p PrePolicy) (bool, error) { return p.Eligible, nil },
		d("Whether the pre-policy lets the payment through to scoring."))

	g.Features = nodes.ComputeN(b, "features",
		[]nodes.Dep{transaction, card, cardVelocity, account, accountVelocity, delinquency, customer, customerVelocity,
			customerDisputes, homePlace, kyc, kycDocuments, merchant, merchantStats, merchantVelocity, merchantDisputes,
			merchantPlace, device, deviceReputation, deviceVelocity, ipLocation},
		func(a nodes.Args) (Features, error) {
			return ExtractFeatures(Signals{
				Transaction:      nodes.Arg(a, transaction),
				Card:             nodes.Arg(a, card),
				CardVelocity:     nodes.Arg(a, cardVelocity),
				Account:          nodes.Arg(a, account),
				AccountVelocity:  nodes.Arg(a, accountVelocity),
				Delinquency:      nodes.Arg(a, delinquency),
				Customer:         nodes.Arg(a, customer),
				CustomerVelocity: nodes.Arg(a, customerVelocity),
				CustomerDisputes: nodes.Arg(a, customerDisputes),
				HomePlace:        nodes.Arg(a, homePlace),
				KYC:              nodes.Arg(a, kyc),
				KYCDocuments:     nodes.Arg(a, kycDocuments),
				Merchant:         nodes.Arg(a, merchant),
				MerchantStats:    nodes.Arg(a, merchantStats),
				MerchantVelocity: nodes.Arg(a, merchantVelocity),
				MerchantDisputes: nodes.Arg(a, merchantDisputes),
				MerchantPlace:    nodes.Arg(a, merchantPlace),
				Device:           nodes.Arg(a, device),
				DeviceReputation: nodes.Arg(a, deviceReputation),
				DeviceVelocity:   nodes.Arg(a, deviceVelocity),
				IPLocation:       nodes.Arg(a, ipLocation),
			}), nil
		}, d("The fraud model's inputs, summarised from the fetched signals."))

	// The model, asked only when the pre-policy lets the payment through.
	modelOpts := []nodes.Option{nodes.Fallback(FallbackScore), d("Fraud probability from the scoring model; falls back to a cautious score (model).")}
	if cfg.modelTimeout > 0 {
		modelOpts = append(modelOpts, nodes.Timeout(cfg.modelTimeout))
	}
	g.ModelScore = nodes.Fetch1(b, "model_score", g.Features, up.ModelScore, modelOpts...)
	noModelScore := nodes.Value(b, "no_model_score", SkippedScore, d("Stands for the model score when the payment is declined without scoring."))
	g.Score = nodes.If(b, "score", g.Eligible, g.ModelScore, noModelScore, d("The model score if the payment is eligible; the model is not called otherwise."))

	g.Affordability = nodes.Compute3(b, "affordability", transaction, balance, g.AccountLimits,
		func(t Transaction, bal Balance, l Limits) (Affordability, error) { return Afford(t, bal, l), nil },
		d("Whether the amount fits the account's available credit and daily limit."))
	g.Decision = nodes.Compute4(b, "decision", g.PrePolicy, g.Score, g.Affordability, g.Features, Decide,
		d("Approve, review or decline, from the pre-policy, affordability and fraud score."))

	built, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("cardauth: %w", err)
	}
	g.Graph = built
	return g, nil
}

// by adapts an upstream keyed by a string to a fetch that reads its key
// from a record.
func by[R, T any](key func(R) string, fetch func(context.Context, string) (T, error)) func(context.Context, R) (T, error) {
	return func(ctx context.Context, r R) (T, error) { return fetch(ctx, key(r)) }
}

func (t Transaction) deviceID() string { return t.DeviceID }
func (t Transaction) ip() string       { return t.IP }
func (c Card) productID() string       { return c.ProductID }
func (c Card) accountRef() string      { return c.AccountRef }
func (a Account) limitsID() string     { return a.LimitsID }
func (c Customer) homePlaceID() string { return c.HomePlaceID }
func (k KYC) caseID() string           { return k.CaseID }
func (m Merchant) placeID() string     { return m.PlaceID }
func (d Device) fingerprint() string   { return d.Fingerprint }
