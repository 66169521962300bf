package results

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPrepare(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		force   bool
		wantErr error
		kept    []string // files that must survive
		gone    []string // files that must be removed
	}{
		{name: "new folder"},
		{name: "empty folder", files: map[string]string{}},
		{name: "unrelated files stay", files: map[string]string{"notes.txt": "x"}, kept: []string{"notes.txt"}},
		{name: "charts alone are no run", files: map[string]string{"a.png": "x"}, kept: []string{"a.png"}},
		{name: "a run is refused", files: map[string]string{"samples.csv": "h\n", "summary.md": "x", "old.png": "x"},
			wantErr: ErrExists, kept: []string{"samples.csv", "summary.md", "old.png"}},
		{name: "a summary alone is a run", files: map[string]string{"summary.json": "{}"}, wantErr: ErrExists},
		{name: "a suite folder is refused", files: map[string]string{"index.md": "x", "matrix/samples.csv": "h\n"}, wantErr: ErrExists},
		{name: "force replaces the run's files only", force: true,
			files: map[string]string{"samples.csv": "h\n", "summary.md": "x", "old.png": "x", "notes.txt": "x", "load/samples.csv": "h\n", "load/concurrency.csv": "x",
				"host.csv": "x", "generators.json": "{}", "per_second.csv": "x", "tune-journal.json": "{}"},
			kept: []string{"notes.txt"}, gone: []string{"samples.csv", "summary.md", "old.png", "load/samples.csv", "load/concurrency.csv",
				"host.csv", "generators.json", "per_second.csv", "tune-journal.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if tt.files != nil {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for n, c := range tt.files {
				write(t, filepath.Join(dir, n), c)
			}
			err := Prepare(dir, tt.force)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Prepare: %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "--force") {
				t.Errorf("the refusal does not say how to replace: %v", err)
			}
			for _, n := range tt.kept {
				if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
					t.Errorf("%s was removed", n)
				}
			}
			for _, n := range tt.gone {
				if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
					t.Errorf("%s was kept", n)
				}
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				t.Errorf("folder not created: %v", err)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".write-check") {
					t.Errorf("left %s behind", e.Name())
				}
			}
		})
	}
}

func TestPrepareRefusesWhatCannotHoldResults(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	write(t, file, "x")
	if err := Prepare(file, false); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a file as --out: %v", err)
	}
	if err := Prepare(filepath.Join(file, "sub"), false); err == nil {
		t.Error("a folder under a file: no error")
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := Prepare(ro, false); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("a read-only folder: %v", err)
		}
	}
}

func TestReadSamples(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		want     string
		tornLine int
		tornLen  int
	}{
		{"empty", "", "", 0, 0},
		{"whole", "a,b\n1,2\n3,4\n", "a,b\n1,2\n3,4\n", 0, 0},
		{"torn last line", "a,b\n1,2\n3,", "a,b\n1,2\n", 3, 2},
		{"torn header", "a,", "", 1, 2},
		// Damage in the middle is not a torn line: it stays for the CSV reader to report.
		{"bad middle line", "a,b\n1,2,3\n3,4\n", "a,b\n1,2,3\n3,4\n", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), SamplesFile)
			write(t, p, tt.content)
			data, torn, err := ReadSamples(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.want {
				t.Errorf("data %q, want %q", data, tt.want)
			}
			switch {
			case tt.tornLine == 0 && torn != nil:
				t.Errorf("torn = %+v, want none", torn)
			case tt.tornLine != 0 && (torn == nil || torn.Line != tt.tornLine || torn.Bytes != tt.tornLen):
				t.Errorf("torn = %+v, want line %d, %d bytes", torn, tt.tornLine, tt.tornLen)
			case torn != nil && !strings.Contains(torn.Warning(p), "line "):
				t.Errorf("warning %q", torn.Warning(p))
			}
		})
	}
	if _, _, err := ReadSamples(filepath.Join(t.TempDir(), "missing.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestPrepareNamesTheRunFirst(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.png", "b.png", "c.png", "cost.png", "samples.csv", "summary.json"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := Prepare(dir, false)
	if err == nil || !strings.Contains(err.Error(), "(samples.csv, summary.json, a.png, and 3 more)") {
		t.Fatalf("err = %v, want the samples and summary named first", err)
	}
}
