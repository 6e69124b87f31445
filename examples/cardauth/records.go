package cardauth

// The records the services answer with. Amounts are in minor units (pence).

// Transaction is the payment to authorize.
type Transaction struct {
	ID          string `json:"id"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
	// Country is where the payment is made.
	Country string `json:"country"`
	// Channel is "pos" (card present) or "online".
	Channel  string `json:"channel"`
	DeviceID string `json:"device_id"`
	IP       string `json:"ip"`
}

// CardStatus is the life-cycle state of a card.
type CardStatus string

// The card statuses; only an active card can pay.
const (
	CardActive  CardStatus = "active"
	CardBlocked CardStatus = "blocked"
	CardLost    CardStatus = "lost"
	CardExpired CardStatus = "expired"
)

// Card is the card record. AccountRef is the card system's reference to the
// account, which the accounts service must resolve to an account id.
type Card struct {
	ID           string     `json:"id"`
	Status       CardStatus `json:"status"`
	AccountRef   string     `json:"account_ref"`
	ProductID    string     `json:"product_id"`
	IssueCountry string     `json:"issue_country"`
}

// CardControls are the switches the cardholder set in their app.
type CardControls struct {
	OnlineEnabled        bool `json:"online_enabled"`
	InternationalEnabled bool `json:"international_enabled"`
}

// CardProduct is the card's product; no single payment above HardLimitCents
// can be authorized.
type CardProduct struct {
	ID             string `json:"id"`
	HardLimitCents int64  `json:"hard_limit_cents"`
}

// Account is the credit account behind a card.
type Account struct {
	ID       string `json:"id"`
	LimitsID string `json:"limits_id"`
	AgeDays  int    `json:"age_days"`
}

// Balance is what the account owes and has spent today.
type Balance struct {
	OutstandingCents int64 `json:"outstanding_cents"`
	SpentTodayCents  int64 `json:"spent_today_cents"`
}

// Limits are the account's credit and daily spending limits.
type Limits struct {
	CreditCents int64 `json:"credit_cents"`
	DailyCents  int64 `json:"daily_cents"`
}

// Delinquency says how late the account's repayments are.
type Delinquency struct {
	DaysPastDue int `json:"days_past_due"`
}

// Customer is the cardholder.
type Customer struct {
	ID          string `json:"id"`
	HomePlaceID string `json:"home_place_id"`
	TenureDays  int    `json:"tenure_days"`
}

// KYC is the customer's identity verification: Level 0 (none), 1 (basic)
// or 2 (full), and the case holding the documents.
type KYC struct {
	Level  int    `json:"level"`
	CaseID string `json:"case_id"`
}

// KYCDocuments counts the documents of a KYC case.
type KYCDocuments struct {
	Verified int `json:"verified"`
	Expired  int `json:"expired"`
}

// Sanctions is the result of screening a customer against sanctions lists.
type Sanctions struct {
	Hit bool `json:"hit"`
}

// Merchant is where the card pays.
type Merchant struct {
	ID string `json:"id"`
	// Category is the merchant category code (MCC).
	Category string `json:"category"`
	Country  string `json:"country"`
	PlaceID  string `json:"place_id"`
	// RiskTier is 1 (low) to 3 (high).
	RiskTier int `json:"risk_tier"`
}

// MerchantStats are the merchant's chargeback rate and age.
type MerchantStats struct {
	ChargebackRate float64 `json:"chargeback_rate"`
	AgeDays        int     `json:"age_days"`
}

// Disputes counts the open and lost disputes of a customer or merchant.
type Disputes struct {
	Open int `json:"open"`
	Lost int `json:"lost"`
}

// Device is the device the payment was made from.
type Device struct {
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"`
	AgeDays     int    `json:"age_days"`
	Emulator    bool   `json:"emulator"`
}

// DeviceReputation is a shared risk rating of a device fingerprint, in [0, 1].
type DeviceReputation struct {
	Risk float64 `json:"risk"`
}

// Location is a point on the map and its country.
type Location struct {
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	Country string  `json:"country"`
}

// Velocity counts recent payments of a card, customer, merchant, device or account.
type Velocity struct {
	LastHour       int   `json:"last_hour"`
	LastDay        int   `json:"last_day"`
	AmountDayCents int64 `json:"amount_day_cents"`
}

// Listing is the answer of a blocklist.
type Listing struct {
	Listed bool   `json:"listed"`
	Reason string `json:"reason,omitempty"`
}

// ScoreSource says where a model score came from.
type ScoreSource string

// The score sources.
const (
	// ScoreFromModel: the model answered.
	ScoreFromModel ScoreSource = "model"
	// ScoreFallback: the model failed or timed out; the score is the
	// cautious default [FallbackScore].
	ScoreFallback ScoreSource = "fallback"
	// ScoreSkipped: the pre-policy made the model call pointless.
	ScoreSkipped ScoreSource = "skipped"
)

// ModelScore is the fraud model's probability that the payment is fraud.
type ModelScore struct {
	Score   float64     `json:"score"`
	Source  ScoreSource `json:"source"`
	Version string      `json:"version,omitempty"`
}
