package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/threshold"
	"lambdabench/bench/internal/tune"
)

// fastPayload keeps the bcrypt work of the CLI tests small.
const fastPayload = `{"count":2,"mode":"parallel","cost":4}`

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// functionBinary builds the real function once per test binary.
func functionBinary(t *testing.T) string {
	t.Helper()
	root, err := target.FindRepoRoot(".")
	if err != nil {
		t.Fatalf("the CLI tests run the real function: %v", err)
	}
	dir := t.TempDir()
	bin, err := target.BuildFunction(testContext(t, 3*time.Minute), root, runtime.GOARCH, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	// Copy it so that a concurrent `make function` cannot swap it mid-test.
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(out, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// readMatrixRun reads the summary.json and samples.csv of a matrix folder.
func readMatrixRun(t *testing.T, dir string) (matrix.Summary, []matrix.Sample) {
	t.Helper()
	sum, err := matrix.ReadSummary(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, err := matrix.ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	return sum, samples
}

func TestMatrixLocalEndToEnd(t *testing.T) {
	bin := functionBinary(t)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(testContext(t, 3*time.Minute), []string{"matrix", "--binary", bin, "--memory", "1536,4096", "--cold", "1", "--runs", "3",
		"--payload", fastPayload, "--strategy", "speed", "--out", dir}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("matrix: %v\n%s", err, stderr.String())
	}
	sum, samples := readMatrixRun(t, dir)
	// 2 measured configurations × (1 cold + 3 warm) + 2 skipped arm64 rows.
	if len(samples) != 10 {
		t.Fatalf("samples.csv has %d rows, want 10", len(samples))
	}
	again, err := matrix.Build(samples, sum.Meta, sum.Prices, sum.Partial)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Results) != len(sum.Results) || len(sum.Results) != 4 {
		t.Fatalf("summary has %d results, samples give %d", len(sum.Results), len(again.Results))
	}
	measured := 0
	for i, r := range sum.Results {
		if a := again.Results[i]; a.Warm != r.Warm || a.CostPerMillion != r.CostPerMillion {
			t.Errorf("summary.json disagrees with samples.csv for %s", r.Label())
		}
		if !r.Measured() {
			if r.Arch != "arm64" || r.Skip == "" {
				t.Errorf("%s not measured: %+v", r.Label(), r)
			}
			continue
		}
		measured++
		if r.Warm.N != 3 || r.ColdSeen != 1 || r.ColdInit.P50 <= 0 || r.Failures != 0 {
			t.Errorf("%s: %d warm, %d cold with init, %d failures", r.Label(), r.Warm.N, r.ColdSeen, r.Failures)
		}
		if r.CostPerMillion <= 0.2 || math.IsNaN(r.Speedup) {
			t.Errorf("%s: cost %v speedup %v", r.Label(), r.CostPerMillion, r.Speedup)
		}
	}
	if measured != 2 || sum.Verdict == nil || sum.Verdict.Strategy != "speed" {
		t.Fatalf("measured %d, verdict %+v", measured, sum.Verdict)
	}
	for _, name := range []string{"summary.md", matrix.ChartDurations, matrix.ChartSpeedup, matrix.ChartCost, matrix.ChartColdInit} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing: %v", name, err)
		}
	}
	if !strings.Contains(stdout.String(), "Verdict (speed)") {
		t.Errorf("no verdict printed:\n%s", stdout.String())
	}

	// report rebuilds the same summary from samples.csv alone.
	if err := os.Remove(filepath.Join(dir, "summary.md")); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"report", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("report: %v", err)
	}
	rebuilt, err := matrix.ReadSummary(filepath.Join(dir, "summary.json"))
	if err != nil || rebuilt.Verdict == nil || rebuilt.Verdict.Choice != sum.Verdict.Choice {
		t.Fatalf("rebuilt verdict %+v, %v; want %+v", rebuilt.Verdict, err, sum.Verdict)
	}
	if _, err := os.Stat(filepath.Join(dir, "summary.md")); err != nil {
		t.Errorf("report did not rewrite summary.md: %v", err)
	}
}

func TestMatrixEveryInvocationFails(t *testing.T) {
	// The example function answers every bcrypt request with an error.
	bin := exampleBinary(t)
	dir := t.TempDir()
	err := run(testContext(t, 2*time.Minute), []string{"matrix", "--binary", bin, "--memory", "1536", "--cold", "0", "--runs", "2",
		"--payload", fastPayload, "--out", dir}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no configuration was measured") || exitCode(err, &bytes.Buffer{}) != 1 {
		t.Fatalf("err = %v, want a failure naming the cause", err)
	}
	md, rerr := os.ReadFile(filepath.Join(dir, "summary.md"))
	if rerr != nil || !strings.Contains(string(md), "image is required") {
		t.Fatalf("summary.md should carry the function's error: %v\n%s", rerr, md)
	}
}

func TestMatrixThresholdExitCode(t *testing.T) {
	bin := functionBinary(t)
	dir := t.TempDir()
	report, summary := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "step-summary.md")
	t.Setenv(stepSummaryVar, summary)
	err := run(testContext(t, 2*time.Minute), []string{"matrix", "--binary", bin, "--memory", "2048", "--cold", "0", "--runs", "2",
		"--payload", fastPayload, "--threshold", "p50<0.001ms", "--threshold", "p(99)<60000", "--junit", report,
		"--out", filepath.Join(dir, "run")}, &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, threshold.ErrCrossed) {
		t.Fatalf("err = %v, want a crossed threshold", err)
	}
	if code := exitCode(err, &bytes.Buffer{}); code != 99 {
		t.Fatalf("exit code %d, want 99", code)
	}
	cases := readJUnit(t, report).Suites[0].Cases
	if len(cases) != 2 || cases[0].Failure == nil || cases[1].Failure != nil || !strings.Contains(cases[0].Failure.Message, "threshold p50<0.001ms") {
		t.Fatalf("JUnit cases: %+v", cases)
	}
	if b, _ := os.ReadFile(summary); !bytes.HasPrefix(b, []byte("# ")) {
		t.Fatalf("step summary:\n%s", b)
	}
}

// TestAWSTargetAgainstLocalEndpoint drives the aws code path — credentials
// from the environment, outputs from a cdk outputs file, the same SDK client
// — against the local Lambda's endpoint.
func TestAWSTargetAgainstLocalEndpoint(t *testing.T) {
	bin := functionBinary(t)
	ctx := testContext(t, 3*time.Minute)
	lt, err := target.StartLocal(ctx, target.LocalOptions{Binary: bin, Matrix: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lt.Close()
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	if err := writeOutputsFile(outputs, lt.Outputs); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	dir := t.TempDir()
	var stderr bytes.Buffer
	err = run(ctx, []string{"matrix", "--target", "aws", "--region", "us-east-1", "--outputs-file", outputs,
		"--endpoint-url", lt.Server.InvokeEndpoint(), "--memory", "1536", "--cold", "1", "--runs", "2", "--payload", fastPayload, "--out", dir},
		&bytes.Buffer{}, &stderr)
	if err != nil {
		t.Fatalf("matrix --target aws: %v\n%s", err, stderr.String())
	}
	sum, err := matrix.ReadSummary(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got *matrix.Result
	for i := range sum.Results {
		if sum.Results[i].Measured() {
			got = &sum.Results[i]
		}
	}
	if sum.Meta.Target != "aws" || got == nil || got.Function != "go-bench-x86-1vcpu-1536mb" || got.ColdSeen != 1 || got.Warm.N != 2 {
		t.Fatalf("aws target run: %+v", sum.Results)
	}

	// A stack the outputs file lacks is a clear error.
	err = run(ctx, []string{"matrix", "--target", "aws", "--region", "us-east-1", "--outputs-file", outputs, "--stack", "Nope",
		"--endpoint-url", lt.Server.InvokeEndpoint(), "--out", t.TempDir()}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "has no stack Nope") {
		t.Fatalf("missing stack: %v", err)
	}
}

func TestSmokeAndBurstLocal(t *testing.T) {
	bin := functionBinary(t)
	ctx := testContext(t, 3*time.Minute)
	var stdout bytes.Buffer
	if err := run(ctx, []string{"smoke", "--binary", bin, "--warm", "1"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatalf("smoke: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "smoke: 42 passed, 0 failed") {
		t.Errorf("smoke summary:\n%s", stdout.String())
	}
	stdout.Reset()
	if err := run(ctx, []string{"burst", "--binary", bin, "--count", "6", "--runs", "1", "--cost", "4", "--memory", "4096"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatalf("burst: %v\n%s", err, stdout.String())
	}
	for _, want := range []string{"sequential #1", "parallel   #1", "speedup", "threads used: 1 sequential"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("burst output lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestSuiteQuick(t *testing.T) {
	bin := functionBinary(t)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(testContext(t, 4*time.Minute), []string{"--quick", "--binary", bin, "--out", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("suite: %v\n%s", err, stderr.String())
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"matrix/summary.md", "load/summary.md", "matrix/speedup.png", "load/load-low-cpu.png"} {
		if !strings.Contains(string(index), want) {
			t.Errorf("index.md lacks %s:\n%s", want, index)
		}
	}
	for _, want := range []string{"Matrix (warm duration", "Load fast-io", "Load low-cpu", "Report: ", "(saturated "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("suite output lacks %q:\n%s", want, stdout.String())
		}
	}
	// The whole suite folder rebuilds from its samples.
	if err := run(context.Background(), []string{"report", dir}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatalf("report of a suite folder: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	// held is a results folder holding a run; journal one whose tune run on
	// AWS has not restored its function yet.
	held, journal := t.TempDir(), t.TempDir()
	for _, d := range []string{held, journal} {
		if err := os.WriteFile(filepath.Join(d, "samples.csv"), []byte("time\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := tune.Create(journal, &tune.Journal{RunID: "r1", Target: "aws", Original: tune.Original{FunctionName: "thumb"}}); err != nil {
		t.Fatal(err)
	}
	badPrices := filepath.Join(t.TempDir(), "prices.json")
	if err := os.WriteFile(badPrices, []byte(`{"arm64":`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"nope"}, `unknown command "nope"`, 2},
		{[]string{"matrix", "--target", "gcp"}, "use local or aws", 2},
		{[]string{"matrix", "--runs", "0", "--cold", "0"}, "not both 0", 2},
		{[]string{"matrix", "--memory", "64"}, "between 128 and 10240", 2},
		{[]string{"matrix", "--arch", "sparc"}, "--arch", 2},
		{[]string{"matrix", "--strategy", "fastest"}, "unknown strategy", 2},
		{[]string{"matrix", "--strategy", "balanced:2"}, "between 0 and 1", 2},
		{[]string{"matrix", "--threshold", "p95<soon"}, "not a duration", 2},
		{[]string{"matrix", "--target", "local", "--binary", "/nonexistent/bootstrap"}, "--binary /nonexistent/bootstrap: no such file", 2},
		{[]string{"tune", "--target", "local", "--binary", "/nonexistent/bootstrap"}, "--binary /nonexistent/bootstrap: no such file", 2},
		{[]string{"suite", "--binary", "/nonexistent/bootstrap"}, "--binary /nonexistent/bootstrap: no such file", 2},
		{[]string{"serve", "--binary", "/nonexistent/bootstrap"}, "--binary /nonexistent/bootstrap: no such file", 2},
		{[]string{"smoke", "--binary", "/nonexistent/bootstrap"}, "--binary /nonexistent/bootstrap: no such file", 2},
		{[]string{"burst", "--binary", "/nonexistent/bootstrap"}, "--binary /nonexistent/bootstrap: no such file", 2},
		{[]string{"matrix", "--binary", badPrices}, "not a Linux executable", 2},
		{[]string{"matrix", "--prices", "/nonexistent/prices.json"}, "prices", 2},
		{[]string{"matrix", "--prices", badPrices}, "prices", 2},
		{[]string{"tune", "--target", "aws", "--function", "f", "--prices", badPrices}, "prices", 2},
		{[]string{"report", "/nonexistent", "--prices", badPrices}, "prices", 2},
		{[]string{"serve", "--api-addr", "0.0.0.0:9000"}, "127.0.0.1 only", 2},
		{[]string{"serve", "--invoke-addr", "192.0.2.1:9001"}, "127.0.0.1 only", 2},
		{[]string{"serve", "--api-addr", "0.0.0.0"}, "--api-addr", 2},
		{[]string{"smoke", "--timeout", "0"}, "want a positive duration", 2},
		{[]string{"smoke", "--timeout", "-1s"}, "want a positive duration", 2},
		{[]string{"matrix", "--target", "aws", "--endpoint-url", "not a url"}, "--endpoint-url", 2},
		{[]string{"smoke", "--target", "aws", "--endpoint-url", "127.0.0.1:9001"}, "--endpoint-url", 2},
		{[]string{"burst", "--target", "aws", "--endpoint-url", "ftp://x"}, "--endpoint-url", 2},
		{[]string{"tune", "--target", "aws", "--function", "f", "--endpoint-url", "not a url"}, "--endpoint-url", 2},
		{[]string{"matrix", "--threshold", "sparc:p95<1s"}, "matches nothing to be measured", 2},
		{[]string{"matrix", "--memory", "2048", "--threshold", "1536 MB:p95<1s"}, "matches nothing to be measured", 2},
		{[]string{"tune", "--target", "aws", "--function", "f", "--memory", "128,256", "--threshold", "512 MB:p95<1s"}, "matches nothing to be measured", 2},
		{[]string{"report"}, "which results folder", 2},
		{[]string{"report", "/nonexistent"}, "not found", 2},
		{[]string{"report", t.TempDir()}, "not a results folder", 2},
		{[]string{"burst", "--count", "5000"}, "--count must be 1..1000", 2},
		{[]string{"smoke", "--warm", "0"}, "--warm must be", 2},
		{[]string{"suite", "--skip-matrix", "--skip-load"}, "nothing to run", 2},
		{[]string{"suite", "--endpoints-in-turn", "x"}, "want auto, on or off", 2},
		{[]string{"suite", "--idle-timeout", "0", "--lmi-scaling", "target-cpu=101"}, "target-cpu=101", 2},
		{[]string{"matrix", "extra"}, "unexpected argument", 2},
		{[]string{"matrix", "--payload", "{bad"}, "invalid request JSON", 2},
		{[]string{"matrix", "--payload", `{"count":0,"mode":"parallel"}`}, "count must be greater than 0", 2},
		{[]string{"matrix", "--payload", `{"count":1001,"mode":"parallel"}`}, "count exceeds maximum of 1000", 2},
		{[]string{"matrix", "--payload", `{"count":5,"mode":"parallel","cost":15}`}, "cost must be between 4 and 14", 2},
		{[]string{"matrix", "--payload", `{"count":5,"mode":"fast"}`}, `unknown mode "fast"`, 2},
		{[]string{"matrix", "--memory", "999"}, "the matrix has 1536, 2048", 2},
		{[]string{"matrix", "--memory", ","}, "names no memory size", 2},
		{[]string{"matrix", "--sleep-between", "-1s"}, "must not be negative", 2},
		{[]string{"matrix", "--out", "/proc/version/sub"}, "--out", 2},
		{[]string{"matrix", "--out", held}, "already holds a run", 2},
		{[]string{"suite", "--out", held}, "already holds a run", 2},
		{[]string{"tune", "--target", "local", "--source", held, "--out", held}, "already holds a run", 2},
		{[]string{"tune", "--target", "local", "--source", held, "--out", journal, "--force"}, "tune --cleanup " + journal, 2},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.args, err, tt.want)
			continue
		}
		if code := exitCode(err, &bytes.Buffer{}); code != tt.code {
			t.Errorf("%v: exit code %d, want %d", tt.args, code, tt.code)
		}
	}
}

func TestHelpForEveryVerb(t *testing.T) {
	for _, v := range verbs() {
		var stdout bytes.Buffer
		err := run(context.Background(), []string{v.name, "--help"}, &stdout, &bytes.Buffer{})
		if !errors.Is(err, flag.ErrHelp) || exitCode(err, &bytes.Buffer{}) != 0 {
			t.Errorf("%s --help: %v", v.name, err)
		}
		if !strings.Contains(stdout.String(), "Usage: bench ") || !strings.Contains(stdout.String(), "-") {
			t.Errorf("%s --help printed:\n%s", v.name, stdout.String())
		}
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"help"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range verbs() {
		if !strings.Contains(stdout.String(), v.name) {
			t.Errorf("help lacks %s", v.name)
		}
	}
}

func TestPrintPricesRoundTrips(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"matrix", "--print-prices"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	p, err := cost.Parse(&stdout, "stdout")
	if err != nil {
		t.Fatalf("--print-prices output does not load back: %v", err)
	}
	if p.RequestPerMillion != cost.Default().RequestPerMillion {
		t.Errorf("request price %v", p.RequestPerMillion)
	}
}

func TestMatrixInterruptKeepsSamples(t *testing.T) {
	bin := functionBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(testContext(t, 2*time.Minute))
	time.AfterFunc(3*time.Second, cancel)
	err := run(ctx, []string{"matrix", "--binary", bin, "--memory", "2048", "--cold", "0", "--runs", "100000",
		"--payload", fastPayload, "--out", dir}, &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, context.Canceled) || exitCode(err, &bytes.Buffer{}) != 130 {
		t.Fatalf("err = %v, want an interruption (exit 130)", err)
	}
	sum, samples := readMatrixRun(t, dir)
	warm := 0
	for _, s := range samples {
		if s.Kind == matrix.KindWarm {
			warm++
		}
	}
	var measured *matrix.Result
	for i := range sum.Results {
		if sum.Results[i].Measured() {
			measured = &sum.Results[i]
		}
	}
	if !sum.Partial || measured == nil || warm == 0 || measured.Warm.N != warm {
		t.Fatalf("partial=%v, %d warm samples in samples.csv, summary %+v", sum.Partial, warm, measured)
	}
}
