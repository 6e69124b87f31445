package viz

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/featgraph/featgraph/executor"
)

// TraceFile is the Chrome trace-event format ("JSON object format") that
// Perfetto and chrome://tracing open.
type TraceFile struct {
	TraceEvents     []TraceEvent      `json:"traceEvents"`
	DisplayTimeUnit string            `json:"displayTimeUnit"`
	OtherData       map[string]string `json:"otherData,omitempty"`
}

// TraceEvent is one event of a [TraceFile]. Nodes are complete events
// (Phase "X") with a start and a duration in microseconds; metadata events
// (Phase "M") name the process and its lanes.
type TraceEvent struct {
	Name     string         `json:"name"`
	Category string         `json:"cat,omitempty"`
	Phase    string         `json:"ph"`
	TS       float64        `json:"ts"`
	Dur      float64        `json:"dur"`
	PID      int            `json:"pid"`
	TID      int            `json:"tid"`
	Args     map[string]any `json:"args,omitempty"`
}

// WriteTraceJSON writes a finished run as Chrome trace-event JSON: one
// complete event per executed node (category: its kind; args: outcome,
// cause, attempts, branch, whether it is on the critical path), timestamps
// from the run's start. Nodes that overlap in time go on different lanes
// (threads), since trace viewers expect the events of one thread to nest.
func WriteTraceJSON(w io.Writer, rec *executor.Record) error {
	if err := checkRecord(rec); err != nil {
		return err
	}
	tf := traceOf(rec)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(tf); err != nil {
		return fmt.Errorf("viz: writing trace JSON: %w", err)
	}
	return nil
}

func traceOf(rec *executor.Record) TraceFile {
	crit, _, critNames := criticalSet(rec)
	var order []int
	for i, n := range rec.Nodes {
		if n.Outcome != executor.OutcomeSkipped {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmpDuration(rec.Nodes[a].Start, rec.Nodes[b].Start); c != 0 {
			return c
		}
		return cmpDuration(rec.Nodes[b].End, rec.Nodes[a].End)
	})
	const pid = 1
	events := []TraceEvent{{Name: "process_name", Phase: "M", PID: pid, Args: map[string]any{"name": "featgraph run"}}}
	var laneEnds []time.Duration
	var nodeEvents []TraceEvent
	for _, i := range order {
		n := rec.Nodes[i]
		lane := slices.IndexFunc(laneEnds, func(end time.Duration) bool { return end <= n.Start })
		if lane < 0 {
			lane = len(laneEnds)
			laneEnds = append(laneEnds, 0)
		}
		laneEnds[lane] = n.End
		args := map[string]any{"outcome": n.Outcome.String()}
		if n.Cause != "" {
			args["cause"] = n.Cause
		}
		if n.Attempts > 0 {
			args["attempts"] = n.Attempts
		}
		if n.Source != "" {
			args["source"] = n.Source
		}
		if n.Branch != "" {
			args["branch"] = n.Branch
		}
		if crit[i] {
			args["critical_path"] = true
		}
		if up := n.Meta["upstream"]; up != "" {
			args["upstream"] = up
		}
		nodeEvents = append(nodeEvents, TraceEvent{
			Name: n.Name, Category: n.Kind.String(), Phase: "X",
			TS: micros(n.Start), Dur: micros(n.Duration()), PID: pid, TID: lane + 1, Args: args,
		})
	}
	for lane := range laneEnds {
		events = append(events, TraceEvent{Name: "thread_name", Phase: "M", PID: pid, TID: lane + 1,
			Args: map[string]any{"name": fmt.Sprintf("lane %d", lane+1)}})
	}
	other := map[string]string{"duration": rec.Duration.String(), "critical_path": strings.Join(critNames, " > ")}
	if !rec.Started.IsZero() {
		other["started"] = rec.Started.UTC().Format(time.RFC3339Nano)
	}
	if rec.Err != "" {
		other["error"] = rec.Err
	}
	return TraceFile{TraceEvents: append(events, nodeEvents...), DisplayTimeUnit: "ms", OtherData: other}
}

// micros converts d to trace-event microseconds, keeping nanoseconds.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
