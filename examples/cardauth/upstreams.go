package cardauth

import (
	"context"
	"fmt"
	"reflect"
)

// Upstreams are the calls the graph makes: one per fetch node, named after
// it. [Services.Upstreams] fills every one from the simulated services;
// replace any with your own (an HTTP client, a stub) before calling [New].
type Upstreams struct {
	Transaction func(ctx context.Context, transactionID string) (Transaction, error)

	Card         func(ctx context.Context, cardID string) (Card, error)
	CardControls func(ctx context.Context, cardID string) (CardControls, error)
	CardProduct  func(ctx context.Context, productID string) (CardProduct, error)
	CardVelocity func(ctx context.Context, cardID string) (Velocity, error)
	CardListed   func(ctx context.Context, cardID string) (Listing, error)

	AccountID          func(ctx context.Context, accountRef string) (string, error)
	Account            func(ctx context.Context, accountID string) (Account, error)
	AccountBalance     func(ctx context.Context, accountID string) (Balance, error)
	AccountLimits      func(ctx context.Context, limitsID string) (Limits, error)
	AccountDelinquency func(ctx context.Context, accountID string) (Delinquency, error)
	AccountVelocity    func(ctx context.Context, accountID string) (Velocity, error)

	Customer         func(ctx context.Context, customerID string) (Customer, error)
	CustomerVelocity func(ctx context.Context, customerID string) (Velocity, error)
	CustomerDisputes func(ctx context.Context, customerID string) (Disputes, error)
	HomePlace        func(ctx context.Context, placeID string) (Location, error)
	KYC              func(ctx context.Context, customerID string) (KYC, error)
	KYCDocuments     func(ctx context.Context, caseID string) (KYCDocuments, error)
	Sanctions        func(ctx context.Context, customerID string) (Sanctions, error)

	Merchant         func(ctx context.Context, merchantID string) (Merchant, error)
	MerchantStats    func(ctx context.Context, merchantID string) (MerchantStats, error)
	MerchantListed   func(ctx context.Context, merchantID string) (Listing, error)
	MerchantVelocity func(ctx context.Context, merchantID string) (Velocity, error)
	MerchantDisputes func(ctx context.Context, merchantID string) (Disputes, error)
	MerchantPlace    func(ctx context.Context, placeID string) (Location, error)

	Device           func(ctx context.Context, deviceID string) (Device, error)
	DeviceReputation func(ctx context.Context, fingerprint string) (DeviceReputation, error)
	DeviceListed     func(ctx context.Context, deviceID string) (Listing, error)
	DeviceVelocity   func(ctx context.Context, deviceID string) (Velocity, error)
	IPLocation       func(ctx context.Context, ip string) (Location, error)
	IPListed         func(ctx context.Context, ip string) (Listing, error)

	ModelScore func(ctx context.Context, f Features) (ModelScore, error)
}

// Upstreams returns the simulated services' methods as the graph's upstreams.
func (s *Services) Upstreams() Upstreams {
	return Upstreams{
		Transaction: s.Transactions.Transaction,

		Card:         s.Cards.Card,
		CardControls: s.Cards.Controls,
		CardProduct:  s.Cards.Product,
		CardVelocity: s.Velocity.Card,
		CardListed:   s.Blocklists.Card,

		AccountID:          s.Accounts.ResolveID,
		Account:            s.Accounts.Account,
		AccountBalance:     s.Accounts.Balance,
		AccountLimits:      s.Accounts.Limits,
		AccountDelinquency: s.Accounts.Delinquency,
		AccountVelocity:    s.Velocity.Account,

		Customer:         s.Customers.Customer,
		CustomerVelocity: s.Velocity.Customer,
		CustomerDisputes: s.Disputes.Customer,
		HomePlace:        s.Geo.Place,
		KYC:              s.KYC.Status,
		KYCDocuments:     s.KYC.Documents,
		Sanctions:        s.KYC.Sanctions,

		Merchant:         s.Merchants.Merchant,
		MerchantStats:    s.Merchants.Stats,
		MerchantListed:   s.Blocklists.Merchant,
		MerchantVelocity: s.Velocity.Merchant,
		MerchantDisputes: s.Disputes.Merchant,
		MerchantPlace:    s.Geo.Place,

		Device:           s.Devices.Device,
		DeviceReputation: s.Devices.Reputation,
		DeviceListed:     s.Blocklists.Device,
		DeviceVelocity:   s.Velocity.Device,
		IPLocation:       s.Geo.IP,
		IPListed:         s.Blocklists.IP,

		ModelScore: s.Model.Score,
	}
}

// missing returns the names of the upstreams left nil.
func (u *Upstreams) missing() []string {
	var names []string
	v := reflect.ValueOf(u).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsNil() {
			names = append(names, v.Type().Field(i).Name)
		}
	}
	return names
}

// MissingUpstreamError reports upstreams left nil.
type MissingUpstreamError struct {
	Names []string
}

func (e *MissingUpstreamError) Error() string {
	return fmt.Sprintf("cardauth: upstreams not set: %v", e.Names)
}
