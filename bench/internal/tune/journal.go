package tune

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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
	// Applied is what --apply changed after the cleanup (nil: nothing).
	Applied *Applied `json:"applied,omitempty"`

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

// ErrDamaged is Open's error for a journal that exists but cannot be
// read: it may be the only record of what a run left on a function.
var ErrDamaged = errors.New("damaged journal")

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
		return nil, fmt.Errorf("%w: %s: %v%s", ErrDamaged, path, err, salvage(b))
	}
	if j.RunID == "" || j.Original.FunctionName == "" {
		return nil, fmt.Errorf("%w: %s: no run id or function%s", ErrDamaged, path, salvage(b))
	}
	j.path = path
	return j, nil
}

// journalField finds a string field of a journal in text that is not
// valid JSON (cut off, say): what can still be read of it.
var journalField = regexp.MustCompile(`"(run_id|function|function_name|region)"\s*:\s*"([^"]*)"`)

// salvage says what could be read of a damaged journal: its run id,
// function and region, and how many versions and aliases it lists.
func salvage(b []byte) string {
	var parts []string
	seen := map[string]bool{}
	for _, m := range journalField.FindAllSubmatch(b, -1) {
		k := string(m[1])
		if !seen[k] {
			seen[k] = true
			parts = append(parts, k+" "+strconv.Quote(string(m[2])))
		}
	}
	for _, list := range []string{"versions", "aliases"} {
		if i := bytes.Index(b, []byte(`"`+list+`"`)); i >= 0 {
			rest := b[i:]
			if end := bytes.IndexByte(rest, ']'); end >= 0 {
				rest = rest[:end]
			}
			parts = append(parts, fmt.Sprintf("%s listed: %d", list, bytes.Count(rest, []byte(`"`))/2-1))
		}
	}
	if len(parts) == 0 {
		return "; nothing of it could be read"
	}
	return "; what could be read: " + strings.Join(parts, ", ")
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
