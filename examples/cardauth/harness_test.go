package cardauth_test

// These tests show how to test a decision graph with graphtest, the style
// to copy: start from a recorded request (here recorded from the simulated
// services; in production, from a real run), change the one or two answers
// the test is about, and assert the decision and which nodes ran. No
// backend is reached: the graph is built on upstreams that fail the test if
// they are ever called, and graphtest's strict mode would stop a run that
// needs a fetch with no stub anyway.

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/graphtest"
)

// approvedPayment is a request the simulated services approve.
var approvedPayment = cardauth.Request{TransactionID: "t1", CardID: "c1", CustomerID: "u1", MerchantID: "m1"}

// recordApproval runs approvedPayment against the simulated services — the
// only place these tests let fetches reach a service, with graphtest.Allow —
// and records what every fetch answered.
func recordApproval(t *testing.T) (*executor.Record, cardauth.Decision) {
	t.Helper()
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		t.Fatal(err)
	}
	var fetches []graph.Target
	for _, n := range graphx.Nodes(ca.Graph) {
		if n.Kind.Blocking() {
			fetches = append(fetches, graph.Named(n.Name))
		}
	}
	h := graphtest.New(t, ca.Graph, graphtest.Allow(fetches...), graphtest.ExecutorOptions(executor.WithRunTimeout(5*time.Second)))
	run := h.Run(context.Background(), ca.Inputs(approvedPayment), ca.Decision)
	decision := graphtest.Value(run, ca.Decision)
	if decision.Verdict != cardauth.Approve {
		t.Fatalf("the recorded payment was not approved: %v", decision)
	}
	rec, err := run.Result().RecordValues()
	if err != nil {
		t.Fatal(err)
	}
	return rec, decision
}

// offline builds the graph on upstreams that fail the test when called, so
// that a test shows it needs no backend.
func offline(t *testing.T, opts ...cardauth.Option) *cardauth.Graph {
	t.Helper()
	var up cardauth.Upstreams
	v := reflect.ValueOf(&up).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value {
			t.Errorf("upstream %s was called", name)
			return []reflect.Value{reflect.Zero(f.Type().Out(0)), reflect.ValueOf(errors.New("offline"))}
		}))
	}
	ca, err := cardauth.New(up, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// lookup returns the typed Ref of a node the package does not export.
func lookup[T any](t *testing.T, ca *cardauth.Graph, name string) graph.Ref[T] {
	t.Helper()
	ref, err := graph.Lookup[T](ca.Graph, name)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// With the card blocked, the payment is declined by the pre-policy, the
// model is never called and the score takes the no-model branch; the rest
// of the request is as recorded.
func TestHarnessBlockedCardSkipsTheModel(t *testing.T) {
	rec, _ := recordApproval(t)
	ca := offline(t)
	card := lookup[cardauth.Card](t, ca, "card")

	h := graphtest.New(t, ca.Graph,
		graphtest.Stub(card, cardauth.Card{ID: "c1", Status: cardauth.CardBlocked, IssueCountry: "GB"}),
		graphtest.Forbid(ca.ModelScore),
		graphtest.Replay(rec),
	)
	run := h.Run(context.Background(), h.Inputs(), ca.Decision)

	graphtest.ExpectValue(run, ca.Decision, cardauth.Decision{
		Verdict: cardauth.Decline, Reason: "card blocked", ScoreSource: cardauth.ScoreSkipped,
	})
	run.ExpectSkipped(ca.ModelScore)
	run.ExpectBranch(ca.Score, graph.Named("no_model_score"))
	run.ExpectOK(ca.PrePolicy, ca.Features, ca.Affordability)
}

// What the model says decides between approve, review and decline.
func TestHarnessModelScoreDecides(t *testing.T) {
	rec, _ := recordApproval(t)
	ca := offline(t)
	for _, tc := range []struct {
		score  float64
		want   cardauth.Verdict
		reason string
	}{
		{0.93, cardauth.Decline, "fraud score too high"},
		{0.6, cardauth.Review, "fraud score elevated"},
		{0.1, cardauth.Approve, "all checks passed"},
	} {
		t.Run(fmt.Sprint(tc.score), func(t *testing.T) {
			h := graphtest.New(t, ca.Graph,
				graphtest.Stub(ca.ModelScore, cardauth.ModelScore{Score: tc.score, Source: cardauth.ScoreFromModel}),
				graphtest.Replay(rec),
			)
			run := h.Run(context.Background(), h.Inputs(), ca.Decision)

			graphtest.ExpectValue(run, ca.Decision, cardauth.Decision{
				Verdict: tc.want, Reason: tc.reason, Score: tc.score, ScoreSource: cardauth.ScoreFromModel,
			})
			run.ExpectOK(ca.ModelScore)
			run.ExpectBranch(ca.Score, ca.ModelScore)
			run.ExpectSkipped(graph.Named("no_model_score"))
		})
	}
}

// A model that hangs, ignoring its context, is cut off by its timeout; its
// fallback score sends the payment to review.
func TestHarnessModelTimeoutFallsBackToReview(t *testing.T) {
	rec, _ := recordApproval(t)
	ca := offline(t, cardauth.WithModelTimeout(20*time.Millisecond))

	h := graphtest.New(t, ca.Graph,
		graphtest.StubHang(ca.ModelScore), // released when the test ends
		graphtest.Replay(rec),
	)
	run := h.Run(context.Background(), h.Inputs(), ca.Decision)

	graphtest.ExpectValue(run, ca.Decision, cardauth.Decision{
		Verdict: cardauth.Review, Reason: "fraud model unavailable",
		Score: cardauth.FallbackScore.Score, ScoreSource: cardauth.ScoreFallback,
	})
	run.ExpectFellBack(ca.ModelScore)
	run.ExpectCause(ca.ModelScore, context.DeadlineExceeded)
}

// The account limits have no fallback: when their service fails, there is
// no decision, and the error names the root cause.
func TestHarnessLimitsOutageFailsTheDecision(t *testing.T) {
	rec, _ := recordApproval(t)
	ca := offline(t)
	errDown := errors.New("limits service down")

	h := graphtest.New(t, ca.Graph,
		graphtest.StubError(ca.AccountLimits, errDown),
		graphtest.Replay(rec),
	)
	run := h.Run(context.Background(), h.Inputs(), ca.Decision)

	run.ExpectErrored(ca.AccountLimits, ca.Affordability, ca.Decision)
	run.ExpectCause(ca.Decision, errDown)
	var de *executor.DependencyError
	if !errors.As(run.Node(ca.Decision).Cause, &de) || de.Root != "account_limits" {
		t.Errorf("decision's cause %v does not name account_limits as the root", run.Node(ca.Decision).Cause)
	}
	if !errors.Is(run.Err(), errDown) {
		t.Errorf("the run's error %v does not wrap the outage", run.Err())
	}
}

// Whatever goes wrong with the model — latency, an error, a panic, a hang —
// its timeout and fallback keep a decision possible.
func TestHarnessModelFaultsKeepADecision(t *testing.T) {
	rec, _ := recordApproval(t)
	ca := offline(t, cardauth.WithModelTimeout(20*time.Millisecond))
	kinds := map[graphtest.FaultKind]bool{}
	for seed := range uint64(12) {
		h := graphtest.New(t, ca.Graph,
			graphtest.Replay(rec),
			graphtest.ExecutorOptions(executor.WithRunTimeout(5*time.Second)),
			graphtest.RandomFaults(seed, graphtest.FaultNodes(ca.ModelScore), graphtest.FaultRate(1), graphtest.MaxLatency(2*time.Millisecond)),
		)
		faults := h.Faults()
		if len(faults) != 1 {
			t.Fatalf("seed %d: faults %v, want one on the model", seed, faults)
		}
		kinds[faults[0].Kind] = true
		run := h.Run(context.Background(), h.Inputs(), ca.Decision)

		run.ExpectHasValue(ca.Decision)
		if d := graphtest.Value(run, ca.Decision); faults[0].Kind != graphtest.FaultLatency && d.ScoreSource != cardauth.ScoreFallback {
			t.Errorf("seed %d: fault %v, decision %v not made on the fallback score", seed, faults[0], d)
		}
	}
	if len(kinds) < 3 {
		t.Errorf("12 seeds drew only the fault kinds %v", kinds)
	}
}

// A recorded request replays to the same run, node for node, with no
// backend: the way to reproduce a production request in a test.
func TestHarnessRecordAndReplay(t *testing.T) {
	rec, decision := recordApproval(t)
	path := filepath.Join(t.TempDir(), "approval.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(rec.WriteJSON(f), f.Close()); err != nil {
		t.Fatal(err)
	}
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := executor.ReadRecord(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ca := offline(t)
	h := graphtest.New(t, ca.Graph, graphtest.Replay(replayed))
	run := h.Run(context.Background(), h.Inputs(), ca.Decision)

	graphtest.ExpectValue(run, ca.Decision, decision)
	again, err := run.Result().RecordValues()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(replayable(again), replayable(rec)) {
		t.Errorf("the replay recorded differently from the original run:\nreplay:   %+v\noriginal: %+v", replayable(again), replayable(rec))
	}
}

// replayable is what a replay reproduces of a record: every node's outcome,
// cause and value, not its times.
func replayable(rec *executor.Record) []executor.NodeRecord {
	out := make([]executor.NodeRecord, len(rec.Nodes))
	for i, n := range rec.Nodes {
		out[i] = executor.NodeRecord{Name: n.Name, Kind: n.Kind, Type: n.Type, Outcome: n.Outcome, Cause: n.Cause, TimedOut: n.TimedOut, Recorded: n.Recorded}
	}
	return out
}
