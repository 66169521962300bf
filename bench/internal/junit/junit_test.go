package junit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.xml")
	cases := []Case{
		{Name: "x86_64 1024 MB: p95<500ms", Classname: "bench.tune"},
		{Name: "x86_64 2048 MB: p95<500ms", Classname: "bench.tune", Failure: &Failure{Message: "p95 is 612.00ms, threshold p95<500ms", Type: "threshold", Text: "detail <&>"}},
		{Name: "arm64 1024 MB warm", Classname: "bench.compare", Skipped: &Skipped{Message: "too few samples"}},
	}
	d := Document("bench", NewSuite("bench tune", cases))
	if err := d.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites name="bench" tests="3" failures="1" skipped="1">`,
		`<testsuite name="bench tune" tests="3" failures="1" errors="0" skipped="1"`, `<failure message="p95 is 612.00ms, threshold p95&lt;500ms" type="threshold">detail &lt;&amp;&gt;</failure>`,
		`<skipped message="too few samples"></skipped>`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %s:\n%s", want, b)
		}
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Suites) != 1 || len(got.Suites[0].Cases) != 3 || got.Suites[0].Cases[1].Failure == nil || got.Suites[0].Cases[1].Failure.Text != "detail <&>" {
		t.Fatalf("read back: %+v", got)
	}
}

func TestCheckPath(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		path, wantErr string
	}{
		{filepath.Join(dir, "r.xml"), ""},
		{dir, "is a folder"},
		{filepath.Join(dir, "none", "r.xml"), "does not exist"},
	}
	for _, tt := range tests {
		err := CheckPath(tt.path)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckPath(%s) = %v, want %q", tt.path, err, tt.wantErr)
		}
	}
}
