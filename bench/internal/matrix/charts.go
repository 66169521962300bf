package matrix

import (
	"errors"
	"path/filepath"

	"lambdabench/bench/internal/charts"
	"lambdabench/bench/internal/cost"
)

// Chart files a matrix report holds.
const (
	ChartDurations = "durations.png"
	ChartSpeedup   = "speedup.png"
	ChartCost      = "cost.png"
	ChartColdInit  = "cold-init.png"
	// ChartPowerView is tune's Power Tuning view: duration percentiles and
	// cost against memory, both architectures on one picture.
	ChartPowerView = "power-tuning.png"
)

// WriteCharts draws the matrix charts into dir: duration percentiles by
// memory, speedup against the ideal, cost against duration with the Pareto
// front, and cold-start init.
func (s Summary) WriteCharts(dir string) error {
	rows := make([]charts.MatrixRow, 0, len(s.Results))
	var front []cost.Candidate
	for _, r := range s.Results {
		name := r.Label()
		if r.Saturation != nil && r.HostCPUSaturated {
			name += " (host-bound)"
		}
		rows = append(rows, charts.MatrixRow{
			Name: name, Arch: r.Arch, MemoryMB: r.MemoryMB, VCPUs: r.VCPUs, Workers: r.Workers,
			Summary: r.Warm, DurationMs: r.Duration(), Speedup: r.Speedup, CostPerMillion: r.CostPerMillion,
			ColdInit: r.ColdInit, Measured: r.Measured(),
			Verdict: s.Verdict != nil && s.Verdict.Choice.Name == s.NameOf(r) && r.Function != "",
		})
		for _, p := range s.Pareto {
			if p == s.NameOf(r) && r.Measured() {
				front = append(front, cost.Candidate{Name: r.Label(), Arch: r.Arch, MemoryMB: r.MemoryMB, DurationMs: r.Duration(), CostPerMillion: r.CostPerMillion})
			}
		}
	}
	if s.Kind == "tune" {
		title := "Power Tuning view: warm p50 (solid), p95 (dashed), p99 (dotted) and cost per 1M by memory"
		if s.Meta.Tune != nil {
			title = s.Meta.Tune.Function + ": " + title
		}
		return errors.Join(
			charts.TunePowerView(filepath.Join(dir, ChartPowerView), title, rows),
			charts.MatrixDurations(filepath.Join(dir, ChartDurations), rows),
			charts.MatrixCost(filepath.Join(dir, ChartCost), rows, front),
			charts.MatrixColdInit(filepath.Join(dir, ChartColdInit), rows),
		)
	}
	return errors.Join(
		charts.MatrixDurations(filepath.Join(dir, ChartDurations), rows),
		charts.MatrixSpeedup(filepath.Join(dir, ChartSpeedup), rows),
		charts.MatrixCost(filepath.Join(dir, ChartCost), rows, front),
		charts.MatrixColdInit(filepath.Join(dir, ChartColdInit), rows),
	)
}
