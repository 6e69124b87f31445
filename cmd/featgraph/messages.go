package main

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every message the CLI prints about an error goes through cleanMessage
// (runMain does it for the error a command returns; tables and JSON do it
// for node causes), so that the conventions below hold whatever the
// libraries' wrapping does:
//
//   - a node is named once: `node "long": upstream "accounts", node "long": …`
//     reads `node "long": upstream "accounts": …`;
//   - no package prefix leaks into the middle of a message (`"a": graph:
//     dependency cycle` reads `"a": dependency cycle`);
//   - no control character reaches the terminal raw (an escape sequence in
//     an argument or a body could rewrite the screen): all but newline and
//     tab are written as Go escapes;
//   - no value is echoed whole when it is long: a quoted string longer than
//     maxQuoted bytes is cut and says how long it was, and so is a line
//     longer than maxLine bytes (a 1 MB expression, a huge --input value).
const (
	maxQuoted = 80
	maxLine   = 400
)

// quoted matches a Go-quoted string, as %q writes it.
var quoted = regexp.MustCompile(`"(?:[^"\\\n]|\\.)*"`)

// pkgPrefix matches a package prefix after the start of a message or a ": ".
var pkgPrefix = regexp.MustCompile(`(^|: |\n)(?:graph|executor|spec|fetchers|viz|nodes): `)

// nodeMention matches the ways messages name a node: node "x", dependency
// "x", because "x", and a spec error's leading "x": (after file:line:col).
var nodeMention = regexp.MustCompile(`(?:node|dependency|because|input) ("(?:[^"\\\n]|\\.)*")|: ("(?:[^"\\\n]|\\.)*"): `)

// cleanMessage applies the conventions above to msg.
func cleanMessage(msg string) string {
	return cleanNodeMessage(msg, "")
}

// cleanNodeMessage is cleanMessage for the cause of the node called node,
// printed beside the node's name: the node is not named again at all.
func cleanNodeMessage(msg, node string) string {
	msg = pkgPrefix.ReplaceAllString(msg, "$1")
	if node != "" {
		q := strconv.Quote(node)
		for _, p := range []string{"node " + q + ": ", "node " + q + " "} {
			if rest, ok := strings.CutPrefix(msg, p); ok {
				msg = rest
				break
			}
		}
	}
	msg = dedupNodes(msg, node)
	msg = truncateQuoted(msg)
	return truncateLines(escapeControls(msg))
}

// escapeControls writes the control characters of msg, but newline and
// tab, as Go escapes (\x1b), and invalid UTF-8 as \ufffd.
func escapeControls(msg string) string {
	clean := true
	for _, r := range msg {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			clean = false
			break
		}
	}
	if clean {
		return msg
	}
	var b strings.Builder
	for _, r := range msg {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r) // invalid UTF-8 arrives as RuneError and is written as U+FFFD
		}
	}
	return b.String()
}

// dedupNodes removes `node "x": ` and `, node "x"` where "x" was already
// named earlier in msg (or is known, the row's node).
func dedupNodes(msg, known string) string {
	seen := map[string]bool{}
	if known != "" {
		seen[strconv.Quote(known)] = true
	}
	var b strings.Builder
	last := 0
	for _, m := range nodeMention.FindAllStringSubmatchIndex(msg, -1) {
		nameAt := 2
		if m[2] < 0 {
			nameAt = 4
		}
		name := msg[m[nameAt]:m[nameAt+1]]
		isNode := strings.HasPrefix(msg[m[0]:], "node ")
		if isNode && seen[name] {
			start, end := m[0], m[1]
			switch {
			case start >= 2 && msg[start-2:start] == ", ":
				start -= 2 // `upstream "a", node "x"`
			case strings.HasPrefix(msg[end:], ": "):
				end += 2 // `node "x": what`
			default:
				seen[name] = true
				continue
			}
			if start < last {
				continue
			}
			b.WriteString(msg[last:start])
			last = end
			continue
		}
		seen[name] = true
	}
	if last == 0 {
		return msg
	}
	b.WriteString(msg[last:])
	return b.String()
}

// truncateQuoted cuts every quoted string longer than maxQuoted bytes.
func truncateQuoted(msg string) string {
	if len(msg) <= maxQuoted {
		return msg
	}
	return quoted.ReplaceAllStringFunc(msg, func(q string) string {
		if len(q) <= maxQuoted {
			return q
		}
		s, err := strconv.Unquote(q)
		if err != nil {
			s = q[1 : len(q)-1]
		}
		return strconv.Quote(cutRunes(s, maxQuoted-20)+"…") + " (" + strconv.Itoa(len(s)) + " bytes)"
	})
}

// truncateLines cuts every line longer than maxLine bytes.
func truncateLines(msg string) string {
	if len(msg) <= maxLine {
		return msg
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if len(l) > maxLine {
			lines[i] = cutRunes(l, maxLine-30) + "… (line of " + strconv.Itoa(len(l)) + " bytes)"
		}
	}
	return strings.Join(lines, "\n")
}

// cutRunes returns the longest prefix of s of at most n bytes that ends on
// a rune boundary.
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// quoteValue quotes a value from outside (an --input value, a flag's
// argument) for a message, cut when long.
func quoteValue(s string) string { return truncateQuoted(strconv.Quote(s)) }

// article returns "a" or "an" for the word that follows it.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

// firstLine returns the first line of msg (a panic's stack follows it).
func firstLine(msg string) string {
	s, _, _ := strings.Cut(msg, "\n")
	return s
}
