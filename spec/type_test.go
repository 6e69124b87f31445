package spec_test

import (
	"reflect"
	"testing"

	"github.com/featgraph/featgraph/spec"
)

func TestTypeParseValue(t *testing.T) {
	for _, tc := range []struct {
		typ  spec.Type
		in   string
		want any
		bad  bool
	}{
		{spec.TypeString, "a b", "a b", false},
		{spec.TypeInt, "42", 42, false},
		{spec.TypeInt, "4.5", nil, true},
		{spec.TypeFloat, "4.5", 4.5, false},
		{spec.TypeBool, "true", true, false},
		{spec.TypeBool, "yes", nil, true},
		{spec.TypeObject, `{"a": [1, 2]}`, map[string]any{"a": []any{1.0, 2.0}}, false},
		{spec.TypeObject, `[1]`, nil, true},
		{spec.TypeList, `["x"]`, []any{"x"}, false},
		{spec.TypeAny, `{"a": 1}`, map[string]any{"a": 1.0}, false},
		{spec.TypeAny, `not json`, "not json", false},
	} {
		got, err := tc.typ.ParseValue(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%v.ParseValue(%q) = %#v, %v", tc.typ, tc.in, got, err)
		}
	}
}

func TestTypeConvert(t *testing.T) {
	for _, tc := range []struct {
		typ  spec.Type
		in   any
		want any
		bad  bool
	}{
		{spec.TypeInt, 3.0, 3, false},
		{spec.TypeInt, 3.5, nil, true},
		{spec.TypeFloat, 3, 3.0, false},
		{spec.TypeString, 3, nil, true},
		{spec.TypeObject, nil, map[string]any(nil), false},
		{spec.TypeBool, "true", nil, true},
		{spec.TypeAny, struct{}{}, struct{}{}, false},
	} {
		got, err := tc.typ.Convert(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%v.Convert(%#v) = %#v, %v", tc.typ, tc.in, got, err)
		}
	}
	for _, name := range []string{"any", "string", "int", "float", "bool", "object", "list"} {
		typ, err := spec.ParseType(name)
		if err != nil || typ.String() != name {
			t.Errorf("ParseType(%q) = %v, %v", name, typ, err)
		}
		if back, ok := spec.TypeOf(typ.GoType()); !ok || back != typ {
			t.Errorf("TypeOf(%v) = %v, %v", typ.GoType(), back, ok)
		}
	}
}
