package shadow

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
)

// Report compares live and candidate over logged decision records: what
// `featgraph log shadow-report` prints.
type Report struct {
	// Records counts the records read (after de-duplication by run id);
	// Shadowed, those with a shadow run.
	Records  int `json:"records"`
	Shadowed int `json:"shadowed"`
	// CandidateErrors counts shadow runs that ended with an error.
	CandidateErrors int `json:"candidate_errors"`
	// First and Last are the times of the first and last shadowed record.
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	// Candidates names the candidate graphs seen (name@version).
	Candidates []string       `json:"candidates"`
	Targets    []TargetReport `json:"targets"`
}

// TargetReport compares one target.
type TargetReport struct {
	Target    string  `json:"target"`
	Compared  int     `json:"compared"`
	Agreed    int     `json:"agreed"`
	Agreement float64 `json:"agreement"`
	// Values is the decision-rate table: each value (string, boolean or
	// integer, or that of an object's decision field) with how often live
	// and candidate decided it.
	Values []ValueRate `json:"values"`
	// LiveMean and CandidateMean average the numeric values that are not
	// integers (scores), with their counts.
	LiveMean        float64 `json:"live_mean,omitempty"`
	CandidateMean   float64 `json:"candidate_mean,omitempty"`
	LiveScores      int     `json:"live_scores,omitempty"`
	CandidateScores int     `json:"candidate_scores,omitempty"`
}

// ValueRate is one row of a decision-rate table.
type ValueRate struct {
	Value         string  `json:"value"`
	Live          int     `json:"live"`
	LiveRate      float64 `json:"live_rate"`
	Candidate     int     `json:"candidate"`
	CandidateRate float64 `json:"candidate_rate"`
}

// Reporter builds a [Report] from records given one by one. The zero value
// is ready to use.
type Reporter struct {
	// Since and Until, when set, keep the records whose time is in [Since, Until).
	Since, Until time.Time
	// Field names the field of object values that holds the decision
	// (default: the first of DecisionFields the value has).
	Field string

	seen       map[string]bool
	rep        Report
	cands      map[string]bool
	targets    map[string]*targetAcc
	targetList []string
}

type targetAcc struct {
	rep              TargetReport
	live, cand       map[string]int
	liveSum, candSum float64
}

// Add counts rec, unless it is outside the time range or its run id was
// seen already.
func (r *Reporter) Add(rec *decisionlog.Record) {
	if !r.Since.IsZero() && rec.Time.Before(r.Since) || !r.Until.IsZero() && !rec.Time.Before(r.Until) {
		return
	}
	if r.seen == nil {
		r.seen, r.cands, r.targets = map[string]bool{}, map[string]bool{}, map[string]*targetAcc{}
	}
	if r.seen[rec.RunID] {
		return
	}
	r.seen[rec.RunID] = true
	r.rep.Records++
	sh := rec.Shadow
	if sh == nil {
		return
	}
	r.rep.Shadowed++
	if r.rep.First.IsZero() || rec.Time.Before(r.rep.First) {
		r.rep.First = rec.Time
	}
	if rec.Time.After(r.rep.Last) {
		r.rep.Last = rec.Time
	}
	if sh.Err != "" {
		r.rep.CandidateErrors++
	}
	name := sh.Graph
	if sh.GraphVersion != "" {
		name += "@" + sh.GraphVersion
	}
	r.cands[name] = true
	for _, d := range sh.Diff {
		acc := r.targets[d.Target]
		if acc == nil {
			acc = &targetAcc{rep: TargetReport{Target: d.Target}, live: map[string]int{}, cand: map[string]int{}}
			r.targets[d.Target] = acc
			r.targetList = append(r.targetList, d.Target)
		}
		acc.rep.Compared++
		if d.Agree {
			acc.rep.Agreed++
		}
		acc.add(d.Live, r.Field, acc.live, &acc.liveSum, &acc.rep.LiveScores)
		acc.add(d.Candidate, r.Field, acc.cand, &acc.candSum, &acc.rep.CandidateScores)
	}
}

func (a *targetAcc) add(raw json.RawMessage, field string, counts map[string]int, sum *float64, n *int) {
	if k, ok := decisionKey(raw, field); ok {
		counts[k]++
		return
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		*sum += f
		*n++
	}
}

// Report returns the report of the records added so far.
func (r *Reporter) Report() Report {
	rep := r.rep
	rep.Candidates = []string{}
	for c := range r.cands {
		rep.Candidates = append(rep.Candidates, c)
	}
	slices.Sort(rep.Candidates)
	rep.Targets = []TargetReport{}
	for _, name := range r.targetList {
		acc := r.targets[name]
		t := acc.rep
		t.Agreement = float64(t.Agreed) / float64(max(t.Compared, 1))
		if t.LiveScores > 0 {
			t.LiveMean = acc.liveSum / float64(t.LiveScores)
		}
		if t.CandidateScores > 0 {
			t.CandidateMean = acc.candSum / float64(t.CandidateScores)
		}
		t.Values = []ValueRate{}
		values := map[string]bool{}
		for v := range acc.live {
			values[v] = true
		}
		for v := range acc.cand {
			values[v] = true
		}
		for v := range values {
			t.Values = append(t.Values, ValueRate{
				Value: v, Live: acc.live[v], Candidate: acc.cand[v],
				LiveRate:      float64(acc.live[v]) / float64(max(t.Compared, 1)),
				CandidateRate: float64(acc.cand[v]) / float64(max(t.Compared, 1)),
			})
		}
		slices.SortFunc(t.Values, func(a, b ValueRate) int {
			return cmp.Or(cmp.Compare(b.Live+b.Candidate, a.Live+a.Candidate), cmp.Compare(a.Value, b.Value))
		})
		rep.Targets = append(rep.Targets, t)
	}
	return rep
}
