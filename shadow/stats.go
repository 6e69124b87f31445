package shadow

import (
	"bytes"
	"io"
	"maps"
)

// TargetStats compares one target of live and candidate runs.
type TargetStats struct {
	// Compared counts the shadow runs that compared the target; Agreed,
	// those where live and candidate agreed.
	Compared, Agreed int64
	// Live and Candidate count the decision values (strings, booleans,
	// integers) of each side.
	Live, Candidate map[string]int64
}

// AgreementRate is Agreed / Compared (0 when nothing was compared).
func (s TargetStats) AgreementRate() float64 {
	if s.Compared == 0 {
		return 0
	}
	return float64(s.Agreed) / float64(s.Compared)
}

// Stats is what a Runner did.
type Stats struct {
	// Started counts candidate runs started; Busy, live runs not shadowed
	// for want of a free slot; SampledOut, live runs not sampled.
	Started, Busy, SampledOut int64
	// Targets compares each target.
	Targets map[string]TargetStats
}

// Stats returns what the Runner did so far.
func (r *Runner) Stats() Stats {
	st := Stats{Started: r.started.Load(), Busy: r.busy.Load(), SampledOut: r.sampledOut.Load(), Targets: map[string]TargetStats{}}
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	for name, ts := range r.stats {
		st.Targets[name] = TargetStats{Compared: ts.Compared, Agreed: ts.Agreed, Live: maps.Clone(ts.Live), Candidate: maps.Clone(ts.Candidate)}
	}
	return st
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
