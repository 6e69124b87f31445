package spec

import (
	"fmt"
	"net/url"
	"strings"
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
			return "", fmt.Errorf("unclosed ${ in %q", s)
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
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http or https URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: a base URL has no query or fragment", s)
	}
	return strings.TrimSuffix(s, "/"), nil
}
