package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/shadow"
	"github.com/featgraph/featgraph/spec"
)

// logFlags are serve's decision-log and shadow flags.
type logFlags struct {
	log     string
	shadows listFlag
	budget  time.Duration
	cap     int
}

func addLogFlags(fs *flag.FlagSet, f *logFlags) {
	fs.StringVar(&f.log, "log", "", "write a decision record of every run to this `URL`: file://DIR, kafka://BROKER[,BROKER]/TOPIC or stdout\n(hashed values take their key from $"+decisionlog.KeyEnv+")")
	fs.Var(&f.shadows, "shadow", "run a candidate spec beside a served graph on a share of its requests: `NAME=FILE@PCT%`,\ne.g. cardauth=candidate.yaml@10%; its diffs go into the decision log (repeatable)")
	fs.DurationVar(&f.budget, "shadow-budget", 0, "the run deadline of a shadow candidate (default: its spec's deadline, else --deadline)")
	fs.IntVar(&f.cap, "shadow-max-in-flight", 64, "most shadow runs under way at once, per candidate")
}

// shadowArg is one --shadow.
type shadowArg struct {
	live, file string
	share      float64
}

// checkLogFlags checks the flags against the served graphs' names.
func checkLogFlags(f *logFlags, specs []specArg) ([]shadowArg, error) {
	if f.budget < 0 {
		return nil, usagef("--shadow-budget %v: want > 0", f.budget)
	}
	if f.cap <= 0 {
		return nil, usagef("--shadow-max-in-flight %d: want > 0", f.cap)
	}
	if f.log != "" {
		scheme, _, _ := strings.Cut(f.log, "://")
		if scheme != "file" && scheme != "kafka" && f.log != "stdout" {
			return nil, usagef("--log %s: want file://DIR, kafka://BROKER[,BROKER]/TOPIC or stdout", quoteValue(f.log))
		}
	}
	served := map[string]bool{}
	for _, s := range specs {
		served[s.name] = true
	}
	var out []shadowArg
	seen := map[string]bool{}
	for _, s := range f.shadows {
		live, rest, ok := strings.Cut(s, "=")
		file, pct, ok2 := strings.Cut(rest, "@")
		pct = strings.TrimSuffix(pct, "%")
		share, err := strconv.ParseFloat(pct, 64)
		if !ok || !ok2 || live == "" || file == "" || err != nil || !(share > 0 && share <= 100) {
			return nil, usagef("--shadow %s: want NAME=FILE@PCT%% with 0 < PCT <= 100", quoteValue(s))
		}
		if !served[live] {
			return nil, usagef("--shadow %s: no served graph is called %s", quoteValue(s), quoteValue(live))
		}
		if seen[live] {
			return nil, usagef("--shadow: graph %s has two candidates", quoteValue(live))
		}
		seen[live] = true
		out = append(out, shadowArg{live: live, file: file, share: share / 100})
	}
	return out, nil
}

// decisionLog is serve's decision log and shadows, to close on the way out.
type decisionLog struct {
	log     *decisionlog.Log
	runners []*shadow.Runner
	specs   []*spec.Spec
	obs     *decisionlog.Observer
}

// openDecisionLog opens the log and loads the candidates; nil when neither
// is asked for.
func openDecisionLog(e *env, f *logFlags, shadows []shadowArg, specOpts []spec.Option, deadline time.Duration, mp metric.MeterProvider, logger *slog.Logger) (*decisionLog, error) {
	if f.log == "" && len(shadows) == 0 {
		return nil, nil
	}
	d := &decisionLog{}
	var err error
	if f.log != "" {
		d.log, err = decisionlog.Open(f.log, decisionlog.WithMeterProvider(mp), decisionlog.WithLogger(logger))
		if err != nil {
			return nil, fmt.Errorf("--log: %w", err)
		}
	}
	getenv := decisionlog.Getenv(e.getenv)
	obsOpts := []decisionlog.ObserverOption{decisionlog.RecorderOptions(getenv)}
	for _, s := range shadows {
		r, err := d.candidate(s, f, specOpts, deadline, mp, logger, getenv)
		if err != nil {
			d.close(context.Background())
			return nil, err
		}
		obsOpts = append(obsOpts, decisionlog.ShadowGraph(s.live, r))
	}
	if d.obs, err = decisionlog.NewObserver(d.log, obsOpts...); err != nil {
		d.close(context.Background())
		return nil, err
	}
	return d, nil
}

// candidate loads one --shadow spec and makes its runner.
func (d *decisionLog) candidate(s shadowArg, f *logFlags, specOpts []spec.Option, deadline time.Duration, mp metric.MeterProvider, logger *slog.Logger, getenv decisionlog.Option) (*shadow.Runner, error) {
	data, err := os.ReadFile(s.file)
	if err != nil {
		return nil, fmt.Errorf("--shadow: %w", err)
	}
	sp, err := spec.Parse(s.file, data, specOpts...)
	if err != nil {
		return nil, fmt.Errorf("--shadow: %w", err)
	}
	d.specs = append(d.specs, sp)
	budget := f.budget
	if budget == 0 {
		budget = deadline
		if sd := sp.Deadline(); sd > 0 {
			budget = sd
		}
	}
	ex, err := executor.New(sp.Graph(), executor.WithRunTimeout(budget), executor.WithMeterProvider(mp))
	if err != nil {
		return nil, fmt.Errorf("--shadow %s: %w", s.file, err)
	}
	sum := sha256.Sum256(data)
	rec, err := decisionlog.NewRecorder(sp.Graph(), s.live+"-candidate", decisionlog.GraphVersion(hex.EncodeToString(sum[:6])), getenv)
	if err != nil {
		return nil, fmt.Errorf("--shadow %s: %w", s.file, err)
	}
	r, err := shadow.New(ex, rec, shadow.Sample(s.share), shadow.Budget(budget), shadow.MaxInFlight(f.cap),
		shadow.Targets(sp.Targets()...), shadow.WithMeterProvider(mp), shadow.WithLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("--shadow %s: %w", s.file, err)
	}
	d.runners = append(d.runners, r)
	return r, nil
}

// close waits for the shadow runs in flight, then flushes the log.
func (d *decisionLog) close(ctx context.Context) error {
	if d == nil {
		return nil
	}
	var errs []error
	for _, r := range d.runners {
		errs = append(errs, r.Close(ctx))
	}
	if d.log != nil {
		errs = append(errs, d.log.Shutdown(ctx))
	}
	for _, s := range d.specs {
		s.Close()
	}
	return errors.Join(errs...)
}
