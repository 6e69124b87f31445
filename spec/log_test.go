package spec_test

import (
	"bytes"
	"github.com/featgraph/featgraph/internal/graphx"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/spec"
)

const logSpec = `version: 1
inputs:
  card_id: {type: string, log: hash}
  email: {type: string, description: customer, log: omit}
  amount: float
nodes:
  big:
    expr: amount > 100
    type: bool
    log: keep
  label:
    value: x
targets: [big]
`

// TestLogKey: the log key marks inputs and nodes for the decision log (the
// node's "log" meta, which package decisionlog reads), and Write keeps it.
func TestLogKey(t *testing.T) {
	s, err := spec.Parse("log.yaml", []byte(logSpec))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]string{"card_id": "hash", "email": "omit", "amount": "", "big": "keep", "label": ""}
	check := func(s *spec.Spec) {
		t.Helper()
		for name, mode := range want {
			id, err := s.Graph().Lookup(name)
			if err != nil {
				t.Fatalf("no node %q", name)
			}
			if got := graphx.Node(s.Graph(), id).Meta["log"]; got != mode {
				t.Errorf("%s: log %q, want %q", name, got, mode)
			}
		}
	}
	check(s)
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := spec.Parse("back.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	defer back.Close()
	check(back)
}

func TestLogKeyRefusesOtherModes(t *testing.T) {
	_, err := spec.Parse("bad.yaml", []byte(strings.Replace(logSpec, "log: omit", "log: shred", 1)))
	if err == nil || !strings.Contains(err.Error(), `bad.yaml:4:`) || !strings.Contains(err.Error(), `"shred"`) {
		t.Errorf("err = %v", err)
	}
}
