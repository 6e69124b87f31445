package fetchers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrBadPath: a request path, or a value templated into one, would change
// the path's shape (a "." or ".." segment, an empty segment, a query or
// fragment in a path template) or is not a valid escaped path. Errors
// matching it also match ErrBadRequest when they come from a call.
var ErrBadPath = errors.New("bad path")

// PathTemplate is a parsed path template such as "/accounts/{id}/balance":
// literal text, in escaped form, and {name} placeholders that are filled,
// in order, with one value each. Names are for the reader and for error
// messages; they may be any text without braces. "{{" and "}}" stand for
// literal braces. The zero PathTemplate is the empty path.
type PathTemplate struct {
	text  string
	parts []pathPart
	holes int
}

type pathPart struct {
	lit  string // escaped literal text; empty for a placeholder
	name string // placeholder name
	hole bool
}

// ParsePath parses template. The literal text is a path in escaped form (a
// valid %XX escape stands for its byte, characters a path may not hold are
// escaped) and may hold neither a query nor a fragment: '?' and '#' are
// errors, as are unmatched braces and literal "." or ".." segments.
func ParsePath(template string) (PathTemplate, error) {
	t := PathTemplate{text: template}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, pathPart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(template); i++ {
		c := template[i]
		switch {
		case c == '{' && i+1 < len(template) && template[i+1] == '{':
			lit.WriteString("%7B")
			i++
		case c == '}' && i+1 < len(template) && template[i+1] == '}':
			lit.WriteString("%7D")
			i++
		case c == '}':
			return PathTemplate{}, fmt.Errorf("%w: path template %q: unmatched } at offset %d (write }} for a literal brace)", ErrBadPath, template, i)
		case c == '{':
			end := strings.IndexAny(template[i+1:], "{}")
			if end < 0 || template[i+1+end] != '}' {
				return PathTemplate{}, fmt.Errorf("%w: path template %q: unclosed { at offset %d", ErrBadPath, template, i)
			}
			flush()
			t.parts = append(t.parts, pathPart{name: template[i+1 : i+1+end], hole: true})
			t.holes++
			i += end + 1
		case c == '?' || c == '#':
			return PathTemplate{}, fmt.Errorf("%w: path template %q: %q at offset %d: a path holds no query or fragment (use Request.Query)", ErrBadPath, template, c, i)
		case c == '%':
			if i+2 >= len(template) || !ishex(template[i+1]) || !ishex(template[i+2]) {
				return PathTemplate{}, fmt.Errorf("%w: path template %q: %% at offset %d does not start an escape (write %%25 for a literal %%)", ErrBadPath, template, i)
			}
			lit.WriteString(template[i : i+3])
			i += 2
		default:
			writePathByte(&lit, c)
		}
	}
	flush()
	// Literal dot or empty segments are the template's own mistake: report
	// them now, with every placeholder standing for a plain value.
	probe := make([]string, t.holes)
	for i := range probe {
		probe[i] = "x"
	}
	if _, err := t.Expand(probe...); err != nil {
		return PathTemplate{}, err
	}
	return t, nil
}

// String returns the template as it was given: what errors show instead
// of the values.
func (t PathTemplate) String() string { return t.text }

// Names returns the placeholders' names, in order (with repeats).
func (t PathTemplate) Names() []string {
	var names []string
	for _, p := range t.parts {
		if p.hole {
			names = append(names, p.name)
		}
	}
	return names
}

// Expand fills the placeholders with values, in order, and returns the
// escaped path. Each value is escaped as the content of one path segment:
// '/', '\', '%', '?', '#', ';' and ',' in it are escaped, so no value can
// add, remove or climb segments. A value that is empty, or that holds a
// "." or ".." piece or an empty piece between slashes (which a server
// decoding %2F before routing would see as a segment), is an error wrapping
// ErrBadPath, as is a segment that ends up ".", ".." or empty. Errors name
// the placeholder, never its value.
func (t PathTemplate) Expand(values ...string) (string, error) {
	if len(values) != t.holes {
		return "", fmt.Errorf("%w: path template %q has %d placeholders, got %d values", ErrBadPath, t.text, t.holes, len(values))
	}
	var b strings.Builder
	k := 0
	for _, p := range t.parts {
		if !p.hole {
			b.WriteString(p.lit)
			continue
		}
		v := values[k]
		k++
		if err := checkValue(v); err != nil {
			return "", fmt.Errorf("%w: path template %q: {%s} %v", ErrBadPath, t.text, p.name, err)
		}
		b.WriteString(url.PathEscape(v))
	}
	path := b.String()
	if err := checkSegments(path); err != nil {
		return "", fmt.Errorf("%w: path template %q: %v", ErrBadPath, t.text, err)
	}
	return path, nil
}

// PathOf returns the escaped path made of template with its placeholders
// filled by values, in order, each as exactly one escaped segment (see
// PathTemplate.Expand): the way to put values from outside (ids from a
// request, fields of another answer) into a path. Concatenating them
// instead lets a value such as "../../admin" or "a1/balance" change which
// resource is asked for.
//
//	p, err := fetchers.PathOf("/cards/{card}/controls", cardID)
func PathOf(template string, values ...string) (string, error) {
	t, err := ParsePath(template)
	if err != nil {
		return "", err
	}
	return t.Expand(values...)
}

// GetPathRequest returns a GET Request of template filled with values (see
// PathOf), with the template kept in Request.PathValues form, so that
// errors show the template rather than the values. The error is that of a
// bad template or value; the request is checked again when sent.
//
//	fetchers.JSON1[Account](b, "account", accounts, cardID,
//		func(id string) (fetchers.Request, error) { return fetchers.GetPathRequest("/accounts/{id}", id) })
func GetPathRequest(template string, values ...string) (Request, error) {
	r := Request{Method: http.MethodGet, Path: template, PathValues: append([]string{}, values...)}
	_, err := r.escapedPath()
	return r, err
}

// escapedPath returns the request's path in escaped form, checked.
func (r Request) escapedPath() (string, error) {
	if r.PathValues != nil {
		t, err := ParsePath(r.Path)
		if err != nil {
			return "", err
		}
		return t.Expand(r.PathValues...)
	}
	return cleanPath(r.Path)
}

// cleanPath checks a path given in escaped form (Request.Path without
// PathValues) and escapes what a path may not hold, '?' and '#' included.
func cleanPath(p string) (string, error) {
	clean := true
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || !ishex(p[i+1]) || !ishex(p[i+2]) {
				return "", fmt.Errorf("%w: %% at offset %d does not start an escape (build paths with PathOf)", ErrBadPath, i)
			}
			i += 2
			continue
		}
		if !pathByte(c) {
			clean = false
		}
	}
	out := p
	if !clean {
		var b strings.Builder
		for i := 0; i < len(p); i++ {
			if p[i] == '%' {
				b.WriteString(p[i : i+3])
				i += 2
				continue
			}
			writePathByte(&b, p[i])
		}
		out = b.String()
	}
	if err := checkSegments(out); err != nil {
		return "", fmt.Errorf("%w: %v (build paths with PathOf)", ErrBadPath, err)
	}
	return out, nil
}

// checkValue rejects a templated value that is empty or that, once a
// server decodes its escaped slashes, holds a dot or empty segment.
func checkValue(v string) error {
	if v == "" {
		return errors.New("is empty")
	}
	if piece := dotPiece(v); piece != "" {
		return fmt.Errorf("holds a %q segment", piece)
	}
	if strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/") || strings.Contains(v, "//") {
		return errors.New("holds an empty segment")
	}
	return nil
}

// checkSegments rejects an escaped path with a "." or ".." segment or an
// empty segment other than a leading or trailing one, looking at the path
// as written and as decoded (a server may decode %2F or %2E before it
// routes), and treating '\' as a separator too (some servers do).
func checkSegments(escaped string) error {
	if err := checkDecoded(escaped); err != nil {
		return err
	}
	if strings.IndexByte(escaped, '%') < 0 {
		return nil
	}
	decoded, err := url.PathUnescape(escaped)
	if err != nil {
		return err
	}
	return checkDecoded(decoded)
}

func checkDecoded(p string) error {
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		if i == start && start > 0 && i < len(p) {
			return errors.New("the path has an empty segment")
		}
		if piece := dotPiece(p[start:i]); piece != "" {
			return fmt.Errorf("the path has a %q segment", piece)
		}
		start = i + 1
	}
	return nil
}

// dotPiece returns the first piece of s, between '/' or '\', that a server
// may take for a dot segment ("." or "..", also %2e-escaped), or "".
func dotPiece(s string) string {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '/' && s[i] != '\\' {
			continue
		}
		switch piece := s[start:i]; {
		case piece == ".", piece == "..", strings.EqualFold(piece, "%2e"), strings.EqualFold(piece, "%2e%2e"),
			strings.EqualFold(piece, ".%2e"), strings.EqualFold(piece, "%2e."):
			return piece
		}
		start = i + 1
	}
	return ""
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// pathByte reports whether c may appear as it is in an escaped path:
// RFC 3986's pchar and '/', but '%' (which starts an escape).
func pathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/':
		return true
	}
	return false
}

// writePathByte writes c as it may appear in an escaped path: as it is
// when pathByte allows it, %XX-escaped otherwise.
func writePathByte(b *strings.Builder, c byte) {
	if pathByte(c) {
		b.WriteByte(c)
		return
	}
	const hex = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&15])
}
