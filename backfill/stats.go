package backfill

import (
	"time"

	"github.com/featgraph/featgraph/executor"
)

// Progress is how far a backfill has gone, given to OnProgress.
type Progress struct {
	// Rows counts the rows done: written plus failed.
	Rows int64
	// Failed counts the rows that went to the dead letters.
	Failed int64
	// FellBack counts the rows written in which at least one node fell back.
	FellBack int64
	// Elapsed is the time since the backfill started.
	Elapsed time.Duration
}

// Stats sums up a backfill.
type Stats struct {
	Progress
	// Written counts the rows written to the sink.
	Written int64
	// Nodes counts each node's outcomes over the rows that ran, indexed by
	// the node's graph.NodeID.
	Nodes []NodeStats
}

// NumOutcomes is the number of executor outcomes, Skipped to Canceled.
const NumOutcomes = int(executor.OutcomeCanceled) + 1

// NodeStats counts one node's outcomes.
type NodeStats struct {
	Name string
	// Outcomes is indexed by executor.Outcome.
	Outcomes [NumOutcomes]int64
}

// Count returns how many rows ended the node with outcome o.
func (n NodeStats) Count(o executor.Outcome) int64 {
	if int(o) >= NumOutcomes {
		return 0
	}
	return n.Outcomes[o]
}

// RowsPerSecond is the rate of rows done.
func (p Progress) RowsPerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Rows) / p.Elapsed.Seconds()
}
