package cost

import (
	"math"
	"testing"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestPerMillionPublishedMatrix prices the bcrypt matrix's published warm durations. Its published
// cost table is about 2.4% higher and lacks the request charge: it takes
// memory in decimal GB (MB/1000, where Lambda bills MB/1024) and leaves out
// the $0.20 per million requests; its durations also differ from its warm
// table by up to ~2 ms (x86_64 4096 MB: 60.80 implies ~890.6 ms, not 892).
// So ours ≈ published × 1000/1024 + 0.20, within $0.10.
func TestPerMillionPublishedMatrix(t *testing.T) {
	tests := []struct {
		arch      string
		memoryMB  int
		ms        float64
		want      float64 // MB/1024 × ms/1000 × first-tier price × 1e6 + 0.20
		published float64 // the published table
	}{
		{"arm64", 1536, 1885, 37.900188, 38.60},
		{"arm64", 2048, 1334, 35.773511, 36.46},
		{"arm64", 4096, 685, 36.733516, 37.47},
		{"arm64", 6144, 463, 37.240185, 37.97},
		{"arm64", 8192, 338, 36.253514, 36.94},
		{"arm64", 10240, 280, 37.533520, 38.27},
		{"x86_64", 1536, 1671, 41.975084, 42.78},
		{"x86_64", 2048, 1253, 41.966750, 42.77},
		{"x86_64", 4096, 892, 59.666786, 60.80},
		{"x86_64", 6144, 429, 43.100086, 44.00},
		{"x86_64", 8192, 330, 44.200088, 45.10},
		{"x86_64", 10240, 292, 48.866764, 49.87},
	}
	prices := Default()
	for _, tt := range tests {
		got, err := prices.PerMillion(tt.arch, tt.memoryMB, tt.ms)
		if err != nil {
			t.Fatalf("PerMillion(%s, %d, %v): %v", tt.arch, tt.memoryMB, tt.ms, err)
		}
		if !near(got, tt.want, 1e-6) {
			t.Errorf("PerMillion(%s, %d, %v) = %.6f, want %.6f", tt.arch, tt.memoryMB, tt.ms, got, tt.want)
		}
		if explained := tt.published*1000/1024 + 0.20; !near(got, explained, 0.10) {
			t.Errorf("%s %d MB: %.4f is not the published %.2f × 1000/1024 + 0.20 = %.4f", tt.arch, tt.memoryMB, got, tt.published, explained)
		}
	}
}

func TestBilledMs(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{263.34, 264}, {280, 280}, {467, 467}, {0, 1}, {0.2, 1}, {263.0000000001, 263}, {1885.999, 1886},
	}
	for _, tt := range tests {
		if got := BilledMs(tt.in); got != tt.want {
			t.Errorf("BilledMs(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestInvocationAndStandard(t *testing.T) {
	p := Default()
	// REPORT example: Billed Duration 467 ms, 128 MB, x86_64:
	// 0.467 s × 0.125 GB × 0.0000166667 + 0.20/1e6.
	got, err := p.Invocation("x86_64", 128, 467)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.467*0.125*0.0000166667 + 0.2e-6; !near(got, want, 1e-15) {
		t.Errorf("Invocation = %g, want %g", got, want)
	}
	// Each invocation is rounded up on its own: 99.5 → 100 ms, 101.4 → 102 ms.
	b, err := p.Standard("arm64", 1024, []float64{99.5, 101.4})
	if err != nil {
		t.Fatal(err)
	}
	wantGBs := 0.202 * 1.0
	if b.Requests != 2 || !near(b.GBSeconds, wantGBs, 1e-12) {
		t.Errorf("Standard: requests %v GB-s %v, want 2 and %v", b.Requests, b.GBSeconds, wantGBs)
	}
	if want := wantGBs*0.0000133334 + 2*0.2e-6; !near(b.TotalUSD, want, 1e-15) {
		t.Errorf("Standard total = %g, want %g", b.TotalUSD, want)
	}
	if want := (wantGBs*0.0000133334 + 2*0.2e-6) / 2 * 1e6; !near(b.PerMillion(), want, 1e-9) {
		t.Errorf("PerMillion = %v, want %v", b.PerMillion(), want)
	}
	if (Bill{}).PerMillion() != 0 {
		t.Error("an empty bill should cost 0 per million")
	}
	// Architecture spellings.
	for _, arch := range []string{"arm64", "ARM64", "aarch64"} {
		if _, err := p.Invocation(arch, 1024, 1); err != nil {
			t.Errorf("Invocation(%q): %v", arch, err)
		}
	}
}

func TestStandardErrors(t *testing.T) {
	p := Default()
	for name, f := range map[string]func() error{
		"unknown arch":   func() error { _, err := p.PerMillion("riscv64", 1024, 1); return err },
		"zero memory":    func() error { _, err := p.PerMillion("arm64", 0, 1); return err },
		"negative ms":    func() error { _, err := p.PerMillion("arm64", 1024, -1); return err },
		"NaN ms":         func() error { _, err := p.Standard("arm64", 1024, []float64{math.NaN()}); return err },
		"monthly arch":   func() error { _, err := p.Monthly("mips", 1024, 1, 1); return err },
		"monthly NaN":    func() error { _, err := p.Monthly("arm64", 1024, 1, math.NaN()); return err },
		"lmi type":       func() error { _, err := p.LMI("z9.huge", 1, 1); return err },
		"lmi hours":      func() error { _, err := p.LMI("c8g.xlarge", -1, 1); return err },
		"lmi zero rate":  func() error { _, err := p.LMIPerMillion("c8g.xlarge", 3, 0); return err },
		"lmi instances":  func() error { _, err := p.LMIPerMillion("c8g.xlarge", -3, 10); return err },
		"lmi type per M": func() error { _, err := p.LMIPerMillion("nope", 3, 10); return err },
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMonthlyTiers(t *testing.T) {
	p := Default()
	tests := []struct {
		name        string
		arch        string
		memoryMB    int
		ms, n       float64
		wantGBs     float64
		wantCompute float64
		wantTotal   float64
	}{
		{
			name: "arm64 within the first tier", arch: "arm64", memoryMB: 512, ms: 100, n: 1e6,
			// 1e6 × 0.1 s × 0.5 GB = 50,000 GB-s × 0.0000133334; + 1 × $0.20
			wantGBs: 50000, wantCompute: 0.66667, wantTotal: 0.86667,
		},
		{
			name: "x86_64 into the second tier", arch: "x86_64", memoryMB: 1024, ms: 1000, n: 10e9,
			// 10e9 GB-s: 6e9 × 0.0000166667 = 100,000.2 + 4e9 × 0.000015 = 60,000; requests 10,000 × 0.20
			wantGBs: 10e9, wantCompute: 160000.2, wantTotal: 162000.2,
		},
		{
			name: "x86_64 into the third tier", arch: "x86_64", memoryMB: 2048, ms: 1000, n: 10e9,
			// 20e9 GB-s: 100,000.2 + 9e9 × 0.000015 = 135,000 + 5e9 × 0.0000133334 = 66,667
			wantGBs: 20e9, wantCompute: 301667.2, wantTotal: 303667.2,
		},
		{
			name: "arm64 exactly at the first limit", arch: "arm64", memoryMB: 1024, ms: 1000, n: 7.5e9,
			wantGBs: 7.5e9, wantCompute: 100000.5, wantTotal: 101500.5,
		},
		{
			name: "nothing", arch: "arm64", memoryMB: 1024, ms: 10, n: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := p.Monthly(tt.arch, tt.memoryMB, tt.ms, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if !near(b.GBSeconds, tt.wantGBs, 1e-3) || !near(b.ComputeUSD, tt.wantCompute, 1e-4) || !near(b.TotalUSD, tt.wantTotal, 1e-4) {
				t.Errorf("got GB-s %v compute %v total %v, want %v %v %v", b.GBSeconds, b.ComputeUSD, b.TotalUSD, tt.wantGBs, tt.wantCompute, tt.wantTotal)
			}
		})
	}
}

func TestLMI(t *testing.T) {
	p := Default()
	// Three c8g.xlarge for a day serving 1M requests:
	// 72 h × 0.15952 = 11.48544; fee 15% = 1.722816; requests 0.20.
	b, err := p.LMI("c8g.xlarge", 72, 1e6)
	if err != nil {
		t.Fatal(err)
	}
	if !near(b.InstanceUSD, 11.48544, 1e-9) || !near(b.ManagementFeeUSD, 1.722816, 1e-9) ||
		!near(b.RequestUSD, 0.2, 1e-12) || !near(b.TotalUSD, 13.408256, 1e-9) || b.GBSeconds != 0 {
		t.Errorf("LMI bill = %+v", b)
	}
	// 3 instances at 100 req/s: 1M requests take 10,000 s = 8.3333 instance-hours
	// × 0.15952 × 1.15 = 1.5287333 + 0.20.
	got, err := p.LMIPerMillion("c8g.xlarge", 3, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3*(1e6/100.0)/3600*0.15952*1.15 + 0.2; !near(got, want, 1e-9) || !near(got, 1.7287333, 1e-6) {
		t.Errorf("LMIPerMillion = %v, want %v", got, want)
	}
}
