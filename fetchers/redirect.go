package fetchers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrRedirect: the upstream answered with a redirect the Upstream's
// RedirectPolicy does not follow (to another origin, or one hop too many).
// The call is not retried.
var ErrRedirect = errors.New("redirect not followed")

// DefaultMaxRedirects is how many redirects within the upstream's own
// origin one attempt follows by default.
const DefaultMaxRedirects = 3

// RedirectPolicy says which redirects an Upstream follows. By default it
// follows at most DefaultMaxRedirects, and only within the upstream's own
// origin (scheme, host and port of its base URL), so that the headers its
// hooks add (WithHeader, WithBearerToken, WithRequestHook), the request's
// own headers, the trace context and the deadline header never reach
// another server.
type RedirectPolicy struct {
	// MaxHops is how many redirects one attempt follows; 0 follows none:
	// the first redirect is an error.
	MaxHops int
	// CrossOrigin lets redirects leave the upstream's origin. When one
	// does, the request goes on with only its Accept, Accept-Encoding,
	// User-Agent and (for a body sent again) Content-Type headers: every
	// other header, those of hooks, of the request, the trace context and
	// the deadline included, is dropped, and so is userinfo.
	CrossOrigin bool
}

// WithRedirects sets the upstream's RedirectPolicy.
func WithRedirects(p RedirectPolicy) Option {
	return func(u *Upstream) error {
		if p.MaxHops < 0 {
			return fmt.Errorf("WithRedirects: MaxHops %d is negative", p.MaxHops)
		}
		u.redirects = p
		return nil
	}
}

// RedirectError is the cause of a call stopped at a redirect. Location is
// redacted (see Redact): no userinfo, query values replaced.
type RedirectError struct {
	// Location is where the upstream sent the call, redacted.
	Location string
	// Hops is how many redirects were followed before this one.
	Hops int
	// Reason says why it was not followed.
	Reason string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%v: %s to %s after %d hops", ErrRedirect, e.Reason, e.Location, e.Hops)
}

// Is makes errors.Is(err, ErrRedirect) true.
func (e *RedirectError) Is(target error) bool { return target == ErrRedirect }

// checkRedirect is the http.Client's CheckRedirect: req is the next hop,
// via the requests already sent (via[0] the first).
func (u *Upstream) checkRedirect(req *http.Request, via []*http.Request) error {
	hops := len(via) - 1
	if hops >= u.redirects.MaxHops {
		return &RedirectError{Location: Redact(req.URL.String()), Hops: hops, Reason: fmt.Sprintf("more than %d redirects", u.redirects.MaxHops)}
	}
	if sameOrigin(u.base, req.URL) {
		return nil
	}
	if !u.redirects.CrossOrigin {
		return &RedirectError{Location: Redact(req.URL.String()), Hops: hops, Reason: "redirect to another origin than " + origin(u.base)}
	}
	keep := http.Header{}
	for _, k := range []string{"Accept", "Accept-Encoding", "User-Agent"} {
		if v, ok := req.Header[k]; ok {
			keep[k] = v
		}
	}
	if req.GetBody != nil || req.Body != nil && req.Body != http.NoBody {
		if v, ok := req.Header["Content-Type"]; ok {
			keep["Content-Type"] = v
		}
	}
	req.Header = keep
	req.URL.User = nil
	return nil
}

// sameOrigin reports whether b has a's scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port(u)
}
