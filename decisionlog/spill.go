package decisionlog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

const spillPrefix = "spill-"

// spiller keeps the records a sink could not take in JSON-lines files of a
// directory, up to a size, until they are sent again. Records are written
// with one write(2) per call, so that they survive the process being killed.
type spiller struct {
	dir string
	max int64

	mu      sync.Mutex
	f       *os.File
	name    string // of the current file, without openSuffix
	size    int64  // of the current file
	dirty   bool   // written since the last fsync
	total   int64  // bytes in the directory: pending files and the current one
	pending []string
	seq     int
}

// newSpiller recovers the spill files of dir left by an earlier process;
// the directory is made when a record first spills.
func newSpiller(dir string, max int64) (*spiller, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("decisionlog: spill directory %s is not a directory", dir)
	}
	if _, err := recoverOpenFiles(dir, spillPrefix); err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(dir, spillPrefix+"*"+fileExt))
	if err != nil {
		return nil, fmt.Errorf("decisionlog: spill directory: %w", err)
	}
	slices.Sort(names)
	s := &spiller{dir: dir, max: max, pending: names}
	for _, n := range names {
		if fi, err := os.Stat(n); err == nil {
			s.total += fi.Size()
		}
	}
	return s, nil
}

// add writes the entries that fit under the size bound and returns how
// many it wrote; the rest are for the caller to drop.
func (s *spiller) add(entries []Entry) (int, error) {
	var buf bytes.Buffer
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range entries {
		if s.total+int64(buf.Len()+len(e.Line)+1) > s.max {
			break
		}
		buf.Write(e.Line)
		buf.WriteByte('\n')
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if s.f == nil {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return 0, fmt.Errorf("decisionlog: spill directory: %w", err)
		}
		s.seq++
		s.name = filepath.Join(s.dir, fmt.Sprintf("%s%s-%06d%s", spillPrefix, time.Now().UTC().Format("20060102T150405.000000000Z"), s.seq, fileExt))
		f, err := os.OpenFile(s.name+openSuffix, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
		if err != nil {
			return 0, fmt.Errorf("decisionlog: spilling: %w", err)
		}
		s.f, s.size = f, 0
	}
	w, err := s.f.Write(buf.Bytes())
	s.size += int64(w)
	s.total += int64(w)
	s.dirty = true
	if err != nil {
		_ = s.f.Truncate(s.size - int64(w))
		s.size -= int64(w)
		s.total -= int64(w)
		return 0, fmt.Errorf("decisionlog: spilling: %w", err)
	}
	return n, nil
}

// sync fsyncs the current file if it was written since the last sync.
func (s *spiller) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil || !s.dirty {
		return nil
	}
	s.dirty = false
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("decisionlog: spilling: %w", err)
	}
	return nil
}

// seal closes the current file into the pending list.
func (s *spiller) seal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f, s.dirty = nil, false
	if err := closeInto(f, s.name+openSuffix, s.name, s.size == 0); err != nil {
		return err
	}
	if s.size > 0 {
		s.pending = append(s.pending, s.name)
	}
	return nil
}

// hasData reports whether records wait in the spill directory.
func (s *spiller) hasData() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) > 0 || s.size > 0
}

// oldest returns the oldest pending file.
func (s *spiller) oldest() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return "", false
	}
	return s.pending[0], true
}

// remove deletes a pending file whose records were all sent.
func (s *spiller) remove(name string) error {
	fi, statErr := os.Stat(name)
	if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("decisionlog: spill: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if statErr == nil {
		s.total -= fi.Size()
	}
	s.pending = slices.DeleteFunc(s.pending, func(n string) bool { return n == name })
	return nil
}

// close fsyncs and seals the current file.
func (s *spiller) close() error { return s.seal() }
