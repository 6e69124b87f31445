package shadow

import (
	"bytes"
	"encoding/json"

	"github.com/featgraph/featgraph/decisionlog"
)

// DiffValues compares one target of a live run and of a candidate run as
// two records hold them, for a candidate run elsewhere than beside the live
// one (a backtest over a decision log). It agrees as a [Runner] does: both
// have a value and the values are equal as JSON (compared canonically, so
// an object's key order does not matter), or neither has a value. Two
// hashed values agree when their hashes are equal; a value the records do
// not hold on one side (omitted, unencodable, hashed on one side only)
// never agrees. Live and Candidate are the values as shown in the records.
func DiffValues(live, candidate decisionlog.LoggedValue) decisionlog.Diff {
	d := decisionlog.Diff{
		Target: live.Name, LiveOutcome: live.Outcome, CandidateOutcome: candidate.Outcome,
		Live: shown(live), Candidate: shown(candidate),
	}
	lh, ch := live.Outcome.HasValue(), candidate.Outcome.HasValue()
	switch {
	case !lh && !ch:
		d.Agree = true
	case !lh || !ch:
	case live.Value != nil && candidate.Value != nil:
		d.Agree = bytes.Equal(canonicalJSON(live.Value), canonicalJSON(candidate.Value))
	case live.Hash != "" && candidate.Hash != "":
		d.Agree = live.Hash == candidate.Hash
	}
	return d
}

// canonicalJSON re-encodes raw with objects' keys sorted and numbers as
// written; raw itself when it is not JSON.
func canonicalJSON(raw json.RawMessage) []byte {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}
