package cardauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/featgraph/featgraph/examples/cardauth"
)

// getJSON fetches url and decodes its JSON answer into a new T.
func getJSON[T any](t *testing.T, url string) T {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v T
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return v
}

// same checks that the route answers what the in-process method does.
func same[T any](t *testing.T, base, route, id string, method func(context.Context, string) (T, error)) {
	t.Helper()
	want, err := method(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got := getJSON[T](t, base+route+"/"+id); !reflect.DeepEqual(got, want) {
		t.Errorf("%s/%s = %+v, want %+v", route, id, got, want)
	}
}

func TestHandlerServesEveryMethod(t *testing.T) {
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	u := srv.URL
	same(t, u, "/transactions/transaction", "t1", svc.Transactions.Transaction)
	same(t, u, "/cards/card", "c1", svc.Cards.Card)
	same(t, u, "/cards/controls", "c1", svc.Cards.Controls)
	same(t, u, "/cards/product", "p1", svc.Cards.Product)
	same(t, u, "/accounts/resolve", "r1", svc.Accounts.ResolveID)
	same(t, u, "/accounts/account", "a1", svc.Accounts.Account)
	same(t, u, "/accounts/balance", "a1", svc.Accounts.Balance)
	same(t, u, "/accounts/limits", "l1", svc.Accounts.Limits)
	same(t, u, "/accounts/delinquency", "a1", svc.Accounts.Delinquency)
	same(t, u, "/customers/customer", "u1", svc.Customers.Customer)
	same(t, u, "/kyc/status", "u1", svc.KYC.Status)
	same(t, u, "/kyc/documents", "k1", svc.KYC.Documents)
	same(t, u, "/kyc/sanctions", "u1", svc.KYC.Sanctions)
	same(t, u, "/merchants/merchant", "m1", svc.Merchants.Merchant)
	same(t, u, "/merchants/stats", "m1", svc.Merchants.Stats)
	same(t, u, "/disputes/customer", "u1", svc.Disputes.Customer)
	same(t, u, "/disputes/merchant", "m1", svc.Disputes.Merchant)
	same(t, u, "/devices/device", "d1", svc.Devices.Device)
	same(t, u, "/devices/reputation", "f1", svc.Devices.Reputation)
	same(t, u, "/geo/ip", "10.0.0.1", svc.Geo.IP)
	same(t, u, "/geo/place", "p1", svc.Geo.Place)
	same(t, u, "/velocity/card", "c1", svc.Velocity.Card)
	same(t, u, "/velocity/customer", "u1", svc.Velocity.Customer)
	same(t, u, "/velocity/merchant", "m1", svc.Velocity.Merchant)
	same(t, u, "/velocity/device", "d1", svc.Velocity.Device)
	same(t, u, "/velocity/account", "a1", svc.Velocity.Account)
	same(t, u, "/blocklists/card", "c1", svc.Blocklists.Card)
	same(t, u, "/blocklists/merchant", "m1", svc.Blocklists.Merchant)
	same(t, u, "/blocklists/device", "d1", svc.Blocklists.Device)
	same(t, u, "/blocklists/ip", "10.0.0.1", svc.Blocklists.IP)

	f := cardauth.Features{TransactionID: "t1", AmountCents: 12_000, CardPaymentsHour: 3, DeviceRisk: 0.4, KYCLevel: 1}
	body, _ := json.Marshal(f)
	resp, err := http.Post(u+"/model/score", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got cardauth.ModelScore
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want, _ := svc.Model.Score(context.Background(), f)
	if got != want {
		t.Errorf("model score %+v, want %+v", got, want)
	}
}

func TestHandlerErrors(t *testing.T) {
	svc, err := cardauth.NewServices(cardauth.WithFault(func(c cardauth.Call) error {
		if c.Service == "cards" {
			return errors.New("cards down")
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/cards/card/c1", "", http.StatusServiceUnavailable},
		{"GET", "/nope/x", "", http.StatusNotFound},
		{"POST", "/model/score", `{"no_such_feature": 1}`, http.StatusBadRequest},
		{"POST", "/cards/card/c1", "", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, bytes.NewBufferString(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}
