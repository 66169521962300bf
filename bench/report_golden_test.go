package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/report/golden")

// copyTree copies the fixture folder src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReportGolden rebuilds fixed results folders (testdata/report: a
// matrix folder, and a suite folder with matrix/ and load/) with report and
// compares what it writes byte for byte with testdata/report/golden.
// Refresh with: go test -run Golden -update.
func TestReportGolden(t *testing.T) {
	fixtures, err := filepath.Abs(filepath.Join("testdata", "report"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files []string
	}{
		{"matrix", []string{"summary.md", "summary.json"}},
		{"suite", []string{"index.md", "matrix/summary.md", "matrix/summary.json", "load/summary.md", "load/summary.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work := t.TempDir()
			copyTree(t, filepath.Join(fixtures, tt.name), filepath.Join(work, tt.name))
			// A relative folder, as users type it: index.md names it.
			t.Chdir(work)
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), []string{"report", tt.name}, &stdout, &stderr); err != nil {
				t.Fatalf("report: %v\n%s", err, stderr.String())
			}
			if stderr.Len() > 0 {
				t.Errorf("report warned on a whole folder:\n%s", stderr.String())
			}
			for _, f := range tt.files {
				got, err := os.ReadFile(filepath.Join(work, tt.name, f))
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join(fixtures, "golden", tt.name, f)
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (refresh with: go test -run Golden -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s/%s differs from %s (refresh with: go test -run Golden -update):\n%s", tt.name, f, golden, firstDiff(string(want), string(got)))
				}
			}
		})
	}
}

// firstDiff shows the first line where want and got differ.
func firstDiff(want, got string) string {
	wl, gl := bytes.Split([]byte(want), []byte("\n")), bytes.Split([]byte(got), []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return "(same lines, different bytes)"
}

// TestReportDamagedSamples: a torn last line is skipped with a warning and
// the rest rebuilt as if it were not there; a bad line in the middle is bad
// input (exit 2) naming the file and line, and nothing is rewritten.
func TestReportDamagedSamples(t *testing.T) {
	fixture := filepath.Join("testdata", "report", "matrix")
	golden, err := os.ReadFile(filepath.Join("testdata", "report", "golden", "matrix", "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile(filepath.Join(fixture, "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(csv, []byte("\n"))

	dir := filepath.Join(t.TempDir(), "torn")
	copyTree(t, fixture, dir)
	torn := append(bytes.Clone(csv), lines[3][:20]...)
	if err := os.WriteFile(filepath.Join(dir, "samples.csv"), torn, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("report with a torn last line: %v", err)
	}
	want := fmt.Sprintf("warning: %s: line %d was cut off (20 bytes)", filepath.Join(dir, "samples.csv"), len(lines))
	if !bytes.Contains(stderr.Bytes(), []byte(want)) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "summary.md")); !bytes.Equal(got, golden) {
		t.Errorf("rebuilt summary.md is not the one of the whole lines:\n%s", firstDiff(string(golden), string(got)))
	}

	dir = filepath.Join(t.TempDir(), "bad")
	copyTree(t, fixture, dir)
	bad := bytes.Join([][]byte{bytes.Join(lines[:4], nil), []byte("2026-11-29T23:28:27Z,\"oops\n"), bytes.Join(lines[4:], nil)}, nil)
	if err := os.WriteFile(filepath.Join(dir, "samples.csv"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	err = run(context.Background(), []string{"report", dir}, &bytes.Buffer{}, &bytes.Buffer{})
	if code := exitCode(err, &bytes.Buffer{}); code != 2 || err == nil || !bytes.Contains([]byte(err.Error()), []byte(filepath.Join(dir, "samples.csv")+": line 5")) {
		t.Fatalf("err = %v (exit %d), want exit 2 naming samples.csv line 5", err, code)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "summary.json")); !bytes.Equal(before, after) {
		t.Error("summary.json was rewritten from damaged samples")
	}
}

// TestReportWarnsOnStderr: the warning about a load folder's torn last line
// goes where the matrix's goes, to stderr, not into the report on stdout.
func TestReportWarnsOnStderr(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "load")
	copyTree(t, filepath.Join("testdata", "report", "suite", "load"), dir)
	f, err := os.OpenFile(filepath.Join(dir, "samples.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("2026-11-29T23:43:49Z,fast-io,del"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", dir}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(stderr.Bytes(), []byte("torn line")) || bytes.Contains(stdout.Bytes(), []byte("torn line")) {
		t.Errorf("warning not on stderr alone:\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}
}

// TestReportBenchfmtGolden prints the fixture folders in the Go benchmark
// format and compares the output byte for byte with
// testdata/report/golden/<name>/benchfmt.txt; the folder is left as it was.
// When benchstat is installed (go install
// golang.org/x/perf/cmd/benchstat@latest) it must read the output too.
func TestReportBenchfmtGolden(t *testing.T) {
	fixtures := filepath.Join("testdata", "report")
	for _, name := range []string{"matrix", "suite"} {
		t.Run(name, func(t *testing.T) {
			var stdout bytes.Buffer
			if err := run(context.Background(), []string{"report", "--format", "benchfmt", filepath.Join(fixtures, name)}, &stdout, io.Discard); err != nil {
				t.Fatalf("report --format benchfmt: %v", err)
			}
			golden := filepath.Join(fixtures, "golden", name, "benchfmt.txt")
			if *update {
				if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (refresh with: go test -run Golden -update)", err)
			}
			if !bytes.Equal(stdout.Bytes(), want) {
				t.Errorf("report --format benchfmt %s differs from %s (refresh with: go test -run Golden -update):\n%s", name, golden, firstDiff(string(want), stdout.String()))
			}
			bs, err := exec.LookPath("benchstat")
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, bs, golden, golden).CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("sec/op")) || !bytes.Contains(out, []byte("arch=x86_64/memory=1536")) {
				t.Fatalf("benchstat %s %s: %v\n%s", golden, golden, err, out)
			}
		})
	}
}

// report --format benchfmt refuses what it cannot print, before printing.
func TestReportBenchfmtUsageErrors(t *testing.T) {
	fixture := filepath.Join("testdata", "report", "matrix")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"report", "--format", "csv", fixture}, "the only format is benchfmt"},
		{[]string{"report", "--format", "benchfmt", "--prices", "p.json", fixture}, "--prices"},
		{[]string{"report", "--format", "benchfmt", filepath.Join(t.TempDir(), "none")}, "not found"},
		{[]string{"report", "--format", "benchfmt", t.TempDir()}, "no samples.csv"},
	}
	for _, tt := range tests {
		var stdout bytes.Buffer
		err := run(context.Background(), tt.args, &stdout, io.Discard)
		if code := exitCode(err, io.Discard); code != 2 || !strings.Contains(err.Error(), tt.want) || stdout.Len() > 0 {
			t.Errorf("%v: exit %d (%v), printed %d bytes; want 2 with %q", tt.args, code, err, stdout.Len(), tt.want)
		}
	}
}
