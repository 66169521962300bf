package tune

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// JournalFile is the journal's name in the results folder.
const JournalFile = "tune-journal.json"

// OriginalCodeFile holds the function's code as found, when tune changes it.
const OriginalCodeFile = "original-code.zip"

// Journal records every change a tune run makes, before it makes it, so
// that `tune --cleanup DIR` can undo a run that died.
type Journal struct {
	RunID       string   `json:"run_id"`
	Function    string   `json:"function"` // as given (name or ARN)
	Target      string   `json:"target"`
	Region      string   `json:"region,omitempty"`
	Profile     string   `json:"profile,omitempty"`
	Endpoint    string   `json:"endpoint_url,omitempty"`
	Original    Original `json:"original"`
	CodeChanged bool     `json:"code_changed"`
	Versions    []string `json:"versions"`
	Aliases     []string `json:"aliases"`
	CleanedUp   bool     `json:"cleaned_up"`

	mu   sync.Mutex
	path string
}

// VersionDescription marks the versions of this run.
func (j *Journal) VersionDescription() string { return "bench tune " + j.RunID }

// Create writes a new journal into dir.
func Create(dir string, j *Journal) error {
	j.path = filepath.Join(dir, JournalFile)
	return j.write()
}

// Open reads the journal of a results folder.
func Open(dir string) (*Journal, error) {
	path := filepath.Join(dir, JournalFile)
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s has no %s: not the results folder of a tune run on AWS", dir, JournalFile)
		}
		return nil, fmt.Errorf("read journal: %w", err)
	}
	j := &Journal{}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", path, err)
	}
	if j.RunID == "" || j.Original.FunctionName == "" {
		return nil, fmt.Errorf("%s is damaged: no run id or function", path)
	}
	j.path = path
	return j, nil
}

// Update changes the journal and writes it to disk (atomically).
func (j *Journal) Update(change func(*Journal)) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	change(j)
	return j.writeLocked()
}

func (j *Journal) write() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.writeLocked()
}

func (j *Journal) writeLocked() error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("encode journal: %w", err)
	}
	tmp := j.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write journal: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}
