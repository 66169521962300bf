package stats

import (
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
