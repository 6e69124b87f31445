package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/viz"
)

// Output conventions of every command:
//
//   - a command writes nothing to disk unless asked (demo alone has a
//     default directory): one file is asked for with -o FILE (or a flag
//     named for what the file is, such as run --record FILE), several with
//     --out-dir DIR;
//   - output paths are checked before the work starts (outputFlag.open,
//     outDirFlag.check), so a bad path fails fast with nothing printed as a
//     success; files are written whole or not at all (written beside, then
//     renamed);
//   - "wrote PATH" lines go to stderr, so stdout carries only the
//     command's answer (JSON with --format json);
//   - JSON durations are milliseconds as float64, in fields named *_ms
//     (durationMS); non-finite floats in values are the strings "NaN",
//     "+Inf" and "-Inf" (jsonSafe), since JSON has no such numbers.

// outputFlag is a flag naming one output file: -o FILE.
type outputFlag struct{ path string }

// addOutputFlag defines -o FILE on fs.
func addOutputFlag(fs *flag.FlagSet, usage string) *outputFlag {
	o := &outputFlag{}
	fs.StringVar(&o.path, "o", "", usage)
	return o
}

// outputFile is a file being written: a temporary file beside path, renamed
// to path by commit, removed by abort.
type outputFile struct {
	path string
	tmp  *os.File
}

// createOutput starts writing path: it fails now when path's directory
// does not exist or cannot be written.
func createOutput(path string) (*outputFile, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return &outputFile{path: path, tmp: tmp}, nil
}

// commit writes what render produces and puts the file in place.
func (o *outputFile) commit(render func(io.Writer) error) error {
	if err := render(o.tmp); err != nil {
		o.abort()
		return fmt.Errorf("writing %s: %w", o.path, err)
	}
	if err := o.tmp.Chmod(0o644); err != nil {
		o.abort()
		return fmt.Errorf("writing %s: %w", o.path, err)
	}
	if err := o.tmp.Close(); err != nil {
		os.Remove(o.tmp.Name())
		return fmt.Errorf("writing %s: %w", o.path, err)
	}
	if err := os.Rename(o.tmp.Name(), o.path); err != nil {
		os.Remove(o.tmp.Name())
		return fmt.Errorf("writing %s: %w", o.path, err)
	}
	return nil
}

// abort drops the file; it is a no-op after commit.
func (o *outputFile) abort() {
	if o == nil {
		return
	}
	o.tmp.Close()
	os.Remove(o.tmp.Name())
}

// outDirFlag is a flag naming an output directory: --out-dir DIR.
type outDirFlag struct{ dir string }

// addOutDirFlag defines --out-dir DIR on fs, with a default (demo's) or "".
func addOutDirFlag(fs *flag.FlagSet, def, usage string) *outDirFlag {
	o := &outDirFlag{}
	fs.StringVar(&o.dir, "out-dir", def, usage)
	return o
}

// check creates the directory if needed and checks that files can be
// created in it; it does nothing when no directory was asked for.
func (o *outDirFlag) check() error {
	if o.dir == "" {
		return nil
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return fmt.Errorf("--out-dir: %w", err)
	}
	f, err := os.CreateTemp(o.dir, ".featgraph-check*")
	if err != nil {
		return fmt.Errorf("--out-dir: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// writePictures writes every picture of a recorded run into dir and says
// which on stderr.
func writePictures(ctx context.Context, e *env, dir string, rec *executor.Record, g *graph.Graph) error {
	written, err := viz.WriteAll(ctx, dir, rec, g)
	for _, p := range written.Files {
		fmt.Fprintf(e.stderr, "wrote %s\n", p)
	}
	if written.NoGraphviz {
		fmt.Fprintf(e.stderr, "note: Graphviz's dot is not on PATH, so no %s or %s (apt-get install graphviz)\n", viz.FileGraphSVG, viz.FileRunSVG)
	}
	if err != nil {
		return fmt.Errorf("writing pictures: %w", err)
	}
	return nil
}

// durationMS is the one unit of durations in the CLI's JSON: milliseconds,
// as a float, in fields named *_ms.
func durationMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// writeJSON writes v as indented JSON, with non-finite floats as strings.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonSafe returns v with every NaN or infinite float (at any depth of maps,
// slices, arrays and pointers) replaced by "NaN", "+Inf" or "-Inf", which
// encoding/json cannot write as numbers. Other values are returned as they
// are; v itself is not changed.
func jsonSafe(v any) any {
	if v == nil {
		return nil
	}
	out, changed := safeValue(reflect.ValueOf(v), 0)
	if !changed {
		return v
	}
	return out
}

// maxJSONDepth bounds the walk of jsonSafe (values from the outside may
// nest deeply; encoding/json bounds its own depth too).
const maxJSONDepth = 1000

func safeValue(v reflect.Value, depth int) (any, bool) {
	if depth > maxJSONDepth {
		return nil, false
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "NaN", true
		case math.IsInf(f, 1):
			return "+Inf", true
		case math.IsInf(f, -1):
			return "-Inf", true
		}
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			return safeValue(v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			break // nil, or []byte (base64)
		}
		var out []any
		for i := range v.Len() {
			e, changed := safeValue(v.Index(i), depth+1)
			if changed && out == nil {
				out = make([]any, v.Len())
				for j := range i {
					out[j] = v.Index(j).Interface()
				}
			}
			if out != nil {
				out[i] = e
			}
		}
		if out != nil {
			return out, true
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			break
		}
		var out map[string]any
		iter := v.MapRange()
		for iter.Next() {
			if e, changed := safeValue(iter.Value(), depth+1); changed {
				if out == nil {
					out = make(map[string]any, v.Len())
				}
				out[iter.Key().String()] = e
			}
		}
		if out != nil {
			iter := v.MapRange()
			for iter.Next() {
				if _, done := out[iter.Key().String()]; !done {
					out[iter.Key().String()] = iter.Value().Interface()
				}
			}
			return out, true
		}
	}
	if !v.CanInterface() {
		return nil, false
	}
	return v.Interface(), false
}
