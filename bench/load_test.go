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

// TestHelloLocalEndToEnd runs the hello verb against the local Lambda (the
// real function, built for this machine) with a few seconds of load, then
// checks the outputs: summary.json agrees with samples.csv, summary.md has
// the table, the charts are drawn, and a crossed threshold is reported as
// threshold.ErrCrossed.
func TestHelloLocalEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function and runs the local Lambda")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	err := runHello(ctx, []string{
		"--scenario", "low-cpu", "--workload", "low-cpu=5000",
		"--stages", "1s:2,2s:2", "--timeout", "10s", "--no-cpu-limits",
		"--threshold", "p99<10s", "--threshold", "lmi-2048:error_rate<1%",
		"--out", dir,
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("hello: %v\nstderr:\n%s", err, stderr.String())
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
	err = runHello(ctx, []string{
		"--scenario", "fast-io", "--workload", "fast-io=1", "--endpoints", "lmi-2048",
		"--stages", "0s:1,1s:1", "--no-cpu-limits", "--threshold", "p50<1us", "--out", filepath.Join(t.TempDir(), "fail"),
	}, &stdout, &stderr)
	if !errors.Is(err, threshold.ErrCrossed) {
		t.Fatalf("hello with a crossed threshold: %v, want ErrCrossed\n%s", err, stderr.String())
	}
}

func TestLoadAndHelloRejectBadFlags(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const u = "http://127.0.0.1:1/"
	tests := []struct {
		verb string
		args []string
		want string
	}{
		{"hello", []string{"--stages", "10s:4", "--rate", "0s:5,5s:5"}, "exclude each other"},
		{"hello", []string{"--stages", "10s"}, "--stages"},
		{"hello", []string{"--rate", "5s:-1"}, "--rate"},
		{"hello", []string{"--stages", "1s:1"}, "never start a virtual user"},
		{"hello", []string{"--rate", "1s:1"}, "never send a request"},
		{"hello", []string{"--scenario", "medium-cpu"}, "unknown scenario"},
		{"hello", []string{"--scenario", "custom"}, "needs --query"},
		{"hello", []string{"--target", "gcp"}, "unknown target"},
		{"hello", []string{"--threshold", "p97<1s"}, "unknown metric"},
		{"hello", []string{"--workload", "fast-io=20000"}, "0 to 15000"},
		{"hello", []string{"--workload", "mid-io=5"}, "unknown scenario"},
		{"hello", []string{"--workload", "low-cpu"}, "SCENARIO=N"},
		{"hello", []string{"--arch", "sparc"}, "sparc"},
		{"hello", []string{"--endpoints-in-turn", "maybe"}, "want auto, on or off"},
		{"hello", []string{"--lmi-scaling", "target-cpu=0"}, "target-cpu=0"},
		{"hello", []string{"--lmi-scaling", "speed=2"}, "unknown key"},
		{"hello", []string{"--lmi-scaling", "interval=soon"}, "interval=soon"},
		{"hello", []string{"--idle-timeout", "-1s"}, "0 keeps idle environments warm"},
		{"hello", []string{"--cpu-period", "500us"}, "--cpu-period 500µs"},
		{"hello", []string{"--cpu-period", "20ms", "--calibration", "x.json"}, "exclude each other"},
		{"hello", []string{"--calibration", "/nonexistent/calibration.json"}, "--calibration"},
		{"hello", []string{"--lmi-scaling", "min=5"}, "min=5"},
		{"hello", []string{"--lmi-scaling", "interval=-1s"}, "interval=-1s"},
		{"hello", []string{"--scale-in-max-wait", "-1m"}, "--scale-in-max-wait"},
		// Every check happens before the local Lambda starts.
		{"hello", []string{"--endpoints", "bogus"}, "unknown endpoint"},
		{"hello", []string{"--lmi-instance-type", "z9.huge"}, "--lmi-instance-type"},
		{"hello", []string{"--out", notDir + "/sub"}, "--out"},
		{"hello", []string{"--threshold", "lmi-4096:p99<1s"}, "matches none"},
		{"hello", []string{"--endpoints", "lmi-2048", "--threshold", "default-128:p99<1s"}, "matches none"},
		// What the hello experiment's flags were is no longer load's.
		{"hello", []string{"--url", u}, "flag provided but not defined"},
		{"load", []string{"--url", u, "--scenario", "low-cpu"}, "flag provided but not defined"},
		{"load", []string{"--url", u, "--target", "aws"}, "flag provided but not defined"},
		{"load", nil, "bench hello"},
		{"load", []string{"--rate", "0s:5,5s:5"}, "--url, --targets or --function"},
		{"load", []string{"--url", u, "--stages", "10s:4", "--rate", "0s:5,5s:5"}, "exclude each other"},
		{"load", []string{"--url", "ftp://127.0.0.1/x"}, "want http"},
		{"load", []string{"--url", "http://127.0.0.1:0/"}, "port 0"},
		{"load", []string{"--url", "http://127.0.0.1:99999/"}, "port 99999"},
		{"load", []string{"--url", u, "--threshold", "p50<-5ms"}, "not negative"},
		{"load", []string{"--url", u, "--header", "NoColon"}, "--header"},
		{"load", []string{"--url", u, "--body-file", "/nonexistent/body"}, "--body-file"},
		{"load", []string{"--url", u, "--body", "x", "--body-file", "y"}, "exclude"},
		{"load", []string{"--url", u, "--method", "GE T"}, "bad method"},
		{"load", []string{"--url", u, "--cost-model", "standard:64:arm64"}, "--cost-model"},
		{"load", []string{"--url", u, "--cost-model", "lmi:z9.huge:3"}, "--cost-model"},
		{"load", []string{"--url", "api=" + u, "--threshold", "web:p99<1s"}, "matches none"},
		{"load", []string{"--url", u, "--threshold", "p97<1s"}, "unknown metric"},
		{"load", []string{"--url", u, "--out", notDir + "/sub"}, "--out"},
		{"load", []string{"--url", u, "--endpoint-url", "127.0.0.1:9001"}, "--endpoint-url"},
		{"load", []string{"--targets", "/nonexistent/targets.json"}, "--targets"},
		{"load", []string{"--function", "fn", "--payload", "{not json"}, "not valid JSON"},
		{"load", []string{"--function", "fn", "--payload-file", "/nonexistent/event.json"}, "--payload-file"},
		{"load", []string{"--url", u, "--header", "X: y", "--log-tail"}, "apply to --function"},
		{"load", []string{"--function", "fn", "--header", "X: y"}, "apply to --url"},
		// Generators.
		{"load", []string{"--url", u, "--generators", "1"}, "--generators 1"},
		{"load", []string{"--url", u, "--generator-samples"}, "applies to --generators"},
		{"load", []string{"--url", u, "--generators-on", "aws"}, "applies to --generators"},
		{"load", []string{"--url", u, "--generators", "2", "--generators-on", "gcp"}, "want local or aws"},
		{"load", []string{"--function", "fn", "--generators", "2"}, "--function"},
		{"load", []string{"--url", u, "--generators", "2", "--generators-on", "aws", "--rate", "0s:10,24h:10,24h:10,24h:10"}, "windows"},
		{"load", []string{"--url", u, "--generator-window", "1m"}, "applies to --generators"},
		{"load", []string{"--url", u, "--generators", "2", "--generator-window", "500ms"}, "--generator-window 500ms"},
		{"load", []string{"--url", u, "--generators", "2", "--generators-on", "aws", "--generator-window", "15m"}, "--generator-window 15m0s"},
		{"load", []string{"--url", u, "--generators", "2", "--timeout", "15m"}, "--timeout"},
		{"load", []string{"--url", u, "--generators", "2", "--endpoint-url", "http://127.0.0.1:1"}, "--generators-on aws"},
		{"load", []string{"--url", u, "--generators", "2", "--generator-stack", "Mine"}, "--generators-on aws"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{tt.verb}, tt.args...), &stdout, &stderr)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %v: %v, want a usage error about %q", tt.verb, tt.args, err, tt.want)
		}
		if strings.Contains(stderr.String(), "Starting the local Lambda") {
			t.Errorf("%s %v started the local Lambda before rejecting its flags", tt.verb, tt.args)
		}
	}
	for _, verb := range []string{"load", "hello"} {
		var stdout bytes.Buffer
		if err := run(context.Background(), []string{verb, "--help"}, &stdout, &stdout); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s --help: %v", verb, err)
		}
		if !strings.Contains(stdout.String(), "-max-in-flight") || !strings.Contains(stdout.String(), "-threshold") {
			t.Errorf("%s --help text:\n%s", verb, stdout.String())
		}
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
