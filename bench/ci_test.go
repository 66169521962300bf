package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/junit"
	"lambdabench/bench/internal/threshold"
)

// readJUnit reads a --junit file and checks it is well-formed XML with
// the counts its test cases add up to.
func readJUnit(t *testing.T, path string) junit.Suites {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("%s is not well-formed XML: %v\n%s", path, err, b)
		}
	}
	d, err := junit.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Suites) != 1 {
		t.Fatalf("%d test suites, want 1:\n%s", len(d.Suites), b)
	}
	s := d.Suites[0]
	fails := 0
	for _, c := range s.Cases {
		if c.Failure != nil {
			fails++
			if c.Failure.Message == "" {
				t.Errorf("case %q: a failure without a message", c.Name)
			}
		}
		if c.Name == "" || c.Classname == "" {
			t.Errorf("case without name or classname: %+v", c)
		}
	}
	if s.Tests != len(s.Cases) || s.Failures != fails || d.Tests != s.Tests || d.Failures != fails {
		t.Fatalf("counts: suites %d/%d, suite %d/%d, cases %d, failed %d\n%s", d.Tests, d.Failures, s.Tests, s.Failures, len(s.Cases), fails, b)
	}
	return d
}

// A load run with a crossed k6-style threshold exits 99, writes a JUnit
// report with the failure in it and appends its summary, charts replaced
// by a note, to GITHUB_STEP_SUMMARY.
func TestLoadJUnitAndStepSummary(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	report := filepath.Join(dir, "junit.xml")
	summary := filepath.Join(dir, "step-summary.md")
	if err := os.WriteFile(summary, []byte("# Earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(stepSummaryVar, summary)
	out := filepath.Join(dir, "run")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	err := run(ctx, []string{"load", "--url", "api=" + srv.URL, "--rate", "0s:20,1s:20",
		"--threshold", "http_req_duration: ['p(95)<0.001', 'p(99)<10000']", "--threshold", "http_req_failed<0.01",
		"--junit", report, "--out", out}, &bytes.Buffer{}, &stderr)
	if !errors.Is(err, threshold.ErrCrossed) {
		t.Fatalf("load: %v, want a crossed threshold\n%s", err, stderr.String())
	}
	d := readJUnit(t, report)
	var failed, passed []string
	for _, c := range d.Suites[0].Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name)
		} else {
			passed = append(passed, c.Name)
		}
	}
	if strings.Join(failed, ";") != "load/api: http_req_duration:p(95)<0.001" ||
		strings.Join(passed, ";") != "load/api: http_req_duration:p(99)<10000;load/api: http_req_failed<0.01" {
		t.Fatalf("failed %q, passed %q", failed, passed)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	if !strings.HasPrefix(md, "# Earlier step\n") || !strings.Contains(md, "load") || strings.Contains(md, "![") ||
		!strings.Contains(md, "as an artifact") || !strings.Contains(md, filepath.Join(out, "load-load.png")) {
		t.Fatalf("step summary:\n%s", md)
	}
}

func TestCompareJUnitAndStepSummary(t *testing.T) {
	root := t.TempDir()
	old, slow := filepath.Join(root, "old"), filepath.Join(root, "slow")
	writeCompareMatrix(t, old, 10, 100, 1)
	writeCompareMatrix(t, slow, 10, 100, 1.5)
	summary := filepath.Join(root, "summary.md")
	t.Setenv(stepSummaryVar, summary)
	report := filepath.Join(root, "junit.xml")
	err := run(context.Background(), []string{"compare", old, slow, "--fail-on-regression", "5%", "--metric", "warm,init", "--junit", report}, &bytes.Buffer{}, &bytes.Buffer{})
	if code := exitCode(err, &bytes.Buffer{}); code != 99 {
		t.Fatalf("compare: exit %d (%v), want 99", code, err)
	}
	d := readJUnit(t, report)
	cases := d.Suites[0].Cases
	if len(cases) != 2 || cases[0].Name != "x86_64 1536 MB: warm" || cases[0].Failure == nil || !strings.Contains(cases[0].Failure.Message, "beyond the gate of 5%") {
		t.Fatalf("cases: %+v", cases)
	}
	if b, _ := os.ReadFile(summary); !strings.Contains(string(b), "# Comparison") || !strings.Contains(string(b), "regression") {
		t.Fatalf("step summary:\n%s", b)
	}
	// Without a gate there is nothing to report: refused before comparing.
	err = run(context.Background(), []string{"compare", old, slow, "--junit", report}, &bytes.Buffer{}, &bytes.Buffer{})
	if code := exitCode(err, &bytes.Buffer{}); code != 2 || !strings.Contains(err.Error(), "nothing to report") {
		t.Fatalf("--junit without --fail-on-regression: exit %d (%v), want 2", code, err)
	}
}

// --junit is refused before anything starts when it cannot be written or
// has nothing to report, on every verb that takes it.
func TestJUnitUsageErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-folder", "junit.xml")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"matrix", "--junit", "r.xml"}, "nothing to report"},
		{[]string{"matrix", "--threshold", "p(95)<500", "--junit", missing}, "does not exist"},
		{[]string{"tune", "--function", "f", "--junit", "r.xml"}, "nothing to report"},
		{[]string{"load", "--url", "http://127.0.0.1:1/", "--junit", "r.xml"}, "nothing to report"},
		{[]string{"hello", "--threshold", "p95<1s", "--junit", t.TempDir()}, "is a folder"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := run(context.Background(), tt.args, &bytes.Buffer{}, &bytes.Buffer{})
			if code := exitCode(err, &bytes.Buffer{}); code != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("exit %d (%v), want 2 and %q", code, err, tt.want)
			}
		})
	}
}
