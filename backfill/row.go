package backfill

import (
	"errors"
	"fmt"
)

// Row is one row of a source.
type Row struct {
	// N is the row's position in its source, counted from 1: the data line
	// of a JSON-lines or CSV file, the row of a Parquet file.
	N int64
	// Columns holds the row's values by column name.
	Columns map[string]any
}

// ErrMissingColumn is the cause of a row that lacks a column an input needs.
var ErrMissingColumn = errors.New("missing column")

// RowError is the cause of a row that went to the dead letters: the row, and
// the column (an input) or node (a target) concerned, if one is.
type RowError struct {
	// Row is the row's position in its source, counted from 1.
	Row int64
	// Column names the column or target node concerned; empty when the
	// cause is the row as a whole (a line that is not JSON).
	Column string
	// Err is the cause.
	Err error
}

// Error returns "row N: column "C": cause".
func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %v", e.Row, e.Err)
	}
	return fmt.Sprintf("row %d: column %q: %v", e.Row, e.Column, e.Err)
}

// Unwrap returns the cause.
func (e *RowError) Unwrap() error { return e.Err }

// DeadLetter is a row that failed, with its cause (a *RowError, or several
// joined). Row.Columns is nil when the row could not be read at all.
type DeadLetter struct {
	Row   Row
	Cause error
}
