package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
)

func init() {
	register(command{
		name:    "run",
		summary: "run a spec against its real upstreams and print every node's outcome",
		run:     runRun,
	})
}

const runUsage = `FILE [flags]

Runs the spec's targets against its upstreams (base URLs from the spec,
${VAR} from the environment, or --upstream) and prints every node's
outcome, start, duration and attempts and the targets' values. Writes
nothing unless asked: --record FILE keeps the run record (draw it with
featgraph draw), --out-dir DIR its pictures; both paths are checked before
the run. Exit 1 when a target has no value, 2 on bad flags (an input the
spec does not declare or given twice, an upstream it does not have).

With --format json, durations are milliseconds (start_ms, duration_ms) and
NaN and infinite values are the strings "NaN", "+Inf" and "-Inf".`

func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "run", runUsage)
	var inputs, upstreams listFlag
	fs.Var(&inputs, "input", "bind an input: `NAME=VALUE` (repeatable; objects and lists as JSON)")
	fs.Var(&upstreams, "upstream", "replace an upstream's base URL: `NAME=URL` (repeatable)")
	deadline := fs.Duration("deadline", 0, "the run's deadline, such as 700ms (default: the spec's deadline, if any)")
	format := addFormatFlag(fs)
	recordPath := fs.String("record", "", "write the run record (JSON) to this `FILE`; featgraph draw draws it")
	outDir := addOutDirFlag(fs, "", "write the run's pictures into this `DIR`: graph, run and waterfall SVGs, DOT, trace.json (Perfetto)")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef("want one spec file, got %d arguments", len(files))
	}
	if *deadline < 0 {
		return usagef("--deadline %v is negative", *deadline)
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
		return unknownUpstreamIsUsage(err)
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
		targets = append(targets, graph.Named(name))
	}

	// Outputs are checked before the run: a bad path costs no run.
	var record *outputFile
	if *recordPath != "" {
		if record, err = createOutput(*recordPath); err != nil {
			return fmt.Errorf("--record: %w", err)
		}
		defer record.abort()
	}
	if err := outDir.check(); err != nil {
		return err
	}

	// Nodes that ask an upstream the same thing share one call.
	res, runErr := ex.Run(fetchers.WithRequestCache(ctx), bound, targets...)
	if res == nil {
		return runErr
	}
	defer res.Release()
	rec := res.Record()
	if format.json() {
		err = printJSON(e.stdout, s, res)
	} else {
		err = printTable(e.stdout, s, res)
	}
	if err != nil {
		return err
	}
	if record != nil {
		if err := record.commit(rec.WriteJSON); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", *recordPath)
	}
	if outDir.dir != "" {
		if err := writePictures(ctx, e, outDir.dir, rec, s.Graph()); err != nil {
			return err
		}
	}
	if runErr != nil {
		return fmt.Errorf("run failed: %w", runErr)
	}
	return nil
}

// unknownUpstreamIsUsage returns err, or a usageError when err is only
// about --upstream names that the spec does not have.
func unknownUpstreamIsUsage(err error) error {
	var list spec.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return err
	}
	for _, se := range list {
		if !errors.Is(se, spec.ErrUnknownUpstream) {
			return err
		}
	}
	return usageError{fmt.Errorf("--upstream: %w", err)}
}

// bindInputs parses NAME=VALUE items by the declared type of each input.
// An undeclared input, an input given twice and a value of the wrong type
// are usage errors.
func bindInputs(s *spec.Spec, items []string) ([]executor.Binding, error) {
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
	if len(names) == 0 {
		names = []string{"none"}
	}
	out := make([]executor.Binding, 0, len(kvs))
	for _, kv := range kvs {
		t, ok := types[kv[0]]
		if !ok {
			return nil, usagef("--input %s: the spec has no such input (it has %s)", quoteValue(kv[0]), strings.Join(names, ", "))
		}
		v, err := t.ParseValue(kv[1])
		if err != nil {
			msg := fmt.Sprintf("--input %s=%s: not %s %s", kv[0], quoteValue(kv[1]), article(t.String()), t)
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				msg += ": " + err.Error() // where the JSON breaks
			}
			return nil, usageError{errors.New(msg)}
		}
		out = append(out, executor.BindNamed(kv[0], v))
	}
	return out, nil
}

// note is what the table says of a node's cause: its first line, the node
// not named again, at most 120 characters.
func causeNote(n executor.NodeResult) string {
	if n.Cause == nil {
		return ""
	}
	return shorten(cleanNodeMessage(firstLine(n.Cause.Error()), n.Name), 120)
}

// shorten cuts s to at most n bytes, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return cutRunes(s, n-3) + "..."
}

// attemptsOf counts the tries of node n as its cause does: an HTTP call's
// retries happen inside one try of the node, so a failed call's own count
// (the "after 3 attempts" of its message) is the larger one.
func attemptsOf(n executor.NodeResult) int {
	var fe *fetchers.Error
	if errors.As(n.Cause, &fe) && fe.Attempts > n.Attempts {
		return fe.Attempts
	}
	return n.Attempts
}

func printTable(w io.Writer, s *spec.Spec, res *executor.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tOUTCOME\tSTART\tDURATION\tATTEMPTS\tNOTE")
	for _, n := range res.Nodes() {
		note := causeNote(n)
		if n.Branch != "" {
			note = "took " + n.Branch
		}
		start, dur := "", ""
		if n.Outcome != executor.OutcomeSkipped {
			start, dur = ms(n.Start), ms(n.Duration())
		}
		attempts := ""
		if a := attemptsOf(n); a > 0 {
			attempts = fmt.Sprint(a)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Kind, n.Outcome, start, dur, attempts, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nwall time %s\n", ms(res.Duration()))
	for _, name := range s.Targets() {
		v, err := res.Value(graph.Named(name))
		if err != nil {
			fmt.Fprintf(w, "%s: no value: %s\n", name, shorten(cleanNodeMessage(firstLine(err.Error()), name), 120))
			continue
		}
		js, err := json.Marshal(jsonSafe(v))
		if err != nil {
			js = []byte(fmt.Sprint(v))
		}
		fmt.Fprintf(w, "%s = %s\n", name, shorten(string(js), maxLine))
	}
	return nil
}

// runJSON is the output of run --format json.
type runJSON struct {
	DurationMS float64 `json:"duration_ms"`
	// Error is the run's error, empty when every target has a value.
	Error string `json:"error,omitempty"`
	// Targets holds the value of every target that has one.
	Targets map[string]any `json:"targets"`
	Nodes   []runNodeJSON  `json:"nodes"`
}

type runNodeJSON struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	Outcome    string  `json:"outcome"`
	StartMS    float64 `json:"start_ms"`
	DurationMS float64 `json:"duration_ms"`
	Attempts   int     `json:"attempts,omitempty"`
	Branch     string  `json:"branch,omitempty"`
	// Cause is why the node did not succeed, the node not named again.
	Cause string `json:"cause,omitempty"`
}

func printJSON(w io.Writer, s *spec.Spec, res *executor.Result) error {
	out := runJSON{DurationMS: durationMS(res.Duration()), Targets: map[string]any{}, Nodes: []runNodeJSON{}}
	if err := res.Err(); err != nil {
		out.Error = cleanMessage(err.Error())
	}
	for _, n := range res.Nodes() {
		j := runNodeJSON{Name: n.Name, Kind: n.Kind.String(), Outcome: n.Outcome.String(),
			StartMS: durationMS(n.Start), DurationMS: durationMS(n.Duration()), Attempts: attemptsOf(n), Branch: n.Branch}
		if n.Cause != nil {
			j.Cause = cleanNodeMessage(n.Cause.Error(), n.Name)
		}
		out.Nodes = append(out.Nodes, j)
	}
	for _, name := range s.Targets() {
		if v, err := res.Value(graph.Named(name)); err == nil {
			out.Targets[name] = jsonSafe(v)
		}
	}
	return writeJSON(w, out)
}
