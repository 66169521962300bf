// Package results owns the results folder every verb writes (samples.csv as it happens, then
// summary.json, summary.md and charts): creating it without overwriting an earlier run, and
// reading samples.csv back so that a run killed mid-write loses at most its torn last line while
// any other damage is reported with its line number.
package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// SamplesFile is the name of the samples file in a results folder.
const SamplesFile = "samples.csv"

// ErrExists is returned by Prepare for a folder that already holds a run.
var ErrExists = errors.New("already holds a run")

// Prepare makes dir ready to receive a new run before anything starts: it creates it (and its
// parents), checks that it is writable, and refuses a folder that already holds a run
// (samples.csv or summary.json, also in matrix/ or load/ of a suite folder) unless force is set,
// in which case it removes that run's files — and only those — first.
func Prepare(dir string, force bool) error {
	if dir == "" {
		return errors.New("results folder: empty path")
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("results folder %s: exists and is not a folder", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results folder %s: %w", unwrapPath(err), err)
	}
	if held := runFiles(dir); len(held) > 0 {
		if !force {
			return fmt.Errorf("results folder %s %w (%s): choose another --out, or add --force to replace it",
				dir, ErrExists, strings.Join(rel(dir, held), ", "))
		}
		for _, p := range held {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("results folder %s: replace: %w", dir, err)
			}
		}
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("results folder %s: not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func unwrapPath(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path
	}
	return "?"
}

// runFiles lists the files of an earlier run in dir: what a run writes (samples, summaries,
// index, concurrency timeline, charts) at its top level and in a suite folder's matrix/ and
// load/. A folder with charts alone holds no run: nil.
func runFiles(dir string) []string {
	var out, more []string // the run's own files first: they name it in the error
	run := false
	for _, d := range []string{dir, filepath.Join(dir, "matrix"), filepath.Join(dir, "load")} {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			n := e.Name()
			switch {
			case e.IsDir():
			case n == SamplesFile, n == "summary.json", n == "index.md":
				run = true
				out = append(out, filepath.Join(d, n))
			case n == "summary.md", n == "concurrency.csv", n == "host.csv", n == "generators.json", n == "per_second.csv",
				n == "summary.json.damaged", n == "tune-journal.json", n == "original-code.zip", strings.HasSuffix(n, ".png"):
				more = append(more, filepath.Join(d, n))
			}
		}
	}
	if !run {
		return nil
	}
	return append(out, more...)
}

func rel(dir string, paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		r, err := filepath.Rel(dir, p)
		if err != nil {
			r = p
		}
		out = append(out, r)
		if len(out) == 3 && len(paths) > 3 {
			out = append(out, fmt.Sprintf("and %d more", len(paths)-3))
			break
		}
	}
	return out
}

// Torn describes a last line cut off by a run that was killed while writing it.
type Torn struct {
	Line  int // its line number (1-based)
	Bytes int // how much of it was written
}

// Warning is the line to show the user about a torn last line.
func (t *Torn) Warning(path string) string {
	return fmt.Sprintf("warning: %s: line %d was cut off (%d bytes) by a run that was killed while writing it; skipped", path, t.Line, t.Bytes)
}

// ReadSamples reads a samples file whole and returns its complete lines: a last line without
// its newline — what a run killed mid-write leaves — is cut off and described in torn (nil when
// the file is whole). Every writer of samples.csv ends each record with a newline, so any other
// damage stays in the data for the CSV reader to report with its line number.
func ReadSamples(path string) (data []byte, torn *Torn, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(data) == 0 || data[len(data)-1] == '\n' {
		return data, nil, nil
	}
	cut := bytes.LastIndexByte(data, '\n') + 1
	torn = &Torn{Line: bytes.Count(data[:cut], []byte{'\n'}) + 1, Bytes: len(data) - cut}
	return data[:cut], torn, nil
}

// OpenSamples is ReadSamples as a reader.
func OpenSamples(path string) (io.Reader, *Torn, error) {
	data, torn, err := ReadSamples(path)
	if err != nil {
		return nil, nil, err
	}
	return bytes.NewReader(data), torn, nil
}

// DamagedError is a results file that cannot be read for damage other than a
// torn last line (a bad line, a missing field): bad input, reported with exit
// status 2, and nothing in the folder is rewritten.
type DamagedError struct {
	Path string // the file
	Err  error  // what is wrong, with its line number
}

func (e *DamagedError) Error() string { return e.Path + ": " + e.Err.Error() }

func (e *DamagedError) Unwrap() error { return e.Err }

// WriteFileAtomic writes a file through a temporary one, so that an
// interrupted write never leaves half a summary.
func WriteFileAtomic(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	if err := fill(bw); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
