package shadow_test

import (
	"encoding/json"
	"testing"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/shadow"
)

func TestDiffValues(t *testing.T) {
	val := func(raw string) decisionlog.LoggedValue {
		return decisionlog.LoggedValue{Name: "decision", Outcome: executor.OutcomeOK, Value: json.RawMessage(raw)}
	}
	none := func(o executor.Outcome) decisionlog.LoggedValue {
		return decisionlog.LoggedValue{Name: "decision", Outcome: o}
	}
	hashed := func(h string) decisionlog.LoggedValue {
		return decisionlog.LoggedValue{Name: "decision", Outcome: executor.OutcomeOK, Hash: h}
	}
	for _, c := range []struct {
		name       string
		live, cand decisionlog.LoggedValue
		agree      bool
	}{
		{"same object, other key order", val(`{"a":1,"b":"x"}`), val(`{"b":"x", "a":1}`), true},
		{"other value", val(`{"a":1}`), val(`{"a":2}`), false},
		{"numbers as written", val(`1.0`), val(`1`), false},
		{"neither has a value", none(executor.OutcomeError), none(executor.OutcomeTimeout), true},
		{"only live has a value", val(`1`), none(executor.OutcomeError), false},
		{"only the candidate has a value", none(executor.OutcomeSkipped), val(`1`), false},
		{"same hash", hashed("hmac-sha256:ab"), hashed("hmac-sha256:ab"), true},
		{"other hash", hashed("hmac-sha256:ab"), hashed("hmac-sha256:cd"), false},
		{"hashed on one side", hashed("hmac-sha256:ab"), val(`1`), false},
		{"omitted", decisionlog.LoggedValue{Name: "decision", Outcome: executor.OutcomeOK, Omitted: true}, val(`1`), false},
	} {
		d := shadow.DiffValues(c.live, c.cand)
		if d.Agree != c.agree || d.Target != "decision" || d.LiveOutcome != c.live.Outcome || d.CandidateOutcome != c.cand.Outcome {
			t.Errorf("%s: %+v, want agree %v", c.name, d, c.agree)
		}
		if c.live.Value != nil && string(d.Live) != string(c.live.Value) || c.live.Hash != "" && string(d.Live) != `"`+c.live.Hash+`"` {
			t.Errorf("%s: live shown as %s", c.name, d.Live)
		}
	}
}
