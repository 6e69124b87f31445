// Package cardauth is the card-authorization graph of the featgraph design:
// a payment is approved, sent to review or declined from 32 feature fetches
// made against a dozen services, inside a latency budget.
//
// The graph has four inputs (transaction_id, card_id, customer_id,
// merchant_id), 32 fetch nodes whose longest chain is 4 deep
// (card -> account_id -> account -> account_limits), a pre-policy that skips
// the model call when the payment cannot be authorized anyway, a model score
// with a fallback, and a pure decision node:
//
//	svc, _ := cardauth.NewServices(cardauth.WithLatency(10 * time.Millisecond))
//	ca, _ := cardauth.New(svc.Upstreams())
//	ex, _ := executor.New(ca.Graph, executor.WithRunTimeout(700*time.Millisecond))
//	res, err := ex.Run(ctx, ca.Inputs(cardauth.Request{TransactionID: "t1", CardID: "c1", CustomerID: "u1", MerchantID: "m1"}), ca.Decision)
//	decision, err := executor.Get(res, ca.Decision)
//
// The services are simulated in process ([Services]): any id gets
// deterministic data derived from a hash of it, after a configurable
// latency, with injectable faults. Their methods have the shape
// func(ctx, id) (T, error) and respect ctx, so they can be served over HTTP
// ([Services.Handler]) or replaced one by one in [Upstreams].
//
// The decision logic ([CheckPolicy], [ExtractFeatures], [Afford], [Decide])
// is pure and can be tested without running the graph.
package cardauth
