// Package batch turns many fetches of single keys from one upstream into
// few calls that ask for many keys, as Haxl, ParSeq and dataloaders do.
//
// A [Batch] is declared once per upstream endpoint with a function that
// fetches many keys at once and a maximum batch size:
//
//	merchants, _ := batch.New("merchants", func(ctx context.Context, ids []string) (map[string]Merchant, error) {
//		return client.GetMerchants(ctx, ids) // one call for many ids
//	}, batch.MaxSize(50))
//	defer merchants.Close()
//	m := batch.Fetch(b, "merchant", merchants, merchantID)      // one key
//	ms := batch.Each(b, "peer_merchants", merchants, peerIDs)    // a list: ceil(n/50) calls
//
// Keys asked together share a call: the keys of an [Each] node (all at once,
// split into calls of at most MaxSize keys), and the fetch nodes of one run
// that become ready together (the batch waits until the goroutines made
// runnable with it have run, then sends). With [MaxWait], a batch also
// waits up to that long for keys from concurrent runs, dataloader style.
//
// Every node still gives up at its own deadline: a call runs on a context
// of its own that ends at the latest deadline of the nodes waiting for it,
// or when they have all left. A key missing from the answer is an error
// (a *[MissingKeyError] naming the key) for the nodes that asked for it
// alone; a failed call fails the nodes waiting for it, and node fallbacks
// apply as usual.
package batch
