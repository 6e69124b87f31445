package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Type is the type of a spec value: the type of an input, or of a node's result.
type Type uint8

// The spec types and the Go types that carry them at run time.
const (
	// TypeAny is a value whose shape is not declared: interface{}.
	TypeAny Type = iota
	// TypeString is a Go string.
	TypeString
	// TypeInt is a Go int.
	TypeInt
	// TypeFloat is a Go float64.
	TypeFloat
	// TypeBool is a Go bool.
	TypeBool
	// TypeObject is a JSON object: map[string]any.
	TypeObject
	// TypeList is a JSON array: []any.
	TypeList
)

var typeNames = [...]string{"any", "string", "int", "float", "bool", "object", "list"}

var goTypes = [...]reflect.Type{
	TypeAny:    reflect.TypeFor[any](),
	TypeString: reflect.TypeFor[string](),
	TypeInt:    reflect.TypeFor[int](),
	TypeFloat:  reflect.TypeFor[float64](),
	TypeBool:   reflect.TypeFor[bool](),
	TypeObject: reflect.TypeFor[map[string]any](),
	TypeList:   reflect.TypeFor[[]any](),
}

// String returns the name of the type as written in a spec.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType is the inverse of [Type.String].
func ParseType(s string) (Type, error) {
	for i, name := range typeNames {
		if name == s {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("unknown type %q (want one of %s)", s, strings.Join(typeNames[:], ", "))
}

// GoType returns the Go type of values of t.
func (t Type) GoType() reflect.Type {
	if int(t) < len(goTypes) {
		return goTypes[t]
	}
	return goTypes[TypeAny]
}

// TypeOf returns the spec type whose Go type is rt, and false when no spec
// type fits (a Go struct, say), in which case a written spec says any.
func TypeOf(rt reflect.Type) (Type, bool) {
	for i, gt := range goTypes {
		if gt == rt {
			return Type(i), true
		}
	}
	return TypeAny, rt == nil
}

// accepts reports whether a value declared as u may flow where t is wanted:
// the same type, or either side undeclared (checked when the value arrives).
func (t Type) accepts(u Type) bool { return t == u || t == TypeAny || u == TypeAny }

// Convert returns v as a value of type t: JSON numbers become int or float,
// a whole float becomes an int, and nested values are left as they are. It
// fails when v does not fit t.
func (t Type) Convert(v any) (any, error) {
	switch t {
	case TypeAny:
		return v, nil
	case TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case TypeInt:
		switch n := v.(type) {
		case int:
			return n, nil
		case int64:
			return int(n), nil
		case uint64:
			if n <= math.MaxInt64 {
				return int(n), nil
			}
		case float64:
			if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
				return int(n), nil
			}
		case json.Number:
			if i, err := n.Int64(); err == nil {
				return int(i), nil
			}
		}
	case TypeFloat:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int:
			return float64(n), nil
		case int64:
			return float64(n), nil
		case uint64:
			return float64(n), nil
		case json.Number:
			if f, err := n.Float64(); err == nil {
				return f, nil
			}
		}
	case TypeBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case TypeObject:
		switch m := v.(type) {
		case map[string]any:
			return m, nil
		case nil:
			return map[string]any(nil), nil
		}
	case TypeList:
		switch l := v.(type) {
		case []any:
			return l, nil
		case nil:
			return []any(nil), nil
		}
	}
	return nil, fmt.Errorf("%s is not %s", describe(v), t.a())
}

// a returns the type's name with its article: "an int", "a string".
func (t Type) a() string {
	if name := t.String(); strings.IndexByte("aeiou", name[0]) >= 0 {
		return "an " + name
	}
	return "a " + t.String()
}

// ParseValue reads a command-line value of type t: numbers and booleans as
// Go parses them, objects, lists and any as JSON, strings as they are.
func (t Type) ParseValue(s string) (any, error) {
	switch t {
	case TypeString:
		return s, nil
	case TypeInt:
		return strconv.Atoi(s)
	case TypeFloat:
		return strconv.ParseFloat(s, 64)
	case TypeBool:
		return strconv.ParseBool(s)
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		if t == TypeAny {
			return s, nil
		}
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return t.Convert(v)
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", v)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T %v", v, v)
}
