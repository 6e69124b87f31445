package cardauth

import "context"

// Endpoint is one method of a simulated service that is keyed by an id, in
// a uniform shape for serving the services over another transport (HTTP,
// say, under /Service/Method/{key}). Service and Method are those of the
// [Call] the method makes.
type Endpoint struct {
	Service, Method string
	Fetch           func(ctx context.Context, key string) (any, error)
}

// Endpoints lists every keyed method of the services, in a fixed order. The
// model's Score is not among them: it takes [Features], not an id.
func (s *Services) Endpoints() []Endpoint {
	return []Endpoint{
		endpoint("transactions", "transaction", s.Transactions.Transaction),
		endpoint("cards", "card", s.Cards.Card),
		endpoint("cards", "controls", s.Cards.Controls),
		endpoint("cards", "product", s.Cards.Product),
		endpoint("accounts", "resolve_id", s.Accounts.ResolveID),
		endpoint("accounts", "account", s.Accounts.Account),
		endpoint("accounts", "balance", s.Accounts.Balance),
		endpoint("accounts", "limits", s.Accounts.Limits),
		endpoint("accounts", "delinquency", s.Accounts.Delinquency),
		endpoint("customers", "customer", s.Customers.Customer),
		endpoint("kyc", "status", s.KYC.Status),
		endpoint("kyc", "documents", s.KYC.Documents),
		endpoint("kyc", "sanctions", s.KYC.Sanctions),
		endpoint("merchants", "merchant", s.Merchants.Merchant),
		endpoint("merchants", "stats", s.Merchants.Stats),
		endpoint("disputes", "customer", s.Disputes.Customer),
		endpoint("disputes", "merchant", s.Disputes.Merchant),
		endpoint("devices", "device", s.Devices.Device),
		endpoint("devices", "reputation", s.Devices.Reputation),
		endpoint("geo", "ip", s.Geo.IP),
		endpoint("geo", "place", s.Geo.Place),
		endpoint("velocity", "card", s.Velocity.Card),
		endpoint("velocity", "customer", s.Velocity.Customer),
		endpoint("velocity", "merchant", s.Velocity.Merchant),
		endpoint("velocity", "device", s.Velocity.Device),
		endpoint("velocity", "account", s.Velocity.Account),
		endpoint("blocklists", "card", s.Blocklists.Card),
		endpoint("blocklists", "merchant", s.Blocklists.Merchant),
		endpoint("blocklists", "device", s.Blocklists.Device),
		endpoint("blocklists", "ip", s.Blocklists.IP),
	}
}

func endpoint[T any](service, method string, fetch func(context.Context, string) (T, error)) Endpoint {
	return Endpoint{Service: service, Method: method, Fetch: func(ctx context.Context, key string) (any, error) {
		v, err := fetch(ctx, key)
		if err != nil {
			return nil, err
		}
		return v, nil
	}}
}
