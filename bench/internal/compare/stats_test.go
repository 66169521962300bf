package compare

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func seq(from, step float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = from + step*float64(i)
	}
	return out
}

func TestEstimate(t *testing.T) {
	tests := []struct {
		name         string
		values       []float64
		stat         Stat
		center       float64
		lo, hi       float64
		wantWarning  string // substring; "" = no warning
		wantInterval bool
	}{
		// The median is nearest rank: ceil(0.5·n)-th value, not the
		// interpolated 5.5 benchmath would give.
		{"n=10 median and order-statistic CI", seq(1, 1, 10), P50, 5, 2, 9, "", true},
		{"n=4 nearest rank is the 2nd", []float64{4, 1, 3, 2}, P50, 2, math.Inf(-1), math.Inf(1), "need >= 6 samples", false},
		{"n=5 has no interval", seq(1, 1, 5), P50, 3, math.Inf(-1), 5, "need >= 6 samples", false},
		{"n=6 is the first with an interval", seq(1, 1, 6), P50, 3, 1, 6, "", true},
		{"n=1", []float64{7}, P50, 7, math.Inf(-1), math.Inf(1), "need >= 6 samples", false},
		{"ties", []float64{5, 5, 5, 5, 5, 5, 5}, P50, 5, 5, 5, "", true},
		// p99 of 1000 samples 1..1000 is the 990th; its 95% interval is
		// order statistics 984..997 (normal approximation: 990 ± 1.96 ·
		// sqrt(1000 · 0.99 · 0.01) = 990 ± 6.2).
		{"p99 of 1000", seq(1, 1, 1000), P99, 990, 984, 997, "", true},
		// With 200 samples P(no sample above p99) = 0.99^200 = 13% > 2.5%:
		// no upper bound.
		{"p99 of 200 has no upper bound", seq(1, 1, 200), P99, 198, 195, math.Inf(1), "p99 confidence interval", false},
		{"p99 of 20 has no interval", seq(1, 1, 20), P99, 20, 19, math.Inf(1), "p99 confidence interval", false},
		// 0 of 100: Wilson upper bound z²/(n+z²) = 3.8415/103.8415.
		{"rate 0 of 100", make([]float64, 100), Rate, 0, 0, 100 * 3.841459 / 103.841459, "", true},
		// 5 of 100: Wilson 95% interval 2.15%–11.18% (hand computed).
		{"rate 5 of 100", append(make([]float64, 95), 1, 1, 1, 1, 1), Rate, 5, 2.154, 11.175, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := estimate(slices.Clone(tt.values), tt.stat)
			if e.N != len(tt.values) || e.Center != tt.center {
				t.Errorf("n %d value %v, want %d %v", e.N, e.Center, len(tt.values), tt.center)
			}
			if !near(e.Lo, tt.lo) || !near(e.Hi, tt.hi) {
				t.Errorf("interval [%v, %v], want [%v, %v]", e.Lo, e.Hi, tt.lo, tt.hi)
			}
			if e.HasInterval() != tt.wantInterval {
				t.Errorf("HasInterval %v, want %v", e.HasInterval(), tt.wantInterval)
			}
			got := strings.Join(e.Warnings, "; ")
			if (tt.wantWarning == "") != (got == "") || !strings.Contains(got, tt.wantWarning) {
				t.Errorf("warnings %q, want %q", got, tt.wantWarning)
			}
		})
	}
}

func near(a, b float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-3*math.Max(1, math.Abs(b))
}

func TestTest(t *testing.T) {
	base := seq(100, 1, 10) // 100..109
	shifted := seq(150, 1, 10)
	interleaved := seq(100.5, 1, 10) // 100.5..109.5: between base's values
	tests := []struct {
		name        string
		old, new    []float64
		stat        Stat
		p           float64 // exact expected p-value; NaN = only check significance
		significant bool
		wantWarning string
	}{
		{"identical samples", base, base, P50, 1, false, ""},
		{"identical constants", []float64{5, 5, 5, 5, 5, 5}, []float64{5, 5, 5, 5, 5, 5}, P50, 1, false, "all samples are equal"},
		// Fully separated samples of 10: the exact two-sided U-test p is
		// 2 / C(20,10) = 2/184756.
		{"shifted by 50%", base, shifted, P50, 2.0 / 184756, true, ""},
		{"shifted down", shifted, base, P50, 2.0 / 184756, true, ""},
		// Interleaved: U = 45 of 100, nowhere near significant.
		{"interleaved", base, interleaved, P50, math.NaN(), false, ""},
		// Three against three, fully separated: the smallest p there is,
		// 2 / C(6,3) = 0.1, cannot reach 0.05.
		{"too few to detect", seq(1, 1, 3), seq(10, 1, 3), P50, 0.1, false, "need >= 4 samples to detect a difference"},
		// Four against four fully separated: 2 / C(8,4) = 0.0286.
		{"four is enough", seq(1, 1, 4), seq(10, 1, 4), P50, 2.0 / 70, true, ""},
		{"one side empty", nil, base, P50, 1, false, "no samples on one side"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, n := slices.Clone(tt.old), slices.Clone(tt.new)
			slices.Sort(o)
			slices.Sort(n)
			got := test(o, n, tt.stat, 0.05)
			if !math.IsNaN(tt.p) && math.Abs(got.P-tt.p) > 1e-9 {
				t.Errorf("p = %v, want %v", got.P, tt.p)
			}
			if got.Significant != tt.significant {
				t.Errorf("significant = %v (p=%v), want %v", got.Significant, got.P, tt.significant)
			}
			w := strings.Join(got.Warnings, "; ")
			if (tt.wantWarning == "") != (w == "") || !strings.Contains(w, tt.wantWarning) {
				t.Errorf("warnings %q, want %q", w, tt.wantWarning)
			}
		})
	}
}

func TestQuantileTest(t *testing.T) {
	// 400 requests at 10..49 ms; the tail is what changes.
	body := func(slow int, slowMs float64) []float64 {
		v := make([]float64, 400)
		for i := range v {
			v[i] = 10 + float64(i%40)
		}
		for i := 0; i < slow; i++ {
			v[i*7%400] = slowMs + float64(i)
		}
		slices.Sort(v)
		return v
	}
	tests := []struct {
		name        string
		old, new    []float64
		significant bool
	}{
		{"same tail", body(4, 500), body(4, 500), false},
		{"longer tail, same bulk", body(4, 500), body(40, 500), true},
		{"shorter tail", body(40, 500), body(4, 500), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := test(tt.old, tt.new, P99, 0.05)
			if got.Significant != tt.significant {
				t.Errorf("significant = %v (p=%v), want %v", got.Significant, got.P, tt.significant)
			}
			// The bulk is the same: the U test on whole distributions
			// sees little, which is why p99 has its own test.
			if u := test(tt.old, tt.new, P50, 0.05); tt.significant && u.P < got.P {
				t.Errorf("U test p %v below the quantile test's %v", u.P, got.P)
			}
		})
	}
}

func TestErrorRateTest(t *testing.T) {
	flags := func(n, ones int) []float64 {
		v := make([]float64, n)
		for i := range ones {
			v[n-1-i] = 1
		}
		return v
	}
	if got := test(flags(500, 0), flags(500, 0), Rate, 0.05); got.Significant || got.P != 1 {
		t.Errorf("no errors on either side: %+v", got)
	}
	if got := test(flags(500, 0), flags(500, 25), Rate, 0.05); !got.Significant {
		t.Errorf("0%% → 5%% errors: %+v, want significant", got)
	}
	if got := test(flags(500, 5), flags(500, 6), Rate, 0.05); got.Significant {
		t.Errorf("1%% → 1.2%% errors: %+v, want not significant", got)
	}
}

func TestCanDetect(t *testing.T) {
	// The smallest two-sided U-test p is 2 / C(n1+n2, n1).
	tests := []struct {
		n1, n2 int
		want   bool
	}{
		{0, 10, false},
		{1, 1, false},
		{3, 3, false}, // 2/20 = 0.1
		{4, 4, true},  // 2/70 = 0.029
		{3, 20, true}, // 2/1771
		{2, 7, false}, // 2/36 = 0.056
		{2, 8, true},  // 2/45 = 0.044
	}
	for _, tt := range tests {
		if got := canDetect(tt.n1, tt.n2, 0.05); got != tt.want {
			t.Errorf("canDetect(%d, %d) = %v, want %v", tt.n1, tt.n2, got, tt.want)
		}
		if got := canDetect(tt.n2, tt.n1, 0.05); got != tt.want {
			t.Errorf("canDetect(%d, %d) = %v, want %v", tt.n2, tt.n1, got, tt.want)
		}
	}
}

func TestCanDetectP99(t *testing.T) {
	// 100 + 100 samples: 2 lie above the pooled p99; both on one side
	// (2 of 100 against 0 of 100) is not significant. 200 + 200: 4 of 200
	// against 0 of 200 is.
	for _, tt := range []struct {
		n    int
		want bool
	}{{20, false}, {100, false}, {200, true}} {
		if got := canDetectStat(tt.n, tt.n, P99, 0.05); got != tt.want {
			t.Errorf("p99 with %d+%d samples: canDetect %v, want %v", tt.n, tt.n, got, tt.want)
		}
	}
}
