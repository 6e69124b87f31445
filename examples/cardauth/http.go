package cardauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Handler serves every simulated service over HTTP/JSON on one address,
// each under its own path prefix (the names of [ServiceNames]), so that a
// graph that fetches over HTTP (a featgraph spec, say) can run against
// them. Every route answers a GET with the JSON of the method's record:
//
//	/transactions/transaction/{id}
//	/cards/card/{id}  /cards/controls/{id}  /cards/product/{id}
//	/accounts/resolve/{ref}  /accounts/account/{id}  /accounts/balance/{id}
//	/accounts/limits/{id}  /accounts/delinquency/{id}
//	/customers/customer/{id}
//	/kyc/status/{id}  /kyc/documents/{case}  /kyc/sanctions/{id}
//	/merchants/merchant/{id}  /merchants/stats/{id}
//	/disputes/customer/{id}  /disputes/merchant/{id}
//	/devices/device/{id}  /devices/reputation/{fingerprint}
//	/geo/ip/{ip}  /geo/place/{id}
//	/velocity/{card,customer,merchant,device,account}/{id}
//	/blocklists/{card,merchant,device,ip}/{id}
//
// except the model, which takes a POST of the [Features] as JSON at
// /model/score and answers a [ModelScore]. A failed call (an injected
// fault) answers 503 with the error; an unknown route 404.
func (s *Services) Handler() http.Handler {
	mux := http.NewServeMux()
	get := func(path string, h http.HandlerFunc) { mux.HandleFunc("GET "+path+"/{id}", h) }

	get("/transactions/transaction", byID(s.Transactions.Transaction))

	get("/cards/card", byID(s.Cards.Card))
	get("/cards/controls", byID(s.Cards.Controls))
	get("/cards/product", byID(s.Cards.Product))

	get("/accounts/resolve", byID(s.Accounts.ResolveID))
	get("/accounts/account", byID(s.Accounts.Account))
	get("/accounts/balance", byID(s.Accounts.Balance))
	get("/accounts/limits", byID(s.Accounts.Limits))
	get("/accounts/delinquency", byID(s.Accounts.Delinquency))

	get("/customers/customer", byID(s.Customers.Customer))

	get("/kyc/status", byID(s.KYC.Status))
	get("/kyc/documents", byID(s.KYC.Documents))
	get("/kyc/sanctions", byID(s.KYC.Sanctions))

	get("/merchants/merchant", byID(s.Merchants.Merchant))
	get("/merchants/stats", byID(s.Merchants.Stats))

	get("/disputes/customer", byID(s.Disputes.Customer))
	get("/disputes/merchant", byID(s.Disputes.Merchant))

	get("/devices/device", byID(s.Devices.Device))
	get("/devices/reputation", byID(s.Devices.Reputation))

	get("/geo/ip", byID(s.Geo.IP))
	get("/geo/place", byID(s.Geo.Place))

	get("/velocity/card", byID(s.Velocity.Card))
	get("/velocity/customer", byID(s.Velocity.Customer))
	get("/velocity/merchant", byID(s.Velocity.Merchant))
	get("/velocity/device", byID(s.Velocity.Device))
	get("/velocity/account", byID(s.Velocity.Account))

	get("/blocklists/card", byID(s.Blocklists.Card))
	get("/blocklists/merchant", byID(s.Blocklists.Merchant))
	get("/blocklists/device", byID(s.Blocklists.Device))
	get("/blocklists/ip", byID(s.Blocklists.IP))

	mux.HandleFunc("POST /model/score", func(w http.ResponseWriter, r *http.Request) {
		var f Features
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, fmt.Sprintf("model: the body is not the features as JSON: %v", err), http.StatusBadRequest)
			return
		}
		answer(w, r, func(ctx context.Context) (ModelScore, error) { return s.Model.Score(ctx, f) })
	})
	return mux
}

// byID serves a method keyed by the route's {id}.
func byID[T any](method func(ctx context.Context, id string) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		answer(w, r, func(ctx context.Context) (T, error) { return method(ctx, id) })
	}
}

func answer[T any](w http.ResponseWriter, r *http.Request, call func(context.Context) (T, error)) {
	v, err := call(r.Context())
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return // the client went away: nobody reads the answer
	default:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
