package decisionlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/featgraph/featgraph/graph"
	"reflect"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graphtest"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/spec"
)

var testKey = []byte("0123456789abcdef-test-key")

func TestRecordHoldsTheRun(t *testing.T) {
	c := newCardGraph(t)
	r, err := decisionlog.NewRecorder(c.g, "cardauth", decisionlog.GraphVersion("7"))
	if err != nil {
		t.Fatal(err)
	}
	res := c.run(t, "c1", 120)
	rec, err := r.Record("run-1", res)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != decisionlog.SchemaVersion || rec.RunID != "run-1" || rec.Graph != "cardauth" || rec.GraphVersion != "7" {
		t.Errorf("header = %+v", rec)
	}
	if !rec.Time.Equal(res.Started()) || rec.Duration != res.Duration() {
		t.Errorf("time %v %v, want %v %v", rec.Time, rec.Duration, res.Started(), res.Duration())
	}
	want := map[string]string{"card": `"c1"`, "amount": `120`, "account": `{"id":"acc-c1","limit":500}`, "risk": `0.5`, "decision": `"approve"`}
	for name, js := range want {
		v, lerr := rec.Lookup(name)
		ok := lerr == nil
		if !ok || string(v.Value) != js {
			t.Errorf("%s = %+v, want value %s", name, v, js)
		}
	}
	if len(rec.Inputs) != 2 || len(rec.Fetches) != 2 || len(rec.Targets) != 1 || rec.Targets[0].Name != "decision" {
		t.Errorf("inputs %d fetches %d targets %+v", len(rec.Inputs), len(rec.Fetches), rec.Targets)
	}
	risk, _ := rec.Lookup("risk")
	if risk.Outcome != executor.OutcomeFallback || !strings.Contains(risk.Cause, "risk service down") {
		t.Errorf("risk = %+v", risk)
	}
	if len(rec.Nodes) != c.g.Len() {
		t.Fatalf("%d nodes, want %d", len(rec.Nodes), c.g.Len())
	}
	for _, n := range rec.Nodes {
		nr, _ := res.Lookup(n.Name)
		if n.Outcome != nr.Outcome || n.Start != nr.Start || n.End != nr.End || n.Kind != nr.Kind {
			t.Errorf("node %+v, result %+v", n, nr)
		}
	}

	line, err := decisionlog.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(line, '\n') {
		t.Errorf("a record line holds a newline: %s", line)
	}
	back, err := decisionlog.Unmarshal(line)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rec) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, rec)
	}
}

func TestUnmarshalRefuses(t *testing.T) {
	for name, data := range map[string]string{
		"not json":      `{"version":2,`,
		"other version": `{"version":1,"run_id":"x"}`,
		"no run id":     `{"version":2}`,
		"two values":    `{"version":2,"run_id":"x"} {}`,
		"array":         `[1]`,
	} {
		if _, err := decisionlog.Unmarshal([]byte(data)); !errors.Is(err, decisionlog.ErrSchema) {
			t.Errorf("%s: err %v, want ErrSchema", name, err)
		}
	}
}

func TestPrivacyMarks(t *testing.T) {
	c := newCardGraph(t, nodes.Meta(decisionlog.MetaKey, "hash"))
	newRec := func(key []byte, opts ...decisionlog.Option) *decisionlog.Recorder {
		r, err := decisionlog.NewRecorder(c.g, "cardauth", append([]decisionlog.Option{decisionlog.HashKey(key)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The account's value quotes the card id: a node derived from a private
	// value needs a mark of its own.
	r := newRec(testKey, decisionlog.Mark("risk", decisionlog.Omit), decisionlog.Mark("account", decisionlog.Hash))
	rec1, _ := r.Record("a", c.run(t, "4111111111111111", 10))
	rec2, _ := r.Record("b", c.run(t, "4111111111111111", 20))
	rec3, _ := r.Record("c", c.run(t, "4000000000000002", 10))
	other, _ := newRec([]byte("another-secret-key-0000"), decisionlog.Mark("risk", decisionlog.Omit)).Record("d", c.run(t, "4111111111111111", 10))

	card1, _ := rec1.Lookup("card")
	card2, _ := rec2.Lookup("card")
	card3, _ := rec3.Lookup("card")
	cardOther, _ := other.Lookup("card")
	if card1.Value != nil || !strings.HasPrefix(card1.Hash, "hmac-sha256:") || len(card1.Hash) != len("hmac-sha256:")+64 {
		t.Errorf("card = %+v, want an HMAC and no value", card1)
	}
	if card1.Hash != card2.Hash {
		t.Errorf("the same card hashes differently: %s, %s", card1.Hash, card2.Hash)
	}
	if card1.Hash == card3.Hash || card1.Hash == cardOther.Hash {
		t.Errorf("another card or another key gives the same hash %s", card1.Hash)
	}
	risk, _ := rec1.Lookup("risk")
	if !risk.Omitted || risk.Value != nil || risk.Cause != "" {
		t.Errorf("risk = %+v, want omitted with no cause", risk)
	}
	for _, n := range rec1.Nodes {
		if n.Name == "risk" && n.Cause != "" {
			t.Errorf("the omitted node's cause is written: %q", n.Cause)
		}
	}
	line, _ := decisionlog.Marshal(rec1)
	if bytes.Contains(line, []byte("4111111111111111")) {
		t.Errorf("the card number is in the record: %s", line)
	}
	if r.ModeOf("card") != decisionlog.Hash || r.ModeOf("risk") != decisionlog.Omit || r.ModeOf("amount") != decisionlog.Keep {
		t.Errorf("modes %v %v %v", r.ModeOf("card"), r.ModeOf("risk"), r.ModeOf("amount"))
	}
}

func TestPrivacyKeyFromEnvironment(t *testing.T) {
	c := newCardGraph(t, nodes.Meta(decisionlog.MetaKey, "hash"))
	env := func(v string) decisionlog.Option {
		return decisionlog.Getenv(func(k string) string {
			if k == decisionlog.KeyEnv {
				return v
			}
			return ""
		})
	}
	if _, err := decisionlog.NewRecorder(c.g, "g", env("")); err == nil || !strings.Contains(err.Error(), decisionlog.KeyEnv) {
		t.Errorf("no key: err %v", err)
	}
	if _, err := decisionlog.NewRecorder(c.g, "g", env("short")); err == nil || strings.Contains(err.Error(), "short") {
		t.Errorf("short key: err %v (and it must not quote the key)", err)
	}
	r, err := decisionlog.NewRecorder(c.g, "g", env(string(testKey)))
	if err != nil {
		t.Fatal(err)
	}
	withKey, _ := decisionlog.NewRecorder(c.g, "g", decisionlog.HashKey(testKey))
	a, _ := r.Record("", c.run(t, "c1", 1))
	b, _ := withKey.Record("", c.run(t, "c1", 1))
	ca, _ := a.Lookup("card")
	cb, _ := b.Lookup("card")
	if ca.Hash == "" || ca.Hash != cb.Hash {
		t.Errorf("hash from the environment %q, from HashKey %q", ca.Hash, cb.Hash)
	}
	if a.RunID == "" || a.RunID == b.RunID {
		t.Errorf("run ids %q %q", a.RunID, b.RunID)
	}
}

func TestRecorderRefusesBadMarks(t *testing.T) {
	c := newCardGraph(t, nodes.Meta(decisionlog.MetaKey, "shred"))
	if _, err := decisionlog.NewRecorder(c.g, "g"); err == nil || !strings.Contains(err.Error(), `"card"`) {
		t.Errorf("bad meta: err %v", err)
	}
	c = newCardGraph(t)
	if _, err := decisionlog.NewRecorder(c.g, "g", decisionlog.Mark("nope", decisionlog.Omit)); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown node: err %v", err)
	}
	if _, err := decisionlog.NewRecorder(c.g, "g", decisionlog.HashKey([]byte("k"))); err == nil {
		t.Error("a 1-byte key is accepted")
	}
}

func TestUnencodableValue(t *testing.T) {
	c := newCardGraph(t)
	r, _ := decisionlog.NewRecorder(c.g, "g")
	res, err := executor.Run(context.Background(), c.g, []executor.Binding{executor.Bind(c.card, "c"), executor.Bind(c.amount, 1)}, c.decision)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	rec, err := r.Record("x", res)
	if err != nil {
		t.Fatal(err)
	}
	// A NaN does not encode as JSON: the record says so, and still encodes.
	rec.Targets = append(rec.Targets, decisionlog.LoggedValue{Name: "nan", Unencodable: "json: unsupported value: NaN"})
	if _, err := decisionlog.Marshal(rec); err != nil {
		t.Fatal(err)
	}
}

// TestReplayThroughGraphtest replays a record with no backend: the harness
// forbids every fetch that the recording does not stub.
func TestReplayThroughGraphtest(t *testing.T) {
	c := newCardGraph(t)
	r, _ := decisionlog.NewRecorder(c.g, "cardauth")
	for i, amount := range []int{120, 900} {
		rec, err := r.Record("", c.run(t, "c9", amount))
		if err != nil {
			t.Fatal(err)
		}
		line, _ := decisionlog.Marshal(rec)
		back, err := decisionlog.Unmarshal(line)
		if err != nil {
			t.Fatal(err)
		}
		recording := throughJSON(t, back.RunRecord())
		h := graphtest.New(t, c.g, graphtest.Replay(recording))
		run := h.Run(context.Background(), h.Inputs(), c.decision)
		var want string
		_ = json.Unmarshal(back.Targets[0].Value, &want)
		graphtest.ExpectValue(run, c.decision, want)
		run.ExpectFellBack(c.risk)
		if i == 1 && want != "decline" {
			t.Errorf("amount 900 decided %q", want)
		}
	}
}

// throughJSON writes rec as JSON and reads it back, as a replay from a file does.
func throughJSON(t *testing.T, rec *executor.Record) *executor.Record {
	t.Helper()
	var buf bytes.Buffer
	if err := rec.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := executor.ReadRecord(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestReplayOfHashedRecord: a hashed fetch is not replayed silently.
func TestReplayOfHashedRecord(t *testing.T) {
	c := newCardGraph(t)
	r, _ := decisionlog.NewRecorder(c.g, "g", decisionlog.HashKey(testKey), decisionlog.Mark("account", decisionlog.Hash))
	rec, _ := r.Record("", c.run(t, "c1", 1))
	recording := throughJSON(t, rec.RunRecord())
	h := graphtest.New(t, c.g, graphtest.Replay(recording))
	run := h.Run(context.Background(), h.Inputs(), c.decision)
	run.ExpectCause(c.account, graphtest.ErrNotRecorded)
	// Stubbing the hashed node replays the rest.
	h = graphtest.New(t, c.g, graphtest.Replay(recording), graphtest.Stub(c.account, account{ID: "x", Limit: 500}))
	run = h.Run(context.Background(), h.Inputs(), c.decision)
	graphtest.ExpectValue(run, c.decision, "approve")
}

// TestSpecLogKeyMarks: a spec's log key is the recorder's privacy mark.
func TestSpecLogKeyMarks(t *testing.T) {
	s, err := spec.Parse("marks.yaml", []byte(`version: 1
inputs:
  card_id: {type: string, log: hash}
  email: {type: string, log: omit}
  amount: float
nodes:
  big: {expr: amount > 100, type: bool}
targets: [big]
`))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := decisionlog.NewRecorder(s.Graph(), "marks", decisionlog.HashKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	if r.ModeOf("card_id") != decisionlog.Hash || r.ModeOf("email") != decisionlog.Omit || r.ModeOf("amount") != decisionlog.Keep {
		t.Errorf("modes %v %v %v", r.ModeOf("card_id"), r.ModeOf("email"), r.ModeOf("amount"))
	}
	big := graph.Named("big")
	res, err := executor.Run(context.Background(), s.Graph(), []executor.Binding{
		executor.BindNamed("card_id", "4111111111111111"), executor.BindNamed("email", "a@b.c"), executor.BindNamed("amount", 120.0)}, big)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	rec, err := r.Record("", res)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := decisionlog.Marshal(rec)
	if bytes.Contains(line, []byte("4111111111111111")) || bytes.Contains(line, []byte("a@b.c")) || !bytes.Contains(line, []byte("hmac-sha256:")) {
		t.Errorf("record %s", line)
	}
	if v, _ := rec.Lookup("big"); string(v.Value) != "true" {
		t.Errorf("big = %+v", v)
	}
}
