package backfill

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/featgraph/featgraph/spec"
)

// ParquetSchema returns the Parquet schema of cols: every column optional,
// string as a UTF-8 string, int as INT64, float as DOUBLE, bool as BOOLEAN,
// and object, list and any as JSON text.
func ParquetSchema(cols []Column) (*parquet.Schema, error) {
	group := parquet.Group{}
	for _, c := range cols {
		if c.Name == "" {
			return nil, errors.New("backfill: a column without a name")
		}
		if _, dup := group[c.Name]; dup {
			return nil, fmt.Errorf("backfill: column %q twice", c.Name)
		}
		var n parquet.Node
		switch c.Type {
		case spec.TypeString:
			n = parquet.String()
		case spec.TypeInt:
			n = parquet.Int(64)
		case spec.TypeFloat:
			n = parquet.Leaf(parquet.DoubleType)
		case spec.TypeBool:
			n = parquet.Leaf(parquet.BooleanType)
		default:
			n = parquet.JSON()
		}
		group[c.Name] = parquet.Optional(n)
	}
	return parquet.NewSchema("featgraph", group), nil
}

// ParquetRowGroup is the number of rows of a Parquet row group the writer
// holds in memory before writing it out.
const ParquetRowGroup = 8192

// ParquetWriter writes output rows to a Parquet file whose schema comes from
// the columns given (see Runner.Columns). It is a Sink; call Close when done.
type ParquetWriter struct {
	w      *parquet.GenericWriter[any]
	cols   []Column // in the schema's leaf order
	row    parquet.Row
	buffer int
}

// NewParquetWriter returns a ParquetWriter of cols writing to w.
func NewParquetWriter(w io.Writer, cols []Column) (*ParquetWriter, error) {
	schema, err := ParquetSchema(cols)
	if err != nil {
		return nil, err
	}
	byName := map[string]Column{}
	for _, c := range cols {
		byName[c.Name] = c
	}
	pw := &ParquetWriter{w: parquet.NewGenericWriter[any](w, schema)}
	for _, path := range schema.Columns() {
		pw.cols = append(pw.cols, byName[path[0]])
	}
	return pw, nil
}

// Write writes o's Fields; a column o lacks, or whose value is nil, is null.
// A value that does not fit its column's type is an error naming the column.
func (p *ParquetWriter) Write(o Output) error {
	row := p.row[:0]
	for i, c := range p.cols {
		var v any
		var ok bool
		switch {
		case len(c.Name) > len(OutcomePrefix) && c.Name[:len(OutcomePrefix)] == OutcomePrefix && o.Outcomes != nil:
			var oc fmt.Stringer
			oc, ok = o.Outcomes[c.Name[len(OutcomePrefix):]]
			if ok {
				v = oc.String()
			}
		default:
			if v, ok = o.Values[c.Name]; !ok {
				v, ok = o.Row.Columns[c.Name]
			}
		}
		if !ok || v == nil {
			row = append(row, parquet.NullValue().Level(0, 0, i))
			continue
		}
		pv, err := parquetValue(c.Type, v)
		if err != nil {
			return fmt.Errorf("column %q: %w", c.Name, err)
		}
		row = append(row, pv.Level(0, 1, i))
	}
	p.row = row
	if _, err := p.w.WriteRows([]parquet.Row{row}); err != nil {
		return err
	}
	p.buffer++
	if p.buffer >= ParquetRowGroup {
		p.buffer = 0
		return p.w.Flush()
	}
	return nil
}

// Close writes the last row group and the file's footer.
func (p *ParquetWriter) Close() error { return p.w.Close() }

func parquetValue(t spec.Type, v any) (parquet.Value, error) {
	switch t {
	case spec.TypeString, spec.TypeInt, spec.TypeFloat, spec.TypeBool:
		cv, err := t.Convert(v)
		if err != nil {
			return parquet.Value{}, err
		}
		switch x := cv.(type) {
		case string:
			return parquet.ByteArrayValue([]byte(x)), nil
		case int:
			return parquet.Int64Value(int64(x)), nil
		case float64:
			return parquet.DoubleValue(x), nil
		case bool:
			return parquet.BooleanValue(x), nil
		}
		return parquet.Value{}, fmt.Errorf("no Parquet value for %T", cv)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return parquet.Value{}, err
	}
	return parquet.ByteArrayValue(b), nil
}

// ParquetSource reads the rows of a Parquet file of size bytes from r; name
// is the file name used in causes. The schema must be flat (no groups, no
// repeated columns). Integers become int, floating point float64, booleans
// bool, JSON columns their decoded value and other byte arrays strings. A
// JSON cell that does not decode makes its row a dead letter. Row.N counts
// rows from 1.
func ParquetSource(r io.ReaderAt, size int64, name string) Source {
	return func(yield func(Row, error) bool) {
		var n int64
		err := readParquet(r, size, name, func(row Row, err error) bool {
			n = row.N
			return yield(row, err)
		})
		if err != nil {
			yield(Row{N: n + 1}, err)
		}
	}
}

// ParquetShape returns the column names of a Parquet file, in schema order,
// and its number of rows.
func ParquetShape(r io.ReaderAt, size int64) (cols []string, rows int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reading Parquet: %v", p)
		}
	}()
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, 0, err
	}
	for _, path := range f.Schema().Columns() {
		cols = append(cols, path[0])
	}
	return cols, f.NumRows(), nil
}

// readParquet calls yield for every row; it returns an error that ends the
// source (an unreadable file, a schema that is not flat). The parquet
// library may panic on a corrupt file: that becomes an error too.
func readParquet(r io.ReaderAt, size int64, name string, yield func(Row, error) bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: corrupt Parquet file: %v", name, p)
		}
	}()
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	schema := f.Schema()
	type leaf struct {
		name string
		kind parquet.Kind
		json bool
	}
	var leaves []leaf
	for _, path := range schema.Columns() {
		lc, _ := schema.Lookup(path...)
		if len(path) != 1 || lc.MaxRepetitionLevel > 0 {
			return fmt.Errorf("%s: column %q: only flat schemas (no groups, no repeated columns) can be read", name, fmt.Sprint(path))
		}
		t := lc.Node.Type()
		lt := t.LogicalType()
		l := leaf{name: path[0], kind: t.Kind()}
		if lt != nil {
			switch lt.Value.(type) {
			case *format.JsonType:
				l.json = true
			}
		}
		leaves = append(leaves, l)
	}
	rd := parquet.NewGenericReader[any](f)
	defer rd.Close()
	buf := make([]parquet.Row, 256)
	var n int64
	for {
		k, rerr := rd.ReadRows(buf)
		for _, prow := range buf[:k] {
			n++
			cols := make(map[string]any, len(leaves))
			var errs []error
			for _, v := range prow {
				c := v.Column()
				if c < 0 || c >= len(leaves) || v.IsNull() {
					continue
				}
				l := leaves[c]
				switch l.kind {
				case parquet.Boolean:
					cols[l.name] = v.Boolean()
				case parquet.Int32, parquet.Int64:
					cols[l.name] = int(v.Int64())
				case parquet.Float:
					cols[l.name] = float64(v.Float())
				case parquet.Double:
					f := v.Double()
					if math.IsNaN(f) || math.IsInf(f, 0) {
						errs = append(errs, &RowError{Row: n, Column: l.name, Err: fmt.Errorf("%s: not a finite number", name)})
						continue
					}
					cols[l.name] = f
				case parquet.ByteArray, parquet.FixedLenByteArray:
					if l.json {
						var x any
						if err := json.Unmarshal(v.ByteArray(), &x); err != nil {
							errs = append(errs, &RowError{Row: n, Column: l.name, Err: fmt.Errorf("%s: not JSON: %w", name, err)})
							continue
						}
						cols[l.name] = x
					} else {
						cols[l.name] = string(v.ByteArray())
					}
				default:
					cols[l.name] = v.String()
				}
			}
			if !yield(Row{N: n, Columns: cols}, errors.Join(errs...)) {
				return nil
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: row %d: %w", name, n+1, rerr)
		}
	}
}
