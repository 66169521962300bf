package compare

import (
	"errors"
	"math"
	"strings"
	"testing"

	"lambdabench/bench/internal/threshold"
)

// matrixRun builds a matrix Run by hand: per key the warm samples (billed
// and cost derived from them).
func matrixRun(dir, verdict string, rows map[string][]float64, order ...string) *Run {
	r := &Run{Dir: dir, Kind: KindMatrix, Verdict: verdict}
	for _, k := range order {
		row := r.row(k)
		for _, v := range rows[k] {
			row.Samples[MetricWarm] = append(row.Samples[MetricWarm], v)
			row.Samples[MetricBilled] = append(row.Samples[MetricBilled], math.Ceil(v))
			row.Samples[MetricRoundTrip] = append(row.Samples[MetricRoundTrip], v+2)
			row.Samples[MetricCost] = append(row.Samples[MetricCost], math.Ceil(v)*0.02+0.2)
		}
		r.Costs = append(r.Costs, KeyCost{k, 0.02*rows[k][0] + 0.2})
	}
	return r
}

func table(t *testing.T, p Part, id string) Table {
	t.Helper()
	for _, tb := range p.Tables {
		if tb.Metric.ID == id {
			return tb
		}
	}
	t.Fatalf("no table %q", id)
	return Table{}
}

func TestCompareMatrix(t *testing.T) {
	old := matrixRun("old", "x86_64 2048 MB", map[string][]float64{
		"x86_64 1536 MB": seq(200, 1, 10),
		"x86_64 2048 MB": seq(150, 1, 10),
		"x86_64 4096 MB": seq(100, 1, 10),
	}, "x86_64 1536 MB", "x86_64 2048 MB", "x86_64 4096 MB")
	cur := matrixRun("new", "x86_64 1536 MB", map[string][]float64{
		"x86_64 1536 MB":  seq(220, 1, 10),   // +10%, separated: significant
		"x86_64 2048 MB":  seq(150.5, 1, 10), // interleaved: ~
		"x86_64 10240 MB": seq(90, 1, 10),
	}, "x86_64 1536 MB", "x86_64 2048 MB", "x86_64 10240 MB")

	tests := []struct {
		name     string
		o        Options
		wantRegr int
	}{
		{"no gate", Options{FailPct: -1}, 0},
		{"gate 5% catches +10%", Options{FailPct: 5}, 1},
		{"gate 15% lets +10% pass", Options{FailPct: 15}, 0},
		{"gate on cost", Options{FailPct: 5, Gate: []string{"cost"}}, 1},
		{"gate on a metric that did not move", Options{FailPct: 5, Gate: []string{"init"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Compare([]*Run{old}, []*Run{cur}, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(res.Regressions); got != tt.wantRegr {
				t.Errorf("regressions %v, want %d", res.Regressions, tt.wantRegr)
			}
			if err := res.Err(); (err != nil) != (tt.wantRegr > 0) || (err != nil && !errors.Is(err, threshold.ErrCrossed)) {
				t.Errorf("Err() = %v", err)
			}
			p := res.Parts[0]
			warm := table(t, p, "warm")
			if len(warm.Cells) != 2 {
				t.Fatalf("warm rows %d, want the 2 rows on both sides", len(warm.Cells))
			}
			c0, c1 := warm.Cells[0], warm.Cells[1]
			if c0.Key != "x86_64 1536 MB" || !c0.Test.Significant || !c0.Worse || c0.Better {
				t.Errorf("1536 MB: %+v %+v", c0, c0.Test)
			}
			if want := (224.0/204 - 1) * 100; math.Abs(c0.ChangePct-want) > 1e-9 {
				t.Errorf("1536 MB change %v, want %v (nearest-rank medians 204 → 224)", c0.ChangePct, want)
			}
			if c1.Test.Significant || c1.Worse || c1.Better {
				t.Errorf("2048 MB interleaved: %+v", c1.Test)
			}
			g := warm.Geomean
			if g == nil || g.Rows != 2 || math.Abs(g.Old-math.Sqrt(204*154)) > 1e-9 {
				t.Errorf("geomean %+v", g)
			}
			if strings.Join(p.OnlyOld, ",") != "x86_64 4096 MB" || strings.Join(p.OnlyNew, ",") != "x86_64 10240 MB" {
				t.Errorf("only old %v, only new %v", p.OnlyOld, p.OnlyNew)
			}
			// Costs: both-side rows, then 4096 MB (old only), 10240 MB (new only).
			if !p.VerdictChanged || len(p.Costs) != 4 || !math.IsNaN(p.Costs[2].New) || !math.IsNaN(p.Costs[3].Old) {
				t.Errorf("verdict changed %v, costs %v", p.VerdictChanged, p.Costs)
			}
		})
	}
}

func TestCompareEverythingFailsNow(t *testing.T) {
	old := matrixRun("old", "", map[string][]float64{"x86_64 1536 MB": seq(100, 1, 10)}, "x86_64 1536 MB")
	cur := &Run{Dir: "new", Kind: KindMatrix}
	row := cur.row("x86_64 1536 MB")
	row.Attempts, row.Failures = 10, 10
	res, err := Compare([]*Run{old}, []*Run{cur}, Options{FailPct: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Regressions) != 1 || !strings.Contains(res.Regressions[0], "no successful samples in new") {
		t.Errorf("regressions %v", res.Regressions)
	}
	if p := res.Parts[0]; len(p.Failures) != 1 || !strings.Contains(p.Failures[0], "new 10 of 10") {
		t.Errorf("failures %v", p.Failures)
	}
	if !errors.Is(res.Err(), threshold.ErrCrossed) {
		t.Errorf("Err() = %v", res.Err())
	}
}

func TestCompareHigherIsBetter(t *testing.T) {
	mk := func(rps []float64) *Run {
		r := &Run{Dir: "x", Kind: KindLoad}
		row := r.row("fast-io default-128")
		row.Samples[MetricThroughput] = rps
		row.Samples[MetricLatency] = seq(100, 1, len(rps))
		row.Samples[MetricErrors] = make([]float64, len(rps))
		return r
	}
	res, err := Compare([]*Run{mk(seq(40, 0.1, 10))}, []*Run{mk(seq(30, 0.1, 10))}, Options{FailPct: 5, Gate: []string{"throughput"}})
	if err != nil {
		t.Fatal(err)
	}
	c := table(t, res.Parts[0], "throughput").Cells[0]
	if !c.Worse || !c.Regression || c.ChangePct >= 0 {
		t.Errorf("throughput 40 → 30 req/s: %+v", c)
	}
	if len(res.Regressions) != 1 {
		t.Errorf("regressions %v", res.Regressions)
	}
}

func TestCompareErrors(t *testing.T) {
	m := matrixRun("m", "", map[string][]float64{"a 1 MB": {1, 2, 3}}, "a 1 MB")
	l := &Run{Dir: "l", Kind: KindLoad}
	tests := []struct {
		name     string
		old, new []*Run
		o        Options
		want     string
	}{
		{"kinds differ", []*Run{m}, []*Run{l}, Options{FailPct: -1}, "cannot compare a matrix folder (m) with a load folder (l)"},
		{"unknown metric", []*Run{m}, []*Run{m}, Options{FailPct: -1, Gate: []string{"latency"}}, `metric "latency": a matrix comparison has warm, billed, init, roundtrip, cost`},
		{"rate has no percentile", []*Run{l}, []*Run{l}, Options{FailPct: -1, Gate: []string{"errors-p99"}}, "is a rate"},
		{"alpha", []*Run{m}, []*Run{m}, Options{Alpha: 1.5}, "--alpha"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compare(tt.old, tt.new, tt.o)
			if err == nil || !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want ErrInput with %q", err, tt.want)
			}
		})
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]float64{"5%": 5, "5": 5, " 0.5% ": 0.5, "0": 0} {
		if got, err := ParsePercent(in); err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-5%", "five", "NaN", "Inf%"} {
		if _, err := ParsePercent(in); !errors.Is(err, ErrInput) {
			t.Errorf("ParsePercent(%q) err %v, want ErrInput", in, err)
		}
	}
}
