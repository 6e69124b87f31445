package cardauth

import "math"

// Signals are the fetched records the model's features are computed from.
type Signals struct {
	Transaction      Transaction
	Card             Card
	CardVelocity     Velocity
	Account          Account
	AccountVelocity  Velocity
	Delinquency      Delinquency
	Customer         Customer
	CustomerVelocity Velocity
	CustomerDisputes Disputes
	HomePlace        Location
	KYC              KYC
	KYCDocuments     KYCDocuments
	Merchant         Merchant
	MerchantStats    MerchantStats
	MerchantVelocity Velocity
	MerchantDisputes Disputes
	MerchantPlace    Location
	Device           Device
	DeviceReputation DeviceReputation
	DeviceVelocity   Velocity
	IPLocation       Location
}

// Features are the model's inputs: a flat, JSON-friendly summary of the signals.
type Features struct {
	TransactionID        string  `json:"transaction_id"`
	AmountCents          int64   `json:"amount_cents"`
	Online               bool    `json:"online"`
	International        bool    `json:"international"`
	CardPaymentsHour     int     `json:"card_payments_hour"`
	AccountPaymentsDay   int     `json:"account_payments_day"`
	CustomerPaymentsDay  int     `json:"customer_payments_day"`
	DevicePaymentsDay    int     `json:"device_payments_day"`
	MerchantPaymentsHour int     `json:"merchant_payments_hour"`
	AccountAgeDays       int     `json:"account_age_days"`
	DaysPastDue          int     `json:"days_past_due"`
	CustomerTenureDays   int     `json:"customer_tenure_days"`
	CustomerLostDisputes int     `json:"customer_lost_disputes"`
	KYCLevel             int     `json:"kyc_level"`
	KYCDocumentsExpired  bool    `json:"kyc_documents_expired"`
	MerchantCategory     string  `json:"merchant_category"`
	MerchantRiskTier     int     `json:"merchant_risk_tier"`
	MerchantChargebacks  float64 `json:"merchant_chargebacks"`
	MerchantLostDisputes int     `json:"merchant_lost_disputes"`
	MerchantAgeDays      int     `json:"merchant_age_days"`
	DeviceAgeDays        int     `json:"device_age_days"`
	DeviceRisk           float64 `json:"device_risk"`
	Emulator             bool    `json:"emulator"`
	// IPDistanceKm and MerchantDistanceKm are the distances from the
	// customer's home to the payer's address and to the merchant.
	IPDistanceKm       float64 `json:"ip_distance_km"`
	MerchantDistanceKm float64 `json:"merchant_distance_km"`
}

// ExtractFeatures summarises the signals for the model.
func ExtractFeatures(s Signals) Features {
	return Features{
		TransactionID:        s.Transaction.ID,
		AmountCents:          s.Transaction.AmountCents,
		Online:               s.Transaction.Channel == "online",
		International:        s.Transaction.Country != s.Card.IssueCountry,
		CardPaymentsHour:     s.CardVelocity.LastHour,
		AccountPaymentsDay:   s.AccountVelocity.LastDay,
		CustomerPaymentsDay:  s.CustomerVelocity.LastDay,
		DevicePaymentsDay:    s.DeviceVelocity.LastDay,
		MerchantPaymentsHour: s.MerchantVelocity.LastHour,
		AccountAgeDays:       s.Account.AgeDays,
		DaysPastDue:          s.Delinquency.DaysPastDue,
		CustomerTenureDays:   s.Customer.TenureDays,
		CustomerLostDisputes: s.CustomerDisputes.Lost,
		KYCLevel:             s.KYC.Level,
		KYCDocumentsExpired:  s.KYCDocuments.Expired > 0,
		MerchantCategory:     s.Merchant.Category,
		MerchantRiskTier:     s.Merchant.RiskTier,
		MerchantChargebacks:  s.MerchantStats.ChargebackRate,
		MerchantLostDisputes: s.MerchantDisputes.Lost,
		MerchantAgeDays:      s.MerchantStats.AgeDays,
		DeviceAgeDays:        s.Device.AgeDays,
		DeviceRisk:           s.DeviceReputation.Risk,
		Emulator:             s.Device.Emulator,
		IPDistanceKm:         distanceKm(s.HomePlace, s.IPLocation),
		MerchantDistanceKm:   distanceKm(s.HomePlace, s.MerchantPlace),
	}
}

// FraudProbability is the simulated model: a logistic regression over the
// features, deterministic so that tests and demos are repeatable.
func FraudProbability(f Features) float64 {
	z := -4.7
	z += 0.35 * float64(f.CardPaymentsHour)
	z += 2.5 * f.DeviceRisk
	z += 30 * f.MerchantChargebacks
	z += 0.3 * float64(f.MerchantRiskTier-1)
	z += 0.4 * float64(f.CustomerLostDisputes)
	z += 0.02 * float64(f.MerchantLostDisputes)
	z += 0.6 * float64(2-f.KYCLevel)
	z += math.Log1p(float64(f.AmountCents)/10_000) * 0.25
	z += math.Min(f.IPDistanceKm, 2_000) / 1_000
	if f.International {
		z += 0.5
	}
	if f.Online {
		z += 0.3
	}
	if f.Emulator {
		z += 2
	}
	if f.DeviceAgeDays < 7 {
		z += 0.7
	}
	if f.KYCDocumentsExpired {
		z += 0.3
	}
	if f.MerchantCategory == "7995" || f.MerchantCategory == "4829" { // gambling, money transfer
		z += 0.8
	}
	return 1 / (1 + math.Exp(-z))
}

// distanceKm is the great-circle distance between a and b.
func distanceKm(a, b Location) float64 {
	const earthKm = 6371
	rad := math.Pi / 180
	dLat, dLon := (b.Lat-a.Lat)*rad, (b.Lon-a.Lon)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKm * math.Asin(math.Sqrt(math.Min(h, 1)))
}
