package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/threshold"
)

// TestLoadLocalEndToEnd runs the load verb against the local Lambda (the
// real function, built for this machine) with a few seconds of load, then
// checks the outputs: summary.json agrees with samples.csv, summary.md has
// the table, the charts are drawn, and a crossed threshold is reported as
// threshold.ErrCrossed.
func TestLoadLocalEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function and runs the local Lambda")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	err := runLoad(ctx, []string{
		"--scenario", "low-cpu", "--low-cpu-hash-loops", "5000",
		"--stages", "1s:2,2s:2", "--timeout", "10s", "--no-cpu-limits",
		"--threshold", "p99<10s", "--threshold", "lmi-2048:error_rate<1%",
		"--out", dir,
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("load: %v\nstderr:\n%s", err, stderr.String())
	}
	rep, err := load.ReadReport(filepath.Join(dir, load.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Partial || len(rep.Scenarios) != 1 || len(rep.Scenarios[0].Endpoints) != 3 {
		t.Fatalf("report: partial %v, scenarios %+v", rep.Partial, rep.Scenarios)
	}
	f, err := os.Open(filepath.Join(dir, load.SamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	perEndpoint := map[string]int64{}
	for _, r := range rows[1:] {
		perEndpoint[r[3]]++
		if r[2] != "hash_loops=5000" {
			t.Fatalf("sample with query %q", r[2])
		}
	}
	for _, e := range rep.Scenarios[0].Endpoints {
		tot := e.Total
		if tot.Requests == 0 || tot.Requests != perEndpoint[e.Endpoint] {
			t.Errorf("%s: summary.json %d requests, samples.csv %d", e.Endpoint, tot.Requests, perEndpoint[e.Endpoint])
		}
		if tot.OK != tot.Requests || tot.ColdStarts < 1 {
			t.Errorf("%s: %d OK of %d, %d cold starts", e.Endpoint, tot.OK, tot.Requests, tot.ColdStarts)
		}
		if e.Cost == nil || e.Cost.Bill.TotalUSD <= 0 {
			t.Errorf("%s: no cost estimate", e.Endpoint)
		}
	}
	if c := rep.Scenarios[0].Concurrency; len(c) != 3 || len(c[0].Points) == 0 {
		t.Errorf("concurrency from the local Lambda: %d series", len(c))
	}
	// A CPU-bound scenario on a small host loads the endpoints one after another; every stage
	// says how busy the host was.
	if want := runtime.NumCPU() <= smallHostCores; rep.Scenarios[0].InTurn != want {
		t.Errorf("endpoints in turn = %v on %d cores, want %v", rep.Scenarios[0].InTurn, runtime.NumCPU(), want)
	}
	for _, e := range rep.Scenarios[0].Endpoints {
		if e.Total.Saturation == nil || e.Total.Seconds < 1 {
			t.Errorf("%s: no host saturation in the totals: %+v", e.Endpoint, e.Total.Saturation)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "host.csv")); err != nil || fi.Size() == 0 {
		t.Errorf("host.csv missing or empty: %v", err)
	}
	for _, name := range []string{"load-low-cpu.png", "concurrency-low-cpu.png", load.SummaryMDFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing or empty: %v", name, err)
		}
	}
	if !strings.Contains(stdout.String(), "| **all**") || !strings.Contains(stdout.String(), "Results: "+dir) {
		t.Errorf("stdout lacks the summary table:\n%s", stdout.String())
	}

	// A threshold no run can meet: the run completes and says so.
	stdout.Reset()
	stderr.Reset()
	err = runLoad(ctx, []string{
		"--scenario", "fast-io", "--fast-io-delay-ms", "1", "--endpoints", "lmi-2048",
		"--stages", "0s:1,1s:1", "--no-cpu-limits", "--threshold", "p50<1us", "--out", filepath.Join(t.TempDir(), "fail"),
	}, &stdout, &stderr)
	if !errors.Is(err, threshold.ErrCrossed) {
		t.Fatalf("load with a crossed threshold: %v, want ErrCrossed\n%s", err, stderr.String())
	}
}

func TestLoadRejectsBadFlags(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--stages", "10s:4", "--rate", "0s:5,5s:5"}, "exclude each other"},
		{[]string{"--stages", "10s"}, "--stages"},
		{[]string{"--rate", "5s:-1"}, "--rate"},
		{[]string{"--stages", "1s:1"}, "never start a virtual user"},
		{[]string{"--rate", "1s:1"}, "never send a request"},
		{[]string{"--scenario", "medium-cpu"}, "unknown scenario"},
		{[]string{"--scenario", "custom"}, "needs --query"},
		{[]string{"--target", "gcp"}, "unknown target"},
		{[]string{"--threshold", "p97<1s"}, "unknown metric"},
		{[]string{"--fast-io-delay-ms", "20000"}, "0 to 15000"},
		{[]string{"--arch", "sparc"}, "sparc"},
		{[]string{"--endpoints-in-turn", "maybe"}, "want auto, on or off"},
		{[]string{"--lmi-target-cpu", "0"}, "--lmi-target-cpu"},
		{[]string{"--idle-timeout", "0s"}, "--keep-warm"},
		{[]string{"--lmi-min-environments", "5"}, "--lmi-min-environments"},
		{[]string{"--lmi-scale-interval", "-1s"}, "--lmi-scale-interval"},
		// Every check happens before the local Lambda starts.
		{[]string{"--endpoints", "bogus"}, "unknown endpoint"},
		{[]string{"--lmi-instance-type", "z9.huge"}, "--lmi-instance-type"},
		{[]string{"--out", notDir + "/sub"}, "--out"},
		{[]string{"--threshold", "lmi-4096:p99<1s"}, "matches none"},
		{[]string{"--endpoints", "lmi-2048", "--threshold", "default-128:p99<1s"}, "matches none"},
		// Generic targets.
		{[]string{"--url", "ftp://127.0.0.1/x"}, "want http"},
		{[]string{"--url", "http://127.0.0.1:1/", "--header", "NoColon"}, "--header"},
		{[]string{"--url", "http://127.0.0.1:1/", "--body-file", "/nonexistent/body"}, "--body-file"},
		{[]string{"--url", "http://127.0.0.1:1/", "--body", "x", "--body-file", "y"}, "exclude"},
		{[]string{"--url", "http://127.0.0.1:1/", "--method", "GE T"}, "bad method"},
		{[]string{"--url", "http://127.0.0.1:1/", "--scenario", "low-cpu"}, "does not combine"},
		{[]string{"--url", "http://127.0.0.1:1/", "--cost-model", "standard:64:arm64"}, "--cost-model"},
		{[]string{"--url", "http://127.0.0.1:1/", "--cost-model", "lmi:z9.huge:3"}, "--cost-model"},
		{[]string{"--url", "api=http://127.0.0.1:1/", "--threshold", "web:p99<1s"}, "matches none"},
		{[]string{"--targets", "/nonexistent/targets.json"}, "--targets"},
		{[]string{"--function", "fn", "--payload", "{not json"}, "not valid JSON"},
		{[]string{"--function", "fn", "--payload-file", "/nonexistent/event.json"}, "--payload-file"},
		{[]string{"--header", "X: y"}, "applies to"},
		{[]string{"--log-tail"}, "applies to"},
		// Generators.
		{[]string{"--url", "http://127.0.0.1:1/", "--generators", "1"}, "--generators 1"},
		{[]string{"--url", "http://127.0.0.1:1/", "--generator-samples"}, "applies to --generators"},
		{[]string{"--function", "fn", "--generators", "2"}, "--function"},
		{[]string{"--url", "http://127.0.0.1:1/", "--generators", "2", "--target", "aws", "--rate", "0s:10,24h:10,24h:10,24h:10"}, "windows"},
		{[]string{"--url", "http://127.0.0.1:1/", "--generator-window", "1m"}, "applies to --generators"},
		{[]string{"--url", "http://127.0.0.1:1/", "--generators", "2", "--generator-window", "500ms"}, "--generator-window 500ms"},
		{[]string{"--url", "http://127.0.0.1:1/", "--generators", "2", "--target", "aws", "--generator-window", "15m"}, "--generator-window 15m0s"},
		{[]string{"--url", "http://127.0.0.1:1/", "--generators", "2", "--timeout", "15m"}, "--timeout"},
		{[]string{"--generators", "2", "--cooldown", "1s"}, "--cooldown does not combine"},
		{[]string{"--url", "http://127.0.0.1:1/", "--generators", "2", "--endpoint-url", "http://127.0.0.1:1"}, "needs --target aws"},
		{[]string{"--generators", "2", "--target", "aws", "--cloudwatch"}, "--cloudwatch does not combine"},
		{[]string{"--generators", "2", "--endpoints-in-turn", "on"}, "--endpoints-in-turn on"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := runLoad(context.Background(), tt.args, &stdout, &stderr)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("load %v: %v, want a usage error about %q", tt.args, err, tt.want)
		}
		if strings.Contains(stderr.String(), "Starting the local Lambda") {
			t.Errorf("load %v started the local Lambda before rejecting its flags", tt.args)
		}
	}
	var stdout bytes.Buffer
	if err := runLoad(context.Background(), []string{"--help"}, &stdout, &stdout); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(stdout.String(), "coordinated omission") || !strings.Contains(stdout.String(), "-max-in-flight") {
		t.Errorf("--help text:\n%s", stdout.String())
	}
}

// TestLoadOutRefusesAnEarlierRun: --out on a folder that holds a run is refused
// before any request is sent (exit 2), unless --force.
func TestLoadOutRefusesAnEarlierRun(t *testing.T) {
	dir := t.TempDir()
	samples := filepath.Join(dir, "samples.csv")
	if err := os.WriteFile(samples, []byte("earlier run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing listens on port 1: had the run started, every request would fail.
	args := []string{"load", "--url", "http://127.0.0.1:1/", "--rate", "0s:1,1s:1", "--no-charts", "--out", dir}
	err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--force") || exitCode(err, &bytes.Buffer{}) != 2 {
		t.Fatalf("load --out on an earlier run: %v", err)
	}
	if b, _ := os.ReadFile(samples); string(b) != "earlier run\n" {
		t.Errorf("the earlier run's samples were touched: %q", b)
	}
	// With --force the old files go and the new run writes its own.
	err = run(context.Background(), append(args, "--force"), &bytes.Buffer{}, &bytes.Buffer{})
	if b, _ := os.ReadFile(samples); strings.Contains(string(b), "earlier run") {
		t.Errorf("--force kept the earlier samples (run: %v)", err)
	}
}
