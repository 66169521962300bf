package stats

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram records latencies in constant memory, for load runs of any
// length: microsecond resolution from 1 µs to one hour with three significant
// digits (every reported value is within 0.1% of the true sample). It is not
// safe for concurrent use.
type Histogram struct {
	h *hdrhistogram.Histogram
}

const (
	histMinMicros = 1
	histMaxMicros = int64(time.Hour / time.Microsecond)
	histSigFigs   = 3
)

// NewHistogram returns an empty Histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs)}
}

// Record adds one latency. Values outside 1 µs – 1 h are clamped to that range.
func (h *Histogram) Record(d time.Duration) {
	us := max(histMinMicros, min(d.Microseconds(), histMaxMicros))
	// RecordValue only fails for values out of range, excluded above.
	_ = h.h.RecordValue(us)
}

// Merge adds every latency recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	h.h.Merge(o.h)
}

// Count is the number of latencies recorded.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// ValueAt returns the latency at percentile p (0–100) in milliseconds.
func (h *Histogram) ValueAt(p float64) float64 {
	return float64(h.h.ValueAtPercentile(p)) / 1000
}

// Summary describes the recorded latencies. The trimmed mean drops trim of
// the recorded count at each end, bucket by bucket.
func (h *Histogram) Summary(trim float64) Summary {
	n := h.h.TotalCount()
	if n == 0 {
		return Summary{}
	}
	return Summary{
		N:           int(n),
		Mean:        h.h.Mean() / 1000,
		TrimmedMean: h.trimmedMean(trim) / 1000,
		StdDev:      h.h.StdDev() / 1000,
		Min:         float64(h.h.Min()) / 1000,
		P50:         h.ValueAt(50),
		P90:         h.ValueAt(90),
		P95:         h.ValueAt(95),
		P99:         h.ValueAt(99),
		P999:        h.ValueAt(99.9),
		Max:         float64(h.h.Max()) / 1000,
	}
}

// trimmedMean is the mean of the middle of the distribution in microseconds,
// taking each bucket's midpoint as its value.
func (h *Histogram) trimmedMean(trim float64) float64 {
	n := h.h.TotalCount()
	trim = max(0, min(trim, 0.5))
	skip := int64(math.Floor(trim * float64(n)))
	keep := n - 2*skip
	if keep <= 0 {
		return float64(h.h.ValueAtPercentile(50))
	}
	var seen, used int64
	var sum float64
	for _, b := range h.h.Distribution() {
		if b.Count == 0 {
			continue
		}
		lo, hi := seen, seen+b.Count // samples [lo, hi) fall in this bucket
		seen = hi
		from, to := max(lo, skip), min(hi, skip+keep)
		if to <= from {
			continue
		}
		mid := float64(b.From+b.To) / 2
		sum += mid * float64(to-from)
		used += to - from
	}
	if used == 0 {
		return float64(h.h.ValueAtPercentile(50))
	}
	return sum / float64(used)
}
