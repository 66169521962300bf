package cost

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestEnvironmentsNeeded(t *testing.T) {
	tests := []struct {
		rate, knee float64
		want       int
		wantErr    error // nil: no error; errAny: any error
	}{
		{rate: 0, knee: 10, want: 0},    // no traffic, no environment
		{rate: 1, knee: 10, want: 1},    // ceil(0.1): at least one
		{rate: 100, knee: 10, want: 10}, // exactly 10
		{rate: 101, knee: 10, want: 11}, // ceil(10.1)
		{rate: 2.7, knee: 0.3, want: 9}, // 9.000000000000002 in floats
		{rate: 0.7, knee: 0.1, want: 7}, // 6.999999999999999 in floats
		{rate: 140, knee: 10, want: 14}, // the c8g.xlarge example below
		{rate: 5, knee: 0, wantErr: ErrNoSLOStep},
		{rate: 5, knee: -1, wantErr: ErrNoSLOStep},
		{rate: 5, knee: math.NaN(), wantErr: ErrNoSLOStep},
		{rate: 5, knee: math.Inf(1), wantErr: errAny},
		{rate: -1, knee: 10, wantErr: errAny},
		{rate: math.Inf(1), knee: 10, wantErr: errAny},
		{rate: 1e12, knee: 1e-3, wantErr: errAny}, // 1e15 environments
	}
	for _, tt := range tests {
		got, err := EnvironmentsNeeded(tt.rate, tt.knee)
		switch {
		case tt.wantErr == nil && (err != nil || got != tt.want):
			t.Errorf("EnvironmentsNeeded(%v, %v) = %d, %v; want %d", tt.rate, tt.knee, got, err, tt.want)
		case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("EnvironmentsNeeded(%v, %v) = %d, %v; want error %v", tt.rate, tt.knee, got, err, tt.wantErr)
		}
	}
}

var errAny = errors.New("any error")

func TestEnvironmentsPerInstance(t *testing.T) {
	p := Default()
	tests := []struct {
		typ     string
		env     LMIEnvironment
		want    int
		wantErr error
	}{
		// c8g.xlarge: 4 vCPUs, 8 GiB.
		{"c8g.xlarge", LMIEnvironment{2048, 2}, 4, nil}, // 1 vCPU, 2 GiB each: 4 by vCPU, 4 by memory
		{"c8g.xlarge", LMIEnvironment{2048, 4}, 4, nil}, // 0.5 vCPU, 2 GiB: 8 by vCPU, 4 by memory
		{"c8g.xlarge", LMIEnvironment{3072, 2}, 2, nil}, // 1.5 vCPU, 3 GiB: floor(2.67) both ways
		{"c8g.xlarge", LMIEnvironment{8192, 2}, 1, nil}, // 4 vCPU, 8 GiB: the whole instance
		// m8g.xlarge: 4 vCPUs, 16 GiB.
		{"m8g.xlarge", LMIEnvironment{2048, 4}, 8, nil}, // 0.5 vCPU, 2 GiB: 8 both ways
		{"m8g.xlarge", LMIEnvironment{2048, 8}, 8, nil}, // 0.25 vCPU, 2 GiB: 16 by vCPU, 8 by memory
		{"m8g.xlarge", LMIEnvironment{4096, 2}, 2, nil}, // 2 vCPU, 4 GiB: 2 by vCPU, 4 by memory
		// c8g.large: 2 vCPUs, 4 GiB.
		{"c8g.large", LMIEnvironment{4096, 2}, 1, nil},            // 2 vCPU, 4 GiB
		{"c8g.large", LMIEnvironment{8192, 2}, 0, ErrDoesNotFit},  // 4 vCPU: half an instance short
		{"m7g.large", LMIEnvironment{10240, 4}, 0, ErrDoesNotFit}, // 2.5 vCPU, 10 GiB on 2 vCPU, 8 GiB
		{"z9.huge", LMIEnvironment{2048, 2}, 0, ErrUnknownInstanceType},
		{"c8g.xlarge", LMIEnvironment{0, 2}, 0, errAny},
		{"c8g.xlarge", LMIEnvironment{2048, 0}, 0, errAny},
	}
	for _, tt := range tests {
		got, err := p.EnvironmentsPerInstance(tt.typ, tt.env)
		switch {
		case tt.wantErr == nil && (err != nil || got != tt.want):
			t.Errorf("EnvironmentsPerInstance(%s, %+v) = %d, %v; want %d", tt.typ, tt.env, got, err, tt.want)
		case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("EnvironmentsPerInstance(%s, %+v) = %d, %v; want error %v", tt.typ, tt.env, got, err, tt.wantErr)
		case errors.Is(tt.wantErr, ErrDoesNotFit) && !strings.Contains(err.Error(), tt.typ):
			t.Errorf("the error should name %s: %v", tt.typ, err)
		}
	}
}

func TestInstancesNeeded(t *testing.T) {
	p := Default()
	env := LMIEnvironment{2048, 2} // 4 per c8g.xlarge
	for _, tt := range []struct{ envs, want int }{
		{0, 3}, {1, 3}, {10, 3}, // ceil(10/4) = 3
		{12, 3}, {13, 4}, {14, 4}, {16, 4}, {17, 5}, // ceil(17/4) = 5
		{100, 25},
	} {
		if got, err := p.InstancesNeeded("c8g.xlarge", env, tt.envs); err != nil || got != tt.want {
			t.Errorf("InstancesNeeded(c8g.xlarge, %d envs) = %d, %v; want %d", tt.envs, got, err, tt.want)
		}
	}
	if _, err := p.InstancesNeeded("c8g.xlarge", env, -1); err == nil {
		t.Error("negative environments: no error")
	}
	if _, err := p.InstancesNeeded("nope.large", env, 1); !errors.Is(err, ErrUnknownInstanceType) || !strings.Contains(err.Error(), "--prices") {
		t.Errorf("unknown type: %v", err)
	}
}

func TestLMIHourly(t *testing.T) {
	p := Default()
	tests := []struct {
		name string
		typ  string
		env  LMIEnvironment
		envs int
		rate float64
		want LMIHour
	}{
		{
			// 14 envs of 1 vCPU at 4 per c8g.xlarge: 4 instances;
			// 4 × 0.15952 = 0.63808, fee 0.095712, 140 × 3600 × 0.2e-6 = 0.1008.
			name: "after a step", typ: "c8g.xlarge", env: LMIEnvironment{2048, 2}, envs: 14, rate: 140,
			want: LMIHour{InstanceType: "c8g.xlarge", RateRPS: 140, Environments: 14, EnvironmentsPerInstance: 4, Instances: 4,
				VCPUs: 16, EnvironmentVCPUs: 14, InstanceUSD: 0.63808, ManagementFeeUSD: 0.095712, RequestUSD: 0.1008, TotalUSD: 0.834592},
		},
		{
			// 10 envs: 3 instances, the minimum; 3 × 0.15952 = 0.47856,
			// fee 0.071784, 100 × 3600 × 0.2e-6 = 0.072.
			name: "the minimum", typ: "c8g.xlarge", env: LMIEnvironment{2048, 2}, envs: 10, rate: 100,
			want: LMIHour{InstanceType: "c8g.xlarge", RateRPS: 100, Environments: 10, EnvironmentsPerInstance: 4, Instances: 3,
				VCPUs: 12, EnvironmentVCPUs: 10, InstanceUSD: 0.47856, ManagementFeeUSD: 0.071784, RequestUSD: 0.072, TotalUSD: 0.622344},
		},
		{
			// No traffic: 3 idle m7g.large (2 vCPU, 8 GiB; 4 of 2048 MB at
			// 8 GiB per vCPU, memory-bound): 3 × 0.0816 = 0.2448, fee 0.03672.
			name: "idle", typ: "m7g.large", env: LMIEnvironment{2048, 8}, envs: 0, rate: 0,
			want: LMIHour{InstanceType: "m7g.large", EnvironmentsPerInstance: 4, Instances: 3, VCPUs: 6,
				InstanceUSD: 0.2448, ManagementFeeUSD: 0.03672, TotalUSD: 0.28152},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.LMIHourly(tt.typ, tt.env, tt.envs, tt.rate)
			if err != nil {
				t.Fatal(err)
			}
			if !sameHour(got, tt.want) {
				t.Errorf("LMIHourly = %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := p.LMIHourly("c8g.xlarge", LMIEnvironment{2048, 2}, 1, -1); err == nil {
		t.Error("negative rate: no error")
	}
}

// sameHour compares two LMIHours, the amounts to 1e-9.
func sameHour(a, b LMIHour) bool {
	for _, f := range [][2]float64{{a.InstanceUSD, b.InstanceUSD}, {a.ManagementFeeUSD, b.ManagementFeeUSD},
		{a.RequestUSD, b.RequestUSD}, {a.TotalUSD, b.TotalUSD}, {a.EnvironmentVCPUs, b.EnvironmentVCPUs}, {a.RateRPS, b.RateRPS}} {
		if !near(f[0], f[1], 1e-9) {
			return false
		}
	}
	a.InstanceUSD, a.ManagementFeeUSD, a.RequestUSD, a.TotalUSD, a.EnvironmentVCPUs, a.RateRPS = 0, 0, 0, 0, 0, 0
	b.InstanceUSD, b.ManagementFeeUSD, b.RequestUSD, b.TotalUSD, b.EnvironmentVCPUs, b.RateRPS = 0, 0, 0, 0, 0, 0
	return reflect.DeepEqual(a, b)
}

func TestCheapestLMI(t *testing.T) {
	p := Default()
	tests := []struct {
		name          string
		provider      CapacityProvider
		env           LMIEnvironment
		envs          int
		wantType      string
		wantInstances int
		wantAssumed   bool
		wantErr       string
	}{
		{
			// 10 envs of 1 vCPU, 2 GiB, instance cost per hour:
			// c8g.large 5 × 0.07976 = 0.3988, c8g.xlarge 3 × 0.15952 = 0.47856,
			// c8g.2xlarge 3 × 0.31904, m8g.large 5 × 0.08976 = 0.4488,
			// m8g.xlarge 3 × 0.17952 = 0.53856, c7g.large 5 × 0.0725 = 0.3625,
			// c7g.xlarge 3 × 0.145 = 0.435, c7g.2xlarge 3 × 0.29,
			// m7g.large 5 × 0.0816 = 0.408, m7g.xlarge 3 × 0.1632 = 0.4896.
			name: "any arm64 type", provider: CapacityProvider{Arch: "arm64"}, env: LMIEnvironment{2048, 2}, envs: 10,
			wantType: "c7g.large", wantInstances: 5, wantAssumed: true,
		},
		{
			// c7i.large 5 × 0.08925 = 0.44625, c7i.xlarge 3 × 0.1785 = 0.5355,
			// m7i.large 5 × 0.1008, m7i.xlarge 3 × 0.2016.
			name: "any x86_64 type", provider: CapacityProvider{Arch: "x86_64"}, env: LMIEnvironment{2048, 2}, envs: 10,
			wantType: "c7i.large", wantInstances: 5, wantAssumed: true,
		},
		{
			// 6 envs: c8g.large 3 × 0.07976 beats c8g.xlarge 3 × 0.15952.
			name: "allowed types", provider: CapacityProvider{Arch: "arm64", AllowedInstanceTypes: []string{"c8g.xlarge", "c8g.large"}},
			env: LMIEnvironment{2048, 2}, envs: 6, wantType: "c8g.large", wantInstances: 3,
		},
		{
			// 24 envs: 12 × 0.07976 = 6 × 0.15952: the cheaper instance wins the tie.
			name: "a tie", provider: CapacityProvider{Arch: "arm64", AllowedInstanceTypes: []string{"c8g.xlarge", "c8g.large"}},
			env: LMIEnvironment{2048, 2}, envs: 24, wantType: "c8g.large", wantInstances: 12,
		},
		{
			// 4 vCPU, 8 GiB: not on c8g.large, 1 per c8g.xlarge.
			name: "too big for one type", provider: CapacityProvider{Arch: "arm64", AllowedInstanceTypes: []string{"c8g.large", "c8g.xlarge"}},
			env: LMIEnvironment{8192, 2}, envs: 2, wantType: "c8g.xlarge", wantInstances: 3,
		},
		{
			name: "too big for all", provider: CapacityProvider{Arch: "arm64", AllowedInstanceTypes: []string{"c8g.large"}},
			env: LMIEnvironment{8192, 2}, envs: 2, wantErr: "fits on none of c8g.large",
		},
		{
			name: "another architecture", provider: CapacityProvider{Arch: "arm64", AllowedInstanceTypes: []string{"c7i.large"}},
			env: LMIEnvironment{2048, 2}, envs: 2, wantErr: "instance type c7i.large is x86_64, the provider is arm64",
		},
		{
			name: "unknown type", provider: CapacityProvider{Arch: "arm64", AllowedInstanceTypes: []string{"c9g.large"}},
			env: LMIEnvironment{2048, 2}, envs: 2, wantErr: "--prices",
		},
		{
			name: "unknown architecture", provider: CapacityProvider{Arch: "mips"}, env: LMIEnvironment{2048, 2}, envs: 2,
			wantErr: `unknown architecture "mips"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := p.CheapestLMI(tt.provider, tt.env, tt.envs, 10)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.InstanceType != tt.wantType || h.Instances != tt.wantInstances || h.Assumed != tt.wantAssumed {
				t.Errorf("got %s × %d (assumed %v), want %s × %d (assumed %v)", h.InstanceType, h.Instances, h.Assumed, tt.wantType, tt.wantInstances, tt.wantAssumed)
			}
		})
	}
	// A type a --prices file adds is a candidate too.
	q := Default()
	q.Instances["x1g.large"] = Instance{USDPerHour: 0.01, VCPUs: 2, MemoryGiB: 4, Architecture: ArchARM64}
	if h, err := q.CheapestLMI(CapacityProvider{Arch: "arm64"}, LMIEnvironment{2048, 2}, 10, 0); err != nil || h.InstanceType != "x1g.large" {
		t.Errorf("added type: %+v, %v", h, err)
	}
}

func TestLMIAtRate(t *testing.T) {
	c := LMIConfig{Name: "lmi-2048", Env: LMIEnvironment{2048, 2}, KneeRPSPerEnv: 10,
		Provider: CapacityProvider{Arch: "arm64", AllowedInstanceTypes: []string{"c8g.xlarge"}}}
	// 140 req/s at 10 per environment: 14 environments, 4 c8g.xlarge.
	h, err := Default().LMIAtRate(c, 140)
	if err != nil || h.Config != "lmi-2048" || h.Environments != 14 || h.Instances != 4 || !near(h.TotalUSD, 0.834592, 1e-9) {
		t.Errorf("LMIAtRate = %+v, %v", h, err)
	}
	c.KneeRPSPerEnv = 0
	if _, err := Default().LMIAtRate(c, 140); !errors.Is(err, ErrNoSLOStep) || !strings.Contains(err.Error(), "lmi-2048") {
		t.Errorf("no SLO step: %v", err)
	}
}

func TestStandardHourly(t *testing.T) {
	p := Default()
	tests := []struct {
		name    string
		c       StandardConfig
		rate    float64
		want    StandardHour
		wantErr bool
	}{
		{
			// 100 × 3600 × 0.0000133334 × 2 GB × 0.1 s = 0.9600048;
			// requests 100 × 3600 × 0.2e-6 = 0.072; 100 × 0.1 s busy.
			name: "arm64", c: StandardConfig{Arch: "arm64", MemoryMB: 2048, MeanDurationMs: 100}, rate: 100,
			want: StandardHour{RateRPS: 100, BilledMs: 100, Concurrency: 10, ComputeUSD: 0.9600048, RequestUSD: 0.072, TotalUSD: 1.0320048},
		},
		{
			// Billed 100 ms, busy 99.5 ms: 20,000 × 0.0995 = 1990 > 1000.
			// 20,000 × 3600 × 0.0000166667 × 1 GB × 0.1 s = 120.00024;
			// requests 14.4.
			name: "x86_64 over the default limit", c: StandardConfig{Arch: "x86_64", MemoryMB: 1024, MeanDurationMs: 99.5}, rate: 20000,
			want: StandardHour{RateRPS: 20000, BilledMs: 100, Concurrency: 1990, OverDefaultLimit: true,
				ComputeUSD: 120.00024, RequestUSD: 14.4, TotalUSD: 134.40024},
		},
		{name: "no traffic", c: StandardConfig{Arch: "arm64", MemoryMB: 2048, MeanDurationMs: 100}, rate: 0, want: StandardHour{BilledMs: 100}},
		{
			// Already the mean of billed durations (2 and 3 ms, say): not
			// rounded up to 3 again. 1000 × 3600 × 0.0000133334 × 2 GB ×
			// 0.0022 s = 0.211201056; requests 0.72; 1000 × 0.0022 busy.
			name: "a mean billed duration", c: StandardConfig{Arch: "arm64", MemoryMB: 2048, MeanDurationMs: 2.2, Billed: true}, rate: 1000,
			want: StandardHour{RateRPS: 1000, BilledMs: 2.2, Concurrency: 2.2, ComputeUSD: 0.211201056, RequestUSD: 0.72, TotalUSD: 0.931201056},
		},
		{name: "bad arch", c: StandardConfig{Arch: "mips", MemoryMB: 2048, MeanDurationMs: 100}, rate: 1, wantErr: true},
		{name: "no memory", c: StandardConfig{Arch: "arm64", MemoryMB: 0, MeanDurationMs: 100}, rate: 1, wantErr: true},
		{name: "NaN duration", c: StandardConfig{Arch: "arm64", MemoryMB: 2048, MeanDurationMs: math.NaN()}, rate: 1, wantErr: true},
		{name: "negative rate", c: StandardConfig{Arch: "arm64", MemoryMB: 2048, MeanDurationMs: 100}, rate: -1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.StandardHourly(tt.c, tt.rate)
			if tt.wantErr {
				if err == nil {
					t.Errorf("no error: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.RateRPS != tt.want.RateRPS || got.BilledMs != tt.want.BilledMs || !near(got.Concurrency, tt.want.Concurrency, 1e-9) ||
				got.OverDefaultLimit != tt.want.OverDefaultLimit || !near(got.ComputeUSD, tt.want.ComputeUSD, 1e-9) ||
				!near(got.RequestUSD, tt.want.RequestUSD, 1e-9) || !near(got.TotalUSD, tt.want.TotalUSD, 1e-9) {
				t.Errorf("StandardHourly = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRateLadder(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []float64
	}{
		{1, 10000, []float64{1, 10, 100, 1000, 10000}},
		{5, 2000, []float64{5, 10, 100, 1000, 2000}},
		{0.5, 3, []float64{0.5, 1, 3}},
		{10, 100, []float64{10, 100}},
		{1000, 1000, []float64{1000}},
	}
	for _, tt := range tests {
		if got, err := RateLadder(tt.lo, tt.hi); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("RateLadder(%v, %v) = %v, %v; want %v", tt.lo, tt.hi, got, err, tt.want)
		}
	}
	for _, bad := range [][2]float64{{0, 10}, {10, 1}, {1, math.Inf(1)}, {math.NaN(), 10}} {
		if _, err := RateLadder(bad[0], bad[1]); err == nil {
			t.Errorf("RateLadder(%v, %v): no error", bad[0], bad[1])
		}
	}
	if got := DefaultRateLadder(); !reflect.DeepEqual(got, []float64{1, 10, 100, 1000, 10000}) {
		t.Errorf("DefaultRateLadder = %v", got)
	}
}
