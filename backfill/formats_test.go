package backfill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/spec"
)

func TestCSVSourceTypesColumns(t *testing.T) {
	in := "id,amount,note\n" +
		"a,1,hello\n" +
		"b,x,\n" + // amount is not an int
		"c,2\n" + // wrong number of fields
		"\"d,3,quoted\n" // unterminated quote: the file ends in it
	var rows []backfill.Row
	var errs []error
	for row, err := range backfill.CSVSource(strings.NewReader(in), "rows.csv", map[string]spec.Type{"amount": spec.TypeInt}) {
		rows = append(rows, row)
		errs = append(errs, err)
	}
	if len(rows) < 3 {
		t.Fatalf("%d rows: %v", len(rows), errs)
	}
	if errs[0] != nil || rows[0].Columns["amount"] != 1 || rows[0].Columns["note"] != "hello" || rows[0].N != 1 {
		t.Fatalf("row 1: %v %v", rows[0], errs[0])
	}
	var re *backfill.RowError
	if !errors.As(errs[1], &re) || re.Row != 2 || re.Column != "amount" || !strings.Contains(errs[1].Error(), "rows.csv:3:") {
		t.Fatalf("row 2: %v: want a RowError for column amount at rows.csv:3", errs[1])
	}
	if !errors.As(errs[2], &re) || re.Row != 3 || !strings.Contains(errs[2].Error(), "wrong number of fields") {
		t.Fatalf("row 3: %v: want a RowError for the field count", errs[2])
	}
	for i, err := range errs[3:] {
		if err == nil {
			t.Fatalf("row %d of a broken quote: no error", i+4)
		}
	}
}

func TestJSONLWriter(t *testing.T) {
	var buf bytes.Buffer
	w := backfill.NewJSONLWriter(&buf)
	o := backfill.Output{
		Row:      backfill.Row{N: 1, Columns: map[string]any{"id": "a", "decision": "old"}},
		Values:   map[string]any{"decision": "approve"},
		Outcomes: map[string]executor.Outcome{"score": executor.OutcomeFallback},
	}
	if err := w.Write(o); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDeadLetter(backfill.DeadLetter{Row: backfill.Row{N: 7, Columns: map[string]any{"id": "b"}}, Cause: &backfill.RowError{Row: 7, Column: "amount", Err: backfill.ErrMissingColumn}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `{"decision":"approve","id":"a","outcome.score":"fallback"}
{"row":7,"error":"row 7: column \"amount\": missing column","columns":{"id":"b"}}
`
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestParquetRoundTrip(t *testing.T) {
	tg := newTestGraph(t)
	r := tg.runner(t, backfill.WithOutcomes())
	cols := r.Columns("extra", "id")
	var names []string
	for _, c := range cols {
		names = append(names, c.Name+":"+c.Type.String())
	}
	if got := strings.Join(names, " "); got != "id:string amount:int extra:any decision:string outcome.id:string outcome.amount:string outcome.score:string outcome.tier:string outcome.decision:string" {
		t.Fatalf("columns %s", got)
	}
	var buf bytes.Buffer
	pw, err := backfill.NewParquetWriter(&buf, cols)
	if err != nil {
		t.Fatal(err)
	}
	src := func(yield func(backfill.Row, error) bool) {
		for row := range rowsOf(10000) {
			if row.N == 3 {
				row.Columns["extra"] = map[string]any{"nested": []any{1.0, "two"}}
			}
			if !yield(row, nil) {
				return
			}
		}
	}
	st, err := r.Run(context.Background(), src, pw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Written != 10000 {
		t.Fatalf("%d written", st.Written)
	}
	data := buf.Bytes()
	got, rows, err := backfill.ParquetShape(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(got) != len(cols) || rows != 10000 {
		t.Fatalf("columns %v, %d rows, %v", got, rows, err)
	}
	n := 0
	for row, err := range backfill.ParquetSource(bytes.NewReader(data), int64(len(data)), "out.parquet") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if row.N != int64(n) {
			t.Fatalf("row %d numbered %d", n, row.N)
		}
		c := row.Columns
		if c["amount"] != n || c["outcome.score"] != "ok" {
			t.Fatalf("row %d: %v", n, c)
		}
		wantExtra := any("x")
		if n == 3 {
			wantExtra = map[string]any{"nested": []any{1.0, "two"}}
		}
		if a, b := mustJSON(t, c["extra"]), mustJSON(t, wantExtra); a != b {
			t.Fatalf("row %d extra %s, want %s", n, a, b)
		}
		if c["decision"] != expectedDecision(expectedScore(c["id"].(string)), n, "gold") {
			t.Fatalf("row %d decision %v", n, c["decision"])
		}
	}
	if n != 10000 {
		t.Fatalf("read %d rows back", n)
	}
}

func TestParquetSourceRejectsGarbage(t *testing.T) {
	data := []byte("PAR1 this is not a parquet file PAR1")
	var errs []error
	for _, err := range backfill.ParquetSource(bytes.NewReader(data), int64(len(data)), "junk.parquet") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || errs[0] == nil || !strings.Contains(errs[0].Error(), "junk.parquet") {
		t.Fatalf("errors %v: want one naming the file", errs)
	}
}

func TestParquetWriterNamesTheColumnOfABadValue(t *testing.T) {
	var buf bytes.Buffer
	pw, err := backfill.NewParquetWriter(&buf, []backfill.Column{{Name: "n", Type: spec.TypeInt}})
	if err != nil {
		t.Fatal(err)
	}
	err = pw.Write(backfill.Output{Values: map[string]any{"n": "seven"}})
	if err == nil || !strings.Contains(err.Error(), `column "n"`) {
		t.Fatalf("err %v: want one naming column n", err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := backfill.ParquetSchema([]backfill.Column{{Name: "a"}, {Name: "a"}}); err == nil {
		t.Fatal("a duplicate column: no error")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
