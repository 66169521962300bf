package stats

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestSummarizeHandComputed(t *testing.T) {
	desc20 := make([]float64, 20)
	for i := range desc20 {
		desc20[i] = float64(20 - i) // unsorted on purpose: 20..1
	}
	tests := []struct {
		name   string
		values []float64
		want   Summary
	}{
		{
			name:   "n=1 every percentile is the sample",
			values: []float64{42},
			want:   Summary{N: 1, Mean: 42, TrimmedMean: 42, Min: 42, P50: 42, P90: 42, P95: 42, P99: 42, P999: 42, Max: 42},
		},
		{
			name:   "ties",
			values: []float64{5, 5, 5, 5, 1},
			// sorted 1 5 5 5 5; trim floor(0.2*5)=1 each end -> 5 5 5
			want: Summary{N: 5, Mean: 4.2, TrimmedMean: 5, StdDev: math.Sqrt(3.2), Min: 1, P50: 5, P90: 5, P95: 5, P99: 5, P999: 5, Max: 5},
		},
		{
			name:   "1..20: p95 is the 19th sample, p99 the max",
			values: desc20,
			// trim 4 each end: 5..16 -> mean 10.5; sd of 1..20 = sqrt(35)
			want: Summary{N: 20, Mean: 10.5, TrimmedMean: 10.5, StdDev: math.Sqrt(35), Min: 1, P50: 10, P90: 18, P95: 19, P99: 20, P999: 20, Max: 20},
		},
		{
			name:   "skewed trimmed mean",
			values: []float64{1, 2, 3, 4, 100},
			// trim 1 each end: 2 3 4 -> 3
			want: Summary{N: 5, Mean: 22, TrimmedMean: 3, StdDev: math.Sqrt((21*21 + 20*20 + 19*19 + 18*18 + 78*78) / 4.0), Min: 1, P50: 3, P90: 100, P95: 100, P99: 100, P999: 100, Max: 100},
		},
		{
			name:   "empty",
			values: nil,
			want:   Summary{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.values, DefaultTrim)
			if !approxEqual(got, tt.want) {
				t.Fatalf("Summarize(%v)\n got %+v\nwant %+v", tt.values, got, tt.want)
			}
		})
	}
}

func approxEqual(a, b Summary) bool {
	if a.N != b.N {
		return false
	}
	fa := []float64{a.Mean, a.TrimmedMean, a.StdDev, a.Min, a.P50, a.P90, a.P95, a.P99, a.P999, a.Max}
	fb := []float64{b.Mean, b.TrimmedMean, b.StdDev, b.Min, b.P50, b.P90, b.P95, b.P99, b.P999, b.Max}
	for i := range fa {
		if math.Abs(fa[i]-fb[i]) > 1e-9 {
			return false
		}
	}
	return true
}

func TestNearestRankP99BelowHundredSamples(t *testing.T) {
	tests := []struct {
		n    int
		p    float64
		want float64 // values are 1..n
	}{
		{n: 99, p: 99, want: 99},   // ceil(98.01) = 99 = max
		{n: 100, p: 99, want: 99},  // ceil(99) = 99: first n where p99 < max
		{n: 101, p: 99, want: 100}, // ceil(99.99) = 100
		{n: 10, p: 50, want: 5},
		{n: 10, p: 0, want: 1},
		{n: 3, p: 100, want: 3},
	}
	for _, tt := range tests {
		sorted := make([]float64, tt.n)
		for i := range sorted {
			sorted[i] = float64(i + 1)
		}
		if got := NearestRank(sorted, tt.p); got != tt.want {
			t.Errorf("NearestRank(1..%d, %v) = %v, want %v", tt.n, tt.p, got, tt.want)
		}
	}
	if !math.IsNaN(NearestRank(nil, 50)) {
		t.Error("NearestRank of nothing should be NaN")
	}
}

func TestDistinctFromMaxAndMinSamples(t *testing.T) {
	tests := []struct {
		p    float64
		want int
	}{{50, 2}, {90, 10}, {95, 20}, {99, 100}, {99.9, 1000}}
	for _, tt := range tests {
		if got := MinSamples(tt.p); got != tt.want {
			t.Errorf("MinSamples(%v) = %d, want %d", tt.p, got, tt.want)
		}
		if DistinctFromMax(tt.want-1, tt.p) || !DistinctFromMax(tt.want, tt.p) {
			t.Errorf("DistinctFromMax around %d for p%v is inconsistent", tt.want, tt.p)
		}
	}
}

func TestHistogramAgreesWithExact(t *testing.T) {
	h := NewHistogram()
	var exact []float64
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Millisecond
		h.Record(d)
		exact = append(exact, float64(i))
	}
	got := h.Summary(DefaultTrim)
	want := Summarize(exact, DefaultTrim)
	if got.N != want.N {
		t.Fatalf("N = %d, want %d", got.N, want.N)
	}
	pairs := []struct {
		name      string
		got, want float64
	}{
		{"mean", got.Mean, want.Mean}, {"trimmed", got.TrimmedMean, want.TrimmedMean},
		{"min", got.Min, want.Min}, {"p50", got.P50, want.P50}, {"p90", got.P90, want.P90},
		{"p95", got.P95, want.P95}, {"p99", got.P99, want.P99}, {"p99.9", got.P999, want.P999},
		{"max", got.Max, want.Max}, {"stddev", got.StdDev, want.StdDev},
	}
	for _, p := range pairs {
		if rel := math.Abs(p.got-p.want) / p.want; rel > 0.002 {
			t.Errorf("%s = %v, exact %v (%.3f%% off)", p.name, p.got, p.want, rel*100)
		}
	}
}

func TestHistogramMergeAndClamp(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	a.Record(0)             // clamped to 1 µs
	b.Record(2 * time.Hour) // clamped to 1 h
	b.Record(time.Millisecond)
	a.Merge(b)
	if a.Count() != 3 {
		t.Fatalf("Count = %d, want 3", a.Count())
	}
	s := a.Summary(0)
	if s.Min != 0.001 {
		t.Errorf("Min = %v ms, want 0.001", s.Min)
	}
	if s.Max < 3599000 || s.Max > 3601000 {
		t.Errorf("Max = %v ms, want about one hour", s.Max)
	}
	if (NewHistogram().Summary(0) != Summary{}) {
		t.Error("empty histogram should give a zero Summary")
	}
}

// TestNearestRankBothPaths checks hand-computed nearest-rank cases, with
// ties, through the exact path (Summarize) and the histogram path: both must
// give the sample of rank ceil(p/100·n), the histogram within its 0.1%
// precision. Values are whole milliseconds.
func TestNearestRankBothPaths(t *testing.T) {
	rep := func(v float64, k int) []float64 {
		out := make([]float64, k)
		for i := range out {
			out[i] = v
		}
		return out
	}
	cat := func(parts ...[]float64) []float64 {
		var out []float64
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	seq := func(from, to float64) []float64 {
		var out []float64
		for v := from; v <= to; v++ {
			out = append(out, v)
		}
		return out
	}
	tests := []struct {
		name   string
		values []float64
		// want p50, p90, p95, p99, p99.9
		want [5]float64
	}{
		// n=1: every rank is 1.
		{"n=1", []float64{7}, [5]float64{7, 7, 7, 7, 7}},
		// n=7: ranks ceil(3.5)=4, ceil(6.3)=7, ceil(6.65)=7, 7, 7.
		{"n=7 ties", []float64{3, 1, 3, 3, 9, 1, 12}, [5]float64{3, 12, 12, 12, 12}},
		// n=12 sorted 1 1 2 2 2 5 5 5 5 8 8 40: ranks 6 (a 5), ceil(10.8)=11, ceil(11.4)=12, 12, 12.
		{"n=12 ties", []float64{5, 2, 8, 1, 40, 5, 2, 5, 1, 8, 2, 5}, [5]float64{5, 8, 40, 40, 40}},
		// n=32: 1..30 then 100, 100. Ranks 16, ceil(28.8)=29, ceil(30.4)=31, ceil(31.68)=32, 32.
		// int(p·n/100+0.5) would give 29 at p90 too but 30 at p95 (30), 32 at p99.
		{"n=32 ties at the top", cat(seq(1, 30), rep(100, 2)), [5]float64{16, 29, 100, 100, 100}},
		// n=1,060: 1,049 × 1 ms and 11 × 1,000 ms. p99 rank ceil(1049.4) = 1,050: 1,000 ms,
		// where int(1049.4+0.5) = 1,049 gives 1 ms. p95 rank 1,007: 1 ms. p99.9 rank 1,059: 1,000 ms.
		{"n=1060 p99 in the tail", cat(rep(1, 1049), rep(1000, 11)), [5]float64{1, 1, 1, 1000, 1000}},
		// n=1,060 with 10 slow: p99 rank 1,050 is the last fast one; p99.9 rank 1,059 is slow.
		{"n=1060 ten slow", cat(rep(1, 1050), rep(1000, 10)), [5]float64{1, 1, 1, 1, 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exact := Summarize(tt.values, DefaultTrim)
			h := NewHistogram()
			for _, v := range tt.values {
				h.Record(time.Duration(v * float64(time.Millisecond)))
			}
			hist := h.Summary(DefaultTrim)
			names := []string{"p50", "p90", "p95", "p99", "p99.9"}
			for i, got := range []float64{exact.P50, exact.P90, exact.P95, exact.P99, exact.P999} {
				if got != tt.want[i] {
					t.Errorf("exact %s = %v, want %v", names[i], got, tt.want[i])
				}
			}
			for i, got := range []float64{hist.P50, hist.P90, hist.P95, hist.P99, hist.P999} {
				if math.Abs(got-tt.want[i]) > tt.want[i]*0.001 {
					t.Errorf("histogram %s = %v, want %v (±0.1%%)", names[i], got, tt.want[i])
				}
			}
			if hist.N != exact.N || hist.Min != exact.Min || hist.Max != exact.Max {
				t.Errorf("histogram n/min/max = %d/%v/%v, exact %d/%v/%v", hist.N, hist.Min, hist.Max, exact.N, exact.Min, exact.Max)
			}
			if math.Abs(hist.Mean-exact.Mean) > 1e-9*math.Max(1, exact.Mean) {
				t.Errorf("histogram mean = %v, exact %v", hist.Mean, exact.Mean)
			}
			if math.Abs(hist.StdDev-exact.StdDev) > 1e-6*math.Max(1, exact.StdDev) {
				t.Errorf("histogram stddev = %v, exact %v", hist.StdDev, exact.StdDev)
			}
			for i, p := range []float64{50, 90, 95, 99, 99.9} {
				if got := h.ValueAt(p); math.Abs(got-tt.want[i]) > tt.want[i]*0.001 {
					t.Errorf("ValueAt(%v) = %v, want %v", p, got, tt.want[i])
				}
			}
		})
	}
}

// TestHistogramMergeIsExact merges two halves, also through JSON, and
// expects the summary of one histogram holding every sample.
func TestHistogramMergeIsExact(t *testing.T) {
	whole, a, b := NewHistogram(), NewHistogram(), NewHistogram()
	for i := 1; i <= 1060; i++ {
		d := time.Duration(i*i%997+1) * 37 * time.Microsecond
		whole.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	wire, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	b2 := NewHistogram()
	if err := json.Unmarshal(wire, b2); err != nil {
		t.Fatal(err)
	}
	a.Merge(b2)
	got, want := a.Summary(DefaultTrim), whole.Summary(DefaultTrim)
	if got.N != want.N || got.P50 != want.P50 || got.P99 != want.P99 || got.P999 != want.P999 ||
		got.Min != want.Min || got.Max != want.Max || got.TrimmedMean != want.TrimmedMean ||
		math.Abs(got.Mean-want.Mean) > 1e-9 || math.Abs(got.StdDev-want.StdDev) > 1e-9 {
		t.Fatalf("merged %+v\n whole %+v", got, want)
	}
	if err := json.Unmarshal([]byte(`{"n":3,"hdr_v2":"bad"}`), NewHistogram()); err == nil {
		t.Error("a damaged histogram decoded without error")
	}
}
