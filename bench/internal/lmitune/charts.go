package lmitune

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"lambdabench/bench/internal/charts"
	"lambdabench/bench/internal/threshold"
)

// Chart files of an LMI tune, in its results folder.
const (
	LatencyChartFile = "latency.png"
	CostChartFile    = "cost.png"
)

// Charts are the image files of a summary (relative to its folder), or
// why they were not drawn.
type Charts struct {
	Latency, Cost string
	Err           string
}

// drawCharts draws the charts of s into dir: the latency of every
// configuration's steps against the offered load, and the cost ladder
// against the request rate. A chart that cannot be drawn is left out and
// the first error is in Err; the other is still drawn. A summary with no
// configuration, or no cost at all, has no chart of it (and no error).
func drawCharts(dir string, s Summary) Charts {
	var c Charts
	fail := func(err error) {
		if c.Err == "" {
			c.Err = err.Error()
		}
	}
	if len(s.Results) > 0 {
		if err := charts.TuneLMILatency(filepath.Join(dir, LatencyChartFile), latencyTitle(s), LatencyChart(s)); err != nil {
			fail(err)
		} else {
			c.Latency = LatencyChartFile
		}
	}
	if hasCosts(s) {
		if err := charts.TuneLMICost(filepath.Join(dir, CostChartFile), costTitle(s), CostChart(s)); err != nil {
			fail(err)
		} else {
			c.Cost = CostChartFile
		}
	}
	return c
}

func latencyTitle(s Summary) string {
	return fmt.Sprintf("LMI tune of %s: latency against offered load, %d environment(s) per configuration", s.Meta.Function, s.Meta.Environments)
}

func costTitle(s Summary) string {
	types := s.Meta.InstanceType
	if strings.HasPrefix(s.Meta.InstanceNote, "assumed") {
		types += ", assumed"
	}
	return fmt.Sprintf("LMI tune of %s: cost per hour against request rate (%s)", s.Meta.Function, types)
}

// hasCosts reports whether any rate of s has a cost to draw.
func hasCosts(s Summary) bool {
	for _, rc := range s.Rates {
		if rc.StandardUSDPerHour != nil {
			return true
		}
		for _, c := range rc.LMI {
			if c.Note == "" {
				return true
			}
		}
	}
	return false
}

// LatencyChart describes the latency chart of s: per configuration, in
// the summary's order, the p50 and p99 of each step's successful requests
// against the load offered, the knee, and the p99 objectives.
func LatencyChart(s Summary) charts.LMILatency {
	out := charts.LMILatency{OfferedUnit: "virtual users"}
	if s.Meta.Model == "open" {
		out.OfferedUnit = "requests per second"
	}
	for _, r := range s.Results {
		cfg := charts.LMIConfig{Label: r.Label}
		if cfg.Label == "" {
			cfg.Label = r.Config.Label()
		}
		for _, st := range r.Steps {
			if st.Latency.N == 0 {
				continue // no successful request: no latency to draw
			}
			knee := r.Held() && st.Step == r.KneeStep
			cfg.Points = append(cfg.Points, charts.LMIPoint{
				Offered: st.Offered, P50: st.Latency.P50, P99: st.Latency.P99, Held: st.Held, Knee: knee,
			})
			if knee {
				cfg.KneeLabel = "knee " + strconv.FormatFloat(r.KneeRPSPerEnv, 'g', 3, 64) + " req/s/env"
			}
		}
		out.Configs = append(out.Configs, cfg)
	}
	for _, raw := range s.Meta.SLO {
		t, err := threshold.Parse(raw)
		if err != nil || t.Metric != "p99" || (t.Op != "<" && t.Op != "<=") {
			continue
		}
		out.SLOs = append(out.SLOs, charts.LMISLO{Label: raw, Ms: t.Value})
	}
	return out
}

// CostChart describes the cost chart of s: per configuration, in the
// summary's order (so that the colours match the latency chart's), its
// cost per hour at each rate priced; standard Lambda's; and the
// break-even, or why there is none.
func CostChart(s Summary) charts.LMICost {
	var out charts.LMICost
	index := map[string]int{}
	for _, r := range s.Results {
		index[r.Label] = len(out.Series)
		out.Series = append(out.Series, charts.LMICostSeries{Label: r.Label})
	}
	for _, rc := range s.Rates {
		for _, c := range rc.LMI {
			if c.Note != "" {
				continue
			}
			i, ok := index[c.Label]
			if !ok { // priced but not among the results: after them
				i = len(out.Series)
				index[c.Label] = i
				out.Series = append(out.Series, charts.LMICostSeries{Label: c.Label})
			}
			out.Series[i].Points = append(out.Series[i].Points, charts.LMICostPoint{RPS: rc.RPS, USDPerHour: c.USDPerHour})
		}
		if rc.StandardUSDPerHour != nil {
			out.Standard = append(out.Standard, charts.LMICostPoint{RPS: rc.RPS, USDPerHour: *rc.StandardUSDPerHour})
		}
	}
	switch {
	case s.BreakEvenRPS != nil:
		out.BreakEvenRPS = *s.BreakEvenRPS
		out.BreakEvenLabel = "break-even: " + fmtRate(*s.BreakEvenRPS) + " req/s"
		if s.BreakEvenConfig != "" {
			out.BreakEvenLabel += " (" + s.BreakEvenConfig + ")"
		}
	case len(out.Standard) == 0:
		out.Note = "no standard Lambda figure: no break-even"
	default:
		out.Note = "no break-even: LMI not cheaper within the rates asked"
	}
	return out
}
