package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/serve"
	"github.com/featgraph/featgraph/spec"
)

func init() {
	register(command{
		name:    "serve",
		summary: "serve specs as a decision service over HTTP",
		run:     runServe,
	})
}

const serveUsage = `SPEC... [flags]

Serves each spec as a graph over HTTP: cardauth.yaml as "cardauth", or
NAME=FILE to choose the name. Endpoints:

  POST /v1/graphs/{name}/decide        flat JSON inputs in, the targets' values out (?explain=1: every node)
  POST /v1/graphs/{name}/decide-batch  a JSON array of N input objects in, N results out, in order
  GET  /v1/graphs, /v1/graphs/{name}   the graphs: inputs, targets, nodes, version
  GET  /v1/graphs/{name}/graph.svg     the graph drawn by Graphviz (and graph.dot)
  GET  /healthz, /readyz               liveness; readiness (503 while draining)
  GET  /metrics                        Prometheus metrics (OpenTelemetry's exporter)
  GET  /debug/featgraph                the graphs and their recent slow, degraded and failed runs

A decide answers 200 when every target has a value (fallbacks included),
504 when a target has none because time ran out, 502 when because a node
failed; 400 bad input (naming the field), 401 no or wrong bearer token, 404
unknown graph, 413 body too large, 429 too many runs in flight (with
Retry-After, at once), 503 draining. A run's deadline is the smaller of the
spec's deadline (or --deadline) and the caller's X-Request-Deadline-Ms.

Auth: bearer tokens from --auth-token-file or --auth-token-env; without
them serve listens only on loopback, unless --insecure-no-auth.
SIGTERM or Ctrl-C: stop accepting, finish the requests in flight within
--grace, exit 0. SIGHUP (and --watch): reload every spec; a spec that no
longer loads keeps the old graphs serving and is reported with file:line:col.
With OTEL_EXPORTER_OTLP_ENDPOINT set (an OTLP/HTTP collector's base URL),
spans and metrics also go there, flushed on exit.

Flags:`

// serveFlags are the command's settings.
type serveFlags struct {
	addr           string
	deadline       time.Duration
	tokenFile      string
	tokenEnv       string
	insecureNoAuth bool
	tlsCert        string
	tlsKey         string
	maxBody        int64
	maxInFlight    int
	maxBatch       int
	batchParallel  int
	retryAfter     time.Duration
	readTimeout    time.Duration
	headerTimeout  time.Duration
	writeTimeout   time.Duration
	idleTimeout    time.Duration
	grace          time.Duration
	watch          bool
	watchEvery     time.Duration
	logs           logFlags    // --log, --shadow: serve_log.go
	shadows        []shadowArg // checked --shadow
}

// specArg is one SPEC argument: the graph's name and its file.
type specArg struct{ name, file string }

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", serveUsage)
	var f serveFlags
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen on this `host:port` (port 0 picks a free one)")
	fs.DurationVar(&f.deadline, "deadline", time.Second, "the run deadline of specs that declare none")
	fs.StringVar(&f.tokenFile, "auth-token-file", "", "require a bearer token, one of the lines of this `file` (blank lines and # comments skipped)")
	fs.StringVar(&f.tokenEnv, "auth-token-env", "", "require a bearer token, one of the comma-separated tokens in this environment `variable`")
	fs.BoolVar(&f.insecureNoAuth, "insecure-no-auth", false, "allow listening beyond loopback without auth")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate `file` (PEM; with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the private key `file` of --tls-cert (PEM)")
	fs.Int64Var(&f.maxBody, "max-body", 1<<20, "largest request body in `bytes` (413 beyond)")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 256, "most decide requests answered at once (429 beyond)")
	fs.IntVar(&f.maxBatch, "max-batch", 1000, "most rows in a decide-batch (413 beyond)")
	fs.IntVar(&f.batchParallel, "batch-parallel", 16, "most rows of one batch running at once")
	fs.DurationVar(&f.retryAfter, "retry-after", time.Second, "the Retry-After of a 429")
	fs.DurationVar(&f.readTimeout, "read-timeout", 10*time.Second, "longest time to read a request, body included")
	fs.DurationVar(&f.headerTimeout, "read-header-timeout", 5*time.Second, "longest time to read a request's headers")
	fs.DurationVar(&f.writeTimeout, "write-timeout", 30*time.Second, "longest time from the end of the headers to the end of the answer")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 2*time.Minute, "how long an idle keep-alive connection stays open")
	fs.DurationVar(&f.grace, "grace", 30*time.Second, "on SIGTERM, how long requests in flight have to finish")
	fs.BoolVar(&f.watch, "watch", false, "reload the specs when their files change")
	fs.DurationVar(&f.watchEvery, "watch-interval", time.Second, "how often --watch looks at the files")
	addLogFlags(fs, &f.logs)
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	specs, err := checkServeArgs(&f, positional)
	if err != nil {
		return err
	}
	if f.shadows, err = checkLogFlags(&f.logs, specs); err != nil {
		return err
	}
	tokens, err := readTokens(e, &f)
	if err != nil {
		return err
	}
	if len(tokens) == 0 && !f.insecureNoAuth && !isLoopback(f.addr) {
		return usageError{fmt.Errorf("--addr %s is not a loopback address: give --auth-token-file or --auth-token-env, or --insecure-no-auth", f.addr)}
	}
	return serveSpecs(ctx, e, &f, specs, tokens)
}

// checkServeArgs checks the flags and names the specs.
func checkServeArgs(f *serveFlags, positional []string) ([]specArg, error) {
	if len(positional) == 0 {
		return nil, usageError{errors.New("no spec file given")}
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	for name, v := range map[string]time.Duration{"deadline": f.deadline, "retry-after": f.retryAfter, "grace": f.grace, "watch-interval": f.watchEvery} {
		if v <= 0 {
			return nil, usageError{fmt.Errorf("--%s %v: want > 0", name, v)}
		}
	}
	for name, v := range map[string]int64{"max-body": f.maxBody, "max-in-flight": int64(f.maxInFlight), "max-batch": int64(f.maxBatch), "batch-parallel": int64(f.batchParallel)} {
		if v <= 0 {
			return nil, usageError{fmt.Errorf("--%s %d: want > 0", name, v)}
		}
	}
	var out []specArg
	seen := map[string]string{}
	for _, p := range positional {
		name, file, ok := strings.Cut(p, "=")
		if !ok {
			file = p
			name = strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		}
		if prev, dup := seen[name]; dup {
			return nil, usageError{fmt.Errorf("%s and %s would both serve as %q: name one with NAME=FILE", prev, file, name)}
		}
		seen[name] = file
		out = append(out, specArg{name: name, file: file})
	}
	return out, nil
}

// readTokens reads the accepted bearer tokens. They never appear in an
// error or a log line.
func readTokens(e *env, f *serveFlags) ([]string, error) {
	var tokens []string
	if f.tokenFile != "" {
		file, err := os.Open(f.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--auth-token-file: %w", err)
		}
		defer file.Close()
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			if t := strings.TrimSpace(sc.Text()); t != "" && !strings.HasPrefix(t, "#") {
				tokens = append(tokens, t)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--auth-token-file %s: %w", f.tokenFile, err)
		}
		if len(tokens) == 0 {
			return nil, fmt.Errorf("--auth-token-file %s holds no token", f.tokenFile)
		}
	}
	if f.tokenEnv != "" {
		n := len(tokens)
		for _, t := range strings.Split(e.getenv(f.tokenEnv), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tokens = append(tokens, t)
			}
		}
		if len(tokens) == n {
			return nil, fmt.Errorf("--auth-token-env %s: the variable is empty or not set", f.tokenEnv)
		}
	}
	return tokens, nil
}

// isLoopback reports whether addr listens only on a loopback interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadGraphs loads every spec; the error joins every problem found, each
// with its file:line:col.
func loadGraphs(e *env, f *serveFlags, specs []specArg) ([]*serve.Graph, error) {
	opts := serveSpecOptions(e)
	var graphs []*serve.Graph
	var errs []error
	for _, s := range specs {
		g, err := serve.LoadSpec(s.name, s.file, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		graphs = append(graphs, g)
	}
	if len(errs) > 0 {
		for _, g := range graphs {
			g.Close()
		}
		return nil, errors.Join(errs...)
	}
	return graphs, nil
}

// serveSpecOptions are the options every served spec (and shadow
// candidate) is loaded with.
func serveSpecOptions(e *env) []spec.Option {
	return []spec.Option{spec.Getenv(e.getenv), spec.UpstreamOptions(fetchers.WithPropagator(propagation.TraceContext{}))}
}

// filesHash is what --watch compares: the contents of every spec file.
func filesHash(specs []specArg) [32]byte {
	h := sha256.New()
	for _, s := range specs {
		data, err := os.ReadFile(s.file)
		if err != nil {
			fmt.Fprintf(h, "unreadable %s: %v\n", s.file, err)
		}
		fmt.Fprintf(h, "%s %d\n", s.file, len(data))
		h.Write(data)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func serveSpecs(ctx context.Context, e *env, f *serveFlags, specs []specArg, tokens []string) error {
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	graphs, err := loadGraphs(e, f, specs)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		closeGraphs(graphs)
		return err
	}
	otlp, err := newOTLPExport(ctx, e.getenv)
	if err != nil {
		closeGraphs(graphs)
		return err
	}
	readers := []sdkmetric.Option{sdkmetric.WithReader(exporter)}
	if otlp.metrics != nil {
		readers = append(readers, sdkmetric.WithReader(otlp.metrics))
	}
	mp := sdkmetric.NewMeterProvider(readers...)
	defer func() { // flushes the OTLP exporters, if any, within the grace period
		ctx, cancel := context.WithTimeout(context.Background(), f.grace)
		defer cancel()
		if err := errors.Join(otlp.shutdown(ctx), mp.Shutdown(ctx)); err != nil {
			logger.Warn("featgraph serve: flushing OTLP export", "err", err.Error())
		}
	}()
	opts := []serve.Option{
		serve.WithDefaultDeadline(f.deadline),
		serve.WithMaxBodyBytes(f.maxBody),
		serve.WithMaxInFlight(f.maxInFlight),
		serve.WithBatch(f.maxBatch, f.batchParallel),
		serve.WithRetryAfter(f.retryAfter),
		serve.WithMeterProvider(mp),
		serve.WithPropagator(propagation.TraceContext{}),
		serve.WithMetricsHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})),
		serve.WithLogger(logger),
	}
	if len(tokens) > 0 {
		opts = append(opts, serve.WithTokens(tokens...))
	}
	if otlp.tracer != nil {
		opts = append(opts, serve.WithTracerProvider(otlp.tracer))
	}
	dl, err := openDecisionLog(e, &f.logs, f.shadows, serveSpecOptions(e), f.deadline, mp, logger)
	if err != nil {
		closeGraphs(graphs)
		return err
	}
	if dl != nil {
		opts = append(opts, serve.WithDecisionLog(dl.obs))
		defer func() { // after the Server: the shadow runs in flight end, the log is flushed
			ctx, cancel := context.WithTimeout(context.Background(), f.grace)
			defer cancel()
			if err := dl.close(ctx); err != nil {
				logger.Error("featgraph serve: closing the decision log", "err", err.Error())
			}
		}()
	}
	srv, err := serve.New(graphs, opts...)
	if err != nil {
		closeGraphs(graphs)
		return err
	}
	defer srv.Close()

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", f.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadTimeout:       f.readTimeout,
		ReadHeaderTimeout: f.headerTimeout,
		WriteTimeout:      f.writeTimeout,
		IdleTimeout:       f.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	// Signals are caught before the address is printed: a supervisor that
	// waits for it may signal at once.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(signals)
	fmt.Fprintf(e.stdout, "featgraph serve: listening on %s://%s\n", scheme, ln.Addr())
	for _, g := range graphs {
		fmt.Fprintf(e.stdout, "featgraph serve: graph %s version %s: POST /v1/graphs/%s/decide\n", g.Name(), g.Version(), g.Name())
	}
	done := make(chan error, 1)
	go func() {
		if f.tlsCert != "" {
			done <- hs.ServeTLS(ln, f.tlsCert, f.tlsKey)
		} else {
			done <- hs.Serve(ln)
		}
	}()
	var tick <-chan time.Time
	var lastHash [32]byte
	if f.watch {
		t := time.NewTicker(f.watchEvery)
		defer t.Stop()
		tick = t.C
		lastHash = filesHash(specs)
	}
	reload := func(why string) {
		graphs, err := loadGraphs(e, f, specs)
		if err != nil {
			logger.Error("featgraph serve: reload failed; the previous graphs keep serving", "why", why, "err", err.Error())
			return
		}
		if err := srv.Swap(graphs); err != nil {
			closeGraphs(graphs)
			logger.Error("featgraph serve: reload failed; the previous graphs keep serving", "why", why, "err", err.Error())
			return
		}
		for _, g := range graphs {
			logger.Info("featgraph serve: reloaded", "why", why, "graph", g.Name(), "version", g.Version())
		}
	}
	for {
		select {
		case err := <-done:
			return fmt.Errorf("serving: %w", err)
		case <-tick:
			if h := filesHash(specs); h != lastHash {
				lastHash = h
				reload("a spec file changed")
			}
			continue
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				reload("SIGHUP")
				continue
			}
			logger.Info("featgraph serve: draining", "signal", sig.String(), "in_flight", srv.InFlight(), "grace", f.grace.String())
		case <-ctx.Done():
			logger.Info("featgraph serve: draining", "in_flight", srv.InFlight(), "grace", f.grace.String())
		}
		break
	}
	// Drain: not ready, stop accepting, let the requests in flight finish.
	srv.Drain()
	shutdown, cancel := context.WithTimeout(context.Background(), f.grace)
	defer cancel()
	err = hs.Shutdown(shutdown)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("draining: %w", err)
	}
	fmt.Fprintf(e.stdout, "featgraph serve: stopped after %d runs\n", srv.Runs())
	return nil
}

func closeGraphs(graphs []*serve.Graph) {
	for _, g := range graphs {
		g.Close()
	}
}
