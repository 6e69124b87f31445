package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/spec"
)

func init() {
	register(command{
		name:    "backfill",
		summary: "run a spec over every row of a file (JSON lines, CSV, Parquet) into a file",
		run:     runBackfill,
	})
}

// backfillConfig is what the backfill command's flags say.
type backfillConfig struct {
	in, out, deadLetter string
	inFlight            int
	deadline            time.Duration
	outcomes, unordered bool
	progress            string
	every               time.Duration
	upstreams           [][2]string
}

func runBackfill(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "backfill", "SPEC --in ROWS --out FILE [flags]\n\n"+
		"Runs the spec's targets for every row of ROWS (.jsonl, .csv or .parquet; each row a\n"+
		"column per input of the spec, typed by its declared type) and writes the input columns\n"+
		"and the targets' values to FILE (.jsonl or .parquet, whose schema comes from the spec's\n"+
		"types). A row that cannot run or whose targets have no value goes to --dead-letter with\n"+
		"its cause. Exit 1 when a row failed.\n\nFlags:")
	var cfg backfillConfig
	var upstreams listFlag
	fs.StringVar(&cfg.in, "in", "", "the input rows: a `file` ending in .jsonl, .csv or .parquet")
	fs.StringVar(&cfg.out, "out", "", "the output rows: a `file` ending in .jsonl or .parquet")
	fs.StringVar(&cfg.deadLetter, "dead-letter", "", "write the rows that failed, with their causes, as JSON lines to this `file`")
	fs.IntVar(&cfg.inFlight, "in-flight", 64, "runs in flight at once (what the upstreams can take)")
	fs.DurationVar(&cfg.deadline, "deadline", 0, "each row's deadline, such as 700ms (default: none)")
	fs.Var(&upstreams, "upstream", "replace an upstream's base URL: `NAME=URL` (repeatable)")
	fs.BoolVar(&cfg.outcomes, "outcomes", false, "add every node's outcome as a column outcome.NODE")
	fs.BoolVar(&cfg.unordered, "unordered", false, "write rows as they finish, not in the input's order")
	fs.StringVar(&cfg.progress, "progress", "auto", "progress on stderr: bar, lines, none, or auto (a bar on a terminal, else lines)")
	fs.DurationVar(&cfg.every, "every", 5*time.Second, "with lines progress, the time between two lines")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		fs.Usage()
		return usageError{errors.New("want exactly one spec file")}
	}
	if err := cfg.check(); err != nil {
		return usageError{err}
	}
	if cfg.upstreams, err = keyValues(upstreams, "upstream"); err != nil {
		return err
	}
	return backfillSpec(ctx, e, files[0], cfg)
}

// check reports flags that cannot work together.
func (c *backfillConfig) check() error {
	switch {
	case c.in == "":
		return errors.New("--in is required")
	case c.out == "":
		return errors.New("--out is required")
	case c.inFlight < 1:
		return fmt.Errorf("--in-flight %d: want at least 1", c.inFlight)
	case c.deadline < 0:
		return fmt.Errorf("--deadline %v is negative", c.deadline)
	case c.every <= 0:
		return fmt.Errorf("--every %v: want a positive duration", c.every)
	case !slices.Contains([]string{"auto", "bar", "lines", "none"}, c.progress):
		return fmt.Errorf("--progress %q: want auto, bar, lines or none", c.progress)
	}
	if _, err := inputFormat(c.in); err != nil {
		return err
	}
	if f := strings.ToLower(filepath.Ext(c.out)); f != ".jsonl" && f != ".ndjson" && f != ".parquet" {
		return fmt.Errorf("--out %s: want a file ending in .jsonl or .parquet", c.out)
	}
	return nil
}

// inputFormat returns "jsonl", "csv" or "parquet" from a file's extension.
func inputFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson", ".json":
		return "jsonl", nil
	case ".csv":
		return "csv", nil
	case ".parquet":
		return "parquet", nil
	}
	return "", fmt.Errorf("--in %s: want a file ending in .jsonl, .csv or .parquet", path)
}

func backfillSpec(ctx context.Context, e *env, specPath string, cfg backfillConfig) (err error) {
	opts := []spec.Option{spec.Getenv(e.getenv)}
	for _, kv := range cfg.upstreams {
		opts = append(opts, spec.UpstreamURL(kv[0], kv[1]))
	}
	s, err := spec.Load(specPath, opts...)
	if err != nil {
		return err
	}
	defer s.Close()
	ex, err := executor.New(s.Graph())
	if err != nil {
		return err
	}
	var prog progressReporter
	ropts := []backfill.Option{
		backfill.InFlight(cfg.inFlight),
		backfill.Deadline(cfg.deadline),
		// Nodes of a row that ask an upstream the same thing share one call.
		backfill.RowContext(fetchers.WithRequestCache),
		backfill.OnProgress(func(p backfill.Progress) { prog.update(p) }),
	}
	if cfg.outcomes {
		ropts = append(ropts, backfill.WithOutcomes())
	}
	if cfg.unordered {
		ropts = append(ropts, backfill.Unordered())
	}
	r, err := backfill.New(ex, s.Targets(), ropts...)
	if err != nil {
		return err
	}

	in, err := openRows(cfg.in, r.InputTypes())
	if err != nil {
		return err
	}
	defer in.close()

	out, err := createSink(cfg.out, r.Columns(in.columns...))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.close(); cerr != nil && err == nil {
			err = fmt.Errorf("writing %s: %w", cfg.out, cerr)
		}
	}()
	dead := &deadLetters{stderr: e.stderr}
	if cfg.deadLetter != "" {
		f, err := os.Create(cfg.deadLetter)
		if err != nil {
			return err
		}
		dead.file = f
		dead.w = backfill.NewJSONLWriter(f)
		defer func() {
			if cerr := dead.close(); cerr != nil && err == nil {
				err = fmt.Errorf("writing %s: %w", cfg.deadLetter, cerr)
			}
		}()
	}

	prog = newProgress(e.stderr, cfg.progress, cfg.every, in.total)
	st, runErr := r.Run(ctx, in.source, out.sink, dead)
	prog.finish(st.Progress)
	printBackfillSummary(e.stdout, cfg, st)
	switch {
	case runErr != nil:
		return runErr
	case st.Failed > 0:
		return fmt.Errorf("%d of %d rows failed", st.Failed, st.Rows)
	}
	return nil
}

// rowsFile is an opened input file.
type rowsFile struct {
	source  backfill.Source
	columns []string // every column the file has, for the output's schema
	total   int64    // its number of rows; -1 when unknown
	close   func() error
}

// openRows opens the input rows and finds their columns and count, for the
// output's schema and the progress's ETA.
func openRows(path string, types map[string]spec.Type) (*rowsFile, error) {
	format, err := inputFormat(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rf := &rowsFile{close: f.Close, total: -1}
	switch format {
	case "parquet":
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if rf.columns, rf.total, err = backfill.ParquetShape(f, fi.Size()); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rf.source = backfill.ParquetSource(f, fi.Size(), path)
		return rf, nil
	case "csv":
		rf.columns, rf.total = csvShape(f)
	default:
		rf.columns, rf.total = jsonlShape(f)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if format == "csv" {
		rf.source = backfill.CSVSource(f, path, types)
	} else {
		rf.source = backfill.JSONLSource(f, path)
	}
	return rf, nil
}

// jsonlShape counts the non-blank lines of a JSON-lines file and returns the
// keys of its first object, sorted.
func jsonlShape(r io.Reader) (cols []string, n int64) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), backfill.MaxLine)
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		if n == 0 {
			var first map[string]json.RawMessage
			if json.Unmarshal(sc.Bytes(), &first) == nil {
				for k := range first {
					cols = append(cols, k)
				}
				slices.Sort(cols)
			}
		}
		n++
	}
	if sc.Err() != nil {
		return cols, -1
	}
	return cols, n
}

// csvShape returns a CSV file's header and its number of records.
func csvShape(r io.Reader) (header []string, n int64) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	h, err := cr.Read()
	if err != nil {
		return nil, -1
	}
	header = slices.Clone(h)
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return header, n
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return header, -1
			}
		}
		n++
	}
}

// outFile is an opened output file.
type outFile struct {
	sink  backfill.Sink
	close func() error
}

func createSink(path string, cols []backfill.Column) (*outFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if strings.ToLower(filepath.Ext(path)) == ".parquet" {
		pw, err := backfill.NewParquetWriter(f, cols)
		if err != nil {
			f.Close()
			return nil, err
		}
		return &outFile{sink: pw, close: func() error { return errors.Join(pw.Close(), f.Close()) }}, nil
	}
	jw := backfill.NewJSONLWriter(f)
	return &outFile{sink: jw, close: func() error { return errors.Join(jw.Flush(), f.Close()) }}, nil
}

// deadLetters writes failed rows to a file, if one was given, and the
// causes of the first few to stderr.
type deadLetters struct {
	stderr io.Writer
	file   *os.File
	w      *backfill.JSONLWriter
	shown  int
}

// shownDeadLetters is how many causes the backfill command prints.
const shownDeadLetters = 5

func (d *deadLetters) WriteDeadLetter(dl backfill.DeadLetter) error {
	if d.shown < shownDeadLetters {
		d.shown++
		fmt.Fprintf(d.stderr, "failed: %s\n", cleanMessage(dl.Cause.Error()))
	}
	if d.w == nil {
		return nil
	}
	return d.w.WriteDeadLetter(dl)
}

func (d *deadLetters) close() error { return errors.Join(d.w.Flush(), d.file.Close()) }

// progressReporter shows a backfill's progress: a bar on a terminal, a line
// every so often elsewhere, or nothing.
type progressReporter struct {
	bar     *progressbar.ProgressBar
	w       io.Writer
	every   time.Duration
	total   int64
	last    time.Time
	lastFB  int64
	lastErr int64
	lines   bool
}

func newProgress(w io.Writer, mode string, every time.Duration, total int64) progressReporter {
	if mode == "auto" {
		mode = "lines"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	p := progressReporter{w: w, every: every, total: total, last: time.Now()}
	switch mode {
	case "bar":
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("backfill"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
	case "lines":
		p.lines = true
	}
	return p
}

// update is called after every row, from the goroutine that writes rows.
func (p *progressReporter) update(pr backfill.Progress) {
	switch {
	case p.bar != nil:
		if pr.FellBack != p.lastFB || pr.Failed != p.lastErr {
			p.lastFB, p.lastErr = pr.FellBack, pr.Failed
			p.bar.Describe(fmt.Sprintf("fallbacks %d, failed %d", pr.FellBack, pr.Failed))
		}
		_ = p.bar.Set64(pr.Rows)
	case p.lines:
		if now := time.Now(); now.Sub(p.last) >= p.every {
			p.last = now
			fmt.Fprintln(p.w, progressLine(pr, p.total))
		}
	}
}

func (p *progressReporter) finish(pr backfill.Progress) {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

// progressLine is one line of plain progress.
func progressLine(pr backfill.Progress, total int64) string {
	rate := pr.RowsPerSecond()
	var b strings.Builder
	fmt.Fprintf(&b, "backfill: %d", pr.Rows)
	if total >= 0 {
		fmt.Fprintf(&b, "/%d rows (%.0f%%)", total, 100*float64(pr.Rows)/float64(max(total, 1)))
	} else {
		b.WriteString(" rows")
	}
	fmt.Fprintf(&b, ", %.0f rows/s", rate)
	if total >= 0 && rate > 0 {
		eta := time.Duration(float64(total-pr.Rows) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", ETA %v", eta.Round(time.Second))
	}
	fmt.Fprintf(&b, ", %d with fallbacks, %d failed", pr.FellBack, pr.Failed)
	return b.String()
}

// printBackfillSummary prints the totals and every node's outcome counts.
func printBackfillSummary(w io.Writer, cfg backfillConfig, st backfill.Stats) {
	fmt.Fprintf(w, "%d rows in %v (%.0f rows/s): %d written to %s, %d failed",
		st.Rows, st.Elapsed.Round(time.Millisecond), st.RowsPerSecond(), st.Written, cfg.out, st.Failed)
	if st.Failed > 0 && cfg.deadLetter != "" {
		fmt.Fprintf(w, " (in %s)", cfg.deadLetter)
	}
	fmt.Fprintf(w, ", %d with a fallback\n\n", st.FellBack)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tOK\tFALLBACK\tERROR\tTIMEOUT\tCANCELED\tSKIPPED")
	for _, n := range st.Nodes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", n.Name, n.Count(executor.OutcomeOK), n.Count(executor.OutcomeFallback),
			n.Count(executor.OutcomeError), n.Count(executor.OutcomeTimeout), n.Count(executor.OutcomeCanceled), n.Count(executor.OutcomeSkipped))
	}
	tw.Flush()
}
