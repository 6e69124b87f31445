package cache

import (
	"encoding/json"
	"errors"
	"reflect"
)

// Codec turns cached values into bytes for Redis and back.
type Codec interface {
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into a value of type typ (the node's type).
	Unmarshal(data []byte, typ reflect.Type) (any, error)
}

// JSON is the default Codec: encoding/json, so values keep their exported
// fields only.
type JSON struct{}

// Marshal encodes v as JSON.
func (JSON) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes JSON data into a new value of type typ.
func (JSON) Unmarshal(data []byte, typ reflect.Type) (any, error) {
	if typ == nil {
		return nil, errors.New("cache: node has no declared type")
	}
	p := reflect.New(typ)
	if err := json.Unmarshal(data, p.Interface()); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}
