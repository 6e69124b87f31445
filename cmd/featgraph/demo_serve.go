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

// serveDemo serves every simulated cardauth service over HTTP on addr
// until ctx ends (Ctrl-C), so that examples/specs/cardauth.yaml runs end to
// end against real HTTP upstreams. It prints the bound address first, which
// tells a caller that asked for port 0 where to connect.
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
	srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(e.stdout, "serving the simulated cardauth services (%v per call) on %s\n", cfg.latency, url)
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
