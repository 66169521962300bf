package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/threshold"
)

// writeCompareMatrix writes a matrix samples.csv with n warm invocations per
// memory size at base ms (+1 ms each), scaled by factor.
func writeCompareMatrix(t *testing.T, dir string, n int, base, factor float64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := matrix.NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, mem := range []int{1536, 2048} {
		for i := range n {
			d := (base + float64(i) + float64(mem)/1000) * factor
			s := matrix.Sample{Time: t0, Function: "f", Arch: "x86_64", MemoryMB: mem, Workers: 1, VCPUs: 1, Kind: matrix.KindWarm,
				Seq: i + 1, OK: true, RoundTripMs: d + 2, DurationMs: d, BilledMs: math.Ceil(d), InitMs: math.NaN(), MaxMemoryMB: 30,
				HandlerMs: math.NaN(), Processed: math.NaN(), HandlerWork: math.NaN(), DetectedCPUs: math.NaN(), Gomaxprocs: math.NaN(),
				ThreadsUsed: math.NaN(), CPUMs: math.NaN(), Parallelism: math.NaN(), MemoryUsedKB: math.NaN()}
			if err := w.Write(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "samples.csv"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompareVerb(t *testing.T) {
	root := t.TempDir()
	old, same, slow := filepath.Join(root, "old"), filepath.Join(root, "same"), filepath.Join(root, "slow")
	writeCompareMatrix(t, old, 10, 100, 1)
	writeCompareMatrix(t, same, 10, 100, 1)
	writeCompareMatrix(t, slow, 10, 100, 1.5)
	loadDir := filepath.Join(root, "load")
	if err := os.MkdirAll(loadDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(loadDir, "samples.csv"), []byte("time,scenario,query,endpoint,model,stages,stage,vus,rate,elapsed_ms,status,latency_ms,error,cold,concurrent\n"+
		"2026-11-01T00:00:00.000000Z,fast-io,delay_ms=100,default-128,closed,1s:1,1,1,,0.000,200,101.000,,false,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Two suite folders: matrix/ and load/ inside.
	loadCSV, err := os.ReadFile(filepath.Join(loadDir, "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	suite1, suite2 := filepath.Join(root, "suite1"), filepath.Join(root, "suite2")
	for _, s := range []string{suite1, suite2} {
		writeCompareMatrix(t, filepath.Join(s, "matrix"), 10, 100, 1)
		if err := os.MkdirAll(filepath.Join(s, "load"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s, "load", "samples.csv"), loadCSV, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	noSamples := filepath.Join(root, "nothing")
	if err := os.MkdirAll(noSamples, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "out")

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		err    string // substring of the error
	}{
		{"identical", []string{old, same}, 0, "~ (p=1.000 n=10)", ""},
		{"slower, no gate", []string{old, slow}, 0, "+49.", ""},
		{"slower, gate 5%", []string{old, slow, "--fail-on-regression", "5%"}, 99, "REGRESSION", "2 significant regression(s) beyond 5%"},
		{"slower, gate 60%", []string{"--fail-on-regression", "60%", old, slow}, 0, "passed", ""},
		{"gate on cost", []string{old, slow, "--fail-on-regression", "5", "--metric", "cost"}, 99, "cost per 1M", "cost"},
		{"markdown", []string{old, slow, "--format", "md"}, 0, "| x86_64 1536 MB |", ""},
		{"json", []string{old, slow, "--format", "json"}, 0, `"regressions": null`, ""},
		{"out", []string{old, slow, "--out", out}, 0, "x86_64 2048 MB", ""},
		{"out again", []string{old, same, "--out", out}, 2, "", "already holds a comparison"},
		{"out again, forced", []string{old, slow, "--out", out, "--force"}, 0, "x86_64 2048 MB", ""},
		{"different kinds", []string{old, loadDir}, 2, "", "cannot compare a matrix folder"},
		{"suites", []string{suite1, suite2}, 0, "Load: " + filepath.Join(suite1, "load"), ""},
		{"suite and matrix", []string{suite1, old}, 2, "", "cannot compare a matrix+load folder"},
		{"no samples.csv", []string{old, noSamples}, 2, "", "has no samples.csv"},
		{"one folder", []string{old}, 2, "", "want two results folders"},
		{"bad format", []string{old, same, "--format", "html"}, 2, "", "--format"},
		{"bad percentage", []string{old, same, "--fail-on-regression", "lots"}, 2, "", "--fail-on-regression"},
		{"bad alpha", []string{old, same, "--alpha", "0"}, 2, "", "--alpha"},
		{"metric of another kind", []string{old, same, "--metric", "latency"}, 2, "", `metric "latency"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"compare"}, tt.args...), &stdout, &stderr)
			if code := exitCode(err, &stderr); code != tt.code {
				t.Errorf("exit %d (err %v), want %d", code, err, tt.code)
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout.String())
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("err %v, want %q", err, tt.err)
			}
			if tt.code == 2 && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("bad input gave more than one line:\n%s", stderr.String())
			}
			if tt.code == 2 && stdout.Len() > 0 {
				t.Errorf("bad input printed a comparison:\n%s", stdout.String())
			}
		})
	}
	for _, f := range []string{"compare.txt", "compare.md", "compare.json", "compare-matrix-warm.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("--out: %v", err)
		}
	}
	var js struct{ Parts []json.RawMessage }
	b, _ := os.ReadFile(filepath.Join(out, "compare.json"))
	if err := json.Unmarshal(b, &js); err != nil || len(js.Parts) != 1 {
		t.Errorf("compare.json: %v", err)
	}
}

// TestCompareFailuresNeverImprove runs the real load and compare verbs: an
// old run of successful requests against a new run whose requests all
// fail — answered fast with HTTP 500, or refused — must fail the gate
// (exit 99) with the error rate named, never read as faster.
func TestCompareFailuresNeverImprove(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(10 * time.Millisecond)
		_, _ = w.Write([]byte("ok"))
	}))
	defer ok.Close()
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer fail.Close()
	// A port nothing listens on: every connection is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/"
	l.Close()

	root := t.TempDir()
	loadRun := func(name, url string) string {
		dir := filepath.Join(root, name)
		var stdout, stderr bytes.Buffer
		err := run(testContext(t, time.Minute), []string{"load", "--url", "api=" + url, "--rate", "0s:20,2s:20", "--timeout", "2s", "--no-charts", "--out", dir}, &stdout, &stderr)
		if err != nil && !errors.Is(err, load.ErrAllFailed) {
			t.Fatalf("load %s: %v\n%s", name, err, stderr.String())
		}
		return dir
	}
	old := loadRun("old", ok.URL+"/")
	for _, tt := range []struct{ name, url string }{{"http-500", fail.URL + "/"}, {"refused", refused}} {
		t.Run(tt.name, func(t *testing.T) {
			newDir := loadRun(tt.name, tt.url)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"compare", old, newDir, "--fail-on-regression", "5%"}, &stdout, &stderr)
			if !errors.Is(err, threshold.ErrCrossed) || exitCode(err, io.Discard) != threshold.ExitCode {
				t.Fatalf("compare: %v, want exit %d\n%s", err, threshold.ExitCode, stdout.String())
			}
			if !strings.Contains(err.Error(), "load api errors") {
				t.Errorf("the gate does not name the error-rate row: %v", err)
			}
			if strings.Contains(stdout.String(), "-9") && !strings.Contains(stdout.String(), "no successful samples") {
				t.Errorf("a failed run reads as faster:\n%s", stdout.String())
			}
		})
	}
}
