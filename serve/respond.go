package serve

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// ErrorAnswer is the body of every error answer.
type ErrorAnswer struct {
	// Error says what is wrong.
	Error string `json:"error"`
	// Field names the input (or the row, in a batch) at fault, if any.
	Field string `json:"field,omitempty"`
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON writes v as the JSON body of an answer with the given status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		code = http.StatusInternalServerError
		_ = json.NewEncoder(buf).Encode(ErrorAnswer{Error: "encoding the answer: " + err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes()) // the client went away: nothing to do
	if buf.Cap() <= 64<<10 {
		bufPool.Put(buf)
	}
}

func writeError(w http.ResponseWriter, code int, field, msg string) {
	writeJSON(w, code, ErrorAnswer{Error: msg, Field: field})
}
