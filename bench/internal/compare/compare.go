// Package compare puts two results folders of the same kind side by side,
// as benchstat does for Go benchmarks: per row (configuration, or scenario ×
// endpoint) and metric both medians with 95% confidence intervals, the
// change, and whether it is significant by a Mann–Whitney U test on the raw
// samples (golang.org/x/perf/benchmath); plus cost per 1M invocations, the
// verdicts, and a regression gate for CI.
package compare

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"lambdabench/bench/internal/threshold"
)

// Metric is one measure compared row by row.
type Metric struct {
	ID     string `json:"id"`   // as --metric names it: warm, latency-p99, …
	Base   string `json:"-"`    // the samples it reads: warm, latency, …
	Stat   Stat   `json:"stat"` // p50, p99 or rate
	Title  string `json:"title"`
	Unit   string `json:"unit"`
	Higher bool   `json:"higher_is_better"`
}

type metricDef struct {
	title, unit string
	higher      bool
	stat        Stat
}

var metricDefs = map[string]metricDef{
	MetricWarm:       {"warm duration", "ms", false, P50},
	MetricBilled:     {"billed duration", "ms", false, P50},
	MetricRoundTrip:  {"round trip", "ms", false, P50},
	MetricInit:       {"cold init", "ms", false, P50},
	MetricCost:       {"cost per 1M invocations", "$", false, P50},
	MetricLatency:    {"latency", "ms", false, P50},
	MetricThroughput: {"throughput (requests per whole second)", "req/s", true, P50},
	MetricErrors:     {"error rate", "%", false, Rate},
}

// kindMetrics lists the metrics every comparison of a kind shows.
var kindMetrics = map[string][]string{
	KindMatrix: {MetricWarm, MetricBilled, MetricInit, MetricRoundTrip, MetricCost},
	KindLoad:   {MetricLatency, MetricLatency + "-p99", MetricThroughput, MetricErrors},
	// LMI tunes: per configuration × offered level, the latency of the
	// successful requests and the error rate.
	KindTuneLMI: {MetricLatency, MetricLatency + "-p99", MetricErrors},
}

// DefaultGate lists the metrics --fail-on-regression watches by default:
// for load runs the p99 latency of the successful requests and the error
// rate, so that requests that fail fast never pass for an improvement; the
// same for the steps of LMI tunes.
func DefaultGate(kind string) []string {
	if kind == KindLoad || kind == KindTuneLMI {
		return []string{MetricLatency + "-p99", MetricErrors}
	}
	return []string{MetricWarm}
}

// ParseMetric reads a metric name for a kind: a base name (warm, billed,
// init, roundtrip, cost for matrix and tune; latency, throughput, errors
// for load), optionally with -p50 or -p99 for the percentile compared.
func ParseMetric(kind, id string) (Metric, error) {
	if kind == KindTune {
		kind = KindMatrix
	}
	base, stat := strings.ToLower(strings.TrimSpace(id)), Stat("")
	for _, s := range []Stat{P50, P99} {
		if b, ok := strings.CutSuffix(base, "-"+string(s)); ok {
			base, stat = b, s
		}
	}
	def, ok := metricDefs[base]
	if !ok || !slices.Contains(kindMetrics[kind], base) {
		var names []string
		for _, m := range kindMetrics[kind] {
			if !strings.Contains(m, "-") {
				names = append(names, m)
			}
		}
		return Metric{}, fmt.Errorf("%w: metric %q: a %s comparison has %s (optionally -p50 or -p99)", ErrInput, id, kind, strings.Join(names, ", "))
	}
	if stat == "" {
		stat = def.stat
	}
	if def.stat == Rate && stat != Rate {
		return Metric{}, fmt.Errorf("%w: metric %q: %s is a rate, it has no percentiles", ErrInput, id, base)
	}
	m := Metric{ID: base, Base: base, Stat: stat, Title: def.title, Unit: def.unit, Higher: def.higher}
	if stat != def.stat {
		m.ID = base + "-" + string(stat)
	}
	switch stat {
	case P99:
		m.Title += ", p99"
	case P50:
		m.Title += ", median"
	}
	return m, nil
}

// Options configure a comparison.
type Options struct {
	Alpha float64 // significance level; default 0.05
	// Gate lists the metrics --fail-on-regression watches (default
	// DefaultGate); they are compared even when not among the kind's usual
	// metrics.
	Gate []string
	// FailPct is --fail-on-regression in percent; negative: no gate.
	FailPct float64
}

// Cell is one row of one metric.
type Cell struct {
	Key string    `json:"row"`
	Old *Estimate `json:"old,omitempty"`
	New *Estimate `json:"new,omitempty"`
	// ChangePct is (new/old − 1) × 100; NaN (null) when undefined.
	ChangePct float64 `json:"-"`
	Test      *Test   `json:"test,omitempty"`
	// Worse is set when the change is significant and in the bad direction;
	// Regression when it also exceeds --fail-on-regression on a gate metric.
	Worse      bool `json:"worse"`
	Better     bool `json:"better"`
	Regression bool `json:"regression"`

	oldSamples, newSamples []float64
}

// Table is one metric over every row.
type Table struct {
	Metric  Metric `json:"metric"`
	Gate    bool   `json:"gate"`
	Cells   []Cell `json:"rows"`
	Geomean *Geo   `json:"geomean,omitempty"`
}

// Geo is the geometric mean of a table's centres on both sides, over the
// rows measured on both with a positive value (benchstat's geomean row).
type Geo struct {
	Old, New  float64
	ChangePct float64
	Rows      int
}

// CostRow is a row's cost per 1M invocations as each run's summary states it.
type CostRow struct {
	Key       string  `json:"row"`
	Old       float64 `json:"-"`
	New       float64 `json:"-"`
	ChangePct float64 `json:"-"`
}

// Part is the comparison of one kind of results (a suite has two).
type Part struct {
	Kind    string   `json:"kind"`
	OldDir  string   `json:"old"`
	NewDir  string   `json:"new"`
	Tables  []Table  `json:"metrics"`
	OnlyOld []string `json:"only_old,omitempty"`
	OnlyNew []string `json:"only_new,omitempty"`
	Skipped []string `json:"not_measured,omitempty"`
	// Failures lists rows with failed invocations or requests (or dropped
	// requests) on either side: they are not in the duration samples.
	Failures []string  `json:"failures,omitempty"`
	Costs    []CostRow `json:"cost_per_million"`
	// Verdicts of both sides ("" when a run records none).
	OldVerdict     string   `json:"old_verdict,omitempty"`
	NewVerdict     string   `json:"new_verdict,omitempty"`
	VerdictChanged bool     `json:"verdict_changed"`
	Notes          []string `json:"notes,omitempty"`
	// Knees are each configuration's knee in both LMI tunes; OldBreakEven
	// and NewBreakEven their break-evens, as each summary says it.
	Knees        []KneeRow `json:"knees,omitempty"`
	OldBreakEven string    `json:"old_break_even,omitempty"`
	NewBreakEven string    `json:"new_break_even,omitempty"`
}

// Result is a whole comparison.
type Result struct {
	Alpha       float64  `json:"alpha"`
	Confidence  float64  `json:"confidence"`
	FailPct     *float64 `json:"fail_on_regression_pct,omitempty"`
	Parts       []Part   `json:"parts"`
	Regressions []string `json:"regressions"`
	// Undetectable lists gate rows with too few samples for the test to
	// ever reach significance: the gate cannot fail on them.
	Undetectable []string `json:"gate_rows_too_few_samples,omitempty"`
}

// Err returns an error wrapping threshold.ErrCrossed (exit status 99) when
// the gate found a regression.
func (r *Result) Err() error {
	if len(r.Regressions) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d significant regression(s) beyond %s: %s", threshold.ErrCrossed,
		len(r.Regressions), pct(*r.FailPct), strings.Join(r.Regressions, "; "))
}

// Compare compares old and new, each as Read returned them.
func Compare(old, new []*Run, o Options) (*Result, error) {
	if o.Alpha == 0 {
		o.Alpha = 0.05
	}
	if !(o.Alpha > 0 && o.Alpha < 1) {
		return nil, fmt.Errorf("%w: --alpha %v: want a level between 0 and 1, such as 0.05", ErrInput, o.Alpha)
	}
	kinds := func(rs []*Run) string {
		var k []string
		for _, r := range rs {
			k = append(k, r.Kind)
		}
		return strings.Join(k, "+")
	}
	if kinds(old) != kinds(new) {
		return nil, fmt.Errorf("%w: cannot compare a %s folder (%s) with a %s folder (%s)", ErrInput,
			kinds(old), dirOf(old), kinds(new), dirOf(new))
	}
	res := &Result{Alpha: o.Alpha, Confidence: Confidence}
	if o.FailPct >= 0 {
		res.FailPct = &o.FailPct
	}
	for i := range old {
		p, err := comparePart(old[i], new[i], o, res)
		if err != nil {
			return nil, err
		}
		res.Parts = append(res.Parts, p)
	}
	return res, nil
}

func dirOf(rs []*Run) string {
	if len(rs) == 0 {
		return "?"
	}
	if len(rs) > 1 {
		return strings.TrimSuffix(strings.TrimSuffix(rs[0].Dir, rs[0].Kind), "/")
	}
	return rs[0].Dir
}

func comparePart(old, new *Run, o Options, res *Result) (Part, error) {
	p := Part{Kind: old.Kind, OldDir: old.Dir, NewDir: new.Dir, OldVerdict: old.Verdict, NewVerdict: new.Verdict}
	p.VerdictChanged = old.Verdict != "" && new.Verdict != "" && old.Verdict != new.Verdict
	p.Notes = append(slices.Clone(old.Notes), new.Notes...)
	kind := old.Kind
	if kind == KindTune {
		kind = KindMatrix
	}
	gate := o.Gate
	if len(gate) == 0 {
		gate = DefaultGate(kind)
	}
	var metrics []Metric
	gates := map[string]bool{}
	for _, id := range kindMetrics[kind] {
		m, err := ParseMetric(kind, id)
		if err != nil {
			return p, err
		}
		metrics = append(metrics, m)
	}
	for _, id := range gate {
		m, err := ParseMetric(kind, id)
		if err != nil {
			return p, err
		}
		gates[m.ID] = true
		if !slices.ContainsFunc(metrics, func(x Metric) bool { return x.ID == m.ID }) {
			metrics = append(metrics, m)
		}
	}

	// Rows: the old run's order, then rows only the new one has.
	newRows := map[string]*Row{}
	for _, r := range new.Rows {
		newRows[r.Key] = r
	}
	oldRows := map[string]*Row{}
	var both []string
	for _, r := range old.Rows {
		oldRows[r.Key] = r
		n := newRows[r.Key]
		switch {
		case n == nil:
			p.OnlyOld = append(p.OnlyOld, r.Key)
		case r.Skip != "" || n.Skip != "":
			why := r.Skip
			if why == "" {
				why = n.Skip
			}
			p.Skipped = append(p.Skipped, r.Key+": "+why)
		default:
			both = append(both, r.Key)
		}
	}
	for _, r := range new.Rows {
		if oldRows[r.Key] == nil {
			p.OnlyNew = append(p.OnlyNew, r.Key)
		}
	}

	for _, m := range metrics {
		t := Table{Metric: m, Gate: gates[m.ID]}
		for _, key := range both {
			os, ns := slices.Clone(oldRows[key].Samples[m.Base]), slices.Clone(newRows[key].Samples[m.Base])
			if len(os) == 0 && len(ns) == 0 {
				continue
			}
			c := Cell{Key: key, ChangePct: math.NaN(), oldSamples: os, newSamples: ns}
			oe, ne := estimate(os, m.Stat), estimate(ns, m.Stat)
			c.Old, c.New = &oe, &ne
			if oe.N > 0 && ne.N > 0 {
				tt := test(os, ns, m.Stat, o.Alpha)
				c.Test = &tt
				c.ChangePct = change(oe.Center, ne.Center)
				if tt.Significant && oe.Center != ne.Center {
					worse := ne.Center > oe.Center
					if m.Higher {
						worse = !worse
					}
					c.Worse, c.Better = worse, !worse
				}
				if t.Gate && o.FailPct >= 0 && !tt.Significant && !canDetectStat(oe.N, ne.N, m.Stat, o.Alpha) {
					res.Undetectable = append(res.Undetectable, key+" "+m.ID)
				}
				if c.Worse && t.Gate && o.FailPct >= 0 && math.Abs(c.ChangePct) > o.FailPct {
					c.Regression = true
					res.Regressions = append(res.Regressions, fmt.Sprintf("%s %s %s (p=%s)", key, m.ID, signedPct(c.ChangePct), pval(tt.P)))
				}
			} else if ne.N == 0 && t.Gate && o.FailPct >= 0 {
				// Measured before, nothing successful now (every invocation
				// failed): the worst regression there is.
				c.Worse, c.Regression = true, true
				res.Regressions = append(res.Regressions, fmt.Sprintf("%s %s: no successful samples in new (%d in old)", key, m.ID, oe.N))
			}
			if m.Stat != Rate && t.Gate && o.FailPct >= 0 && ne.N > 0 && !c.Regression {
				// The durations of a few successes say nothing of a run in
				// which most requests failed: such a row cannot pass.
				if so, sn := successShare(oldRows[key]), successShare(newRows[key]); sn < so/2 {
					c.Worse, c.Regression = true, true
					res.Regressions = append(res.Regressions, fmt.Sprintf("%s %s: only %.1f%% of new's requests succeeded (%.1f%% of old's): its %d samples cannot vouch for it",
						key, m.ID, 100*sn, 100*so, ne.N))
				}
			}
			t.Cells = append(t.Cells, c)
		}
		if len(t.Cells) == 0 {
			continue // e.g. cold init of runs with --cold 0
		}
		t.Geomean = geomean(t.Cells)
		p.Tables = append(p.Tables, t)
	}
	for _, key := range both {
		o, n := oldRows[key], newRows[key]
		if o.Failures+n.Failures+o.Dropped+n.Dropped == 0 {
			continue
		}
		what := "failed invocations"
		if kind == KindLoad || kind == KindTuneLMI {
			what = "non-2xx or unanswered requests"
		}
		line := fmt.Sprintf("%s: %s old %d of %d, new %d of %d", key, what, o.Failures, o.Attempts, n.Failures, n.Attempts)
		if o.Dropped+n.Dropped > 0 {
			line += fmt.Sprintf("; dropped, never sent: old %d, new %d", o.Dropped, n.Dropped)
		}
		p.Failures = append(p.Failures, line)
	}
	p.Costs = costRows(old.Costs, new.Costs)
	compareLMI(&p, old, new)
	return p, nil
}

// successShare is the share of a row's attempts that succeeded (1 when
// the row counts no attempts, as matrix rows of durations alone).
func successShare(r *Row) float64 {
	if r.Attempts+r.Dropped == 0 {
		return 1
	}
	return float64(r.Attempts-r.Failures) / float64(r.Attempts+r.Dropped)
}

// costRows pairs the costs of both sides: the old side's order, then keys
// only the new side has; NaN where a side has none.
func costRows(old, new []KeyCost) []CostRow {
	byKey := map[string]float64{}
	for _, c := range new {
		byKey[c.Key] = c.PerMillion
	}
	var out []CostRow
	seen := map[string]bool{}
	for _, c := range old {
		n, ok := byKey[c.Key]
		if !ok {
			n = math.NaN()
		}
		seen[c.Key] = true
		out = append(out, CostRow{Key: c.Key, Old: c.PerMillion, New: n, ChangePct: change(c.PerMillion, n)})
	}
	for _, c := range new {
		if !seen[c.Key] {
			out = append(out, CostRow{Key: c.Key, Old: math.NaN(), New: c.PerMillion, ChangePct: math.NaN()})
		}
	}
	return out
}

// canDetect reports whether samples of n1 and n2 can reach significance at
// alpha at all: the smallest two-sided p-value of the U test, for two fully
// separated samples, is 2 / C(n1+n2, n1). (benchmath warns only when both
// sides are below its threshold; this covers unequal sizes too.)
func canDetect(n1, n2 int, alpha float64) bool {
	if n1 == 0 || n2 == 0 {
		return false
	}
	// log C(n1+n2, n1) without overflow.
	lg := func(n int) float64 { v, _ := math.Lgamma(float64(n) + 1); return v }
	minP := 2 / math.Exp(lg(n1+n2)-lg(n1)-lg(n2))
	return minP <= alpha
}

// canDetectStat is canDetect for the test stat uses. For p99 the most
// extreme outcome of the quantile test is every sample above the pooled p99
// on one side; its p-value says whether the test can ever fire.
func canDetectStat(n1, n2 int, stat Stat, alpha float64) bool {
	if stat != P99 {
		return canDetect(n1, n2, alpha)
	}
	if n1 == 0 || n2 == 0 {
		return false
	}
	n := n1 + n2
	above := n - int(math.Ceil(math.Round(0.99*float64(n)*1e9)/1e9)) // samples above the nearest-rank p99
	if above == 0 {
		return false
	}
	a, b := make([]float64, max(n1, n2)), make([]float64, min(n1, n2))
	for i := range min(above, len(a)) {
		a[i] = 1
	}
	return test(a, b, Rate, alpha).Significant
}

// change is the relative change from old to new in percent: NaN when
// undefined, +Inf from zero to more.
func change(old, new float64) float64 {
	switch {
	case math.IsNaN(old) || math.IsNaN(new):
		return math.NaN()
	case old == new:
		return 0
	case old == 0:
		return math.Inf(1)
	}
	return (new/old - 1) * 100
}

func geomean(cells []Cell) *Geo {
	var lo, ln float64
	n := 0
	for _, c := range cells {
		if c.Old == nil || c.New == nil || c.Old.N == 0 || c.New.N == 0 || !(c.Old.Center > 0) || !(c.New.Center > 0) {
			continue
		}
		lo += math.Log(c.Old.Center)
		ln += math.Log(c.New.Center)
		n++
	}
	// As benchstat: no geomean row for a single row, where it would only
	// repeat that row.
	if n < 2 {
		return nil
	}
	g := &Geo{Old: math.Exp(lo / float64(n)), New: math.Exp(ln / float64(n)), Rows: n}
	g.ChangePct = change(g.Old, g.New)
	return g
}

// ParsePercent reads --fail-on-regression: "5%", "5" or "0.5%".
func ParsePercent(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%w: --fail-on-regression %q: want a percentage such as 5%%", ErrInput, s)
	}
	return v, nil
}

func pct(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64) + "%"
}
