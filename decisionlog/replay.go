package decisionlog

import (
	"github.com/featgraph/featgraph/executor"
)

// RunRecord returns the decision's inputs and fetches as a run record with
// values — what executor.Result.RecordValues makes of a live run — so that
// graphtest.Replay runs the decision again with no backend:
//
//	rec.RunRecord().WriteJSON(f) // then, in a test:
//	run, _ := executor.ReadRecord(f)
//	h := graphtest.New(t, g, graphtest.Replay(run))
//	res := h.Run(ctx, h.Inputs(), decision)
//
// A value the decision record does not hold (hashed, omitted, unencodable)
// cannot be replayed: an input is left out (bind it yourself), and a fetch
// is written as skipped, so the replay fails it with graphtest.ErrNotRecorded
// unless the test stubs it. The run record has no edges, times or other
// nodes: the replay computes those again.
func (rec *Record) RunRecord() *executor.Record {
	out := &executor.Record{Started: rec.Time, Duration: rec.Duration, Err: rec.Err, Nodes: []executor.NodeRecord{}}
	for _, v := range rec.Inputs {
		if v.Redacted() {
			continue
		}
		n := nodeRecordOf(v)
		if v.Value != nil {
			n.Outcome = executor.OutcomeOK // bound, if maybe not needed: replay binds it
		}
		out.Nodes = append(out.Nodes, n)
	}
	for _, v := range rec.Fetches {
		n := nodeRecordOf(v)
		if v.Redacted() && v.Outcome == executor.OutcomeOK {
			n.Outcome, n.Cause = executor.OutcomeSkipped, "not in the decision record: "+redaction(v)
		}
		out.Nodes = append(out.Nodes, n)
	}
	return out
}

func nodeRecordOf(v LoggedValue) executor.NodeRecord {
	return executor.NodeRecord{Name: v.Name, Kind: v.Kind, Type: v.Type, Outcome: v.Outcome, Recorded: v.Value, Cause: v.Cause, TimedOut: v.TimedOut}
}

func redaction(v LoggedValue) string {
	switch {
	case v.Hash != "":
		return "hashed"
	case v.Omitted:
		return "omitted"
	}
	return "unencodable"
}
