package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/shadow"
	"github.com/featgraph/featgraph/spec"
)

func init() {
	register(command{
		name:    "backtest",
		summary: "replay a decision log through a candidate spec and compare its decisions",
		run:     runBacktest,
	})
}

const backtestUsage = `--log DIR --spec CANDIDATE [flags]

Replays the decision records of the file:// decision log in DIR (de-duplicated
by run id) through the candidate spec, with the values the records hold:
every input is bound from the record and every fetch the record holds
answers with its recorded value or failure, so no upstream is called for
them. A fetch node the record does not hold (new in the candidate, or not
needed by the live run) fails with "not recorded", so its fallback, if it
has one, gives its value; with --upstream NAME=URL the nodes of that
upstream are called live instead.

Prints, as featgraph log shadow-report does, each target's agreement between
the recorded (live) decision and the candidate's and the rate of each
decision value on both sides, then which nodes were not recorded and which
were called live. A line that is not a record, or a record that does not fit
the candidate (a value that does not decode into the candidate's type, a
node recorded as an input that the candidate fetches), is counted and named
by file:line, and the backtest goes on; exit 1 when a record could not be
replayed, or none could.

Flags:`

// backtestConfig is what the backtest command's flags say.
type backtestConfig struct {
	logDir, specPath string
	graphName        string
	field            string
	inFlight         int
	upstreams        [][2]string
	since, until     time.Time
	json             bool
	out              string
}

func runBacktest(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "backtest", backtestUsage)
	var cfg backtestConfig
	var upstreams listFlag
	fs.StringVar(&cfg.logDir, "log", "", "the decision log: a `DIR` of *.jsonl record files (file:// is accepted)")
	fs.StringVar(&cfg.specPath, "spec", "", "the candidate spec `FILE`")
	fs.Var(&upstreams, "upstream", "call the candidate's nodes of this upstream live, when a record does not hold\ntheir value, at this base URL: `NAME=URL` (repeatable)")
	fs.StringVar(&cfg.graphName, "graph", "", "only the records of the graph called `NAME` (default: every record)")
	fs.IntVar(&cfg.inFlight, "in-flight", 8, "records replayed at once (what the live upstreams can take)")
	since := fs.String("since", "", "only records at or after this time (RFC 3339, or a duration ago such as 1h)")
	until := fs.String("until", "", "only records before this time (RFC 3339, or a duration ago)")
	fs.StringVar(&cfg.field, "field", "", "for targets whose values are objects, the `field` that holds the decision\n(default: the first of "+strings.Join(shadow.DecisionFields, ", ")+" it has)")
	format := addFormatFlag(fs)
	out := addOutputFlag(fs, "write every replayed record, with the candidate's run as its shadow, as JSON lines to `FILE`")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) != 0:
		return usagef("unexpected argument %s: give the log with --log and the candidate with --spec", quoteValue(rest[0]))
	case cfg.logDir == "":
		return usagef("--log DIR is required")
	case cfg.specPath == "":
		return usagef("--spec FILE is required")
	case cfg.inFlight < 1:
		return usagef("--in-flight %d: want at least 1", cfg.inFlight)
	}
	cfg.logDir = strings.TrimPrefix(cfg.logDir, "file://")
	now := time.Now()
	if cfg.since, err = parseWhen(*since, now); err != nil {
		return usageError{fmt.Errorf("--since: %w", err)}
	}
	if cfg.until, err = parseWhen(*until, now); err != nil {
		return usageError{fmt.Errorf("--until: %w", err)}
	}
	if cfg.upstreams, err = keyValues(upstreams, "upstream"); err != nil {
		return err
	}
	cfg.json, cfg.out = format.json(), out.path
	return backtest(ctx, e, cfg)
}

func backtest(ctx context.Context, e *env, cfg backtestConfig) error {
	if fi, err := os.Stat(cfg.logDir); err != nil || !fi.IsDir() {
		return fmt.Errorf("--log %s: not a directory", cfg.logDir)
	}
	files, err := decisionlog.Files(cfg.logDir)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("--log %s: no record files (*.jsonl)", cfg.logDir)
	}
	bt, err := newBacktester(e, cfg)
	if err != nil {
		return err
	}
	defer bt.close()

	var outFile *outputFile
	var outW *bufio.Writer
	if cfg.out != "" {
		if outFile, err = createOutput(cfg.out); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		defer outFile.abort()
		outW = bufio.NewWriter(outFile.tmp)
	}
	rep, err := bt.run(ctx, files, outW)
	if err != nil {
		return err
	}
	if outFile != nil {
		if err := outFile.commit(func(io.Writer) error { return outW.Flush() }); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", cfg.out)
	}
	if cfg.json {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else if err := writeBacktestText(e.stdout, rep); err != nil {
		return err
	}
	switch {
	case rep.Replayed == 0 && rep.Bad > 0:
		return fmt.Errorf("no record could be replayed; first: %s", rep.BadRecords[0])
	case rep.Replayed == 0:
		return fmt.Errorf("--log %s: no record to replay", cfg.logDir)
	case rep.Bad > 0:
		return fmt.Errorf("%d of %d records could not be replayed", rep.Bad, rep.Bad+rep.Replayed)
	}
	return nil
}

// backtestReport is what featgraph backtest prints: the shadow report of
// the replayed records, then what did not replay and how nodes were fed.
type backtestReport struct {
	shadow.Report
	// Candidate is the candidate graph (name@version).
	Candidate string `json:"candidate"`
	// Files counts the record files read; Replayed, the records replayed;
	// Duplicates, the records skipped for a run id seen before; Filtered,
	// those outside --graph, --since and --until.
	Files      int `json:"files"`
	Replayed   int `json:"replayed"`
	Duplicates int `json:"duplicates"`
	Filtered   int `json:"filtered"`
	// Bad counts the lines that are not records and the records that could
	// not be replayed; BadRecords names them (file:line: cause).
	Bad        int      `json:"bad"`
	BadRecords []string `json:"bad_records"`
	// NotInCandidate counts, by node, the records holding a node the
	// candidate does not have.
	NotInCandidate []nodeCount `json:"not_in_candidate"`
	// NotRecorded counts, by node, the runs where a candidate node ran
	// with no recorded value and was failed "not recorded" (its fallback,
	// if any, giving its value); Live, those where it was called live.
	NotRecorded []nodeCount `json:"not_recorded"`
	Live        []nodeCount `json:"live"`
}

// nodeCount is a node and how many records or runs it counts in.
type nodeCount struct {
	Node  string `json:"node"`
	Count int    `json:"count"`
}

// shownBadRecords is how many bad records the text report names.
const shownBadRecords = 10

func writeBacktestText(w io.Writer, rep *backtestReport) error {
	files := "files"
	if rep.Files == 1 {
		files = "file"
	}
	fmt.Fprintf(w, "backtest of %s: %d records replayed from %d %s", rep.Candidate, rep.Replayed, rep.Files, files)
	if rep.Replayed > 0 {
		fmt.Fprintf(w, " (%s to %s)", rep.First.Format(time.RFC3339), rep.Last.Format(time.RFC3339))
	}
	fmt.Fprintf(w, ", %d bad, %d duplicates", rep.Bad, rep.Duplicates)
	if rep.Filtered > 0 {
		fmt.Fprintf(w, ", %d filtered out", rep.Filtered)
	}
	fmt.Fprintf(w, "; candidate errors: %d\n", rep.CandidateErrors)
	for i, b := range rep.BadRecords {
		if i == shownBadRecords {
			fmt.Fprintf(w, "  ... and %d more (--format json names them all)\n", len(rep.BadRecords)-i)
			break
		}
		fmt.Fprintf(w, "  bad: %s\n", b)
	}
	nodeCounts := func(what, unit string, counts []nodeCount) {
		if len(counts) == 0 {
			return
		}
		parts := make([]string, len(counts))
		for i, c := range counts {
			parts[i] = fmt.Sprintf("%s (%d %s)", c.Node, c.Count, unit)
		}
		fmt.Fprintf(w, "%s: %s\n", what, strings.Join(parts, ", "))
	}
	nodeCounts("recorded, not in the candidate", "records", rep.NotInCandidate)
	nodeCounts("not recorded, failed for their fallback", "runs", rep.NotRecorded)
	nodeCounts("called live (--upstream)", "runs", rep.Live)
	return writeReportTargets(w, rep.Report)
}

// feed is how one blocking node of the candidate gets its value in a run.
type feed uint8

const (
	feedNotRecorded feed = iota // fails with errNotRecorded: its fallback answers
	feedRecorded                // the record's value or failure
	feedLive                    // its real body, against an --upstream
)

// errNotRecorded is the cause of a candidate node that a record does not hold.
var errNotRecorded = errors.New("not recorded in the decision log")

// replayedError is a recorded failure of a fetch: its text, matching
// context.DeadlineExceeded when it was the node's timeout.
type replayedError struct {
	cause    string
	timedOut bool
}

func (e *replayedError) Error() string { return "recorded failure: " + e.cause }

// Is lets a recorded timeout match context.DeadlineExceeded.
func (e *replayedError) Is(target error) bool {
	return e.timedOut && target == context.DeadlineExceeded
}

// answer is what one blocking node answers in a replayed run.
type answer struct {
	feed  feed
	value any
	err   error
}

// replayKey is the context key of a replayed run's answers.
type replayKey struct{}

// backtester replays records through the candidate graph, whose blocking
// nodes answer from the run's context.
type backtester struct {
	cfg      backtestConfig
	spec     *spec.Spec
	g        *graph.Graph // the candidate's, with replaying bodies
	ex       *executor.Executor
	rec      *decisionlog.Recorder
	live     []bool         // by NodeID: an http node of an --upstream
	blocking []graph.NodeID // the nodes that call out, whose values come from records
}

func newBacktester(e *env, cfg backtestConfig) (*backtester, error) {
	opts := []spec.Option{spec.Getenv(e.getenv), spec.AllowUnsetEnv()}
	for _, kv := range cfg.upstreams {
		opts = append(opts, spec.UpstreamURL(kv[0], kv[1]))
	}
	data, err := spec.ReadFile(cfg.specPath, opts...)
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(cfg.specPath, data, opts...)
	if err != nil {
		return nil, unknownUpstreamIsUsage(err)
	}
	bt := &backtester{cfg: cfg, spec: s}
	if err := bt.build(); err != nil {
		s.Close()
		return nil, err
	}
	var exOpts []executor.Option
	if d := s.Deadline(); d > 0 {
		exOpts = append(exOpts, executor.WithRunTimeout(d))
	}
	if bt.ex, err = executor.New(bt.g, exOpts...); err != nil {
		s.Close()
		return nil, err
	}
	sum := sha256.Sum256(data)
	name := strings.TrimSuffix(filepath.Base(cfg.specPath), filepath.Ext(cfg.specPath))
	bt.rec, err = decisionlog.NewRecorder(bt.g, name, decisionlog.GraphVersion(hex.EncodeToString(sum[:6])), decisionlog.Getenv(e.getenv))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("--spec %s: %w", cfg.specPath, err)
	}
	return bt, nil
}

func (bt *backtester) close() { bt.spec.Close() }

// build copies the candidate's graph with blocking nodes that answer from
// the run's replay.
func (bt *backtester) build() error {
	orig := bt.spec.Graph()
	liveUp := map[string]bool{}
	for _, kv := range bt.cfg.upstreams {
		liveUp[kv[0]] = true
	}
	descs := slices.Clone(graphx.Nodes(orig))
	bt.live = make([]bool, len(descs))
	for i := range descs {
		d := &descs[i]
		id := graph.NodeID(i)
		if !spec.CallsOut(orig, id) {
			continue // an expr node computes: the candidate's logic runs
		}
		bt.blocking = append(bt.blocking, id)
		bt.live[i] = d.Kind == graph.KindFetch && liveUp[d.Meta["upstream"]]
		if r := d.Retry.Retryable; d.Retry.Attempts > 1 {
			// A recorded answer is the same on every try.
			d.Retry.Retryable = func(err error) bool {
				var re *replayedError
				if errors.Is(err, errNotRecorded) || errors.As(err, &re) {
					return false
				}
				return r == nil || r(err)
			}
		}
		switch d.Kind {
		case graph.KindFetch:
			real := d.Fetch
			d.Fetch = func(ctx context.Context, args []any) (any, error) {
				a := answerOf(ctx, id)
				if a.feed == feedLive {
					return real(ctx, args)
				}
				return a.value, a.err
			}
		case graph.KindEach:
			// The node as a whole: one element, the list, answered from the record.
			each := *d.Each
			each.Limit = 0
			each.Split = func(list any) []any { return []any{list} }
			each.Elem = func(ctx context.Context, _ any, _ []any) (any, error) {
				a := answerOf(ctx, id)
				return a.value, a.err
			}
			each.Join = func(results []any) any { return results[0] }
			d.Each = &each
		}
	}
	g, err := graphx.New(descs)
	if err != nil {
		return fmt.Errorf("--spec %s: copying its graph: %w", bt.cfg.specPath, err)
	}
	bt.g = g
	return nil
}

// answerOf returns what node id answers in the run of ctx.
func answerOf(ctx context.Context, id graph.NodeID) answer {
	answers, _ := ctx.Value(replayKey{}).([]answer)
	if int(id) >= len(answers) {
		return answer{err: errNotRecorded}
	}
	return answers[id]
}

// item is one line of the log on its way through the replay.
type item struct {
	seq  int
	file string
	line int
	rec  *decisionlog.Record
	err  error // a line that is not a record, or a record that does not replay

	missing []string    // recorded nodes the candidate lacks
	fed     []feedCount // how the candidate's blocking nodes that ran were fed
}

type feedCount struct {
	id   graph.NodeID
	feed feed
}

// run replays every record of files and returns the report.
func (bt *backtester) run(ctx context.Context, files []string, out *bufio.Writer) (*backtestReport, error) {
	rep := &backtestReport{Files: len(files), BadRecords: []string{}, Candidate: bt.rec.Name() + "@" + bt.rec.Version()}
	reporter := shadow.Reporter{Field: bt.cfg.field}
	jobs := make(chan *item)
	done := make(chan *item, bt.cfg.inFlight)
	slots := make(chan struct{}, bt.cfg.inFlight) // items between read and report
	var workers sync.WaitGroup
	for range bt.cfg.inFlight {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for it := range jobs {
				if it.err == nil {
					bt.replay(ctx, it)
				}
				done <- it
			}
		}()
	}

	// The collector reports items in log order.
	missing, notRecorded, live := map[string]int{}, map[graph.NodeID]int{}, map[graph.NodeID]int{}
	var outErr error
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		pending := map[int]*item{}
		next := 0
		for it := range done {
			pending[it.seq] = it
			for it := pending[next]; it != nil; it = pending[next] {
				delete(pending, next)
				next++
				<-slots
				for _, n := range it.missing {
					missing[n]++
				}
				if it.err != nil {
					rep.Bad++
					rep.BadRecords = append(rep.BadRecords, cleanMessage(it.err.Error()))
					continue
				}
				rep.Replayed++
				for _, f := range it.fed {
					switch f.feed {
					case feedNotRecorded:
						notRecorded[f.id]++
					case feedLive:
						live[f.id]++
					}
				}
				reporter.Add(it.rec)
				if out != nil && outErr == nil {
					b, err := decisionlog.Marshal(it.rec)
					if err == nil {
						b = append(b, '\n')
						_, err = out.Write(b)
					}
					outErr = err
				}
			}
		}
	}()

	seq := 0
	seen := map[string]bool{}
	send := func(it *item) error {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		it.seq = seq
		seq++
		jobs <- it
		return nil
	}
	var readErr error
	for _, file := range files {
		line := 0
		readErr = decisionlog.ScanFile(file, func(rec *decisionlog.Record) error {
			line++
			switch {
			case bt.cfg.graphName != "" && rec.Graph != bt.cfg.graphName,
				!bt.cfg.since.IsZero() && rec.Time.Before(bt.cfg.since),
				!bt.cfg.until.IsZero() && !rec.Time.Before(bt.cfg.until):
				rep.Filtered++
				return nil
			case seen[rec.RunID]:
				rep.Duplicates++
				return nil
			}
			seen[rec.RunID] = true
			return send(&item{file: file, line: line, rec: rec})
		}, func(le *decisionlog.LineError) error {
			line++
			return send(&item{file: file, line: line, err: le})
		})
		if readErr != nil {
			break
		}
	}
	close(jobs)
	workers.Wait()
	close(done)
	<-collected
	if readErr != nil {
		return nil, readErr
	}
	if outErr != nil {
		return nil, fmt.Errorf("writing %s: %w", bt.cfg.out, outErr)
	}
	rep.Report = reporter.Report()
	rep.NotInCandidate = countsOf(missing)
	rep.NotRecorded = bt.nodeCounts(notRecorded)
	rep.Live = bt.nodeCounts(live)
	return rep, nil
}

// countsOf sorts counts by count, then name.
func countsOf(m map[string]int) []nodeCount {
	out := make([]nodeCount, 0, len(m))
	for n, c := range m {
		out = append(out, nodeCount{Node: n, Count: c})
	}
	slices.SortFunc(out, func(a, b nodeCount) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Node, b.Node)) })
	return out
}

func (bt *backtester) nodeCounts(m map[graph.NodeID]int) []nodeCount {
	byName := make(map[string]int, len(m))
	for id, c := range m {
		byName[bt.g.Name(id)] = c
	}
	return countsOf(byName)
}

// replay runs the candidate on its record and sets it.rec.Shadow, or it.err.
func (bt *backtester) replay(ctx context.Context, it *item) {
	rec := it.rec
	answers, inputs, targets, lives, err := bt.prepare(it)
	if err != nil {
		it.err = fmt.Errorf("%s:%d: run %s: %w", it.file, it.line, rec.RunID, err)
		return
	}
	sh := &decisionlog.Shadow{Graph: bt.rec.Name(), GraphVersion: bt.rec.Version(), Targets: []decisionlog.LoggedValue{}, Diff: []decisionlog.Diff{}}
	// Nodes that ask a live upstream the same thing share one call.
	runCtx := context.WithValue(fetchers.WithRequestCache(ctx), replayKey{}, answers)
	res, runErr := bt.ex.Run(runCtx, inputs, targets...)
	if res == nil {
		if ctx.Err() != nil {
			it.err = fmt.Errorf("%s:%d: run %s: %w", it.file, it.line, rec.RunID, runErr)
			return
		}
		sh.Err = runErr.Error()
		for _, lv := range lives {
			sh.Diff = append(sh.Diff, shadow.DiffValues(lv, decisionlog.LoggedValue{Name: lv.Name, Outcome: executor.OutcomeError}))
		}
	} else {
		defer res.Release()
		crec, err := bt.rec.Record("", res)
		if err != nil {
			it.err = fmt.Errorf("%s:%d: run %s: %w", it.file, it.line, rec.RunID, err)
			return
		}
		sh.Duration, sh.Err, sh.Targets, sh.Nodes = crec.Duration, crec.Err, crec.Targets, crec.Nodes
		if sh.Err == "" && runErr != nil {
			sh.Err = runErr.Error()
		}
		for _, lv := range lives {
			cv, _ := crec.Lookup(lv.Name)
			sh.Diff = append(sh.Diff, shadow.DiffValues(lv, cv))
		}
		for _, id := range bt.blocking {
			if o := res.Node(graphx.At(res.Graph(), id)).Outcome; o != executor.OutcomeSkipped && o != executor.OutcomeCanceled {
				it.fed = append(it.fed, feedCount{id: id, feed: answers[id].feed})
			}
		}
	}
	cp := *rec
	cp.Shadow = sh
	it.rec = &cp
}

// prepare reads a record into the answers of the candidate's blocking
// nodes, the inputs to bind, the targets to run and the live targets'
// recorded values. A record that does not fit the candidate is an error
// naming the node.
func (bt *backtester) prepare(it *item) (answers []answer, inputs []executor.Binding, targets []graph.Target, lives []decisionlog.LoggedValue, err error) {
	g, rec := bt.g, it.rec
	answers = make([]answer, g.Len())
	for _, id := range bt.blocking {
		answers[id] = answer{err: errNotRecorded}
		if bt.live[id] {
			answers[id].feed = feedLive
		}
	}
	for _, v := range rec.Inputs {
		id, err := g.Lookup(v.Name)
		if err != nil {
			it.missing = append(it.missing, v.Name)
			continue
		}
		n := graphx.Node(g, id)
		if n.Kind != graph.KindInput {
			return nil, nil, nil, nil, fmt.Errorf("node %q: recorded as an input, the candidate has a %s node", v.Name, n.Kind)
		}
		if v.Value == nil {
			continue // hashed, omitted or unbound: a run that needs it fails
		}
		x, err := decodeRecorded(n, v)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		inputs = append(inputs, executor.BindNamed(v.Name, x))
	}
	for _, v := range rec.Fetches {
		id, err := g.Lookup(v.Name)
		if err != nil {
			it.missing = append(it.missing, v.Name)
			continue
		}
		n := graphx.Node(g, id)
		switch {
		case n.Kind == graph.KindInput:
			return nil, nil, nil, nil, fmt.Errorf("node %q: recorded as a %s node, the candidate has an input", v.Name, v.Kind)
		case !spec.CallsOut(g, id):
			continue // the candidate computes it
		}
		switch v.Outcome {
		case executor.OutcomeOK:
			if v.Value == nil {
				continue // not in the record: not recorded
			}
			x, err := decodeRecorded(n, v)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			answers[id] = answer{feed: feedRecorded, value: x}
		case executor.OutcomeFallback, executor.OutcomeError, executor.OutcomeTimeout:
			cause := v.Cause
			if cause == "" {
				cause = v.Outcome.String()
			}
			answers[id] = answer{feed: feedRecorded, err: &replayedError{cause: cause, timedOut: v.TimedOut || v.Outcome == executor.OutcomeTimeout}}
		}
	}
	var missingTargets []string
	for _, v := range rec.Targets {
		id, err := g.Lookup(v.Name)
		if err != nil {
			missingTargets = append(missingTargets, v.Name)
			continue
		}
		targets = append(targets, graphx.At(g, id))
		lives = append(lives, v)
	}
	if len(targets) == 0 {
		return nil, nil, nil, nil, fmt.Errorf("the candidate has none of the record's targets (%s)", strings.Join(missingTargets, ", "))
	}
	it.missing = append(it.missing, missingTargets...)
	return answers, inputs, targets, lives, nil
}

// decodeRecorded decodes a recorded value into node n's type.
func decodeRecorded(n *graphdef.Node, v decisionlog.LoggedValue) (any, error) {
	t := n.Type
	if t == nil {
		t = reflect.TypeFor[any]()
	}
	p := reflect.New(t)
	if err := json.Unmarshal(v.Value, p.Interface()); err != nil {
		recorded := v.Type
		if recorded == "" {
			recorded = "untyped"
		}
		return nil, fmt.Errorf("node %q: the recorded %s value %s does not fit the candidate's type %v: %w", n.Name, recorded, shortJSON(v.Value), t, err)
	}
	return p.Elem().Interface(), nil
}

// shortJSON is raw, cut to 40 bytes.
func shortJSON(raw json.RawMessage) string {
	if len(raw) <= 40 {
		return string(raw)
	}
	return string(raw[:37]) + "..."
}
