package spec

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/featgraph/featgraph/fetchers"
)

// expand replaces ${VAR} and ${VAR:-default} in s with getenv's values. A
// variable that is empty or unset without a default is an error, so that a
// spec never calls a URL with a hole in it.
func expand(s string, getenv func(string) string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unclosed ${ in %q", fetchers.Redact(s))
		}
		ref := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !namePattern.MatchString(name) {
			return "", fmt.Errorf("${%s}: want ${VAR} or ${VAR:-default}", ref)
		}
		v := ""
		if getenv != nil {
			v = getenv(name)
		}
		if v == "" {
			if !hasDef {
				return "", fmt.Errorf("environment variable %s is not set and ${%s} has no default (write ${%s:-http://...})", name, name, name)
			}
			v = def
		}
		b.WriteString(v)
		s = s[i+end+1:]
	}
}

// checkExpand checks the ${...} syntax of s without reading the environment.
func checkExpand(s string) error {
	_, err := expand(s, func(string) string { return "x" })
	return err
}

// baseURL checks that s is an absolute http(s) URL and trims its final slash.
func baseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", fetchers.Redact(s))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", fmt.Errorf("%q is not an absolute http or https URL with a host", fetchers.Redact(s))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", fmt.Errorf("%q: a base URL has no query or fragment", fetchers.Redact(s))
	}
	return strings.TrimSuffix(s, "/"), nil
}

// checkURL checks the URL of upstream u when the spec is built, whether a
// node uses it or not, so that a bad URL (ftp://x, no host) is reported at
// its line rather than passing because nothing called it yet. A URL that
// needs an unset variable is left to the first node that uses it (which
// fails, or with AllowUnsetEnv defers the error to run time).
func (b *builder) checkURL(u *upstreamDecl) {
	raw, overridden := b.c.upstreamURLs[u.Name]
	if !overridden {
		var err error
		if raw, err = expand(u.URL, b.c.getenv); err != nil {
			return
		}
	}
	if _, err := baseURL(raw); err != nil {
		b.failAt(u.at, u.Name, "url: %v", err)
		b.badURLs[u.Name] = nil // reported: nodes using it say no more
	}
}
