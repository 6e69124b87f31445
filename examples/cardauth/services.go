package cardauth

import (
	"context"
	"strconv"
	"sync/atomic"
)

// ServiceNames are the names of the simulated services, as in [Call].Service.
var ServiceNames = []string{
	"transactions", "cards", "accounts", "customers", "kyc", "merchants",
	"disputes", "devices", "geo", "velocity", "blocklists", "model",
}

// Services are the simulated upstreams of the card-authorization graph. Each
// answers any id with data derived from a hash of it, after the configured
// latency; every method respects its context. They are safe for concurrent use.
type Services struct {
	sim          *sim
	Transactions *Transactions
	Cards        *Cards
	Accounts     *Accounts
	Customers    *Customers
	KYC          *KYCService
	Merchants    *Merchants
	Disputes     *DisputeService
	Devices      *Devices
	Geo          *Geo
	Velocity     *VelocityService
	Blocklists   *Blocklists
	Model        *Model
}

// NewServices returns the simulated services, answering at once unless
// [WithLatency] or [WithJitter] says otherwise.
func NewServices(opts ...ServiceOption) (*Services, error) {
	s := &sim{calls: make(map[string]*atomic.Int64, len(ServiceNames))}
	for _, name := range ServiceNames {
		s.calls[name] = new(atomic.Int64)
	}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	return &Services{
		sim:          s,
		Transactions: &Transactions{s},
		Cards:        &Cards{s},
		Accounts:     &Accounts{s},
		Customers:    &Customers{s},
		KYC:          &KYCService{s},
		Merchants:    &Merchants{s},
		Disputes:     &DisputeService{s},
		Devices:      &Devices{s},
		Geo:          &Geo{s},
		Velocity:     &VelocityService{s},
		Blocklists:   &Blocklists{s},
		Model:        &Model{s},
	}, nil
}

// Calls returns how many calls the service called name has received,
// including those that failed or were canceled.
func (s *Services) Calls(name string) int64 {
	if c, ok := s.sim.calls[name]; ok {
		return c.Load()
	}
	return 0
}

// countries are the countries the simulation knows, with a point inside each;
// the first one is home to most cards, customers and merchants.
var countries = []struct {
	code     string
	lat, lon float64
}{
	{"GB", 53.0, -1.5}, {"FR", 46.6, 2.2}, {"DE", 51.2, 10.4},
	{"ES", 40.4, -3.7}, {"NL", 52.1, 5.3}, {"US", 39.8, -98.6},
}

// country returns the home country with probability home, another otherwise.
func (d draw) country(field uint64, home float64) int {
	if d.chance(field, home) {
		return 0
	}
	return d.intn(field+1, 1, len(countries)-1)
}

// Transactions is the simulated payment switch.
type Transactions struct{ sim *sim }

// Transaction returns the payment called transactionID.
func (s *Transactions) Transaction(ctx context.Context, transactionID string) (Transaction, error) {
	if err := s.sim.serve(ctx, Call{"transactions", "transaction", transactionID}); err != nil {
		return Transaction{}, err
	}
	d := drawFor("transaction", transactionID)
	u := d.unit(1)
	channel := "pos"
	if d.chance(2, 0.4) {
		channel = "online"
	}
	return Transaction{
		ID:          transactionID,
		AmountCents: 100 + int64(u*u*u*u*u*u*300_000),
		Currency:    "GBP",
		Country:     countries[d.country(3, 0.85)].code,
		Channel:     channel,
		DeviceID:    d.id(5, "dev-"),
		IP:          "10." + strconv.Itoa(d.intn(6, 0, 255)) + "." + strconv.Itoa(d.intn(7, 0, 255)) + "." + strconv.Itoa(d.intn(8, 1, 254)),
	}, nil
}

// Cards is the simulated card-management system.
type Cards struct{ sim *sim }

// Card returns the card called cardID.
func (s *Cards) Card(ctx context.Context, cardID string) (Card, error) {
	if err := s.sim.serve(ctx, Call{"cards", "card", cardID}); err != nil {
		return Card{}, err
	}
	d := drawFor("card", cardID)
	status := CardActive
	switch u := d.unit(1); {
	case u > 0.99:
		status = CardExpired
	case u > 0.98:
		status = CardLost
	case u > 0.96:
		status = CardBlocked
	}
	product := "classic"
	switch u := d.unit(2); {
	case u > 0.85:
		product = "platinum"
	case u > 0.5:
		product = "gold"
	}
	return Card{
		ID:           cardID,
		Status:       status,
		AccountRef:   d.id(3, "ar-"),
		ProductID:    product,
		IssueCountry: countries[d.country(4, 0.95)].code,
	}, nil
}

// Controls returns the controls the cardholder set on card cardID.
func (s *Cards) Controls(ctx context.Context, cardID string) (CardControls, error) {
	if err := s.sim.serve(ctx, Call{"cards", "controls", cardID}); err != nil {
		return CardControls{}, err
	}
	d := drawFor("card_controls", cardID)
	return CardControls{OnlineEnabled: d.chance(1, 0.97), InternationalEnabled: d.chance(3, 0.95)}, nil
}

// hardLimits are the per-payment hard limits of the known card products.
var hardLimits = map[string]int64{"classic": 150_000, "gold": 300_000, "platinum": 1_000_000}

// Product returns the card product called productID.
func (s *Cards) Product(ctx context.Context, productID string) (CardProduct, error) {
	if err := s.sim.serve(ctx, Call{"cards", "product", productID}); err != nil {
		return CardProduct{}, err
	}
	limit, ok := hardLimits[productID]
	if !ok {
		limit = int64(drawFor("card_product", productID).intn(1, 1_000, 10_000)) * 100
	}
	return CardProduct{ID: productID, HardLimitCents: limit}, nil
}

// Accounts is the simulated core-banking system.
type Accounts struct{ sim *sim }

// ResolveID returns the id of the account the card system calls accountRef.
func (s *Accounts) ResolveID(ctx context.Context, accountRef string) (string, error) {
	if err := s.sim.serve(ctx, Call{"accounts", "resolve_id", accountRef}); err != nil {
		return "", err
	}
	return drawFor("account_ref", accountRef).id(1, "acct-"), nil
}

// Account returns the account called accountID.
func (s *Accounts) Account(ctx context.Context, accountID string) (Account, error) {
	if err := s.sim.serve(ctx, Call{"accounts", "account", accountID}); err != nil {
		return Account{}, err
	}
	d := drawFor("account", accountID)
	return Account{ID: accountID, LimitsID: d.id(1, "lim-"), AgeDays: d.intn(2, 1, 4000)}, nil
}

// Balance returns what account accountID owes and has spent today.
func (s *Accounts) Balance(ctx context.Context, accountID string) (Balance, error) {
	if err := s.sim.serve(ctx, Call{"accounts", "balance", accountID}); err != nil {
		return Balance{}, err
	}
	d := drawFor("account_balance", accountID)
	u := d.unit(1)
	return Balance{OutstandingCents: int64(u * u * u * u * 600_000), SpentTodayCents: int64(d.intn(2, 0, 30_000))}, nil
}

// Limits returns the limits called limitsID.
func (s *Accounts) Limits(ctx context.Context, limitsID string) (Limits, error) {
	if err := s.sim.serve(ctx, Call{"accounts", "limits", limitsID}); err != nil {
		return Limits{}, err
	}
	d := drawFor("account_limits", limitsID)
	return Limits{CreditCents: int64(d.intn(1, 20, 200)) * 10_000, DailyCents: int64(d.intn(2, 10, 50)) * 10_000}, nil
}

// Delinquency returns how late account accountID's repayments are.
func (s *Accounts) Delinquency(ctx context.Context, accountID string) (Delinquency, error) {
	if err := s.sim.serve(ctx, Call{"accounts", "delinquency", accountID}); err != nil {
		return Delinquency{}, err
	}
	d := drawFor("account_delinquency", accountID)
	if d.chance(1, 0.95) {
		return Delinquency{}, nil
	}
	return Delinquency{DaysPastDue: d.intn(2, 1, 120)}, nil
}

// Customers is the simulated customer database.
type Customers struct{ sim *sim }

// Customer returns the customer called customerID.
func (s *Customers) Customer(ctx context.Context, customerID string) (Customer, error) {
	if err := s.sim.serve(ctx, Call{"customers", "customer", customerID}); err != nil {
		return Customer{}, err
	}
	d := drawFor("customer", customerID)
	return Customer{ID: customerID, HomePlaceID: d.id(1, "pl-"), TenureDays: d.intn(2, 1, 7000)}, nil
}

// KYCService is the simulated identity-verification provider.
type KYCService struct{ sim *sim }

// Status returns the verification of customer customerID.
func (s *KYCService) Status(ctx context.Context, customerID string) (KYC, error) {
	if err := s.sim.serve(ctx, Call{"kyc", "status", customerID}); err != nil {
		return KYC{}, err
	}
	d := drawFor("kyc", customerID)
	level := 2
	switch u := d.unit(1); {
	case u < 0.05:
		level = 0
	case u < 0.3:
		level = 1
	}
	return KYC{Level: level, CaseID: d.id(2, "case-")}, nil
}

// Documents returns the documents of KYC case caseID.
func (s *KYCService) Documents(ctx context.Context, caseID string) (KYCDocuments, error) {
	if err := s.sim.serve(ctx, Call{"kyc", "documents", caseID}); err != nil {
		return KYCDocuments{}, err
	}
	d := drawFor("kyc_documents", caseID)
	expired := 0
	if d.chance(2, 0.1) {
		expired = 1
	}
	return KYCDocuments{Verified: d.intn(1, 0, 3), Expired: expired}, nil
}

// Sanctions screens customer customerID against the sanctions lists.
func (s *KYCService) Sanctions(ctx context.Context, customerID string) (Sanctions, error) {
	if err := s.sim.serve(ctx, Call{"kyc", "sanctions", customerID}); err != nil {
		return Sanctions{}, err
	}
	return Sanctions{Hit: drawFor("sanctions", customerID).chance(1, 0.005)}, nil
}

// merchantCategories are common merchant category codes.
var merchantCategories = []string{"5411", "5812", "5541", "5999", "4121", "5732", "7995", "4829"}

// Merchants is the simulated acquirer's merchant directory.
type Merchants struct{ sim *sim }

// Merchant returns the merchant called merchantID.
func (s *Merchants) Merchant(ctx context.Context, merchantID string) (Merchant, error) {
	if err := s.sim.serve(ctx, Call{"merchants", "merchant", merchantID}); err != nil {
		return Merchant{}, err
	}
	d := drawFor("merchant", merchantID)
	return Merchant{
		ID:       merchantID,
		Category: merchantCategories[d.intn(1, 0, len(merchantCategories)-1)],
		Country:  countries[d.country(2, 0.85)].code,
		PlaceID:  d.id(4, "pl-"),
		RiskTier: d.intn(5, 1, 3),
	}, nil
}

// Stats returns the chargeback rate and age of merchant merchantID.
func (s *Merchants) Stats(ctx context.Context, merchantID string) (MerchantStats, error) {
	if err := s.sim.serve(ctx, Call{"merchants", "stats", merchantID}); err != nil {
		return MerchantStats{}, err
	}
	d := drawFor("merchant_stats", merchantID)
	u := d.unit(1)
	return MerchantStats{ChargebackRate: u * u * 0.03, AgeDays: d.intn(2, 1, 5000)}, nil
}

// DisputeService is the simulated chargeback system.
type DisputeService struct{ sim *sim }

// Customer returns the disputes raised by customer customerID.
func (s *DisputeService) Customer(ctx context.Context, customerID string) (Disputes, error) {
	if err := s.sim.serve(ctx, Call{"disputes", "customer", customerID}); err != nil {
		return Disputes{}, err
	}
	return drawDisputes(drawFor("customer_disputes", customerID), 1), nil
}

// Merchant returns the disputes raised against merchant merchantID.
func (s *DisputeService) Merchant(ctx context.Context, merchantID string) (Disputes, error) {
	if err := s.sim.serve(ctx, Call{"disputes", "merchant", merchantID}); err != nil {
		return Disputes{}, err
	}
	return drawDisputes(drawFor("merchant_disputes", merchantID), 20), nil
}

func drawDisputes(d draw, scale int) Disputes {
	if d.chance(1, 0.8) {
		return Disputes{}
	}
	return Disputes{Open: d.intn(2, 0, 2*scale), Lost: d.intn(3, 0, scale)}
}

// Devices is the simulated device-intelligence service.
type Devices struct{ sim *sim }

// Device returns the device called deviceID.
func (s *Devices) Device(ctx context.Context, deviceID string) (Device, error) {
	if err := s.sim.serve(ctx, Call{"devices", "device", deviceID}); err != nil {
		return Device{}, err
	}
	d := drawFor("device", deviceID)
	return Device{ID: deviceID, Fingerprint: d.id(1, "fp-"), AgeDays: d.intn(2, 0, 2000), Emulator: d.chance(3, 0.01)}, nil
}

// Reputation returns the shared risk rating of device fingerprint fingerprint.
func (s *Devices) Reputation(ctx context.Context, fingerprint string) (DeviceReputation, error) {
	if err := s.sim.serve(ctx, Call{"devices", "reputation", fingerprint}); err != nil {
		return DeviceReputation{}, err
	}
	u := drawFor("device_reputation", fingerprint).unit(1)
	return DeviceReputation{Risk: u * u * u}, nil
}

// Geo is the simulated geolocation service.
type Geo struct{ sim *sim }

// IP returns where address ip is.
func (s *Geo) IP(ctx context.Context, ip string) (Location, error) {
	if err := s.sim.serve(ctx, Call{"geo", "ip", ip}); err != nil {
		return Location{}, err
	}
	return drawLocation(drawFor("ip", ip), 0.85), nil
}

// Place returns where place placeID is.
func (s *Geo) Place(ctx context.Context, placeID string) (Location, error) {
	if err := s.sim.serve(ctx, Call{"geo", "place", placeID}); err != nil {
		return Location{}, err
	}
	return drawLocation(drawFor("place", placeID), 0.9), nil
}

func drawLocation(d draw, home float64) Location {
	c := countries[d.country(1, home)]
	return Location{Lat: c.lat + 4*d.unit(3) - 2, Lon: c.lon + 4*d.unit(4) - 2, Country: c.code}
}

// VelocityService is the simulated real-time counter service.
type VelocityService struct{ sim *sim }

// Card counts the recent payments of card cardID.
func (s *VelocityService) Card(ctx context.Context, cardID string) (Velocity, error) {
	return s.count(ctx, "card", cardID, 1)
}

// Customer counts the recent payments of customer customerID.
func (s *VelocityService) Customer(ctx context.Context, customerID string) (Velocity, error) {
	return s.count(ctx, "customer", customerID, 1)
}

// Merchant counts the recent payments at merchant merchantID.
func (s *VelocityService) Merchant(ctx context.Context, merchantID string) (Velocity, error) {
	return s.count(ctx, "merchant", merchantID, 100)
}

// Device counts the recent payments from device deviceID.
func (s *VelocityService) Device(ctx context.Context, deviceID string) (Velocity, error) {
	return s.count(ctx, "device", deviceID, 1)
}

// Account counts the recent payments on account accountID.
func (s *VelocityService) Account(ctx context.Context, accountID string) (Velocity, error) {
	return s.count(ctx, "account", accountID, 2)
}

func (s *VelocityService) count(ctx context.Context, method, key string, scale int) (Velocity, error) {
	if err := s.sim.serve(ctx, Call{"velocity", method, key}); err != nil {
		return Velocity{}, err
	}
	d := drawFor("velocity_"+method, key)
	u := d.unit(1)
	hour := int(u*u*u*6) * scale
	day := hour + d.intn(2, 0, 10*scale)
	return Velocity{LastHour: hour, LastDay: day, AmountDayCents: int64(day) * int64(d.intn(3, 500, 5_000))}, nil
}

// Blocklists is the simulated fraud team's blocklists.
type Blocklists struct{ sim *sim }

// Card reports whether card cardID is listed.
func (s *Blocklists) Card(ctx context.Context, cardID string) (Listing, error) {
	return s.check(ctx, "card", cardID, 0.01)
}

// Merchant reports whether merchant merchantID is listed.
func (s *Blocklists) Merchant(ctx context.Context, merchantID string) (Listing, error) {
	return s.check(ctx, "merchant", merchantID, 0.01)
}

// Device reports whether device deviceID is listed.
func (s *Blocklists) Device(ctx context.Context, deviceID string) (Listing, error) {
	return s.check(ctx, "device", deviceID, 0.01)
}

// IP reports whether address ip is listed.
func (s *Blocklists) IP(ctx context.Context, ip string) (Listing, error) {
	return s.check(ctx, "ip", ip, 0.01)
}

func (s *Blocklists) check(ctx context.Context, list, key string, p float64) (Listing, error) {
	if err := s.sim.serve(ctx, Call{"blocklists", list, key}); err != nil {
		return Listing{}, err
	}
	if drawFor("blocklist_"+list, key).chance(1, p) {
		return Listing{Listed: true, Reason: "reported by the fraud team"}, nil
	}
	return Listing{}, nil
}

// ModelVersion is the version of the simulated fraud model.
const ModelVersion = "sim-2026.11"

// Model is the simulated fraud-scoring model.
type Model struct{ sim *sim }

// Score returns the fraud probability of the payment the features describe.
func (s *Model) Score(ctx context.Context, f Features) (ModelScore, error) {
	if err := s.sim.serve(ctx, Call{"model", "score", f.TransactionID}); err != nil {
		return ModelScore{}, err
	}
	return ModelScore{Score: FraudProbability(f), Source: ScoreFromModel, Version: ModelVersion}, nil
}
