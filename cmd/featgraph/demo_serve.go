package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
)

// serveTimeouts bound every connection of demo --serve, so that a slow or
// idle client cannot hold one open: reading a request's header, the whole
// request, writing the answer (on top of the simulated latency) and
// waiting idle between requests.
type serveTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// demoServeTimeouts are demo --serve's timeouts (tests shorten them).
var demoServeTimeouts = serveTimeouts{readHeader: 5 * time.Second, read: 10 * time.Second, write: 10 * time.Second, idle: 60 * time.Second}

// newDemoServer returns the server of demo --serve: h with timeouts, the
// write timeout lengthened by the slowest simulated call.
func newDemoServer(h http.Handler, cfg demoConfig, t serveTimeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write + cfg.latency + cfg.jitter,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    64 << 10,
	}
}

// checkServeAddr checks a --serve address: host:port.
func checkServeAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return usagef("--serve %s: want host:port, such as 127.0.0.1:8080 (%v)", quoteValue(addr), err)
	}
	return nil
}

// everyInterface says whether addr listens on every network interface:
// no host, 0.0.0.0 or ::.
func everyInterface(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// serveDemo serves every simulated cardauth service over HTTP on addr
// until ctx ends (Ctrl-C), so that examples/specs/cardauth.yaml runs end to
// end against real HTTP upstreams. It prints the bound address first, which
// tells a caller that asked for port 0 where to connect, and says so when
// the services are reachable from other machines.
func serveDemo(ctx context.Context, e *env, addr string, cfg demoConfig) error {
	svc, err := cfg.services()
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	srv := newDemoServer(svc.Handler(), cfg, demoServeTimeouts)
	bound := ln.Addr().(*net.TCPAddr)
	url := "http://" + ln.Addr().String()
	if everyInterface(addr) {
		url = fmt.Sprintf("http://127.0.0.1:%d", bound.Port)
	}
	fmt.Fprintf(e.stdout, "serving the simulated cardauth services (%v per call) on %s\n", cfg.latency, url)
	if everyInterface(addr) {
		fmt.Fprintf(e.stderr, "featgraph demo: note: listening on every network interface (%s, port %d): other machines can reach these services; use --serve 127.0.0.1:%d for this machine only\n", addr, bound.Port, bound.Port)
	}
	fmt.Fprintf(e.stdout, "try: CARDAUTH_URL=%s featgraph run examples/specs/cardauth.yaml --input transaction_id=t1 --input card_id=c1 --input customer_id=u1 --input merchant_id=m1\n", url)
	fmt.Fprintf(e.stdout, "services: %v; Ctrl-C stops\n", cardauth.ServiceNames)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	fmt.Fprintln(e.stdout, "stopped")
	return err
}
