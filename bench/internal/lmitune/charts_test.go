package lmitune

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/stats"
)

// chartSummary is a small LMI tune: two configurations, one with a knee
// at step 2 and one that held no step, priced at three rates.
func chartSummary() Summary {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	step := func(n int, offered, p50, p99 float64, held bool) Step {
		st := Step{Step: n, Offered: offered, DurationS: 10, Held: held, Environments: 1, EnvCPU: -1,
			Latency: stats.Summary{N: 100, P50: p50, P95: p99 * 0.9, P99: p99}, Goodput: offered * 10}
		if !held {
			st.Broke = "p99<200ms"
		}
		return st
	}
	a := Config{MemoryMB: 2048, GiBPerVCPU: 2, PerEnvConcurrency: 16}
	b := Config{MemoryMB: 4096, GiBPerVCPU: 4, PerEnvConcurrency: 8}
	usd := func(v float64) *float64 { return &v }
	be := 100.0
	return Summary{
		Kind: Kind,
		Meta: Meta{Function: "f", Target: "aws", Started: t0, Finished: t0.Add(time.Hour), Model: "closed", StepS: 10,
			SLO: []string{"p99<200ms", "p50<50ms"}, MaxErrorRate: 0.01, Environments: 1, Arch: "arm64", InstanceType: "m7g.large", Prices: "built-in"},
		Results: []Result{
			{Config: a, Label: a.Label(), Environments: 1, VCPUsPerEnv: a.VCPUs(), Status: "ok", KneeStep: 2, KneeRPSPerEnv: 20, KneeRPSPerVCPU: 20, KneeP99: 150,
				Steps: []Step{step(1, 1, 10, 80, true), step(2, 2, 20, 150, true), step(3, 4, 60, 400, false)}},
			{Config: b, Label: b.Label(), Environments: 1, VCPUsPerEnv: b.VCPUs(), Status: "no step held",
				Steps: []Step{step(1, 1, 100, 300, false), {Step: 2, Offered: 2, Broke: "error rate"}}},
		},
		Rates: []RateCost{
			{RPS: 10, LMI: []ConfigCost{{Label: a.Label(), Instances: 1, USDPerHour: 0.5}, {Label: b.Label(), Note: "no knee"}}, Cheapest: a.Label(), StandardUSDPerHour: usd(0.2)},
			{RPS: 100, LMI: []ConfigCost{{Label: a.Label(), Instances: 1, USDPerHour: 0.5}, {Label: b.Label(), Note: "no knee"}}, Cheapest: a.Label(), StandardUSDPerHour: usd(2)},
			{RPS: 1000, LMI: []ConfigCost{{Label: a.Label(), Instances: 5, USDPerHour: 2.5}, {Label: b.Label(), Note: "no knee"}}, Cheapest: a.Label(), StandardUSDPerHour: usd(20)},
		},
		BreakEvenRPS: &be, BreakEvenConfig: a.Label(), BreakEven: "LMI (" + a.Label() + ") from 100 req/s",
	}
}

func checkChart(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
		t.Errorf("%s is empty", path)
	}
}

// TestWriteDrawsCharts: Write draws both charts into the folder and
// summary.md links them.
func TestWriteDrawsCharts(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, chartSummary()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{LatencyChartFile, CostChartFile} {
		checkChart(t, filepath.Join(dir, f))
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"](" + LatencyChartFile + ")", "](" + CostChartFile + ")"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md does not link %q", want)
		}
	}
	if strings.Contains(string(md), "Charts not drawn") {
		t.Errorf("summary.md says charts were not drawn:\n%s", md)
	}
}

// TestDrawChartsPartial: a chart that cannot be drawn is named in Err and
// the other one is drawn all the same; a summary without costs has no
// cost chart and no error.
func TestDrawChartsPartial(t *testing.T) {
	t.Run("no successful request", func(t *testing.T) {
		s := chartSummary()
		for i := range s.Results {
			for k := range s.Results[i].Steps {
				s.Results[i].Steps[k].Latency = stats.Summary{}
			}
		}
		dir := t.TempDir()
		c := drawCharts(dir, s)
		if c.Latency != "" || !strings.Contains(c.Err, "no configuration has a step") {
			t.Errorf("charts = %+v, want no latency chart and why", c)
		}
		if c.Cost != CostChartFile {
			t.Errorf("cost chart = %q, want it drawn all the same", c.Cost)
		}
		checkChart(t, filepath.Join(dir, CostChartFile))
	})
	t.Run("no costs", func(t *testing.T) {
		s := chartSummary()
		s.Rates, s.BreakEvenRPS = nil, nil
		dir := t.TempDir()
		c := drawCharts(dir, s)
		if c.Latency != LatencyChartFile || c.Cost != "" || c.Err != "" {
			t.Errorf("charts = %+v, want the latency chart alone, no error", c)
		}
		if _, err := os.Stat(filepath.Join(dir, CostChartFile)); err == nil {
			t.Error("cost.png written without costs")
		}
	})
}

// TestChartModels: what the charts are asked to show.
func TestChartModels(t *testing.T) {
	s := chartSummary()
	lat := LatencyChart(s)
	if lat.OfferedUnit != "virtual users" || len(lat.Configs) != 2 {
		t.Fatalf("latency chart = %+v", lat)
	}
	a, b := lat.Configs[0], lat.Configs[1]
	if len(a.Points) != 3 || !a.Points[1].Knee || a.Points[0].Knee || a.Points[2].Held || a.KneeLabel != "knee 20 req/s/env" {
		t.Errorf("configuration a = %+v, want 3 points, the knee at the second", a)
	}
	if len(b.Points) != 1 || b.Points[0].Knee || b.KneeLabel != "" {
		t.Errorf("configuration b = %+v, want the one step with latencies, no knee", b)
	}
	if len(lat.SLOs) != 1 || lat.SLOs[0].Ms != 200 || lat.SLOs[0].Label != "p99<200ms" {
		t.Errorf("objectives = %+v, want p99<200ms alone", lat.SLOs)
	}
	s.Meta.Model = "open"
	if u := LatencyChart(s).OfferedUnit; u != "requests per second" {
		t.Errorf("open model unit %q", u)
	}

	tests := []struct {
		name      string
		edit      func(*Summary)
		wantNote  string
		wantBreak float64
		wantStd   int
	}{
		{"break-even", func(*Summary) {}, "", 100, 3},
		{"not cheaper", func(s *Summary) { s.BreakEvenRPS = nil }, "LMI not cheaper within the rates asked", 0, 3},
		{"no standard", func(s *Summary) {
			s.BreakEvenRPS = nil
			for i := range s.Rates {
				s.Rates[i].StandardUSDPerHour = nil
			}
		}, "no standard Lambda figure", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := chartSummary()
			tt.edit(&s)
			c := CostChart(s)
			if len(c.Series) != 2 || len(c.Series[0].Points) != 3 || len(c.Series[1].Points) != 0 {
				t.Fatalf("series = %+v, want a's three costs and none of b (no knee)", c.Series)
			}
			if c.Series[0].Points[2].USDPerHour != 2.5 || c.Series[0].Points[2].RPS != 1000 {
				t.Errorf("a at 1000 req/s = %+v", c.Series[0].Points[2])
			}
			if len(c.Standard) != tt.wantStd || c.BreakEvenRPS != tt.wantBreak || !strings.Contains(c.Note, tt.wantNote) || (tt.wantNote == "") != (c.Note == "") {
				t.Errorf("cost chart = %+v, want %d standard points, break-even %v, note %q", c, tt.wantStd, tt.wantBreak, tt.wantNote)
			}
			if tt.wantBreak > 0 && !strings.Contains(c.BreakEvenLabel, "100 req/s") {
				t.Errorf("break-even label %q", c.BreakEvenLabel)
			}
		})
	}
}
