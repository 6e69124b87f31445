package cardauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/featgraph/featgraph/fetchers"
)

// HTTPUpstreams are [Upstreams] that call the services over HTTP/JSON, on
// the routes of [Services.Handler], through featgraph's resilient fetchers:
// one fetchers.Upstream per service (retries inside the deadline, a
// circuit breaker, hedging if asked), and the model through the
// model-score fetcher. Pass a context made by fetchers.WithRequestCache to
// each run to share calls within it. Close it when done.
type HTTPUpstreams struct {
	Upstreams
	services map[string]*fetchers.Upstream
}

// NewHTTPUpstreams returns the upstreams of the services served at base
// (base + "/cards", base + "/model"…), each made with opts.
func NewHTTPUpstreams(base string, opts ...fetchers.Option) (*HTTPUpstreams, error) {
	h := &HTTPUpstreams{services: make(map[string]*fetchers.Upstream, len(ServiceNames))}
	for _, name := range ServiceNames {
		up, err := fetchers.NewUpstream(name, base+"/"+name, opts...)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("cardauth: %w", err)
		}
		h.services[name] = up
	}
	s := h.services
	h.Upstreams = Upstreams{
		Transaction: get[Transaction](s["transactions"], "/transaction"),

		Card:         get[Card](s["cards"], "/card"),
		CardControls: get[CardControls](s["cards"], "/controls"),
		CardProduct:  get[CardProduct](s["cards"], "/product"),
		CardVelocity: get[Velocity](s["velocity"], "/card"),
		CardListed:   get[Listing](s["blocklists"], "/card"),

		AccountID:          get[string](s["accounts"], "/resolve"),
		Account:            get[Account](s["accounts"], "/account"),
		AccountBalance:     get[Balance](s["accounts"], "/balance"),
		AccountLimits:      get[Limits](s["accounts"], "/limits"),
		AccountDelinquency: get[Delinquency](s["accounts"], "/delinquency"),
		AccountVelocity:    get[Velocity](s["velocity"], "/account"),

		Customer:         get[Customer](s["customers"], "/customer"),
		CustomerVelocity: get[Velocity](s["velocity"], "/customer"),
		CustomerDisputes: get[Disputes](s["disputes"], "/customer"),
		HomePlace:        get[Location](s["geo"], "/place"),
		KYC:              get[KYC](s["kyc"], "/status"),
		KYCDocuments:     get[KYCDocuments](s["kyc"], "/documents"),
		Sanctions:        get[Sanctions](s["kyc"], "/sanctions"),

		Merchant:         get[Merchant](s["merchants"], "/merchant"),
		MerchantStats:    get[MerchantStats](s["merchants"], "/stats"),
		MerchantListed:   get[Listing](s["blocklists"], "/merchant"),
		MerchantVelocity: get[Velocity](s["velocity"], "/merchant"),
		MerchantDisputes: get[Disputes](s["disputes"], "/merchant"),
		MerchantPlace:    get[Location](s["geo"], "/place"),

		Device:           get[Device](s["devices"], "/device"),
		DeviceReputation: get[DeviceReputation](s["devices"], "/reputation"),
		DeviceListed:     get[Listing](s["blocklists"], "/device"),
		DeviceVelocity:   get[Velocity](s["velocity"], "/device"),
		IPLocation:       get[Location](s["geo"], "/ip"),
		IPListed:         get[Listing](s["blocklists"], "/ip"),

		ModelScore: HTTPModel(s["model"], "/score"),
	}
	return h, nil
}

// Service returns the fetchers.Upstream of the named service (one of
// [ServiceNames]), for its Stats; nil for an unknown name.
func (h *HTTPUpstreams) Service(name string) *fetchers.Upstream { return h.services[name] }

// Close closes every service's Upstream.
func (h *HTTPUpstreams) Close() {
	for _, up := range h.services {
		up.Close()
	}
}

// get calls route/{id} on up. The id comes from the transaction or from
// another service's answer: GetPath makes it exactly one escaped path
// segment, so an id such as "../../accounts/balance/a1" is refused rather
// than read as a path to another resource.
func get[T any](up *fetchers.Upstream, route string) func(ctx context.Context, id string) (T, error) {
	return func(ctx context.Context, id string) (T, error) {
		req, err := fetchers.GetPathRequest(route+"/{id}", id)
		if err != nil {
			var zero T
			return zero, fmt.Errorf("%s: %w", up.Name(), err)
		}
		return fetchers.FetchJSON[T](ctx, up, req)
	}
}

// HTTPModel returns a model call that POSTs the features as one flat JSON
// object to path on model, with fetchers.PostScore, and reads the score,
// source and version back from the flat answer.
func HTTPModel(model *fetchers.Upstream, path string) func(ctx context.Context, f Features) (ModelScore, error) {
	return func(ctx context.Context, f Features) (ModelScore, error) {
		row, err := featureRow(f)
		if err != nil {
			return ModelScore{}, err
		}
		s, err := fetchers.PostScore(ctx, model, path, row)
		if err != nil {
			return ModelScore{}, err
		}
		source, _ := s.Extra["source"].(string)
		version, _ := s.Extra["version"].(string)
		if source == "" {
			source = string(ScoreFromModel)
		}
		return ModelScore{Score: s.Value, Source: ScoreSource(source), Version: version}, nil
	}
}

// featureRow flattens the features into named values under their JSON
// names, numbers kept exact.
func featureRow(f Features) (fetchers.Row, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("cardauth: features: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var row fetchers.Row
	if err := dec.Decode(&row); err != nil {
		return nil, fmt.Errorf("cardauth: features: %w", err)
	}
	return row, nil
}
