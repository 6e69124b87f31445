package decisionlog

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// replayVersion is the version of graphtest's recording format.
const replayVersion = 1

// replayFile is graphtest's Recording, as JSON.
type replayFile struct {
	Version int          `json:"version"`
	Inputs  []replayNode `json:"inputs"`
	Nodes   []replayNode `json:"nodes"`
}

type replayNode struct {
	Name     string           `json:"name"`
	Kind     graph.Kind       `json:"kind"`
	Type     string           `json:"type"`
	Outcome  executor.Outcome `json:"outcome"`
	Value    json.RawMessage  `json:"value,omitempty"`
	Cause    string           `json:"cause,omitempty"`
	TimedOut bool             `json:"timed_out,omitempty"`
}

// WriteReplay writes the record's inputs and fetches in the recording format
// of package graphtest, so that graphtest.ReadRecording and graphtest.Replay
// run the decision again with no backend:
//
//	rec.WriteReplay(f) // then, in a test:
//	recording, _ := graphtest.ReadRecording(path)
//	h := graphtest.New(t, g, graphtest.Replay(recording))
//	run := h.Run(ctx, h.Inputs(), decision)
//
// A value the record does not hold (hashed, omitted, unencodable) cannot be
// replayed: an input is left out (bind it yourself), and a fetch is written
// as not recorded, so the replay fails it with graphtest.ErrNotRecorded
// unless the test stubs it.
func (rec *Record) WriteReplay(w io.Writer) error {
	f := replayFile{Version: replayVersion, Inputs: []replayNode{}, Nodes: []replayNode{}}
	for _, v := range rec.Inputs {
		if v.Redacted() {
			continue
		}
		n := replayOf(v)
		if v.Value != nil {
			n.Outcome = executor.OutcomeOK // bound, if maybe not needed: replay binds it
		}
		f.Inputs = append(f.Inputs, n)
	}
	for _, v := range rec.Fetches {
		n := replayOf(v)
		if v.Redacted() && v.Outcome == executor.OutcomeOK {
			n.Outcome, n.Cause = executor.OutcomeSkipped, "not in the decision record: "+redaction(v)
		}
		f.Nodes = append(f.Nodes, n)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("decisionlog: writing replay of %q: %w", rec.RunID, err)
	}
	return nil
}

func replayOf(v Value) replayNode {
	return replayNode{Name: v.Name, Kind: v.Kind, Type: v.Type, Outcome: v.Outcome, Value: v.Value, Cause: v.Cause, TimedOut: v.TimedOut}
}

func redaction(v Value) string {
	switch {
	case v.Hash != "":
		return "hashed"
	case v.Omitted:
		return "omitted"
	}
	return "unencodable"
}
