package fetchers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// DecodeJSON decodes body into a T. The error wraps ErrNotJSON (empty
// body, garbage, trailing data), ErrTruncated (JSON cut short) or
// ErrWrongShape (valid JSON that does not fit T, or null where T cannot be
// nil), and says where. Unknown object fields are ignored, so that an
// upstream may add fields.
func DecodeJSON[T any](body []byte) (T, error) {
	var v T
	trimmed := bytes.Trim(body, " \t\r\n") // JSON's whitespace, not Unicode's
	if len(trimmed) == 0 {
		return v, fmt.Errorf("%w: empty body", ErrNotJSON)
	}
	if bytes.Equal(trimmed, []byte("null")) && !nilable(reflect.TypeFor[T]()) {
		return v, fmt.Errorf("%w: null, want %v", ErrWrongShape, reflect.TypeFor[T]())
	}
	if err := json.Unmarshal(trimmed, &v); err != nil {
		return v, classifyJSON(err)
	}
	return v, nil
}

func nilable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return true
	}
	return false
}

func classifyJSON(err error) error {
	var syntax *json.SyntaxError
	var shape *json.UnmarshalTypeError
	switch {
	case errors.Is(err, ErrWrongShape):
		return err
	case errors.As(err, &syntax) && syntax.Error() == "unexpected end of JSON input":
		return fmt.Errorf("%w: JSON ends early at byte %d", ErrTruncated, syntax.Offset)
	case errors.As(err, &syntax):
		return fmt.Errorf("%w: %v at byte %d", ErrNotJSON, syntax, syntax.Offset)
	case errors.As(err, &shape):
		where := shape.Field
		if where == "" {
			where = "top level"
		}
		return fmt.Errorf("%w: %s is a JSON %s, want %v", ErrWrongShape, where, shape.Value, shape.Type)
	}
	return fmt.Errorf("%w: %w", ErrWrongShape, err)
}
