package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

func init() {
	register(command{
		name:    "demo",
		summary: "run the card-authorization graph against simulated services",
		run:     runDemoCommand,
	})
}

// demoConfig is what the demo's flags say.
type demoConfig struct {
	request  cardauth.Request
	latency  time.Duration
	jitter   time.Duration // each call takes up to this much more, drawn from seed
	seed     uint64
	deadline time.Duration
	fail     []string // services whose every call fails
}

// demoRun is a finished demo: the services it ran against, the graph and
// the run's result. Commands that draw or serve the demo build on it.
type demoRun struct {
	config   demoConfig
	services *cardauth.Services
	graph    *cardauth.Graph
	result   *executor.Result
}

const demoUsage = `[flags]

Runs the card-authorization graph of examples/cardauth once against
simulated services and prints the decision, every node's outcome and
timing, and the wall time beside the critical path and the sequential sum.
It writes the run's pictures into --out-dir (featgraph-demo by default; ""
for none). With --serve it runs nothing and serves the simulated services
over HTTP instead.`

func runDemoCommand(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", demoUsage)
	cfg := demoConfig{}
	fs.StringVar(&cfg.request.TransactionID, "transaction", "t1", "transaction id (any id works)")
	fs.StringVar(&cfg.request.CardID, "card", "c1", "card id")
	fs.StringVar(&cfg.request.CustomerID, "customer", "u1", "customer id")
	fs.StringVar(&cfg.request.MerchantID, "merchant", "m1", "merchant id")
	fs.DurationVar(&cfg.latency, "latency", 10*time.Millisecond, "latency of every simulated call")
	fs.DurationVar(&cfg.jitter, "jitter", 0, "extra latency per call, uniform in [0, jitter)")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the jitter")
	fs.DurationVar(&cfg.deadline, "deadline", 700*time.Millisecond, "the run's deadline")
	serve := fs.String("serve", "", "instead of running the demo, serve every simulated service over HTTP on this `ADDRESS` (host:port; port 0 picks a free one; :port listens on every interface) until interrupted, each under /<service>, for specs such as examples/specs/cardauth.yaml")
	out := addOutDirFlag(fs, "featgraph-demo", "write the pictures of the run into this `DIR`: graph.dot, graph.svg, run.dot, run.svg, waterfall.svg, trace.json (\"\" for none)")
	fail := fs.String("fail", "", "comma-separated services whose calls fail, e.g. model ("+strings.Join(cardauth.ServiceNames, ", ")+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *fail != "" {
		cfg.fail = strings.Split(*fail, ",")
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	if *serve != "" {
		if err := checkServeAddr(*serve); err != nil {
			return err
		}
		return serveDemo(ctx, e, *serve, cfg)
	}
	if err := out.check(); err != nil {
		return err
	}
	run, err := runDemo(ctx, cfg)
	if run != nil {
		defer run.result.Release()
		printDemo(e.stdout, run)
		if out.dir != "" {
			err = errors.Join(err, writeDemoPictures(ctx, e, out.dir, run))
		}
	}
	return err
}

func (c *demoConfig) validate() error {
	switch {
	case c.latency < 0:
		return fmt.Errorf("--latency %v is negative", c.latency)
	case c.jitter < 0:
		return fmt.Errorf("--jitter %v is negative", c.jitter)
	case c.deadline <= 0:
		return fmt.Errorf("--deadline %v is not positive", c.deadline)
	}
	for _, s := range c.fail {
		if !slices.Contains(cardauth.ServiceNames, s) {
			return fmt.Errorf("--fail: unknown service %q (known: %s)", s, strings.Join(cardauth.ServiceNames, ", "))
		}
	}
	return nil
}

// services builds the simulated services with the configured latency,
// jitter and faults.
func (c *demoConfig) services() (*cardauth.Services, error) {
	opts := []cardauth.ServiceOption{cardauth.WithLatency(c.latency)}
	if c.jitter > 0 {
		var mu sync.Mutex
		rng := rand.New(rand.NewPCG(c.seed, 0))
		opts = append(opts, cardauth.WithJitter(func(cardauth.Call) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			return time.Duration(rng.Int64N(int64(c.jitter)))
		}))
	}
	if len(c.fail) > 0 {
		opts = append(opts, cardauth.WithFault(func(call cardauth.Call) error {
			if slices.Contains(c.fail, call.Service) {
				return errInjected
			}
			return nil
		}))
	}
	return cardauth.NewServices(opts...)
}

// errInjected is the fault of the services named by --fail.
var errInjected = errors.New("injected fault (--fail)")

// runDemo builds the simulated services and the graph and runs it once. It
// returns the finished run even when the run failed, with the run's error.
func runDemo(ctx context.Context, cfg demoConfig) (*demoRun, error) {
	svc, err := cfg.services()
	if err != nil {
		return nil, err
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		return nil, err
	}
	ex, err := executor.New(ca.Graph, executor.WithRunTimeout(cfg.deadline))
	if err != nil {
		return nil, err
	}
	res, err := ex.Run(ctx, ca.Inputs(cfg.request), ca.Decision)
	if res == nil {
		return nil, err
	}
	return &demoRun{config: cfg, services: svc, graph: ca, result: res}, err
}

// printDemo writes the decision, every node's outcome and timing, and the
// wall time beside the critical path and the sequential sum.
func printDemo(w io.Writer, run *demoRun) {
	res, ca, cfg := run.result, run.graph, run.config
	fmt.Fprintf(w, "card authorization: transaction %s, card %s, customer %s, merchant %s\n",
		cfg.request.TransactionID, cfg.request.CardID, cfg.request.CustomerID, cfg.request.MerchantID)
	fmt.Fprintf(w, "simulated services: %v per call", cfg.latency)
	if cfg.jitter > 0 {
		fmt.Fprintf(w, " + up to %v jitter (seed %d)", cfg.jitter, cfg.seed)
	}
	if len(cfg.fail) > 0 {
		fmt.Fprintf(w, ", failing: %s", strings.Join(cfg.fail, ", "))
	}
	fmt.Fprintf(w, "; deadline %v\n\n", cfg.deadline)

	if d, err := executor.Get(res, ca.Decision); err != nil {
		fmt.Fprintf(w, "decision: none: %v\n\n", err)
	} else {
		fmt.Fprintf(w, "decision: %s (%s; score %.2f from %s)\n\n", strings.ToUpper(string(d.Verdict)), d.Reason, d.Score, d.ScoreSource)
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tOUTCOME\tSTART\tDURATION\tNOTE")
	g := ca.Graph
	var sequential time.Duration
	var fetches int
	nrs := res.Nodes()
	for _, id := range g.Order() {
		n := nrs[id]
		start, took := "-", "-"
		if n.Outcome != executor.OutcomeSkipped {
			start, took = ms(n.Start), ms(n.Duration())
		}
		if n.Kind == graph.KindFetch && n.Outcome != executor.OutcomeSkipped {
			sequential += n.Duration()
			fetches++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Kind, n.Outcome, start, took, note(n))
	}
	tw.Flush()

	path := res.CriticalPath()
	var work time.Duration
	names := make([]string, len(path))
	for i, step := range path {
		work += step.Work
		names[i] = step.Node
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "wall time\t%s\t\n", ms(res.Duration()))
	fmt.Fprintf(tw, "critical path\t%s\t  %s\n", ms(work), strings.Join(names, " -> "))
	fmt.Fprintf(tw, "sequential sum\t%s\t  the %d fetches one after another\n", ms(sequential), fetches)
	tw.Flush()
}

// note says why a node did not simply succeed, or which branch it took.
func note(n executor.NodeResult) string {
	switch {
	case n.Branch != "":
		return "took " + n.Branch
	case n.Outcome == executor.OutcomeSkipped && n.Kind == graph.KindFetch:
		return "not needed: branch not taken"
	case n.Cause != nil:
		return cleanNodeMessage(firstLine(n.Cause.Error()), n.Name) // no panic stack, the node not named again
	}
	return ""
}

// ms formats d in milliseconds with two decimals, so that columns align.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}
