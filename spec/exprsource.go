package spec

import "fmt"

// checkSource checks an expression's size and nesting before the expression
// parser (which recurses once per level) sees it: 500,000 nested
// parentheses would overflow its stack, a fatal error no recover catches.
// It returns the byte offset of the problem and what it is, or "" when
// the source is within l.
func checkSource(src string, l *Limits) (int, string) {
	if len(src) > l.ExprSize {
		return 0, fmt.Sprintf("%d bytes long, more than the limit of %d", len(src), l.ExprSize)
	}
	// Nesting is counted over brackets, and over runs of prefix operators
	// (!!!x, - - x, not not x): both make the parser recurse. An operator
	// right after an operand (a - b, a not in b) is binary: it does not nest.
	depth, prefix := 0, 0
	operand := false
	var quote byte
	for i := 0; i < len(src); i++ {
		c, at := src[i], i
		if quote != 0 {
			switch {
			case c == '\\' && quote != '`':
				i++
			case c == quote:
				quote, operand = 0, true
			}
			continue
		}
		switch {
		case c == '"' || c == '\'' || c == '`':
			quote, prefix = c, 0
		case c == '(' || c == '[' || c == '{':
			depth, prefix, operand = depth+1, 0, false
		case c == ')' || c == ']' || c == '}':
			depth, prefix, operand = max(depth-1, 0), 0, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '!' || c == '-' || c == '+' || c == '~':
			if operand {
				operand = false
			} else {
				prefix++
			}
		case isWord(src, i, "not"):
			if operand {
				operand = false
			} else {
				prefix++
			}
			i += 2
		case identChar(c) || c == '.' || c == '#':
			prefix, operand = 0, true
		default: // other operators: the next operand starts afresh
			prefix, operand = 0, false
		}
		if depth+prefix > l.ExprDepth {
			return at, fmt.Sprintf("nested more than %d deep", l.ExprDepth)
		}
	}
	return 0, ""
}

// isWord reports whether the word w starts at src[i], not as part of a
// longer identifier.
func isWord(src string, i int, w string) bool {
	j := i + len(w)
	return j <= len(src) && src[i:j] == w && (j == len(src) || !identChar(src[j])) && (i == 0 || !identChar(src[i-1]))
}

func identChar(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
