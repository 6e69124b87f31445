package cache

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// KeyFunc turns a node's dependency values (for an Each node: the one
// element) into the part of the cache key that tells them apart. Equal
// values must give equal keys; different values, different keys.
type KeyFunc func(args []any) (string, error)

// DefaultKey keys strings, booleans and numbers directly and any other value
// by its JSON encoding (struct fields in order, map keys sorted). A value
// that does not encode (a channel, a function, a cycle) makes the node run
// uncached; give such nodes their own [Key] function.
func DefaultKey(args []any) (string, error) {
	if len(args) == 1 {
		if s, ok := args[0].(string); ok {
			return strconv.Quote(s), nil
		}
	}
	var sb strings.Builder
	for i, a := range args {
		if i > 0 {
			sb.WriteByte(',')
		}
		switch v := a.(type) {
		case string:
			sb.WriteString(strconv.Quote(v))
		case int:
			sb.WriteString(strconv.Itoa(v))
		case int64:
			sb.WriteString(strconv.FormatInt(v, 10))
		case bool:
			sb.WriteString(strconv.FormatBool(v))
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return "", &KeyError{Index: i, Type: fmt.Sprintf("%T", a), Err: err}
			}
			sb.Write(b)
		}
	}
	return sb.String(), nil
}
