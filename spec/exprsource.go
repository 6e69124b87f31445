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
	// (!!!x, - - x, not not x): both make the parser recurse.
	depth, prefix := 0, 0
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		if quote != 0 {
			switch {
			case c == '\\' && quote != '`':
				i++
			case c == quote:
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'', '`':
			quote, prefix = c, 0
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth, prefix = max(depth-1, 0), 0
		case '!', '-', '+', '~':
			prefix++
		case ' ', '\t', '\n', '\r':
		case 'n':
			if i+3 <= len(src) && src[i:i+3] == "not" && (i+3 == len(src) || !identChar(src[i+3])) && (i == 0 || !identChar(src[i-1])) {
				prefix++
				i += 2
				break
			}
			prefix = 0
		default:
			prefix = 0
		}
		if depth+prefix > l.ExprDepth {
			return i, fmt.Sprintf("nested more than %d deep", l.ExprDepth)
		}
	}
	return 0, ""
}

func identChar(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
