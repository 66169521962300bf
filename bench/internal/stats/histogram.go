package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram records latencies in constant memory, for load runs of any
// length: microsecond resolution from 1 µs to one hour with three significant
// digits. Percentiles answer the same question as NearestRank — the value of
// the sample of rank ceil(p/100·n) — within the histogram's precision (every
// reported value is within 0.1% of that sample, and never outside the exact
// minimum and maximum). The count, minimum, maximum, mean and standard
// deviation are kept exactly (to the microsecond), alongside the buckets.
//
// Histograms merge exactly (Merge): two generators' histograms merged give
// the same answers as one histogram that recorded every sample. It is not
// safe for concurrent use. The zero value is an empty histogram, and the
// buckets (about 190 KB) are allocated by the first Record or Merge: a
// load run keeps a latency and a send-lag histogram per endpoint and
// stage, and stages that see no request (a profile's initial 0s step)
// then cost nothing.
type Histogram struct {
	h *hdrhistogram.Histogram // nil until the first sample
	// Exact moments in microseconds: count, min, max, mean and the sum of
	// squared deviations from the mean (Welford; merged with Chan et al.'s
	// pairwise formula).
	n        int64
	min, max int64
	mean, m2 float64
}

const (
	histMinMicros = 1
	histMaxMicros = int64(time.Hour / time.Microsecond)
	histSigFigs   = 3
)

// NewHistogram returns an empty Histogram.
func NewHistogram() *Histogram { return &Histogram{} }

func newBuckets() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs)
}

// Record adds one latency. Values outside 1 µs – 1 h are clamped to that range.
func (h *Histogram) Record(d time.Duration) {
	us := max(histMinMicros, min(d.Microseconds(), histMaxMicros))
	if h.h == nil {
		h.h = newBuckets()
	}
	// RecordValue only fails for values out of range, excluded above.
	_ = h.h.RecordValue(us)
	if h.n == 0 || us < h.min {
		h.min = us
	}
	if us > h.max {
		h.max = us
	}
	h.n++
	delta := float64(us) - h.mean
	h.mean += delta / float64(h.n)
	h.m2 += delta * (float64(us) - h.mean)
}

// Merge adds every latency recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.h == nil {
		h.h = newBuckets()
	}
	h.h.Merge(o.h)
	if h.n == 0 {
		h.n, h.min, h.max, h.mean, h.m2 = o.n, o.min, o.max, o.mean, o.m2
		return
	}
	n := h.n + o.n
	delta := o.mean - h.mean
	h.m2 += o.m2 + delta*delta*float64(h.n)*float64(o.n)/float64(n)
	h.mean += delta * float64(o.n) / float64(n)
	h.n = n
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of latencies recorded.
func (h *Histogram) Count() int64 { return h.n }

// ValueAt returns the latency at percentile p (0–100) in milliseconds, by
// the nearest-rank definition NearestRank uses: the sample of rank
// ceil(p/100·n), taken as the highest value its bucket stands for, held
// within the exact minimum and maximum. hdrhistogram-go's own
// ValueAtPercentile ranks by int(p/100·n + 0.5) instead, which for 1,060
// samples picks the 1,049th at p99 where nearest rank picks the 1,050th.
func (h *Histogram) ValueAt(p float64) float64 {
	vs := h.valuesAt([]float64{p})
	return vs[0]
}

// valuesAt answers several percentiles (ascending or not), in
// milliseconds. It asks hdrhistogram-go for the percentile 100·r/n of each
// nearest rank r, which its own rounding maps back to exactly r, so that its
// allocation-free scan of the buckets answers the nearest-rank question:
// the live progress asks several times a second, and building the whole
// Distribution for it cost megabytes of garbage a second.
func (h *Histogram) valuesAt(ps []float64) []float64 {
	out := make([]float64, len(ps))
	if h.n == 0 {
		return out
	}
	qs := make([]float64, len(ps))
	for i, p := range ps {
		qs[i] = 100 * float64(rank(int(h.n), p)) / float64(h.n)
	}
	for i, v := range h.h.ValueAtPercentilesSlice(qs) {
		out[i] = float64(max(h.min, min(v, h.max))) / 1000
	}
	return out
}

// Summary describes the recorded latencies. The trimmed mean drops trim of
// the recorded count at each end, bucket by bucket; the standard deviation
// is the sample one (n−1), as Summarize computes it.
func (h *Histogram) Summary(trim float64) Summary {
	if h.n == 0 {
		return Summary{}
	}
	ps := h.valuesAt(Percentiles)
	std := 0.0
	if h.n > 1 {
		std = math.Sqrt(h.m2/float64(h.n-1)) / 1000
	}
	return Summary{
		N:           int(h.n),
		Mean:        h.mean / 1000,
		TrimmedMean: h.trimmedMean(trim) / 1000,
		StdDev:      std,
		Min:         float64(h.min) / 1000,
		P50:         ps[0],
		P90:         ps[1],
		P95:         ps[2],
		P99:         ps[3],
		P999:        ps[4],
		Max:         float64(h.max) / 1000,
	}
}

// trimmedMean is the mean of the middle of the distribution in microseconds,
// taking each bucket's midpoint as its value.
func (h *Histogram) trimmedMean(trim float64) float64 {
	n := h.n
	trim = max(0, min(trim, 0.5))
	skip := int64(math.Floor(trim * float64(n)))
	keep := n - 2*skip
	if keep <= 0 {
		return h.ValueAt(50) * 1000
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
		mid := math.Max(float64(h.min), math.Min(float64(b.From+b.To)/2, float64(h.max)))
		sum += mid * float64(to-from)
		used += to - from
	}
	if used == 0 {
		return h.ValueAt(50) * 1000
	}
	return sum / float64(used)
}

// histogramJSON is a Histogram on the wire: the exact moments and the
// buckets in HdrHistogram's compressed V2 encoding (base64).
type histogramJSON struct {
	N       int64   `json:"n"`
	MinUs   int64   `json:"min_us"`
	MaxUs   int64   `json:"max_us"`
	MeanUs  float64 `json:"mean_us"`
	M2      float64 `json:"m2_us2"`
	Buckets string  `json:"hdr_v2"`
}

// MarshalJSON encodes the histogram so that it can be sent to another
// process and merged there exactly.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	b := h.h
	if b == nil {
		b = newBuckets()
	}
	enc, err := b.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, fmt.Errorf("encode histogram: %w", err)
	}
	return json.Marshal(histogramJSON{N: h.n, MinUs: h.min, MaxUs: h.max, MeanUs: h.mean, M2: h.m2, Buckets: string(enc)})
}

// UnmarshalJSON decodes a histogram written by MarshalJSON.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var v histogramJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	hh, err := hdrhistogram.Decode([]byte(v.Buckets))
	if err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	if hh.TotalCount() != v.N {
		return fmt.Errorf("decode histogram: %d samples in the buckets, %d in the header", hh.TotalCount(), v.N)
	}
	*h = Histogram{h: hh, n: v.N, min: v.MinUs, max: v.MaxUs, mean: v.MeanUs, m2: v.M2}
	return nil
}
