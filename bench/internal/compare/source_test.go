package compare

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/matrix"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// writeMatrix writes a matrix results folder: per memory size one cold and
// the given warm durations, and (with summary) summary.json from
// matrix.Build.
func writeMatrix(t *testing.T, dir string, warm map[int][]float64, summary bool) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := matrix.NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var all []matrix.Sample
	for _, mem := range []int{1536, 2048} {
		base := matrix.Sample{Function: "f", Arch: "x86_64", MemoryMB: mem, Workers: 1, VCPUs: 1, OK: true,
			RoundTripMs: 1, InitMs: math.NaN(), MaxMemoryMB: 30, HandlerMs: math.NaN(), Processed: math.NaN(),
			HandlerWork: math.NaN(), DetectedCPUs: math.NaN(), Gomaxprocs: math.NaN(), ThreadsUsed: math.NaN(),
			CPUMs: math.NaN(), Parallelism: math.NaN(), MemoryUsedKB: math.NaN()}
		cold := base
		cold.Kind, cold.Time, cold.DurationMs, cold.BilledMs, cold.InitMs = matrix.KindCold, t0, 50, 90, 40
		all = append(all, cold)
		for i, d := range warm[mem] {
			s := base
			s.Kind, s.Seq, s.Time, s.DurationMs, s.BilledMs, s.RoundTripMs = matrix.KindWarm, i+1, t0.Add(time.Duration(i+1)*time.Second), d, math.Ceil(d), d+3
			all = append(all, s)
		}
	}
	arm := matrix.Sample{Time: t0, Function: "g", Arch: "arm64", MemoryMB: 1536, Kind: matrix.KindSkipped, Error: "not on this machine"}
	all = append(all, arm)
	for _, s := range all {
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "samples.csv"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if summary {
		sum, err := matrix.Build(all, matrix.Meta{Target: "local", Trim: 0.2, Strategy: "cost", Weight: 0.5}, cost.Default(), false)
		if err != nil {
			t.Fatal(err)
		}
		if err := sum.WriteJSON(filepath.Join(dir, "summary.json")); err != nil {
			t.Fatal(err)
		}
	}
}

// writeLoad writes a load results folder: per endpoint requests at the
// given latencies, one every 100 ms over two stages.
func writeLoad(t *testing.T, dir string, lat map[string][]float64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := load.ParseStages("2s:2,2s:4", true)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := load.NewCSVEncoder(&buf)
	for _, ep := range []string{"default-128", "lmi-2048"} {
		for i, ms := range lat[ep] {
			el := time.Duration(i) * 100 * time.Millisecond
			stage := 1
			if el >= 2*time.Second {
				stage = 2
			}
			r := load.Result{Scenario: "fast-io", Query: "delay_ms=100", Endpoint: ep, Model: load.Closed, Stages: st,
				Stage: stage, VUs: 2, Time: t0.Add(el), Elapsed: el, Status: 200, Latency: time.Duration(ms * float64(time.Millisecond))}
			if i%10 == 9 {
				r.Status = 502
			}
			if err := enc.Encode(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "samples.csv"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadMatrix(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	writeMatrix(t, dir, map[int][]float64{1536: seq(100, 1, 8), 2048: seq(80, 0.5, 8)}, true)
	runs, err := Read(dir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Kind != KindMatrix {
		t.Fatalf("runs %+v", runs)
	}
	r := runs[0]
	if len(r.Rows) != 3 {
		t.Fatalf("rows %d, want 2 measured + 1 skipped", len(r.Rows))
	}
	row := r.Rows[0]
	if row.Key != "x86_64 1536 MB" || len(row.Samples[MetricWarm]) != 8 || len(row.Samples[MetricInit]) != 1 || row.Samples[MetricInit][0] != 40 {
		t.Errorf("row %s: %v", row.Key, row.Samples)
	}
	// Cost per 1M priced on its own: 101 ms billed × 1.5 GB × x86_64 price + $0.20.
	p := cost.Default()
	want, _ := p.PerMillion("x86_64", 1536, 101)
	if got := row.Samples[MetricCost][1]; math.Abs(got-want) > 1e-9 {
		t.Errorf("cost of the second invocation %v, want %v", got, want)
	}
	// As summary.json states it: billed durations 100..107 ms, each
	// rounded up, priced together.
	bill, _ := p.Standard("x86_64", 1536, seq(100, 1, 8))
	if len(r.Costs) != 2 || r.Costs[0].Key != row.Key || math.Abs(r.Costs[0].PerMillion-bill.PerMillion()) > 1e-9 {
		t.Errorf("costs %v, want %s at %v first", r.Costs, row.Key, bill.PerMillion())
	}
	if r.Rows[2].Skip == "" {
		t.Errorf("arm64 row not marked as not measured: %+v", r.Rows[2])
	}
	if r.Verdict != "x86_64 1536 MB" && r.Verdict != "x86_64 2048 MB" {
		t.Errorf("verdict %q", r.Verdict)
	}
}

func TestReadLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "l")
	writeLoad(t, dir, map[string][]float64{"default-128": seq(100, 0.1, 40), "lmi-2048": seq(120, 0.1, 40)})
	for _, tt := range []struct {
		stages bool
		keys   string
		n      int
	}{
		{false, "fast-io default-128|fast-io lmi-2048", 40},
		{true, "fast-io default-128 stage 1 (ramp 0→2 over 2s)|fast-io default-128 stage 2 (ramp 2→4 over 2s)|fast-io lmi-2048 stage 1 (ramp 0→2 over 2s)|fast-io lmi-2048 stage 2 (ramp 2→4 over 2s)", 20},
	} {
		runs, err := Read(dir, ReadOptions{Stages: tt.stages})
		if err != nil {
			t.Fatal(err)
		}
		r := runs[0]
		var keys []string
		for _, row := range r.Rows {
			keys = append(keys, row.Key)
		}
		if r.Kind != KindLoad || strings.Join(keys, "|") != tt.keys {
			t.Fatalf("stages %v: kind %s rows %q", tt.stages, r.Kind, keys)
		}
		row := r.Rows[0]
		if len(row.Samples[MetricLatency]) != tt.n-tt.n/10 || row.Failures != tt.n/10 || row.Attempts != tt.n {
			t.Errorf("stages %v: %d latencies (successful requests only), %d failures", tt.stages, len(row.Samples[MetricLatency]), row.Failures)
		}
		// 10 requests per second; the last second (partial) is left out.
		tp := row.Samples[MetricThroughput]
		if len(tp) == 0 || tp[0] != 10 {
			t.Errorf("stages %v: throughput samples %v", tt.stages, tp)
		}
	}
}

func TestKind(t *testing.T) {
	root := t.TempDir()
	m := filepath.Join(root, "m")
	writeMatrix(t, m, map[int][]float64{1536: {1, 2}}, false)
	tune := filepath.Join(root, "tune")
	writeMatrix(t, tune, map[int][]float64{1536: {1, 2}}, false)
	if err := os.WriteFile(filepath.Join(tune, "summary.json"), []byte(`{"kind":"tune","verdict":"a shape of its own"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	l := filepath.Join(root, "l")
	writeLoad(t, l, map[string][]float64{"default-128": {1, 2}})
	suite := filepath.Join(root, "suite")
	writeMatrix(t, filepath.Join(suite, "matrix"), map[int][]float64{1536: {1, 2}}, false)
	writeLoad(t, filepath.Join(suite, "load"), map[string][]float64{"default-128": {1, 2}})
	for dir, want := range map[string]string{m: KindMatrix, tune: KindTune, l: KindLoad, suite: KindSuite} {
		if got, err := Kind(dir); err != nil || got != want {
			t.Errorf("Kind(%s) = %q, %v; want %q", filepath.Base(dir), got, err, want)
		}
	}
	runs, err := Read(suite, ReadOptions{})
	if err != nil || len(runs) != 2 || runs[0].Kind != KindMatrix || runs[1].Kind != KindLoad {
		t.Errorf("suite: %v %v", runs, err)
	}
	// tune reads like matrix; a summary.json of its own shape only costs
	// the verdict.
	runs, err = Read(tune, ReadOptions{})
	if err != nil || runs[0].Kind != KindTune || len(runs[0].Rows[0].Samples[MetricWarm]) != 2 || len(runs[0].Notes) != 1 {
		t.Errorf("tune: %+v %v", runs, err)
	}
}

func TestReadBadInput(t *testing.T) {
	root := t.TempDir()
	good := filepath.Join(root, "good")
	writeMatrix(t, good, map[int][]float64{1536: seq(100, 1, 6)}, false)
	csvText, err := os.ReadFile(filepath.Join(good, "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(csvText), "\n")

	write := func(name, samples, summary string) string {
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if samples != "" {
			if err := os.WriteFile(filepath.Join(d, "samples.csv"), []byte(samples), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if summary != "" {
			if err := os.WriteFile(filepath.Join(d, "summary.json"), []byte(summary), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	// Line 4 gets a stray quote: a CSV syntax error in the middle.
	broken := strings.Join(lines[:3], "") + `2026-11-01T12:00:02Z,f,"x86_64,1536` + "\n" + strings.Join(lines[4:], "")
	// Line 5's memory is not a number.
	badValue := strings.Join(lines[:4], "") + strings.Replace(lines[4], ",1536,", ",lots,", 1) + strings.Join(lines[5:], "")
	tests := []struct {
		name, dir, want string
	}{
		{"missing folder", filepath.Join(root, "nope"), "not a folder"},
		{"no samples.csv", write("empty", "", ""), "has no samples.csv"},
		{"damaged line", write("broken", broken, ""), "samples.csv: line 4"},
		{"bad value", write("badvalue", badValue, ""), "samples.csv: line 5: column memory_mb"},
		{"empty samples.csv", write("emptycsv", "\n", ""), "header"},
		{"unknown kind", write("odd", string(csvText), `{"kind":"sweep"}`), `kind "sweep"`},
		{"broken summary.json", write("badjson", string(csvText), `{"kind":"matrix",`), "summary.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.dir, ReadOptions{})
			if err == nil || !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want ErrInput with %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
	// A torn last line (a run killed mid-write) is forgiven, as the matrix
	// reader forgives it.
	torn := write("torn", string(csvText)+`2026-11-01T12:00:09Z,f,"x86`, "")
	runs, err := Read(torn, ReadOptions{})
	if err != nil || len(runs[0].Rows[0].Samples[MetricWarm]) != 6 {
		t.Fatalf("torn last line: %v", err)
	}
	if !strings.Contains(strings.Join(runs[0].Notes, "\n"), "line 11 was cut off") {
		t.Errorf("torn last line: no warning in the notes: %q", runs[0].Notes)
	}
}
