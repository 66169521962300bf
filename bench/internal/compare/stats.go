package compare

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	mstats "github.com/aclements/go-moremath/stats"
	"golang.org/x/perf/benchmath"

	"lambdabench/bench/internal/stats"
)

// Confidence is the level of every confidence interval: 95%, as benchstat.
const Confidence = 0.95

// Stat is the statistic a metric compares.
type Stat string

// The statistics.
const (
	// P50 is the median. Test: Mann–Whitney U on the raw samples (benchmath,
	// as benchstat does), a test of whether one distribution tends to be
	// larger than the other.
	P50 Stat = "p50"
	// P99 is the 99th percentile. Test: a two-sample quantile test (see
	// compareQuantile).
	P99 Stat = "p99"
	// Rate is the share of samples that are 1 (each sample 0 or 1), in %.
	// Test: Mann–Whitney U on the 0/1 samples, which for two-valued data is
	// the test of two proportions.
	Rate Stat = "rate"
)

// Estimate is one side of one row: a statistic with its confidence
// interval.
type Estimate struct {
	N      int     `json:"n"`
	Center float64 `json:"value"` // the statistic (nearest rank for percentiles)
	// Lo and Hi bound the 95% confidence interval; ±Inf (null in JSON)
	// when there are too few samples for one.
	Lo       float64  `json:"-"`
	Hi       float64  `json:"-"`
	Warnings []string `json:"warnings,omitempty"`
}

// HasInterval reports whether the confidence interval is finite.
func (e Estimate) HasInterval() bool {
	return e.N > 0 && !math.IsInf(e.Lo, 0) && !math.IsInf(e.Hi, 0)
}

// Test is the outcome of comparing two samples.
type Test struct {
	P float64 `json:"p"`
	// Significant is P <= alpha (benchstat prints "~" when P > alpha).
	Significant bool     `json:"significant"`
	Warnings    []string `json:"warnings,omitempty"`
}

// estimate summarises values (which it sorts in place) by stat.
func estimate(values []float64, stat Stat) Estimate {
	slices.Sort(values)
	e := Estimate{N: len(values), Lo: math.Inf(-1), Hi: math.Inf(1)}
	if len(values) == 0 {
		e.Center = math.NaN()
		return e
	}
	switch stat {
	case Rate:
		e.Center, e.Lo, e.Hi = wilson(values)
	case P99:
		e.Center = stats.NearestRank(values, 99)
		ci := mstats.QuantileCI(len(values), 0.99, Confidence)
		_, lo, hi := ci.SampleCI(mstats.Sample{Xs: values, Sorted: true})
		e.Lo, e.Hi = lo, hi
		if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			e.Warnings = append(e.Warnings, fmt.Sprintf("need >= %d samples for a p99 confidence interval at level %v", p99Samples(), Confidence))
		}
	default:
		s := benchmath.AssumeNothing.Summary(benchmath.NewSample(values, &benchmath.DefaultThresholds), Confidence)
		// benchmath's centre is an interpolated median (Hyndman–Fan R8);
		// the project reports every percentile by nearest rank, so the
		// centre is the nearest-rank median, the same number summary.md
		// prints as P50. The interval's bounds are order statistics
		// (sample values) either way.
		e.Center, e.Lo, e.Hi = stats.NearestRank(values, 50), s.Lo, s.Hi
		for _, w := range s.Warnings {
			e.Warnings = append(e.Warnings, w.Error())
		}
	}
	return e
}

// test compares old and new samples (each sorted) for stat at alpha.
func test(old, new []float64, stat Stat, alpha float64) Test {
	if len(old) == 0 || len(new) == 0 {
		return Test{P: 1, Warnings: []string{"no samples on one side"}}
	}
	if stat == P99 {
		return compareQuantile(old, new, 0.99, alpha)
	}
	th := benchmath.Thresholds{CompareAlpha: alpha}
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(slices.Clone(old), &th), benchmath.NewSample(slices.Clone(new), &th))
	t := Test{P: c.P, Significant: c.P <= c.Alpha}
	for _, w := range c.Warnings {
		if errors.Is(w, mstats.ErrSamplesEqual) {
			t.Warnings = append(t.Warnings, "all samples are equal")
			continue
		}
		t.Warnings = append(t.Warnings, w.Error())
	}
	return t
}

// compareQuantile tests whether the q-quantile differs between old and new.
//
// benchmath only compares whole distributions (Mann–Whitney U), which
// answers "does one side tend to be larger", not "did the tail move": with
// many samples it flags a small shift of the bulk while p99 stands still,
// and it misses a longer tail under an unchanged bulk. For a percentile the
// right question is a quantile test (Mood's median test generalised to any
// quantile): pool both sides, take the pooled q-quantile, and test whether
// the share of samples above it differs between the sides. That share is
// compared with Mann–Whitney U on the 0/1 indicators, which for two-valued
// data is the test of two proportions — so the statistics stay benchmath's.
func compareQuantile(old, new []float64, q, alpha float64) Test {
	pooled := slices.Concat(old, new)
	slices.Sort(pooled)
	cut := stats.NearestRank(pooled, 100*q)
	above := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			if x > cut {
				out[i] = 1
			}
		}
		return out
	}
	t := test(above(old), above(new), P50, alpha)
	t.Warnings = slices.DeleteFunc(t.Warnings, func(s string) bool { return s == "all samples are equal" })
	if len(old) < 100 || len(new) < 100 {
		t.Warnings = append(t.Warnings, "p99 from fewer than 100 samples is the maximum: its test has little power")
	}
	return t
}

// p99Samples is the fewest samples with a finite 95% confidence interval
// for p99 (benchmath's medianSamples, for p99).
var p99Samples = sync.OnceValue(func() int {
	for n := 100; ; n++ {
		if ci := mstats.QuantileCI(n, 0.99, Confidence); ci.LoOrder >= 1 && ci.HiOrder <= n {
			return n
		}
	}
})

// wilson returns the share of ones among 0/1 values in percent and its 95%
// Wilson score interval. benchmath has no interval for a proportion; the
// Wilson interval is the standard one that stays inside 0–100% and works
// for a rate of 0 (a normal interval collapses to 0 ± 0 there).
func wilson(values []float64) (pct, lo, hi float64) {
	n := float64(len(values))
	var k float64
	for _, v := range values {
		k += v
	}
	p := k / n
	z := mstats.StdNormal.InvCDF(1 - (1-Confidence)/2)
	den := 1 + z*z/n
	mid := (p + z*z/(2*n)) / den
	half := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n)) / den
	return 100 * p, 100 * max(0, mid-half), 100 * min(1, mid+half)
}
