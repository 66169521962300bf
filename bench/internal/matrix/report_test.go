package matrix

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/cost"
)

func TestRebuildWritesEverything(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	cfgs, err := Discover(context.Background(), f, map[string]string{"X8664Mem1536FunctionName": "f1", "X8664Mem4096FunctionName": "f2"}, []string{"arm64", "x86_64"}, "not here", 0)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := NewCSVWriter(&buf)
	var live []Sample
	if err := Run(context.Background(), f, cfgs, Options{Cold: 1, Runs: 5, LogTail: true, PollEvery: time.Millisecond,
		OnSample: func(s Sample) error { live = append(live, s); return w.Write(s) }}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "samples.csv"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	meta := Meta{Target: "local", Payload: DefaultPayload, Cold: 1, Runs: 5, Trim: 0.2, Strategy: "cost", Weight: 0.5}
	orig, err := Build(live, meta, cost.Default(), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := orig.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	rebuilt, warnings, err := Rebuild(dir, cost.Default(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings on a whole folder: %q", warnings)
	}
	if rebuilt.Meta.Strategy != "cost" || rebuilt.Verdict == nil || rebuilt.Verdict.Choice.Name != orig.Verdict.Choice.Name {
		t.Fatalf("rebuild lost the run's settings or verdict: %+v", rebuilt.Verdict)
	}
	for i := range orig.Results {
		o, r := orig.Results[i], rebuilt.Results[i]
		if o.Warm != r.Warm || o.CostPerMillion != r.CostPerMillion || o.Speedup != r.Speedup {
			t.Errorf("result %d differs after rebuild:\n%+v\n%+v", i, o, r)
		}
	}
	// 1200 ms × 1.5 GB = 1.8 GB-s costs more than 400 ms × 4 GB = 1.6 GB-s.
	if orig.Verdict.Choice.Name != "f2" {
		t.Errorf("cost verdict = %s, want f2", orig.Verdict.Choice.Name)
	}
	for _, name := range []string{"summary.json", "summary.md", ChartDurations, ChartSpeedup, ChartCost, ChartColdInit} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", name, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	if strings.Contains(string(md), "arm64 vs x86_64") {
		t.Error("summary.md compares architectures when only one was measured")
	}
	for _, want := range []string{"## x86_64 — warm processing", "Not measured: not here.", "## Verdict", "P95, P99, P99.9 equal the slowest sample", "3.00×"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
}

func TestArchitectureComparison(t *testing.T) {
	var samples []Sample
	add := func(arch, fn string, mem, workers int, ms float64) {
		for i := range 3 {
			s := blank(Sample{Function: fn, Arch: arch, MemoryMB: mem, Workers: workers, VCPUs: VCPUsFor(mem, 0)})
			s.Time, s.Kind, s.Seq, s.OK, s.DurationMs, s.BilledMs = time.Unix(int64(i), 0), KindWarm, i+1, true, ms, ms
			samples = append(samples, s)
		}
	}
	add("arm64", "a1", 1536, 1, 1000)
	add("arm64", "a2", 2048, 2, 500)
	add("x86_64", "x1", 1536, 1, 800)
	add("x86_64", "x2", 2048, 2, 600)
	s, err := Build(samples, Meta{Payload: `{"count":20,"mode":"parallel"}`, Trim: 0.2, Strategy: "speed"}, cost.Default(), false)
	if err != nil {
		t.Fatal(err)
	}
	delta := map[string]float64{}
	for _, r := range s.Results {
		delta[r.Function] = r.ArchDelta
	}
	// x86_64 2048: 600 vs 500 ms → 20% slower; arm64 1536: 1000 vs 800 → 25% slower.
	if math.Abs(delta["x2"]-0.2) > 1e-9 || math.Abs(delta["a1"]-0.25) > 1e-9 || math.Abs(delta["a2"]+1.0/6) > 1e-9 {
		t.Fatalf("arch deltas %v", delta)
	}
	if s.Verdict.Choice.Name != "a2" {
		t.Errorf("speed verdict %s, want a2 (500 ms)", s.Verdict.Choice.Name)
	}
	var md bytes.Buffer
	if err := s.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| 2048 MB | 500 | 600 | +20.0% |") {
		t.Errorf("comparison table missing:\n%s", md.String())
	}
}
