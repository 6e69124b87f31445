package shadow_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/shadow"
)

func shadowRecord(id string, at time.Time, live, cand string) *decisionlog.Record {
	return &decisionlog.Record{Version: 1, RunID: id, Time: at, Shadow: &decisionlog.Shadow{Graph: "c", GraphVersion: "2",
		Diff: []decisionlog.Diff{{Target: "decision", Agree: live == cand, Live: json.RawMessage(live), Candidate: json.RawMessage(cand)}}}}
}

// TestReporter: object decisions are counted by their verdict (or the field
// asked for), records are de-duplicated by run id and kept in the range.
func TestReporter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	obj := func(verdict, reason string) string {
		return fmt.Sprintf(`{"reason":%q,"score":0.25,"verdict":%q}`, reason, verdict)
	}
	recs := []*decisionlog.Record{
		shadowRecord("a", t0, obj("approve", "ok"), obj("approve", "ok")),
		shadowRecord("b", t0.Add(time.Minute), obj("approve", "ok"), obj("review", "score")),
		shadowRecord("b", t0.Add(time.Minute), obj("approve", "ok"), obj("review", "score")), // sent twice
		shadowRecord("c", t0.Add(2*time.Minute), obj("decline", "limit"), obj("decline", "limit")),
		shadowRecord("d", t0.Add(time.Hour), obj("decline", "limit"), obj("approve", "ok")), // out of range
		{Version: 1, RunID: "e", Time: t0},
	}
	r := shadow.Reporter{Until: t0.Add(30 * time.Minute)}
	for _, rec := range recs {
		r.Add(rec)
	}
	rep := r.Report()
	if rep.Records != 4 || rep.Shadowed != 3 || len(rep.Targets) != 1 || rep.Candidates[0] != "c@2" {
		t.Fatalf("report %+v", rep)
	}
	tr := rep.Targets[0]
	got := map[string][2]int{}
	for _, v := range tr.Values {
		got[v.Value] = [2]int{v.Live, v.Candidate}
	}
	want := map[string][2]int{"approve": {2, 1}, "review": {0, 1}, "decline": {1, 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) || tr.Agreed != 2 || tr.Compared != 3 {
		t.Errorf("values %v agreed %d of %d, want %v, 2 of 3", got, tr.Agreed, tr.Compared, want)
	}
	byReason := shadow.Reporter{Field: "reason"}
	for _, rec := range recs[:4] {
		byReason.Add(rec)
	}
	if v := byReason.Report().Targets[0].Values[0]; v.Value != "ok" || v.Live != 2 || v.Candidate != 1 {
		t.Errorf("by reason: %+v", v)
	}
}
