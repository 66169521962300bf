package lmitune

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/stats"
	"lambdabench/bench/internal/threshold"
)

func TestRampFor(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		c    Config
		want []float64
	}{
		{"one slot", Options{Environments: 1}, Config{PerEnvConcurrency: 1}, []float64{1, 2}},
		{"sixteen slots", Options{Environments: 1}, Config{PerEnvConcurrency: 16}, []float64{1, 2, 4, 8, 16, 32}},
		{"two environments of 3", Options{Environments: 2}, Config{PerEnvConcurrency: 3}, []float64{1, 2, 4, 8, 12}},
		{"given", Options{Environments: 4, Ramp: []float64{5, 10}}, Config{PerEnvConcurrency: 64}, []float64{5, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.RampFor(tt.c); !slices.Equal(got, tt.want) {
				t.Errorf("RampFor = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigsOrderAndLabels(t *testing.T) {
	o := Options{Memories: []int{2048, 4096}, Ratios: []float64{2, 8}, Concurrencies: []int{1, 16}}
	cfgs := o.Configs()
	if len(cfgs) != 8 {
		t.Fatalf("%d configurations, want 8", len(cfgs))
	}
	if got := cfgs[1].Label(); got != "2048MB-2GiB/vCPU-c16" {
		t.Errorf("label %q", got)
	}
	if v := (Config{MemoryMB: 4096, GiBPerVCPU: 8}).VCPUs(); v != 0.5 {
		t.Errorf("4096 MB at 8 GiB per vCPU = %v vCPUs, want 0.5", v)
	}
}

func TestJudge(t *testing.T) {
	slo, err := threshold.ParseAll([]string{"p99<200ms"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		st       Step
		held     bool
		contains string
	}{
		{"within", Step{OK: 100, Requests: 100, Latency: stats.Summary{N: 100, P99: 150}}, true, ""},
		{"slow", Step{OK: 100, Requests: 100, Latency: stats.Summary{N: 100, P99: 250}}, false, "p99 250.0ms breaks p99<200ms"},
		{"errors", Step{OK: 90, Requests: 100, ErrorRate: 0.1, Latency: stats.Summary{N: 90, P99: 10}}, false, "errors 10.00% > 1.00%"},
		{"fast failures only", Step{OK: 0, Requests: 100, ErrorRate: 1}, false, "no successful request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			held, why := judge(slo, 0.01, "c", tt.st)
			if held != tt.held || !strings.Contains(why, tt.contains) {
				t.Errorf("judge = %v %q, want %v containing %q", held, why, tt.held, tt.contains)
			}
		})
	}
}

func TestReadSamplesDamaged(t *testing.T) {
	dir := t.TempDir()
	head := strings.Join(SampleHeader, ",") + "\n"
	tests := []struct {
		name, body string
	}{
		{"no header", ""},
		{"wrong columns", "a,b,c\n1,2,3\n"},
		{"bad number", head + "c,2048,2,1,x,1,t,1,200,1.0,0,\n"},
		{"short row", head + "c,2048,2,1,1,1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".csv")
			if err := os.WriteFile(p, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			var de *DamagedError
			if _, _, err := readSamples(p); err == nil || !asDamaged(err, &de) {
				t.Errorf("readSamples = %v, want a DamagedError", err)
			}
		})
	}
}

func asDamaged(err error, de **DamagedError) bool {
	d, ok := err.(*DamagedError)
	*de = d
	return ok
}

func TestHostLimit(t *testing.T) {
	tests := []struct {
		c     Config
		envs  int
		cores int
		want  string
	}{
		{Config{MemoryMB: 2048, GiBPerVCPU: 2}, 1, 2, ""},
		{Config{MemoryMB: 4096, GiBPerVCPU: 2}, 1, 2, ""},
		{Config{MemoryMB: 8192, GiBPerVCPU: 2}, 1, 2, "needs 4.00 vCPUs; this machine has 2 cores"},
		{Config{MemoryMB: 2048, GiBPerVCPU: 2}, 3, 2, "needs 3.00 vCPUs"},
		{Config{MemoryMB: 2048, GiBPerVCPU: 8}, 8, 2, ""},
	}
	for _, tt := range tests {
		got := hostLimit(tt.c, tt.envs, tt.cores)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("hostLimit(%s, %d envs, %d cores) = %q, want %q", tt.c.Label(), tt.envs, tt.cores, got, tt.want)
		}
	}
}

func TestReadSamplesCutLastLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "samples.csv")
	body := strings.Join(SampleHeader, ",") + "\n" +
		"c,2048,2,1,1,1,2026-12-03T00:00:00Z,1.0,200,12.5,0,\n" +
		"c,2048,2,1,1,1,2026-12-03T00:00:00Z,2.0,429,1.0,0,\n" +
		"c,2048,2,1,1,1,2026-12-03T00"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	acc, warnings, err := readSamples(p)
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "cut short") {
		t.Fatalf("readSamples = %v, %v", warnings, err)
	}
	a := acc[stepKey{"c", 1}]
	if a == nil || a.requests != 2 || a.ok != 1 || a.c429 != 1 {
		t.Fatalf("step 1: %+v", a)
	}
}

func TestRebuildLeavesADamagedFolder(t *testing.T) {
	head := strings.Join(SampleHeader, ",") + "\n"
	good := `{"kind": "tune-lmi", "meta": {"slo": ["p99<1s"]}, "configurations": [], "rates": []}`
	tests := []struct {
		name, summary, samples string
	}{
		{"summary cut short", good[:40], head},
		{"samples damaged", good, head + "c,2048,2,1,\"1,1\n"},
		{"objectives unreadable", `{"kind": "tune-lmi", "meta": {"slo": ["p99<<"]}}`, head},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range map[string]string{"summary.json": tt.summary, "samples.csv": tt.samples} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := Rebuild(dir, cost.Default(), "")
			var de *DamagedError
			if !errors.As(err, &de) {
				t.Fatalf("Rebuild = %v, want a DamagedError", err)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "summary.json")); string(b) != tt.summary {
				t.Errorf("summary.json rewritten")
			}
			if _, err := os.Stat(filepath.Join(dir, "summary.md")); err == nil {
				t.Errorf("summary.md written")
			}
		})
	}
}
