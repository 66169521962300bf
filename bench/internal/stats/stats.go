// Package stats summarises latency samples: exact nearest-rank percentiles for
// small sample sets (the matrix) and constant-memory HdrHistograms for long
// load runs. Every value it reports is in milliseconds.
package stats

import (
	"math"
	"slices"
)

// DefaultTrim is the share of samples discarded at each end for the trimmed
// mean: 20%, as AWS Lambda Power Tuning does.
const DefaultTrim = 0.2

// Percentiles are the percentiles every summary reports, in order.
var Percentiles = []float64{50, 90, 95, 99, 99.9}

// Summary describes a set of samples. All values are in milliseconds.
type Summary struct {
	N           int     `json:"n"`
	Mean        float64 `json:"mean_ms"`
	TrimmedMean float64 `json:"trimmed_mean_ms"`
	StdDev      float64 `json:"stddev_ms"`
	Min         float64 `json:"min_ms"`
	P50         float64 `json:"p50_ms"`
	P90         float64 `json:"p90_ms"`
	P95         float64 `json:"p95_ms"`
	P99         float64 `json:"p99_ms"`
	P999        float64 `json:"p99_9_ms"`
	Max         float64 `json:"max_ms"`
}

// Percentile returns the value of summary s at percentile p, for p in
// Percentiles (0 and 100 give Min and Max); ok is false for any other p.
func (s Summary) Percentile(p float64) (v float64, ok bool) {
	switch p {
	case 0:
		return s.Min, true
	case 50:
		return s.P50, true
	case 90:
		return s.P90, true
	case 95:
		return s.P95, true
	case 99:
		return s.P99, true
	case 99.9:
		return s.P999, true
	case 100:
		return s.Max, true
	}
	return 0, false
}

// Summarize computes an exact summary of values (milliseconds) with the
// nearest-rank definition of percentiles and a mean trimmed by trim (0–0.5)
// at each end. values is not modified. An empty input gives a zero Summary.
func Summarize(values []float64, trim float64) Summary {
	n := len(values)
	if n == 0 {
		return Summary{}
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	var sum float64
	for _, v := range sorted {
		sum += v
	}
	mean := sum / float64(n)
	var sq float64
	for _, v := range sorted {
		sq += (v - mean) * (v - mean)
	}
	std := 0.0
	if n > 1 {
		std = math.Sqrt(sq / float64(n-1))
	}
	return Summary{
		N:           n,
		Mean:        mean,
		TrimmedMean: trimmedMean(sorted, trim),
		StdDev:      std,
		Min:         sorted[0],
		P50:         NearestRank(sorted, 50),
		P90:         NearestRank(sorted, 90),
		P95:         NearestRank(sorted, 95),
		P99:         NearestRank(sorted, 99),
		P999:        NearestRank(sorted, 99.9),
		Max:         sorted[n-1],
	}
}

// NearestRank returns the p-th percentile (0–100) of sorted (ascending) by
// the nearest-rank method: the smallest sample such that at least p% of the
// samples are less than or equal to it. It returns NaN for an empty slice.
func NearestRank(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	return sorted[rank(n, p)-1]
}

// rank is the 1-based nearest rank of percentile p among n samples.
func rank(n int, p float64) int {
	if p <= 0 {
		return 1
	}
	// Rounding guards against p*n/100 landing a hair above an integer
	// (for example 95*20/100 = 19.000000000000004).
	r := int(math.Ceil(math.Round(p*float64(n)/100*1e9) / 1e9))
	return max(1, min(r, n))
}

// DistinctFromMax reports whether, with n samples, the nearest-rank
// percentile p can differ from the maximum. With 20 samples P95 is the 19th
// sample but P99 is the 20th, the maximum itself.
func DistinctFromMax(n int, p float64) bool {
	return n > 0 && rank(n, p) < n
}

// MinSamples returns the smallest sample count for which percentile p
// (0 < p < 100) is not simply the maximum: 20 for P95, 100 for P99.
func MinSamples(p float64) int {
	if p <= 0 || p >= 100 {
		return 1
	}
	n := 1
	for !DistinctFromMax(n, p) {
		n++
	}
	return n
}

// trimmedMean averages sorted after dropping floor(trim*n) samples at each end.
func trimmedMean(sorted []float64, trim float64) float64 {
	trim = max(0, min(trim, 0.5))
	k := int(math.Floor(trim * float64(len(sorted))))
	kept := sorted[k : len(sorted)-k]
	if len(kept) == 0 { // trim = 0.5 with an even n
		kept = sorted[len(sorted)/2-1 : len(sorted)/2+1]
	}
	var sum float64
	for _, v := range kept {
		sum += v
	}
	return sum / float64(len(kept))
}
