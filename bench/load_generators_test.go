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
	"slices"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/stats"
)

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
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	err := runLoad(ctx, []string{"--generators", "4", "--target", "local", "--no-cpu-limits", "--generator-samples", "--no-charts",
		"--url", "api=" + srv.URL + "/", "--rate", "0s:20,2s:20", "--out", dir}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("load: %v\nstderr:\n%s", err, stderr.String())
	}
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
