package render

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lambdabench/bench/internal/charts"
)

// lmiRamp is a configuration's ramp over levels: latency grows with the
// load, the knee at knee (0: none), every step after it broken.
func lmiRamp(label string, levels []float64, base float64, knee int) charts.LMIConfig {
	c := charts.LMIConfig{Label: label}
	for i, l := range levels {
		pt := charts.LMIPoint{Offered: l, P50: base * (1 + float64(i)/4), P99: base * (2 + float64(i*i)/2), Held: knee == 0 || i < knee}
		if knee > 0 && i == knee-1 {
			pt.Knee = true
			c.KneeLabel = fmt.Sprintf("knee %.1f req/s/env", 10*l)
		}
		c.Points = append(c.Points, pt)
	}
	return c
}

// lmiCost is a configuration's cost at rates: instances step up every
// perInstance req/s.
func lmiCost(label string, rates []float64, perInstance, usd float64) charts.LMICostSeries {
	s := charts.LMICostSeries{Label: label}
	for _, r := range rates {
		s.Points = append(s.Points, charts.LMICostPoint{RPS: r, USDPerHour: usd * math.Ceil(r/perInstance)})
	}
	return s
}

func TestTuneLMICharts(t *testing.T) {
	levels := []float64{1, 2, 4, 8, 16, 32}
	rates := []float64{1, 10, 100, 1000, 10000}
	var std []charts.LMICostPoint
	for _, r := range rates {
		std = append(std, charts.LMICostPoint{RPS: r, USDPerHour: r * 0.05})
	}
	var many []charts.LMIConfig
	var manyCost []charts.LMICostSeries
	for i := range 12 {
		label := fmt.Sprintf("%dMB-%gGiB/vCPU-c%d", 2048<<(i%3), []float64{2, 4, 8}[i/4%3], 1<<(i%5+1))
		many = append(many, lmiRamp(label, levels, 5+float64(i), 1+i%6))
		manyCost = append(manyCost, lmiCost(label, rates, 50*float64(i+1), 0.2+0.05*float64(i)))
	}
	wide := []float64{1, 10, 100, 1000}
	slo := []charts.LMISLO{{Label: "p99<200ms", Ms: 200}}
	latency := map[string]charts.LMILatency{
		"one config":     {OfferedUnit: "virtual users", Configs: []charts.LMIConfig{lmiRamp("2048MB-2GiB/vCPU-c16", levels, 10, 3)}, SLOs: slo},
		"twelve configs": {OfferedUnit: "virtual users", Configs: many, SLOs: slo},
		"no knee":        {OfferedUnit: "requests per second", Configs: []charts.LMIConfig{lmiRamp("a", levels, 10, 0), lmiRamp("b", levels, 20, 0)}},
		"wide range, log axes": {OfferedUnit: "requests per second",
			Configs: []charts.LMIConfig{lmiRamp("a", wide, 1, 2), lmiRamp("b", wide, 400, 1)}, SLOs: slo},
		"single point": {Configs: []charts.LMIConfig{{Label: "a", Points: []charts.LMIPoint{{Offered: 4, P50: 3, P99: 5, Held: true, Knee: true}}, KneeLabel: "knee"}}},
		"zero latency": {Configs: []charts.LMIConfig{{Label: "a", Points: []charts.LMIPoint{{Offered: 1, P50: 0, P99: 0}, {Offered: 2, P50: 0.5, P99: 300}}}}},
		"a config without points": {Configs: []charts.LMIConfig{{Label: "failed"}, lmiRamp("b", levels, 10, 2)},
			SLOs: []charts.LMISLO{{Label: "p99<1s", Ms: 1000}}},
	}
	cost := map[string]charts.LMICost{
		"one config": {Series: []charts.LMICostSeries{lmiCost("a", rates, 100, 0.5)}, Standard: std,
			BreakEvenRPS: 100, BreakEvenLabel: "break-even: a from 100 req/s"},
		"twelve configs":     {Series: manyCost, Standard: std, BreakEvenRPS: 250},
		"no standard":        {Series: manyCost[:3], Note: "no standard Lambda figure: no break-even"},
		"nil break-even":     {Series: []charts.LMICostSeries{lmiCost("a", rates, 1, 5)}, Standard: std, Note: "LMI not cheaper within the rates asked"},
		"standard only":      {Series: []charts.LMICostSeries{{Label: "no cost"}}, Standard: std},
		"zeros left out":     {Series: []charts.LMICostSeries{{Label: "a", Points: []charts.LMICostPoint{{RPS: 0, USDPerHour: 1}, {RPS: 5, USDPerHour: 0}, {RPS: 10, USDPerHour: 2}}}}},
		"break-even at edge": {Series: []charts.LMICostSeries{lmiCost("a", rates, 100, 0.5)}, Standard: std, BreakEvenRPS: 10000},
	}
	dir := t.TempDir()
	look := os.Getenv("LMI_CHARTS_DIR") // a folder to copy some charts into, full size, to look at them
	first := true
	for name, c := range latency {
		t.Run("latency/"+name, func(t *testing.T) {
			if !first && look == "" {
				lowDPI(t)
			}
			first = false
			path := filepath.Join(dir, "latency-"+strings.ReplaceAll(name, " ", "-")+".png")
			if err := TuneLMILatency(path, "LMI tune: f", c); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, path, 12, 7)
		})
	}
	for name, c := range cost {
		t.Run("cost/"+name, func(t *testing.T) {
			if look == "" {
				lowDPI(t)
			}
			path := filepath.Join(dir, "cost-"+strings.ReplaceAll(name, " ", "-")+".png")
			if err := TuneLMICost(path, "LMI tune: f", c); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, path, 12, 7)
		})
	}
	if look != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*.png"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				_ = os.WriteFile(filepath.Join(look, filepath.Base(f)), b, 0o644)
			}
		}
	}
}

// TestTuneLMIChartsInvalid: a chart with nothing to draw is an error, not
// an empty picture, and no file is written.
func TestTuneLMIChartsInvalid(t *testing.T) {
	lowDPI(t)
	tests := []struct {
		name string
		req  charts.Request
		want string
	}{
		{"latency without request", charts.Request{Kind: charts.KindTuneLMILatency}, "no configurations"},
		{"latency without configs", charts.Request{Kind: charts.KindTuneLMILatency, LMILatency: &charts.LMILatency{}}, "no configuration has a step"},
		{"latency without points", charts.Request{Kind: charts.KindTuneLMILatency,
			LMILatency: &charts.LMILatency{Configs: []charts.LMIConfig{{Label: "a"}}}}, "no configuration has a step"},
		{"latency of NaN", charts.Request{Kind: charts.KindTuneLMILatency,
			LMILatency: &charts.LMILatency{Configs: []charts.LMIConfig{{Label: "a", Points: []charts.LMIPoint{{Offered: 1, P50: math.NaN(), P99: math.NaN()}}}}}}, "no configuration has a step"},
		{"cost without request", charts.Request{Kind: charts.KindTuneLMICost}, "no costs"},
		{"cost without series", charts.Request{Kind: charts.KindTuneLMICost, LMICost: &charts.LMICost{}}, "no configuration and no standard"},
		{"cost without points", charts.Request{Kind: charts.KindTuneLMICost,
			LMICost: &charts.LMICost{Series: []charts.LMICostSeries{{Label: "a"}}, BreakEvenRPS: 5}}, "no configuration and no standard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Path = filepath.Join(t.TempDir(), "c.png")
			err := Draw(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if _, err := os.Stat(tt.req.Path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s written for an invalid request (stat: %v)", tt.req.Path, err)
			}
		})
	}
}

// TestTuneLMIThroughCharts draws both charts through package charts, as
// package lmitune does.
func TestTuneLMIThroughCharts(t *testing.T) {
	lowDPI(t)
	dir := t.TempDir()
	lat := charts.LMILatency{Configs: []charts.LMIConfig{lmiRamp("a", []float64{1, 2, 4}, 10, 2)}}
	if err := charts.TuneLMILatency(filepath.Join(dir, "latency.png"), "t", lat); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(dir, "latency.png"), 12, 7)
	cost := charts.LMICost{Series: []charts.LMICostSeries{lmiCost("a", []float64{1, 10}, 5, 1)}}
	if err := charts.TuneLMICost(filepath.Join(dir, "cost.png"), "t", cost); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(dir, "cost.png"), 12, 7)
}
