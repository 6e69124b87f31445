// Package nodes declares typed nodes on a [graph.Builder].
//
// Every constructor takes the builder, a unique name, its dependencies as
// typed [Ref] values and a body, and returns the Ref of the new node, so that
// wiring a Ref[Account] where a Ref[string] is wanted does not compile:
//
//	b := graph.NewBuilder()
//	card := nodes.Input[string](b, "card_id")
//	account := nodes.Fetch1(b, "account", card, accounts.Get, nodes.Timeout(50*time.Millisecond))
//	limit := nodes.Compute1(b, "limit", account, func(a Account) (int, error) { return a.Limit, nil })
//	g, err := b.Build()
//
// Fetch nodes get a context and may block; compute nodes are pure and run
// inline. If and Switch run only the branch they choose; And and Or stop at
// the first operand that decides; Each fetches every element of a list with
// bounded parallelism and keeps the order.
//
// FetchN and ComputeN take any number of dependencies of any types, read
// with [Arg] (by Ref, in constant time) or [ArgAt] (by position); FetchAll
// and ComputeAll take many of one type as a []Ref[T] and give the body a
// []T of its own. The [Args] a body gets are valid only during the call.
//
// Options ([Timeout], [Retry], [Fallback], [Limit], [Default], ...) are
// opaque values. An option that would mean nothing on the node it is given
// to (a retry on a compute node, a Limit on a fetch, a fallback on a
// constant) is rejected, not ignored.
//
// Mistakes that the compiler cannot catch (a Ref from another builder, a
// fallback of the wrong type, an option where it has no meaning) are
// reported by Builder.Build with the node's name, never by a panic.
package nodes
