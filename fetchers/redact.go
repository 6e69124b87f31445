package fetchers

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// Redacted is what Redact writes in place of a query value.
const Redacted = "REDACTED"

// Redact returns rawURL fit for an error or a log: without userinfo, with
// every query value replaced by "REDACTED" (names kept), without fragment.
// Scheme, host, port and path are kept. Text that does not parse as a URL
// loses everything from its first '?' or '#', and anything before an '@'
// in its authority.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return redactText(rawURL)
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = Redacted
		} else {
			for k, vs := range q {
				for i := range vs {
					vs[i] = Redacted
				}
				q[k] = vs
			}
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// redactText redacts what may be a URL that does not parse.
func redactText(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i] + "?" + Redacted
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		host := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			host = rest[:i]
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			s = scheme + "://" + rest[at+1:]
		}
	}
	return s
}

// urlInText finds absolute URLs in an error's text.
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// redactError returns err with the URLs it carries redacted: a *url.Error
// (what net/http returns) is copied with its URL redacted, and an error
// whose text still shows a URL with userinfo, a query or a fragment is
// wrapped so that its message is redacted; errors.Is and errors.As still
// see the original chain below. When the request's path was built from a
// template (shown not empty), the request's own URL is shown as shown: the
// template, not the values.
func redactError(err error, own, shown string) error {
	if err == nil {
		return nil
	}
	show := func(u string) string {
		if shown != "" && own != "" && Redact(u) == Redact(own) {
			return shown
		}
		return Redact(u)
	}
	var ue *url.Error
	if errors.As(err, &ue) && err == error(ue) {
		return &url.Error{Op: ue.Op, URL: show(ue.URL), Err: redactError(ue.Err, own, shown)}
	}
	msg := err.Error()
	clean := urlInText.ReplaceAllStringFunc(msg, show)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError shows a redacted message for an error that carries a URL.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
