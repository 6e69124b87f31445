package graphtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/featgraph/featgraph/graph"
)

// ErrInjected is matched (errors.Is) by the error of a [FaultError].
var ErrInjected = errors.New("graphtest: injected fault")

// FaultKind is what an injected fault does to a fetch or each node.
type FaultKind uint8

// The fault kinds.
const (
	// FaultLatency delays the node before its stub or real body runs; the
	// delay ends early when the node's context ends.
	FaultLatency FaultKind = iota + 1
	// FaultError makes the node fail with an error matching ErrInjected.
	FaultError
	// FaultPanic makes the node panic.
	FaultPanic
	// FaultHang makes the node block, ignoring its context, until the test
	// ends. Only a node timeout or the run's deadline ends such a node.
	FaultHang
)

var faultNames = [...]string{FaultLatency: "latency", FaultError: "error", FaultPanic: "panic", FaultHang: "hang"}

// String returns the lower-case name of the fault kind.
func (k FaultKind) String() string {
	if int(k) < len(faultNames) && faultNames[k] != "" {
		return faultNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", uint8(k))
}

// Fault is one fault injected into a node.
type Fault struct {
	Node string
	Kind FaultKind
	// Latency is the delay of a FaultLatency.
	Latency time.Duration
}

// String describes the fault: "device: hang".
func (f Fault) String() string { return f.Node + ": " + f.describe() }

func (f Fault) describe() string {
	if f.Kind == FaultLatency {
		return fmt.Sprintf("latency %v", f.Latency)
	}
	return f.Kind.String()
}

// apply does what the fault does before the node's body; a non-nil error
// ends the call.
func (f *Fault) apply(ctx context.Context, h *Harness) error {
	switch f.Kind {
	case FaultLatency:
		return sleep(ctx, f.Latency)
	case FaultError:
		return fmt.Errorf("node %q: %w", f.Node, ErrInjected)
	case FaultPanic:
		panic(fmt.Sprintf("graphtest: injected panic in node %q", f.Node))
	case FaultHang:
		return h.hang()
	}
	return nil
}

// inject gives node n fault f, for RandomFaults.
func inject(n graph.Target, f Fault) Option {
	return func(s *setup) error {
		what := fmt.Sprintf("%v fault in %q", f.Kind, name(n))
		if f.Kind < FaultLatency || f.Kind > FaultHang {
			return fmt.Errorf("%s: unknown fault kind", what)
		}
		if f.Kind == FaultLatency && f.Latency <= 0 {
			return fmt.Errorf("%s: latency %v is not positive", what, f.Latency)
		}
		st, err := s.lookup(n, nil, what)
		if err != nil {
			return err
		}
		if !st.node.Kind.Blocking() {
			return fmt.Errorf("%s: node %q is a %s node; faults go into fetch and each nodes", what, n.Name(), st.node.Kind)
		}
		if st.fault != nil {
			return fmt.Errorf("%s: node %q already has a fault (%s)", what, n.Name(), st.fault.describe())
		}
		f.Node = st.node.Name
		st.fault = &f
		s.h.faults = append(s.h.faults, f)
		return nil
	}
}

// FaultOption tunes [RandomFaults].
type FaultOption func(*faultPlan) error

type faultPlan struct {
	rate       float64
	kinds      []FaultKind
	nodes      []graph.Target
	maxLatency time.Duration
}

// FaultRate is the chance that each candidate node gets a fault; the
// default is 0.3.
func FaultRate(p float64) FaultOption {
	return func(fp *faultPlan) error {
		if p < 0 || p > 1 {
			return fmt.Errorf("FaultRate(%v): not in [0, 1]", p)
		}
		fp.rate = p
		return nil
	}
}

// FaultKinds limits the faults drawn to kinds; the default is all four.
func FaultKinds(kinds ...FaultKind) FaultOption {
	return func(fp *faultPlan) error {
		for _, k := range kinds {
			if k < FaultLatency || k > FaultHang {
				return fmt.Errorf("FaultKinds: unknown kind %v", k)
			}
		}
		if len(kinds) == 0 {
			return errors.New("FaultKinds: no kind")
		}
		fp.kinds = kinds
		return nil
	}
}

// FaultNodes limits the candidates to nodes; the default is every fetch and
// each node of the graph.
func FaultNodes(nodes ...graph.Target) FaultOption {
	return func(fp *faultPlan) error {
		fp.nodes = nodes
		return nil
	}
}

// MaxLatency bounds the latency of a drawn FaultLatency (drawn uniformly
// from 1ms up to it); the default is 100ms.
func MaxLatency(d time.Duration) FaultOption {
	return func(fp *faultPlan) error {
		if d < time.Millisecond {
			return fmt.Errorf("MaxLatency(%v): less than 1ms", d)
		}
		fp.maxLatency = d
		return nil
	}
}

// RandomFaults draws faults for the candidate nodes from seed: the same
// seed and graph always give the same faults, listed by [Harness.Faults]
// and shown in the outcome table. A fault applies on top of the node's stub
// (or real body, when [Allow]ed); nodes the test makes fail by hand
// ([StubError], [StubPanic], [StubHang]) keep their own failure. A test
// typically loops over seeds and checks that the decision still has a
// value:
//
//	for seed := range uint64(50) {
//		h := graphtest.New(t, g, graphtest.Stub(account, acct), graphtest.Stub(model, 0.2),
//			graphtest.ExecutorOptions(executor.WithRunTimeout(700*time.Millisecond)),
//			graphtest.RandomFaults(seed))
//		run := h.Run(ctx, inputs, decision)
//		run.ExpectHasValue(decision)
//	}
func RandomFaults(seed uint64, opts ...FaultOption) Option {
	return func(s *setup) error {
		fp := faultPlan{rate: 0.3, kinds: []FaultKind{FaultLatency, FaultError, FaultPanic, FaultHang}, maxLatency: 100 * time.Millisecond}
		for _, opt := range opts {
			if err := opt(&fp); err != nil {
				return fmt.Errorf("RandomFaults: %w", err)
			}
		}
		var candidates []graph.NodeID
		if fp.nodes == nil {
			for i, st := range s.h.stubs {
				if st.node.Kind.Blocking() {
					candidates = append(candidates, graph.NodeID(i))
				}
			}
		} else {
			for _, n := range fp.nodes {
				st, err := s.lookup(n, nil, "RandomFaults")
				if err != nil {
					return err
				}
				if !st.node.Kind.Blocking() {
					return fmt.Errorf("RandomFaults: node %q is a %s node; faults go into fetch and each nodes", n.Name(), st.node.Kind)
				}
				candidates = append(candidates, st.id)
			}
			slices.Sort(candidates)
			candidates = slices.Compact(candidates)
		}
		// Faults are drawn once every option is applied, so that a failure
		// stubbed by hand wins whatever the order of the options.
		s.late = append(s.late, func(s *setup) error {
			rng := rand.New(rand.NewPCG(seed, 0x5eed_f00d))
			for _, id := range candidates {
				// Draw for every candidate, even one that keeps its own fault,
				// so that the other nodes' faults do not depend on it.
				hit, kind := rng.Float64() < fp.rate, fp.kinds[rng.IntN(len(fp.kinds))]
				latency := time.Millisecond + time.Duration(rng.Int64N(int64(fp.maxLatency-time.Millisecond)+1))
				if st := s.h.stubs[id]; !hit || st.fault != nil || st.fails() {
					continue
				}
				if err := inject(graph.Named(s.h.orig.Name(id)), Fault{Kind: kind, Latency: latency})(s); err != nil {
					return fmt.Errorf("RandomFaults: %w", err)
				}
			}
			return nil
		})
		return nil
	}
}
