package backfill

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxLine is the longest line a JSON-lines or CSV source reads; a longer one
// ends the backfill with an error.
const MaxLine = 16 << 20

// JSONLSource reads JSON lines from r, one object per line; name is the file
// name used in causes. A line that is not a JSON object becomes a dead letter
// naming its line; blank lines are skipped. Row.N is the line number.
func JSONLSource(r io.Reader, name string) Source {
	return func(yield func(Row, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
		var line int64
		for sc.Scan() {
			line++
			b := sc.Bytes()
			if len(trimSpace(b)) == 0 {
				continue
			}
			var cols map[string]any
			if err := json.Unmarshal(b, &cols); err != nil || cols == nil {
				if err == nil {
					err = errors.New("null")
				}
				if !yield(Row{N: line}, &RowError{Row: line, Err: fmt.Errorf("%s:%d: not a JSON object: %w", name, line, err)}) {
					return
				}
				continue
			}
			if !yield(Row{N: line, Columns: cols}, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(Row{N: line + 1}, fmt.Errorf("%s:%d: %w", name, line+1, err))
		}
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// JSONLWriter writes output rows, or dead letters, as JSON lines. It is both
// a Sink and a DeadLetterSink; call Flush when done.
type JSONLWriter struct {
	w *bufio.Writer
}

// NewJSONLWriter returns a JSONLWriter writing to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes o's Fields as one JSON object (keys sorted).
func (j *JSONLWriter) Write(o Output) error {
	b, err := MarshalOutput(o)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = j.w.Write(b)
	return err
}

// deadLetterJSON is a dead letter as written.
type deadLetterJSON struct {
	Row     int64          `json:"row"`
	Error   string         `json:"error"`
	Columns map[string]any `json:"columns,omitempty"`
}

// WriteDeadLetter writes {"row": N, "error": "...", "columns": {...}}.
func (j *JSONLWriter) WriteDeadLetter(d DeadLetter) error {
	b, err := MarshalDeadLetter(d)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = j.w.Write(b)
	return err
}

// Flush writes what is buffered.
func (j *JSONLWriter) Flush() error { return j.w.Flush() }

// MarshalOutput returns o as the JSON object a JSONLWriter writes (no newline).
func MarshalOutput(o Output) ([]byte, error) { return json.Marshal(o.Fields()) }

// MarshalDeadLetter returns d as the JSON object a JSONLWriter writes for a
// dead letter (no newline); a column that cannot be encoded (NaN...) drops the
// columns, never the dead letter.
func MarshalDeadLetter(d DeadLetter) ([]byte, error) {
	msg := ""
	if d.Cause != nil {
		msg = d.Cause.Error()
	}
	b, err := json.Marshal(deadLetterJSON{Row: d.Row.N, Error: msg, Columns: d.Row.Columns})
	if err != nil {
		b, err = json.Marshal(deadLetterJSON{Row: d.Row.N, Error: msg})
	}
	return b, err
}
