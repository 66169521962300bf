package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveIfEmptyRemovesWhatWasCreated(t *testing.T) {
	tests := []struct {
		name  string
		extra string // a file written under the root before the cleanup ("" none)
		gone  []string
		kept  []string
	}{
		{"every folder created is removed", "", []string{"bench-results/run", "bench-results"}, []string{"."}},
		{"a parent holding another run stays", "bench-results/other", []string{"bench-results/run"}, []string{"bench-results"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			out := filepath.Join(root, "bench-results", "run")
			created := firstMissing(out)
			if created != filepath.Join(root, "bench-results") {
				t.Fatalf("firstMissing = %q", created)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.extra != "" {
				if err := os.WriteFile(filepath.Join(root, tt.extra), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			removeIfEmpty(out, created)
			for _, g := range tt.gone {
				if _, err := os.Stat(filepath.Join(root, g)); !os.IsNotExist(err) {
					t.Errorf("%s still there", g)
				}
			}
			for _, k := range tt.kept {
				if _, err := os.Stat(filepath.Join(root, k)); err != nil {
					t.Errorf("%s removed: %v", k, err)
				}
			}
		})
	}
	if got := firstMissing(t.TempDir()); got != "" {
		t.Errorf("firstMissing of an existing folder = %q, want none", got)
	}
}
