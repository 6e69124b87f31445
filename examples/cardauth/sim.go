package cardauth

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// Call identifies one call to a simulated service, for the latency and
// fault functions: the service ("cards"), the method ("card") and the key
// the call was made with (an id).
type Call struct {
	Service, Method, Key string
}

func (c Call) String() string { return c.Service + "." + c.Method + "(" + strconv.Quote(c.Key) + ")" }

// ServiceError is the error of a simulated call that an injected fault made fail.
type ServiceError struct {
	Call Call
	Err  error
}

func (e *ServiceError) Error() string { return fmt.Sprintf("cardauth: %v: %v", e.Call, e.Err) }

// Unwrap returns the injected error.
func (e *ServiceError) Unwrap() error { return e.Err }

// ServiceOption configures the simulated [Services].
type ServiceOption func(*sim) error

// WithLatency makes every call take d before it answers (0, the default,
// answers at once).
func WithLatency(d time.Duration) ServiceOption {
	return func(s *sim) error {
		if d < 0 {
			return fmt.Errorf("cardauth: latency %v is negative", d)
		}
		s.latency = d
		return nil
	}
}

// WithJitter adds jitter(call) to the latency of each call; a negative sum
// counts as no latency. jitter is called from many goroutines at once.
func WithJitter(jitter func(Call) time.Duration) ServiceOption {
	return func(s *sim) error {
		if jitter == nil {
			return fmt.Errorf("cardauth: nil jitter function")
		}
		s.jitter = jitter
		return nil
	}
}

// WithFault makes a call fail with fault(call) when that is not nil; the
// call still takes its latency first. fault is called from many goroutines
// at once.
func WithFault(fault func(Call) error) ServiceOption {
	return func(s *sim) error {
		if fault == nil {
			return fmt.Errorf("cardauth: nil fault function")
		}
		s.fault = fault
		return nil
	}
}

// sim is what every simulated service shares: latency, faults and call counts.
type sim struct {
	latency time.Duration
	jitter  func(Call) time.Duration
	fault   func(Call) error
	calls   map[string]*atomic.Int64 // by service; built once, read concurrently
}

// serve waits out the call's latency, or until ctx ends, and applies the
// injected fault. A service answers only when serve returns nil.
func (s *sim) serve(ctx context.Context, c Call) error {
	s.calls[c.Service].Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	d := s.latency
	if s.jitter != nil {
		d += s.jitter(c)
	}
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	if s.fault != nil {
		if err := s.fault(c); err != nil {
			return &ServiceError{Call: c, Err: err}
		}
	}
	return nil
}
