package spec_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
)

// specFiles are the specs every test below goes through: the package's
// testdata and the shipped examples.
func specFiles(tb testing.TB) []string {
	tb.Helper()
	var files []string
	for _, pattern := range []string{"testdata/*.yaml", "../examples/specs/*.yaml"} {
		m, _ := filepath.Glob(pattern) // the patterns are well-formed
		files = append(files, m...)
	}
	if len(files) < 2 {
		tb.Fatalf("found only %v", files)
	}
	return files
}

// binds are Go functions for the go nodes of testdata/gonodes.yaml.
var binds = []spec.Option{
	spec.Bind("history", func(ctx context.Context, customer string) ([]int, error) { return []int{400, 700}, nil }),
	spec.Bind("spend", func(h []int, amount int) (int, error) {
		total := amount
		for _, x := range h {
			total += x
		}
		return total, nil
	}),
	spec.Bind("visits", func(ctx context.Context, id any) (string, error) { return fmt.Sprintf("visit-%v", id), nil }),
}

func load(t *testing.T, name string, data []byte) *spec.Spec {
	t.Helper()
	opts := append([]spec.Option{spec.Getenv(func(string) string { return "" })}, binds...)
	if filepath.Base(name) != "gonodes.yaml" && !bytes.Contains(data, []byte("go: ")) {
		opts = opts[:1]
	}
	s, err := spec.Parse(name, data, opts...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	for _, file := range specFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first := load(t, file, data)
			var out bytes.Buffer
			if err := first.Write(&out); err != nil {
				t.Fatal(err)
			}
			second := load(t, "written.yaml", out.Bytes())
			sameGraph(t, first.Graph(), second.Graph())
			if !slices.Equal(first.Targets(), second.Targets()) {
				t.Errorf("targets %v, then %v", first.Targets(), second.Targets())
			}
			if first.Deadline() != second.Deadline() {
				t.Errorf("deadline %v, then %v", first.Deadline(), second.Deadline())
			}
			if !reflect.DeepEqual(first.Inputs(), second.Inputs()) {
				t.Errorf("inputs %v, then %v", first.Inputs(), second.Inputs())
			}
			// Writing what was written changes nothing: the format is stable.
			var again bytes.Buffer
			if err := second.Write(&again); err != nil {
				t.Fatal(err)
			}
			if again.String() != out.String() {
				t.Errorf("second write differs from the first:\n%s\n---\n%s", out.String(), again.String())
			}
		})
	}
}

// sameGraph compares two graphs node by node: everything but bodies and
// source positions.
func sameGraph(t *testing.T, a, b *graph.Graph) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("%d nodes, then %d", a.Len(), b.Len())
	}
	for i := range graphx.Nodes(a) {
		x, y := shape(graphx.Node(a, graph.NodeID(i))), shape(graphx.Node(b, graph.NodeID(i)))
		if !reflect.DeepEqual(x, y) {
			t.Errorf("node %d differs:\n first %+v\nsecond %+v", i, x, y)
		}
	}
}

type nodeShape struct {
	Name, Kind, Type, Description string
	Deps, Lazy                    []string
	Cases                         []any
	Timeout                       string
	Fallback                      any
	HasFallback                   bool
	Retry                         [2]any
	Limit                         int
	Meta                          map[string]string
	Value                         any
}

func shape(n *graphdef.Node) nodeShape {
	s := nodeShape{
		Name: n.Name, Kind: n.Kind.String(), Description: n.Description,
		Deps: n.Deps, Lazy: n.Lazy, Cases: n.Cases, Timeout: n.Timeout.String(),
		Fallback: n.FallbackValue, HasFallback: n.Fallback != nil,
		Retry: [2]any{n.Retry.Attempts, n.Retry.Backoff}, Value: n.Value,
		Meta: map[string]string{},
	}
	if n.Type != nil {
		s.Type = n.Type.String()
	}
	if n.Each != nil {
		s.Limit = n.Each.Limit
	}
	for k, v := range n.Meta {
		if k != "spec.at" {
			s.Meta[k] = v
		}
	}
	return s
}

func TestDeadline(t *testing.T) {
	s, err := spec.Parse("d.yaml", []byte("version: 1\ndeadline: 700ms\nnodes: {a: {value: 1}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Deadline(); got != 700*time.Millisecond {
		t.Errorf("Deadline() = %v, want 700ms", got)
	}
	var out bytes.Buffer
	if err := s.Write(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "deadline: 700ms") {
		t.Errorf("written spec lacks its deadline:\n%s", out.String())
	}
	none, err := spec.Parse("n.yaml", []byte("version: 1\nnodes: {a: {value: 1}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	if got := none.Deadline(); got != 0 {
		t.Errorf("Deadline() of a spec without one = %v, want 0", got)
	}
}
