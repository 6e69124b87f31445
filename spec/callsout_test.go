package spec_test

import (
	"testing"

	"github.com/featgraph/featgraph/spec"
)

// TestCallsOut: http nodes call out; expr nodes, though fetch nodes, and
// inputs, values and conditionals do not.
func TestCallsOut(t *testing.T) {
	s, err := spec.Parse("calls.yaml", []byte(`version: 1
upstreams:
  api: {url: "http://127.0.0.1:1"}
inputs:
  id: string
nodes:
  user:
    http: {upstream: api, path: "/user/{id}"}
  adult:
    expr: user.age >= 18
    type: bool
  none:
    value: {age: 0}
  pick:
    if: adult
    then: user
    else: none
targets: [pick]
`))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]bool{"id": false, "user": true, "adult": false, "none": false, "pick": false}
	for name, calls := range want {
		id, err := s.Graph().Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := spec.CallsOut(s.Graph(), id); got != calls {
			t.Errorf("%s: CallsOut %v, want %v", name, got, calls)
		}
	}
}
