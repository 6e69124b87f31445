package decisionlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// File names: records go to NAME.jsonl.open while the file is being
// written, and the file is fsynced and renamed to NAME.jsonl when it is
// closed. Readers list *.jsonl and never see a half-written file.
const (
	fileExt    = ".jsonl"
	openSuffix = ".open"
)

// FileSink writes records as JSON lines into files of a directory, rotated
// by size and age. Each Write appends whole lines and fsyncs before it
// returns. Opening a FileSink recovers the files a killed process left
// open: their last incomplete line (if any) is cut and they are renamed
// into place.
type FileSink struct {
	dir      string
	prefix   string
	maxBytes int64
	maxAge   time.Duration
	now      func() time.Time

	mu     sync.Mutex
	f      *os.File
	name   string // without openSuffix
	size   int64
	opened time.Time
	seq    int
}

// FileOption configures a [FileSink].
type FileOption func(*FileSink) error

// Rotate closes a file when it reaches maxBytes or has been open for
// maxAge (defaults: 64 MiB, 1 minute). A file closes after the write that
// reaches maxBytes, so it may exceed it by one batch.
func Rotate(maxBytes int64, maxAge time.Duration) FileOption {
	return func(s *FileSink) error {
		if maxBytes <= 0 || maxAge <= 0 {
			return fmt.Errorf("decisionlog: Rotate(%d, %v): both must be positive", maxBytes, maxAge)
		}
		s.maxBytes, s.maxAge = maxBytes, maxAge
		return nil
	}
}

// FilePrefix names the files PREFIX-TIME-SEQ.jsonl (default "decisions").
func FilePrefix(p string) FileOption {
	return func(s *FileSink) error {
		if p == "" || strings.ContainsAny(p, `/\`) {
			return fmt.Errorf("decisionlog: FilePrefix(%q): want a plain name", p)
		}
		s.prefix = p
		return nil
	}
}

// NewFileSink returns a sink writing into dir, which it creates if needed.
func NewFileSink(dir string, opts ...FileOption) (*FileSink, error) {
	s := &FileSink{dir: dir, prefix: "decisions", maxBytes: 64 << 20, maxAge: time.Minute, now: time.Now}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("decisionlog: file sink: %w", err)
	}
	if _, err := recoverOpenFiles(dir, s.prefix+"-"); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the sink's directory.
func (s *FileSink) Dir() string { return s.dir }

// Write implements [Sink]: it appends the batch to the current file and
// fsyncs it.
func (s *FileSink) Write(_ context.Context, batch []Entry) error {
	var buf bytes.Buffer
	for _, e := range batch {
		buf.Write(e.Line)
		buf.WriteByte('\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if err := s.append(buf.Bytes()); err != nil {
		return err
	}
	if s.size >= s.maxBytes || s.now().Sub(s.opened) >= s.maxAge {
		return s.rotate()
	}
	return nil
}

// append writes data and fsyncs; on failure it cuts the file back to its
// last whole line and closes it, so that no later line is glued to a
// partial one.
func (s *FileSink) append(data []byte) error {
	n, err := s.f.Write(data)
	if err == nil {
		err = s.f.Sync()
	}
	if err == nil {
		s.size += int64(n)
		return nil
	}
	werr := fmt.Errorf("decisionlog: writing %s: %w", s.name+openSuffix, err)
	_ = s.f.Truncate(s.size)
	return errors.Join(werr, s.rotate())
}

// Tick implements [Ticker]: it closes the current file once it is maxAge old.
func (s *FileSink) Tick(now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil && now.Sub(s.opened) >= s.maxAge {
		return s.rotate()
	}
	return nil
}

// Close implements [Sink]: it fsyncs the current file and renames it into place.
func (s *FileSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotate()
}

func (s *FileSink) open() error {
	now := s.now().UTC()
	s.seq++
	s.name = filepath.Join(s.dir, fmt.Sprintf("%s-%s-%06d%s", s.prefix, now.Format("20060102T150405.000000000Z"), s.seq, fileExt))
	f, err := os.OpenFile(s.name+openSuffix, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("decisionlog: file sink: %w", err)
	}
	s.f, s.size, s.opened = f, 0, now
	return nil
}

// rotate closes the current file, if any, and renames it into place.
func (s *FileSink) rotate() error {
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f = nil
	return closeInto(f, s.name+openSuffix, s.name, s.size == 0)
}

// closeInto fsyncs and closes f (open as from), and renames it to to (or
// removes it when empty), then fsyncs the directory.
func closeInto(f *os.File, from, to string, empty bool) error {
	errs := []error{f.Sync(), f.Close()}
	if empty {
		errs = append(errs, os.Remove(from))
	} else {
		errs = append(errs, os.Rename(from, to))
	}
	errs = append(errs, syncDir(filepath.Dir(to)))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("decisionlog: closing %s: %w", to, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// recoverOpenFiles closes the files with prefix a killed process left open
// in dir: it cuts each after its last newline, fsyncs it and renames it into
// place. It returns how many bytes of incomplete lines it cut.
func recoverOpenFiles(dir, prefix string) (int64, error) {
	names, err := filepath.Glob(filepath.Join(dir, prefix+"*"+fileExt+openSuffix))
	if err != nil {
		return 0, fmt.Errorf("decisionlog: recovering %s: %w", dir, err)
	}
	slices.Sort(names)
	var cut int64
	var errs []error
	for _, name := range names {
		n, err := recoverOpenFile(name)
		cut += n
		errs = append(errs, err)
	}
	return cut, errors.Join(errs...)
}

func recoverOpenFile(name string) (int64, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("decisionlog: recovering %s: %w", name, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return 0, fmt.Errorf("decisionlog: recovering %s: %w", name, err)
	}
	keep := int64(bytes.LastIndexByte(data, '\n') + 1)
	if err := f.Truncate(keep); err != nil {
		f.Close()
		return 0, fmt.Errorf("decisionlog: recovering %s: %w", name, err)
	}
	return int64(len(data)) - keep, closeInto(f, name, strings.TrimSuffix(name, openSuffix), keep == 0)
}
