package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/featgraph/featgraph/fetchers"
)

// template is a string with placeholders {name} or {name.field.sub} that
// take the value of a dependency (or a field of an object dependency) at
// run time. {{ and }} stand for literal braces.
type template struct {
	parts []tmplPart
}

type tmplPart struct {
	literal string
	ref     string   // dependency name; empty for a literal
	path    []string // fields to follow inside the dependency's value
}

func parseTemplate(s string) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return t, fmt.Errorf("unmatched } at offset %d in %q (write }} for a literal brace)", i, s)
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return t, fmt.Errorf("unclosed { at offset %d in %q", i, s)
			}
			fields := strings.Split(s[i+1:i+end], ".")
			for _, f := range fields {
				if !namePattern.MatchString(f) {
					return t, fmt.Errorf("placeholder {%s} at offset %d in %q: want {name} or {name.field}", s[i+1:i+end], i, s)
				}
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tmplPart{literal: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tmplPart{ref: fields[0], path: fields[1:]})
			i += end
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, tmplPart{literal: lit.String()})
	}
	return t, nil
}

// refs returns the names the template refers to, in order, without repeats.
func (t template) refs() []string {
	var out []string
	for _, p := range t.parts {
		if p.ref != "" && !contains(out, p.ref) {
			out = append(out, p.ref)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// whole reports whether the template is one placeholder and nothing else,
// in which case a JSON body takes the value itself rather than its text.
func (t template) whole() (tmplPart, bool) {
	if len(t.parts) == 1 && t.parts[0].ref != "" {
		return t.parts[0], true
	}
	return tmplPart{}, false
}

// lookup returns the value of a placeholder from the dependencies' values.
func (p tmplPart) lookup(vals map[string]any) (any, error) {
	v, ok := vals[p.ref]
	if !ok {
		return nil, fmt.Errorf("no value for {%s}", p.ref)
	}
	for i, f := range p.path {
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, fmt.Errorf("{%s}: %s is %s, not an object", strings.Join(append([]string{p.ref}, p.path...), "."), strings.Join(append([]string{p.ref}, p.path[:i]...), "."), describe(v))
		}
		if v, ok = m[f]; !ok {
			return nil, fmt.Errorf("{%s}: no field %q", strings.Join(append([]string{p.ref}, p.path...), "."), f)
		}
	}
	return v, nil
}

// render fills the placeholders with the text of their values, for a query
// value or a body string (which the fetcher escapes as such). A path is not
// rendered so: see pathTemplate.
func (t template) render(vals map[string]any) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.ref == "" {
			b.WriteString(p.literal)
			continue
		}
		v, err := p.lookup(vals)
		if err != nil {
			return "", err
		}
		b.WriteString(text(v))
	}
	return b.String(), nil
}

// pathTemplate returns the template as a fetchers path template, checked:
// its literal text as written (a '%' is a literal percent sign, '?' and '#'
// are errors: a path holds no query), each placeholder one path segment
// that its value fills, escaped, so that no value ("../../admin",
// "a1/balance", "x?y") can change which resource is asked for.
func (t template) pathTemplate() (fetchers.PathTemplate, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.ref == "" {
			r := strings.NewReplacer("{", "{{", "}", "}}", "%", "%25")
			b.WriteString(r.Replace(p.literal))
			continue
		}
		b.WriteString("{" + strings.Join(append([]string{p.ref}, p.path...), ".") + "}")
	}
	return fetchers.ParsePath(b.String())
}

// values returns the text of each placeholder's value, in order: the
// values of a path template.
func (t template) values(vals map[string]any) ([]string, error) {
	out := []string{}
	for _, p := range t.parts {
		if p.ref == "" {
			continue
		}
		v, err := p.lookup(vals)
		if err != nil {
			return nil, err
		}
		out = append(out, text(v))
	}
	return out, nil
}

// text is how a value reads inside a URL or a string: numbers without
// exponent or trailing zeros, objects and lists as JSON.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
