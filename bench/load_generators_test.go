package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/stats"
	"lambdabench/bench/internal/target"
)

// runLocalGenerators runs 'load --generators-on local --url api=…' with args
// (generators and profile) against a server answering "ok" on 127.0.0.1,
// with per-request samples and no charts, and returns the results folder
// and what load wrote to stdout and stderr.
func runLocalGenerators(t *testing.T, args ...string) (dir string, stdout, stderr *bytes.Buffer) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir = filepath.Join(t.TempDir(), "run")
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	args = append([]string{"--generators-on", "local", "--generator-samples", "--no-charts",
		"--url", "api=" + srv.URL + "/", "--out", dir}, args...)
	if err := runLoad(ctx, args, stdout, stderr); err != nil {
		t.Fatalf("load: %v\nstderr:\n%s", err, stderr.String())
	}
	return dir, stdout, stderr
}

// TestLoadGeneratorsLocal runs the whole distributed path on this machine:
// the generator binary built for it, four local Lambda functions running
// it, one plan fanned out to all, their answers merged. It checks that
// every generator answered, that the merged totals equal the sum of the
// generators' own, and that the merged summary equals one engine fed every
// generator's metrics.
func TestLoadGeneratorsLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the generator and runs four local Lambda functions")
	}
	dir, stdout, _ := runLocalGenerators(t, "--generators", "4", "--rate", "0s:20,2s:20")
	rep, err := load.ReadReport(filepath.Join(dir, load.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Generators) != 4 || len(rep.Scenarios) != 1 || len(rep.Scenarios[0].Endpoints) != 1 {
		t.Fatalf("report: %d generators, scenarios %+v", len(rep.Generators), rep.Scenarios)
	}
	if rep.Scenarios[0].InTurn {
		t.Error("the generators loaded the endpoint at once, but the report says in turn")
	}
	if rep.Scenarios[0].Stages != "0s:20,2s:20" {
		t.Errorf("report stages %q, want the whole run's", rep.Scenarios[0].Stages)
	}
	var rowReq, rowDrop int64
	for _, g := range rep.Generators {
		if g.Status != load.GenOK || g.Share != 0.25 || g.BilledMs <= 0 || g.CostUSD <= 0 {
			t.Errorf("generator row %+v", g)
		}
		rowReq += g.Requests
		rowDrop += g.Dropped
	}
	tot := rep.Scenarios[0].Endpoints[0].Total
	if tot.Requests != rowReq || tot.Dropped != rowDrop || tot.Requests == 0 {
		t.Errorf("merged %d sent, %d dropped; generators' rows add up to %d, %d", tot.Requests, tot.Dropped, rowReq, rowDrop)
	}
	b, err := os.ReadFile(filepath.Join(dir, load.GeneratorsFile))
	if err != nil {
		t.Fatal(err)
	}
	var results []*load.GenResult
	if err := json.Unmarshal(b, &results); err != nil || len(results) != 4 {
		t.Fatalf("generators.json: %d results, %v", len(results), err)
	}
	one := load.NewMetrics()
	for _, r := range results {
		one.Merge(r.Metrics)
	}
	want := one.Summaries(nil)[0].Endpoints[0].Total
	if want.Requests != tot.Requests || want.Latency.P99 != tot.Latency.P99 || want.Latency.P50 != tot.Latency.P50 || want.Latency.Max != tot.Latency.Max {
		t.Errorf("summary total %+v\ngenerators.json merged %+v", tot, want)
	}
	// With --generator-samples, samples.csv holds every request, and
	// rebuilding the summary from it gives the merged totals.
	f, err := os.Open(filepath.Join(dir, load.SamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var n int64
	var lat []float64
	dec := load.NewCSVDecoder(f)
	for {
		var r load.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		if !r.Dropped() {
			lat = append(lat, float64(r.Latency)/float64(time.Millisecond))
		}
	}
	if n != tot.Requests+tot.Dropped {
		t.Errorf("samples.csv has %d requests, the merged summary %d", n, tot.Requests+tot.Dropped)
	}
	slices.Sort(lat)
	// The samples are stored to the microsecond, the histogram to 0.1%.
	if exact := stats.NearestRank(lat, 99); math.Abs(exact-tot.Latency.P99) > exact*0.001+0.002 {
		t.Errorf("merged p99 %v ms, nearest rank of the samples %v ms", tot.Latency.P99, exact)
	}
	if md := stdout.String(); !strings.Contains(md, "## Generators") || !strings.Contains(md, "The generators themselves cost") {
		t.Errorf("summary:\n%s", md)
	}
}

// TestLoadGeneratorsChainedLocal runs a distributed run longer than one
// generator window on this machine: two local generator functions, the
// run chained over three windows of 2 s, each generator invoked once per
// window. It checks that every invocation answered, that the merged totals
// equal the sum over generators and windows, and that the merged run is
// one unbroken run: exactly the requests the whole profile has due, in
// continuous stage rows and per-second rows.
func TestLoadGeneratorsChainedLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the generator and runs two local Lambda functions")
	}
	const profile = "0s:20,2500ms:20,2500ms:40"
	dir, stdout, stderr := runLocalGenerators(t, "--generators", "2", "--generator-window", "2s", "--rate", profile)
	if !strings.Contains(stderr.String(), "Window 3/3") {
		t.Errorf("no progress per window on stderr:\n%s", stderr.String())
	}
	rep, err := load.ReadReport(filepath.Join(dir, load.SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.GeneratorWindows) != 3 || len(rep.Generators) != 6 || len(rep.Scenarios) != 1 {
		t.Fatalf("report: windows %v, %d generator rows, %d scenarios", rep.GeneratorWindows, len(rep.Generators), len(rep.Scenarios))
	}
	var rowReq, rowDrop int64
	for i, g := range rep.Generators {
		if g.Status != load.GenOK || g.Generator != 1+i/3 || g.Window != 1+i%3 || g.Share != 0.5 || g.CostUSD <= 0 {
			t.Errorf("row %d: %+v", i, g)
		}
		rowReq += g.Requests
		rowDrop += g.Dropped
	}
	e := rep.Scenarios[0].Endpoints[0]
	if e.Total.Requests != rowReq || e.Total.Dropped != rowDrop {
		t.Errorf("merged %d sent, %d dropped; rows of every generator and window add up to %d, %d", e.Total.Requests, e.Total.Dropped, rowReq, rowDrop)
	}
	// Exactly the requests one unbroken run has due: each generator's
	// share of the whole profile, stage by stage.
	st, err := load.ParseStages(profile, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scenarios[0].Stages != st.String() || len(e.Stages) != len(st) {
		t.Fatalf("report stages %q (%d rows), want %q", rep.Scenarios[0].Stages, len(e.Stages), profile)
	}
	var all int64
	for i := range st {
		var want int64
		for g := 1; g <= 2; g++ {
			sh := load.ShareStages(st, load.Open, g, 2)
			want += int64(sh.FirstDue(st.Start(i)+st[i].Duration) - sh.FirstDue(st.Start(i)))
		}
		if got := e.Stages[i].Requests + e.Stages[i].Dropped; got != want {
			t.Errorf("stage %d: %d requests, the profile has %d due", i+1, got, want)
		}
		all += want
	}
	if got := e.Total.Requests + e.Total.Dropped; got != all || all == 0 {
		t.Errorf("total %d requests, the profile has %d due", got, all)
	}
	b, err := os.ReadFile(filepath.Join(dir, load.PerSecondFile))
	if err != nil {
		t.Fatal(err)
	}
	seconds := map[int]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		var sc, ep string
		var sec int
		var sent, ok, errs, dropped int64
		if _, err := fmt.Sscanf(strings.ReplaceAll(line, ",", " "), "%s %s %d %d %d %d %d", &sc, &ep, &sec, &sent, &ok, &errs, &dropped); err != nil {
			t.Fatalf("per_second.csv line %q: %v", line, err)
		}
		if _, dup := seconds[sec]; dup {
			t.Errorf("per_second.csv: second %d twice", sec)
		}
		seconds[sec] = sent + dropped
	}
	var perSec int64
	for s := range 5 {
		if seconds[s] == 0 {
			t.Errorf("per_second.csv: nothing in second %d (%v)", s, seconds)
		}
		perSec += seconds[s]
	}
	if perSec != all || len(seconds) != 5 {
		t.Errorf("per_second.csv: %d requests in seconds %v, want %d in seconds 0-4", perSec, seconds, all)
	}
	// samples.csv: every window's requests, in time order, each with the
	// whole run's offset and stage.
	f, err := os.Open(filepath.Join(dir, load.SamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := load.NewCSVDecoder(f)
	var n int64
	var last time.Time
	for {
		var r load.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		if r.Time.Before(last) {
			t.Errorf("samples.csv: %s after %s", r.Time, last)
		}
		last = r.Time
		if want := st.At(r.Elapsed) + 1; r.Stage != want {
			t.Errorf("sample at %s in stage %d, want %d", r.Elapsed, r.Stage, want)
		}
	}
	if n != all {
		t.Errorf("samples.csv has %d requests, the profile %d", n, all)
	}
	if md := stdout.String(); !strings.Contains(md, "3 windows of up to 2s") || !strings.Contains(md, "| 2, 3 (4s–5s)") {
		t.Errorf("summary:\n%s", md)
	}
}

// TestLoadGeneratorsAWSAgainstLocalEndpoint drives the --target aws
// generator path — credentials from the environment, the generator stack's
// output from a cdk outputs file, the same SDK client — against a local
// Lambda serving the generator function, with a --url run chained over
// two windows.
func TestLoadGeneratorsAWSAgainstLocalEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the generator and runs a local Lambda")
	}
	var served atomic.Int64
	hello := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"message":"Hello World!","delay_ms":0,"hash_loops":0,"hash":"00","cold":%t,"concurrent":1}`, served.Add(1) == 1)
	}))
	defer hello.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := target.BuildLoadGen(ctx, root, runtime.GOARCH, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	gens, err := target.StartLocalGenerators(ctx, bin, 1, 8, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gens.Close()
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	b, _ := json.Marshal(map[string]map[string]string{
		target.LoadGenStack: {target.LoadGenFunctionOutput: gens.Functions[0]},
	})
	if err := os.WriteFile(outputs, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	aws := []string{"--generators-on", "aws", "--region", "us-east-1", "--outputs-file", outputs, "--endpoint-url", gens.Server.InvokeEndpoint(),
		"--generators", "2", "--no-charts"}
	for _, tc := range []struct {
		name    string
		args    []string
		windows int
		target  string
	}{
		{"url, chained", []string{"--url", "api=" + hello.URL + "/", "--rate", "0s:20,3s:20", "--generator-window", "2s"}, 2, "given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served.Store(0)
			dir := filepath.Join(t.TempDir(), "run")
			var stdout, stderr bytes.Buffer
			if err := runLoad(ctx, append(append(slices.Clone(aws), tc.args...), "--out", dir), &stdout, &stderr); err != nil {
				t.Fatalf("load: %v\nstderr:\n%s", err, stderr.String())
			}
			rep, err := load.ReadReport(filepath.Join(dir, load.SummaryJSONFile))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Run.Target != tc.target || len(rep.Generators) != 2*tc.windows || len(rep.Scenarios) != 1 {
				t.Fatalf("report: target %q, %d generator rows, %d scenarios", rep.Run.Target, len(rep.Generators), len(rep.Scenarios))
			}
			var rowReq int64
			for _, g := range rep.Generators {
				if g.Status != load.GenOK || g.Function != gens.Functions[0] || g.CostUSD <= 0 {
					t.Errorf("generator row %+v", g)
				}
				rowReq += g.Requests
			}
			tot := rep.Scenarios[0].Endpoints[0].Total
			if tot.Requests == 0 || tot.Requests != rowReq || tot.OK != tot.Requests {
				t.Errorf("merged %d requests (%d OK), the rows %d", tot.Requests, tot.OK, rowReq)
			}
		})
	}
}
