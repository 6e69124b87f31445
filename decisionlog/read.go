package decisionlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// maxLine bounds one record line when reading (16 MiB).
const maxLine = 16 << 20

// LineError is a line of a log file that is not a record.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Files returns the closed record files of dir (*.jsonl, not the spill), oldest first.
func Files(dir string) ([]string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"+fileExt))
	if err != nil {
		return nil, fmt.Errorf("decisionlog: listing %s: %w", dir, err)
	}
	slices.Sort(names)
	return names, nil
}

// ReadFile calls fn for every record of a JSON-lines file, in order. A line
// that is not a record stops the read with a *[LineError] naming file and
// line; an error of fn stops it too.
func ReadFile(name string, fn func(*Record) error) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("decisionlog: %w", err)
	}
	defer f.Close()
	_, err = readLines(f, name, 0, true, fn, nil)
	return err
}

// ScanFile is [ReadFile] for a reader that goes on past bad lines: it calls
// fn for every record and bad for every line that is not one (with a
// *[LineError] naming file and line), in file order. An error of fn or bad
// stops the read, as does one opening or reading the file.
func ScanFile(name string, fn func(*Record) error, bad func(*LineError) error) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("decisionlog: %w", err)
	}
	defer f.Close()
	_, err = readLines(f, name, 0, true, fn, bad)
	return err
}

// ReadDir calls fn for every record of every closed file of dir, oldest
// file first.
func ReadDir(dir string, fn func(*Record) error) error {
	names, err := Files(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := ReadFile(n, fn); err != nil {
			return err
		}
	}
	return nil
}

// readLines reads whole lines of r from line number first, and returns the
// bytes of whole lines read. With final false, a last line with no newline
// is left for later (a file still being written). A line that is not a
// record goes to bad when bad is not nil, else it stops the read.
func readLines(r io.Reader, name string, first int, final bool, fn func(*Record) error, bad func(*LineError) error) (int64, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var n int64
	line := first
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			var long bytes.Buffer
			long.Write(b)
			for errors.Is(err, bufio.ErrBufferFull) && long.Len() <= maxLine {
				b, err = br.ReadSlice('\n')
				long.Write(b)
			}
			if long.Len() > maxLine {
				lerr := &LineError{File: name, Line: line + 1, Err: fmt.Errorf("longer than %d bytes", maxLine)}
				if bad == nil {
					return n, lerr
				}
				// Skip to the end of the line and go on.
				n += int64(long.Len())
				for errors.Is(err, bufio.ErrBufferFull) {
					b, err = br.ReadSlice('\n')
					n += int64(len(b))
				}
				line++
				if berr := bad(lerr); berr != nil {
					return n, berr
				}
				if err == io.EOF {
					return n, nil
				}
				if err != nil {
					return n, fmt.Errorf("decisionlog: reading %s: %w", name, err)
				}
				continue
			}
			b = long.Bytes()
		}
		complete := len(b) > 0 && b[len(b)-1] == '\n'
		if len(b) > 0 && (complete || final) {
			line++
			n += int64(len(b))
			rec, uerr := Unmarshal(bytes.TrimSuffix(b, []byte{'\n'}))
			switch {
			case uerr == nil:
				if ferr := fn(rec); ferr != nil {
					return n, ferr
				}
			case bad == nil:
				return n, &LineError{File: name, Line: line, Err: uerr}
			default:
				if berr := bad(&LineError{File: name, Line: line, Err: uerr}); berr != nil {
					return n, berr
				}
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("decisionlog: reading %s: %w", name, err)
		}
	}
}

// Follow calls fn for every record of dir as it arrives, until ctx ends:
// the records of the closed files first, then, every poll interval, the
// whole lines newly written to files still open (NAME.jsonl.open) and to
// files closed since. A record is given once even when its file is renamed
// into place between two polls.
func Follow(ctx context.Context, dir string, poll time.Duration, fn func(*Record) error) error {
	type progress struct {
		off   int64
		lines int
	}
	seen := map[string]*progress{} // by final name
	for {
		names, err := filepath.Glob(filepath.Join(dir, "*"+fileExt))
		if err != nil {
			return fmt.Errorf("decisionlog: %w", err)
		}
		open, _ := filepath.Glob(filepath.Join(dir, "*"+fileExt+openSuffix))
		all := append(names, open...)
		slices.SortFunc(all, func(a, b string) int {
			return strings.Compare(strings.TrimSuffix(a, openSuffix), strings.TrimSuffix(b, openSuffix))
		})
		for _, name := range all {
			final := !strings.HasSuffix(name, openSuffix)
			key := strings.TrimSuffix(name, openSuffix)
			p := seen[key]
			if p == nil {
				p = &progress{}
				seen[key] = p
			}
			if p.off < 0 {
				continue // read to its end once closed
			}
			f, err := os.Open(name)
			if err != nil {
				continue // renamed under us: found under its new name next time
			}
			_, err = f.Seek(p.off, io.SeekStart)
			if err == nil {
				var n int64
				counted := func(rec *Record) error { p.lines++; return fn(rec) }
				n, err = readLines(f, key, p.lines, final, counted, nil)
				p.off += n
			}
			f.Close()
			if err != nil {
				return err
			}
			if final {
				p.off = -1
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}
