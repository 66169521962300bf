package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	spec     = filepath.Join("..", "..", "..", "node_modules", "@aws-cdk", "aws-service-spec", "db.json.gz")
	fixtures = filepath.Join("..", "..", "internal", "templatecheck", "testdata")
)

func TestRun(t *testing.T) {
	if _, err := os.Stat(spec); err != nil {
		t.Fatalf("%v (run `make node_modules` at the repository root)", err)
	}
	dir := t.TempDir()
	copyFixture := func(name, as string) {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, as), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFixture("good.json", "Good.template.json")

	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"clean assembly", []string{"-spec", spec, dir}, 0, "ok    Good.template.json (14 resources)"},
		{"bad template", []string{"-spec", spec, filepath.Join(fixtures, "spec-disallowed-value.json")}, 1, "[spec/disallowed-value]"},
		{"no arguments", nil, 2, ""},
		{"missing specification", []string{"-spec", filepath.Join(dir, "nope.json.gz"), dir}, 2, ""},
		{"empty assembly", []string{"-spec", spec, t.TempDir()}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.out) {
				t.Errorf("stdout %q does not contain %q", &stdout, tt.out)
			}
		})
	}
}
