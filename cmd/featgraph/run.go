package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
	"github.com/featgraph/featgraph/viz"
)

func init() {
	register(command{
		name:    "run",
		summary: "run a spec against its real upstreams and print every node's outcome",
		run:     runRun,
	})
}

func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "run", "FILE [flags]\n\nRuns the spec's targets against its upstreams (base URLs from the spec,\n${VAR} from the environment, or --upstream) and prints every node's\noutcome and duration and the targets' values. Exit 1 when a target has no value.\n\nFlags:")
	var inputs, upstreams listFlag
	fs.Var(&inputs, "input", "bind an input: `NAME=VALUE` (repeatable; objects and lists as JSON)")
	fs.Var(&upstreams, "upstream", "replace an upstream's base URL: `NAME=URL` (repeatable)")
	deadline := fs.Duration("deadline", 0, "the run's deadline, such as 700ms (default: the spec's deadline, if any)")
	format := fs.String("format", "table", "output format: table or json")
	tracePath := fs.String("trace", "", "write the run record as JSON to this `file` (featgraph trace draws it)")
	outDir := fs.String("out", "", "write the run's pictures into this `dir`ectory")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		fs.Usage()
		return usageError{errors.New("want exactly one spec file")}
	}
	if *format != "table" && *format != "json" {
		return usageError{fmt.Errorf("--format %q: want table or json", *format)}
	}
	if *deadline < 0 {
		return usageError{fmt.Errorf("--deadline %v is negative", *deadline)}
	}
	ups, err := keyValues(upstreams, "upstream")
	if err != nil {
		return err
	}
	opts := []spec.Option{spec.Getenv(e.getenv)}
	for _, kv := range ups {
		opts = append(opts, spec.UpstreamURL(kv[0], kv[1]))
	}
	s, err := spec.Load(files[0], opts...)
	if err != nil {
		return err
	}
	defer s.Close()
	bound, err := bindInputs(s, inputs)
	if err != nil {
		return err
	}
	var exOpts []executor.Option
	if *deadline == 0 {
		*deadline = s.Deadline() // the spec's own, if it has one
	}
	if *deadline > 0 {
		exOpts = append(exOpts, executor.WithRunTimeout(*deadline))
	}
	ex, err := executor.New(s.Graph(), exOpts...)
	if err != nil {
		return err
	}
	var targets []graph.Target
	for _, name := range s.Targets() {
		id, _ := s.Graph().Lookup(name)
		targets = append(targets, id)
	}
	// Nodes that ask an upstream the same thing share one call.
	res, runErr := ex.Run(fetchers.WithRequestCache(ctx), bound, targets...)
	if res == nil {
		return runErr
	}
	defer res.Release()
	rec := res.Record()
	if *format == "json" {
		err = printJSON(e.stdout, s, res)
	} else {
		err = printTable(e.stdout, s, res)
	}
	if err != nil {
		return err
	}
	if *tracePath != "" {
		if err := writeFile(*tracePath, rec.WriteJSON); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", *tracePath)
	}
	if *outDir != "" {
		if err := writePictures(ctx, e, *outDir, rec, s.Graph()); err != nil {
			return err
		}
	}
	if runErr != nil {
		return fmt.Errorf("run failed: %w", runErr)
	}
	return nil
}

// bindInputs parses NAME=VALUE items by the declared type of each input.
func bindInputs(s *spec.Spec, items []string) ([]executor.Input, error) {
	kvs, err := keyValues(items, "input")
	if err != nil {
		return nil, err
	}
	types := map[string]spec.Type{}
	var names []string
	for _, in := range s.Inputs() {
		types[in.Name] = in.Type
		names = append(names, in.Name+" ("+in.Type.String()+")")
	}
	out := make([]executor.Input, 0, len(kvs))
	for _, kv := range kvs {
		t, ok := types[kv[0]]
		if !ok {
			return nil, usageError{fmt.Errorf("--input %s: the spec has no such input (it has %s)", kv[0], strings.Join(names, ", "))}
		}
		v, err := t.ParseValue(kv[1])
		if err != nil {
			return nil, usageError{fmt.Errorf("--input %s=%s: not a %s: %w", kv[0], kv[1], t, err)}
		}
		out = append(out, executor.BindName(kv[0], v))
	}
	return out, nil
}

// short cuts a cause to its first line, for the table.
func short(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func printTable(w io.Writer, s *spec.Spec, res *executor.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tOUTCOME\tSTART\tDURATION\tATTEMPTS\tNOTE")
	for _, n := range res.Nodes() {
		note := short(n.Cause)
		if n.Branch != "" {
			note = "took " + n.Branch
		}
		start, dur := "", ""
		if n.Outcome != executor.Skipped {
			start, dur = ms(n.Start), ms(n.Duration())
		}
		attempts := ""
		if n.Attempts > 0 {
			attempts = fmt.Sprint(n.Attempts)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Kind, n.Outcome, start, dur, attempts, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nwall time %s\n", ms(res.Duration()))
	for _, name := range s.Targets() {
		id, _ := res.Graph().Lookup(name)
		v, err := res.Value(id)
		if err != nil {
			fmt.Fprintf(w, "%s: no value: %s\n", name, short(err))
			continue
		}
		js, err := json.Marshal(v)
		if err != nil {
			js = []byte(fmt.Sprint(v))
		}
		fmt.Fprintf(w, "%s = %s\n", name, js)
	}
	return nil
}

// runJSON is the output of run --format json.
type runJSON struct {
	DurationMS float64        `json:"duration_ms"`
	Error      string         `json:"error,omitempty"`
	Targets    map[string]any `json:"targets"`
	Nodes      []runNodeJSON  `json:"nodes"`
}

type runNodeJSON struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	Outcome    string  `json:"outcome"`
	StartMS    float64 `json:"start_ms"`
	DurationMS float64 `json:"duration_ms"`
	Attempts   int     `json:"attempts,omitempty"`
	Branch     string  `json:"branch,omitempty"`
	Cause      string  `json:"cause,omitempty"`
}

func printJSON(w io.Writer, s *spec.Spec, res *executor.Result) error {
	out := runJSON{DurationMS: toMS(res.Duration()), Targets: map[string]any{}}
	if err := res.Err(); err != nil {
		out.Error = err.Error()
	}
	for _, n := range res.Nodes() {
		j := runNodeJSON{Name: n.Name, Kind: n.Kind.String(), Outcome: n.Outcome.String(),
			StartMS: toMS(n.Start), DurationMS: toMS(n.Duration()), Attempts: n.Attempts, Branch: n.Branch}
		if n.Cause != nil {
			j.Cause = n.Cause.Error()
		}
		out.Nodes = append(out.Nodes, j)
	}
	for _, name := range s.Targets() {
		id, _ := res.Graph().Lookup(name)
		if v, err := res.Value(id); err == nil {
			out.Targets[name] = v
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func toMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// writePictures writes the pictures of a run into dir and says which.
func writePictures(ctx context.Context, e *env, dir string, rec *executor.Record, g *graph.Graph) error {
	written, err := viz.WriteAll(ctx, dir, rec, g)
	for _, p := range written.Files {
		fmt.Fprintf(e.stderr, "wrote %s\n", p)
	}
	if written.NoGraphviz {
		fmt.Fprintln(e.stderr, "note: Graphviz's dot is not on PATH, so no SVG of the DOT files (apt-get install graphviz)")
	}
	return err
}

// writeFile writes what render produces into path.
func writeFile(path string, render func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := render(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
