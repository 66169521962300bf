package load

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lambdabench/bench/internal/threshold"
)

// helloServer answers like the hello function, after delay_ms; every 10th
// request gets a 500.
func helloServer(t *testing.T) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if i%10 == 0 {
			http.Error(w, `{"message":"Internal server error"}`, http.StatusInternalServerError)
			return
		}
		var d int
		fmt.Sscan(r.URL.Query().Get("delay_ms"), &d)
		time.Sleep(time.Duration(d) * time.Millisecond)
		fmt.Fprintf(w, `{"message":"Hello World!","delay_ms":%d,"hash_loops":0,"hash":"00","cold":%t,"concurrent":%d}`, d, i == 1, 1+i%3)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRunAndRebuild runs two short scenarios against two endpoints, then
// checks that summary.json agrees with samples.csv, that Rebuild gives the
// same summary from samples.csv alone, and that the charts are drawn.
func TestRunAndRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 1.5 s load tests")
	}
	srv := helloServer(t)
	dir := t.TempDir()
	var progress bytes.Buffer
	cfg := RunConfig{
		Dir: dir,
		Endpoints: []Endpoint{
			{Name: "lmi-2048", URL: srv.URL + "/lmi/2048/hello", Hello: true},
			{Name: "default-128", URL: srv.URL + "/default/128/hello", Hello: true},
		},
		Scenarios:     []Scenario{{"fast", "delay_ms=5"}, {"slow", "delay_ms=20"}},
		Model:         Closed,
		Stages:        mustStages(t, "500ms:4,500ms:4,500ms:2", true),
		Timeout:       2 * time.Second,
		Info:          RunInfo{Target: "test", Thresholds: []string{"p99<1s", "lmi-2048:error_rate<50%"}},
		Progress:      &progress,
		ProgressEvery: 200 * time.Millisecond,
		Concurrency: func(_ context.Context, sc Scenario, start, end time.Time) ([]ConcurrencySeries, error) {
			return []ConcurrencySeries{{Endpoint: "lmi-2048", Function: "fn", Source: SourceLocal, Points: []ConcurrencyPoint{
				{ElapsedS: 0, Environments: 1, Value: 0}, {ElapsedS: 0.5, Environments: 1, Value: 3}, {ElapsedS: 1, Environments: 2, Value: 4},
			}}}, nil
		},
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "fast  done") || !strings.Contains(progress.String(), "lmi-2048") {
		t.Errorf("progress output lacks the status lines:\n%s", progress.String())
	}
	if rep.Partial || len(rep.Scenarios) != 2 || len(rep.Checks) != 6 {
		t.Fatalf("report: partial %v, %d scenarios, %d checks", rep.Partial, len(rep.Scenarios), len(rep.Checks))
	}
	// Endpoints in the report order, whatever the order given.
	if got := rep.Scenarios[0].Endpoints[0].Endpoint; got != "default-128" {
		t.Errorf("first endpoint %s, want default-128", got)
	}

	// summary.json agrees with samples.csv, counted independently.
	type key struct{ scenario, endpoint, stage string }
	counts := map[key]int64{}
	errs := map[key]int64{}
	f, err := os.Open(filepath.Join(dir, SamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		k := key{row[1], row[3], row[6]}
		counts[k]++
		if row[10] != "200" {
			errs[k]++
		}
	}
	var got Report
	b, err := os.ReadFile(filepath.Join(dir, SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sc := range got.Scenarios {
		for _, e := range sc.Endpoints {
			for _, st := range e.Stages {
				k := key{sc.Name, e.Endpoint, fmt.Sprint(st.Stage)}
				if st.Requests != counts[k] || st.Requests-st.OK != errs[k] {
					t.Errorf("%v: summary %d requests, %d errors; samples.csv %d, %d", k, st.Requests, st.Requests-st.OK, counts[k], errs[k])
				}
				total += st.Requests
			}
			if e.Cost == nil || e.Cost.Bill.TotalUSD <= 0 {
				t.Errorf("%s/%s: no cost estimate", sc.Name, e.Endpoint)
			}
		}
	}
	if total != int64(len(rows)-1) || total < 50 {
		t.Errorf("summary counts %d requests, samples.csv has %d rows", total, len(rows)-1)
	}

	// Rebuild from samples.csv alone (no summary.json) gives the same scenarios.
	dir2 := t.TempDir()
	copyFile(t, filepath.Join(dir, SamplesFile), filepath.Join(dir2, SamplesFile))
	copyFile(t, filepath.Join(dir, ConcurrencyFile), filepath.Join(dir2, ConcurrencyFile))
	if err := rebuild(dir2, false, io.Discard); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	again, err := ReadReport(filepath.Join(dir2, SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Scenarios, again.Scenarios) {
		a, _ := json.MarshalIndent(got.Scenarios, "", " ")
		b, _ := json.MarshalIndent(again.Scenarios, "", " ")
		t.Errorf("rebuilt scenarios differ from the live run's:\nlive:    %.2000s\nrebuilt: %.2000s", a, b)
	}
	// Rebuild in place keeps the run's information and thresholds, and
	// draws the charts again.
	for _, name := range []string{"load-fast.png", "load-slow.png", "concurrency-fast.png"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := Rebuild(dir, io.Discard); err != nil {
		t.Fatalf("Rebuild in place: %v", err)
	}
	inPlace, err := ReadReport(filepath.Join(dir, SummaryJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, *inPlace) {
		t.Errorf("rebuilding in place changed summary.json")
	}

	for _, name := range []string{"load-fast.png", "load-slow.png", "concurrency-fast.png", SummaryMDFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Size() < 1000 {
			t.Errorf("%s: %v (size %d)", name, err, sizeOf(fi))
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, SummaryMDFile))
	for _, want := range []string{"## fast (`delay_ms=5`)", "| 1: ramp 0→4 over 500ms", "**all**", "$ per 1M", "p99<1s"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return 0
	}
	return fi.Size()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunThresholdAndInterrupt: a crossed threshold is an error wrapping
// threshold.ErrCrossed; an interrupted run keeps its samples and writes a
// summary marked partial.
func TestRunThresholdAndInterrupt(t *testing.T) {
	srv := helloServer(t)
	base := RunConfig{
		Endpoints: []Endpoint{{Name: "default-2048", URL: srv.URL}},
		Scenarios: []Scenario{{"one", "delay_ms=1"}, {"two", "delay_ms=1"}},
		Model:     Open,
		Stages:    mustStages(t, "0s:40,500ms:40", false),
		Timeout:   time.Second,
		Progress:  io.Discard,
		NoCharts:  true,
	}
	cfg := base
	cfg.Dir = t.TempDir()
	cfg.Info.Thresholds = []string{"error_rate<1%"} // every 10th answer is a 500
	rep, err := Run(context.Background(), cfg)
	if !errors.Is(err, threshold.ErrCrossed) || rep == nil {
		t.Fatalf("Run with a crossed threshold: %v", err)
	}

	cfg = base
	cfg.Dir = t.TempDir()
	cfg.Stages = mustStages(t, "0s:40,1m:40", false)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	begin := time.Now()
	rep, err = Run(ctx, cfg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("interrupted Run: %v", err)
	}
	if time.Since(begin) > 5*time.Second {
		t.Errorf("interrupted run took %v", time.Since(begin))
	}
	if rep == nil || !rep.Partial || len(rep.Scenarios) != 1 || rep.Scenarios[0].Endpoints[0].Total.Requests < 1 {
		t.Fatalf("interrupted run report: %+v", rep)
	}
	md, _ := os.ReadFile(filepath.Join(cfg.Dir, SummaryMDFile))
	if !bytes.Contains(md, []byte("PARTIAL")) {
		t.Errorf("summary.md of an interrupted run is not marked partial")
	}
}

// TestThroughputIsPerStageDuration: req/s is the requests sent divided by
// the stage's own duration (the run's, over all stages), whatever the span
// from the first request to the last answer.
func TestThroughputIsPerStageDuration(t *testing.T) {
	srv := helloServer(t)
	tests := []struct {
		rate      string
		requests  int64
		stageRPS  []float64 // per stage
		totalRPS  float64
		totalSpan float64
	}{
		{"0s:1,1s:1", 1, []float64{0, 1}, 1, 1},
		{"0s:2,1s:2", 2, []float64{0, 2}, 2, 1},
		{"0s:20,3s:20", 60, []float64{0, 20}, 20, 3},
		{"0s:10,1s:10,1s:30", 30, []float64{0, 10, 20}, 15, 2},
	}
	for _, tt := range tests {
		t.Run(tt.rate, func(t *testing.T) {
			cfg := RunConfig{Dir: t.TempDir(), Endpoints: []Endpoint{{Name: "api", URL: srv.URL, Hello: true}}, Scenarios: []Scenario{{Name: "s"}},
				Model: Open, Stages: mustStages(t, tt.rate, false), Timeout: 2 * time.Second, NoCharts: true, Progress: io.Discard}
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			e := rep.Scenarios[0].Endpoints[0]
			if e.Total.Requests != tt.requests || e.Total.Throughput != tt.totalRPS || e.Total.WindowS != tt.totalSpan {
				t.Errorf("total: %d requests, %v req/s over %v s; want %d, %v over %v", e.Total.Requests, e.Total.Throughput, e.Total.WindowS, tt.requests, tt.totalRPS, tt.totalSpan)
			}
			for i, want := range tt.stageRPS {
				if got := e.Stages[i].Throughput; math.Abs(got-want) > 1e-9 {
					t.Errorf("stage %d: %v req/s, want %v", i+1, got, want)
				}
			}
		})
	}
}
