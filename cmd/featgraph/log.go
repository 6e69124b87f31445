package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/shadow"
)

func init() {
	register(command{
		name:    "log",
		summary: "read decision logs: tail DIR, shadow-report DIR",
		run:     runLog,
	})
}

const logUsage = `tail|shadow-report DIR [flags]

Reads a file:// decision log (package decisionlog).

  tail DIR            pretty-print the records as they arrive
  shadow-report DIR   per-target agreement and decision rates of live vs
                      candidate, for the shadowed records

Run 'featgraph log tail --help' or 'featgraph log shadow-report --help'
for their flags.`

func runLog(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("want a subcommand: tail or shadow-report")
	}
	switch args[0] {
	case "tail":
		return runLogTail(ctx, e, args[1:])
	case "shadow-report":
		return runShadowReport(e, args[1:])
	case "-h", "--help", "help":
		newFlagSet(e, "log", logUsage).Usage()
		return flag.ErrHelp
	}
	return usagef("unknown subcommand %s: want tail or shadow-report", quoteValue(args[0]))
}

func runLogTail(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "log tail", "DIR [flags]\n\nPrints every record of a file:// decision log in DIR (closed files, then\nthe whole lines of files still being written), then follows new ones\nuntil interrupted. --format json prints the records as they are stored.")
	follow := fs.Bool("follow", true, "keep following new records (false: print what is there and exit)")
	format := addFormatFlag(fs)
	poll := fs.Duration("poll", 500*time.Millisecond, "how often to look for new records")
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) != 1 {
		return usagef("want one directory, got %d arguments", len(dirs))
	}
	if *poll <= 0 {
		return usageError{fmt.Errorf("--poll %v: not positive", *poll)}
	}
	if fi, err := os.Stat(dirs[0]); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", dirs[0])
	}
	print := func(rec *decisionlog.Record) error {
		if format.json() {
			b, err := decisionlog.Marshal(rec)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n", b)
			return err
		}
		return writeRecordText(e.stdout, rec)
	}
	if !*follow {
		ctx2, cancel := context.WithCancel(ctx)
		cancel() // one pass
		return decisionlog.Follow(ctx2, dirs[0], *poll, print)
	}
	return decisionlog.Follow(ctx, dirs[0], *poll, print)
}

// writeRecordText prints one record in a few lines: the decision, the
// nodes that did not end ok, and the shadow's diff.
func writeRecordText(w io.Writer, rec *decisionlog.Record) error {
	var b strings.Builder
	graph := rec.Graph
	if rec.GraphVersion != "" {
		graph += "@" + rec.GraphVersion
	}
	fmt.Fprintf(&b, "%s  %s  run %s  %v", rec.Time.Format("2006-01-02T15:04:05.000Z07:00"), graph, rec.RunID, rec.Duration.Round(time.Microsecond))
	for _, t := range rec.Targets {
		fmt.Fprintf(&b, "  %s=%s", t.Name, shownValue(t))
	}
	b.WriteByte('\n')
	if rec.Err != "" {
		fmt.Fprintf(&b, "    error: %s\n", firstLineOf(rec.Err))
	}
	for _, n := range rec.Nodes {
		if n.Outcome == executor.OutcomeOK || n.Outcome == executor.OutcomeSkipped {
			continue
		}
		fmt.Fprintf(&b, "    %-8s %s", n.Outcome, n.Name)
		if n.Cause != "" {
			fmt.Fprintf(&b, ": %s", firstLineOf(n.Cause))
		}
		b.WriteByte('\n')
	}
	if sh := rec.Shadow; sh != nil {
		cand := sh.Graph
		if sh.GraphVersion != "" {
			cand += "@" + sh.GraphVersion
		}
		fmt.Fprintf(&b, "    shadow %s  %v", cand, sh.Duration.Round(time.Microsecond))
		for _, d := range sh.Diff {
			mark := "same"
			if !d.Agree {
				mark = "DIFFERS"
			}
			fmt.Fprintf(&b, "  %s=%s (%s)", d.Target, rawOrOutcome(d.Candidate, d.CandidateOutcome), mark)
		}
		if sh.Err != "" {
			fmt.Fprintf(&b, "  error: %s", firstLineOf(sh.Err))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shownValue(v decisionlog.LoggedValue) string {
	switch {
	case v.Value != nil:
		return string(v.Value)
	case v.Hash != "":
		return v.Hash
	case v.Omitted:
		return "(omitted)"
	case v.Unencodable != "":
		return "(unencodable)"
	}
	return "(" + v.Outcome.String() + ")"
}

func rawOrOutcome(raw json.RawMessage, o executor.Outcome) string {
	if raw != nil {
		return string(raw)
	}
	return "(" + o.String() + ")"
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func runShadowReport(e *env, args []string) error {
	fs := newFlagSet(e, "log shadow-report", "DIR [flags]\n\nReads the decision records of DIR (de-duplicated by run id) and prints, for\nthe shadowed ones, each target's agreement between live and candidate and\nthe rate of each decision value on both sides.")
	since := fs.String("since", "", "only records at or after this time (RFC 3339, or a duration ago such as 1h)")
	until := fs.String("until", "", "only records before this time (RFC 3339, or a duration ago)")
	field := fs.String("field", "", "for targets whose values are objects, the `field` that holds the decision\n(default: the first of "+strings.Join(shadow.DecisionFields, ", ")+" it has)")
	format := addFormatFlag(fs)
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) != 1 {
		return usagef("want one directory, got %d arguments", len(dirs))
	}
	r := shadow.Reporter{Field: *field}
	now := time.Now()
	if r.Since, err = parseWhen(*since, now); err != nil {
		return usageError{fmt.Errorf("--since: %w", err)}
	}
	if r.Until, err = parseWhen(*until, now); err != nil {
		return usageError{fmt.Errorf("--until: %w", err)}
	}
	if fi, err := os.Stat(dirs[0]); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", dirs[0])
	}
	if err := decisionlog.ReadDir(dirs[0], func(rec *decisionlog.Record) error { r.Add(rec); return nil }); err != nil {
		return err
	}
	rep := r.Report()
	if format.json() {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return writeReportText(e.stdout, rep)
}

// parseWhen reads an RFC 3339 time or a duration before now; "" is no bound.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time or a duration such as 30m", s)
}

func writeReportText(w io.Writer, rep shadow.Report) error {
	fmt.Fprintf(w, "%d records, %d shadowed", rep.Records, rep.Shadowed)
	if len(rep.Candidates) > 0 {
		fmt.Fprintf(w, " by %s", strings.Join(rep.Candidates, ", "))
	}
	if rep.Shadowed > 0 {
		fmt.Fprintf(w, ", %s to %s", rep.First.Format(time.RFC3339), rep.Last.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "; candidate errors: %d\n", rep.CandidateErrors)
	return writeReportTargets(w, rep)
}

// writeReportTargets prints each target's agreement and decision-rate table.
func writeReportTargets(w io.Writer, rep shadow.Report) error {
	for _, t := range rep.Targets {
		fmt.Fprintf(w, "\ntarget %s: agreement %.1f%% (%d of %d)\n", t.Target, 100*t.Agreement, t.Agreed, t.Compared)
		if len(t.Values) > 0 {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "value\tlive\t%\tcandidate\t%\tchange\t")
			for _, v := range t.Values {
				fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%d\t%.1f%%\t%+.1f pt\t\n", v.Value, v.Live, 100*v.LiveRate, v.Candidate, 100*v.CandidateRate, 100*(v.CandidateRate-v.LiveRate))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if t.LiveScores > 0 || t.CandidateScores > 0 {
			fmt.Fprintf(w, "mean score: live %.4f (%d), candidate %.4f (%d)\n", t.LiveMean, t.LiveScores, t.CandidateMean, t.CandidateScores)
		}
	}
	return nil
}
