package backfill

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/featgraph/featgraph/spec"
)

// CSVSource reads a CSV file with a header line from r; name is the file name
// used in causes. A cell of a column in types is read as that type (numbers
// and booleans as Go parses them, objects and lists as JSON): a cell that is
// not becomes a dead letter naming the row and column; other cells are
// strings. A record with the wrong number of fields is a dead letter too.
// Row.N counts data records from 1.
func CSVSource(r io.Reader, name string, types map[string]spec.Type) Source {
	return func(yield func(Row, error) bool) {
		cr := csv.NewReader(r)
		cr.ReuseRecord = true
		header, err := cr.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			yield(Row{}, fmt.Errorf("%s: header: %w", name, err))
			return
		}
		header = append([]string(nil), header...)
		cr.FieldsPerRecord = len(header)
		var n int64
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			n++
			var pe *csv.ParseError
			if err != nil {
				if !errors.As(err, &pe) {
					yield(Row{N: n}, fmt.Errorf("%s: %w", name, err))
					return
				}
				if !yield(Row{N: n}, &RowError{Row: n, Err: fmt.Errorf("%s: %w", name, err)}) {
					return
				}
				continue
			}
			cols := make(map[string]any, len(header))
			var errs []error
			for i, cell := range rec {
				t, ok := types[header[i]]
				if !ok || t == spec.TypeString {
					cols[header[i]] = cell
					continue
				}
				v, err := t.ParseValue(cell)
				if err != nil {
					line, col := cr.FieldPos(i)
					errs = append(errs, &RowError{Row: n, Column: header[i], Err: fmt.Errorf("%s:%d:%d: %q is not a %s: %w", name, line, col, excerpt(cell), t, err)})
					cols[header[i]] = cell
					continue
				}
				cols[header[i]] = v
			}
			var rowErr error
			if len(errs) > 0 {
				rowErr = errors.Join(errs...)
			}
			if !yield(Row{N: n, Columns: cols}, rowErr) {
				return
			}
		}
	}
}

// CSVHeader reads the header line of a CSV file.
func CSVHeader(r io.Reader) ([]string, error) {
	h, err := csv.NewReader(r).Read()
	if err != nil {
		return nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	return h, nil
}

// excerpt cuts a hostile cell to a length fit for an error.
func excerpt(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
