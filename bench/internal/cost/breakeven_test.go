package cost

import (
	"errors"
	"strings"
	"testing"
)

// stepTable is a price table with round numbers: one instance type,
// t.xlarge (4 vCPUs, 8 GiB, $1 an hour), no management fee, and an arm64
// GB-second price that makes 1 GB for 1 s at 1 req/s cost computePerRPS
// dollars an hour (the request charge is the same on both sides, so it
// cancels out of the comparison).
func stepTable(computePerRPS float64) PriceTable {
	p := Default()
	p.LMIManagementFee = 0
	p.GBSecond[ArchARM64] = []Tier{{Price: computePerRPS / 3600}}
	p.Instances = map[string]Instance{"t.xlarge": {USDPerHour: 1, VCPUs: 4, MemoryGiB: 8, Architecture: ArchARM64}}
	return p
}

// oneGBOneSecond is a standard function whose compute costs
// computePerRPS × rate dollars an hour on stepTable.
var oneGBOneSecond = StandardConfig{Arch: "arm64", MemoryMB: 1024, MeanDurationMs: 1000}

// small: 2048 MB at 2 GiB per vCPU, 4 per t.xlarge, 1 req/s each: 4 req/s
// an instance, so $max(3, ceil(r/4)) an hour. big: 4096 MB, 2 per
// t.xlarge, 4 req/s each: 8 req/s an instance, $max(3, ceil(r/8)).
var (
	small = LMIConfig{Name: "small", Env: LMIEnvironment{2048, 2}, KneeRPSPerEnv: 1, Provider: CapacityProvider{Arch: "arm64"}}
	big   = LMIConfig{Name: "big", Env: LMIEnvironment{4096, 2}, KneeRPSPerEnv: 4, Provider: CapacityProvider{Arch: "arm64"}}
	// failed held no step of the SLO.
	failed = LMIConfig{Name: "failed", Env: LMIEnvironment{2048, 2}, Provider: CapacityProvider{Arch: "arm64"}}
)

func TestBreakEven(t *testing.T) {
	tests := []struct {
		name          string
		prices        PriceTable
		configs       []LMIConfig
		std           StandardConfig
		lo, hi        float64
		wantFound     bool
		wantRate      float64
		wantConfig    string
		wantInstances int
		wantSkipped   []string
	}{
		{
			// Standard $1 an hour per req/s; small costs $3 up to 12 req/s,
			// so it is no dearer from 3 req/s, and after every step
			// ceil(r/4) ≤ r still holds.
			name: "on the minimum-instances floor", prices: stepTable(1), configs: []LMIConfig{small}, std: oneGBOneSecond,
			lo: 1, hi: 10000, wantFound: true, wantRate: 3, wantConfig: "small", wantInstances: 3,
		},
		{
			// The same from 5 req/s: cheaper from the lowest rate.
			name: "cheaper from the lowest rate", prices: stepTable(1), configs: []LMIConfig{small}, std: oneGBOneSecond,
			lo: 5, hi: 10000, wantFound: true, wantRate: 5, wantConfig: "small", wantInstances: 3,
		},
		{
			// Standard $0.3 per req/s. small: $3 ≤ 0.3r on [10, 12], but $4
			// just above 12 needs r ≥ 13.33; $4 on [13.33, 16], but $5 just
			// above 16 needs r ≥ 16.67; from then on m+1 ≤ 0.3 × 4m for
			// m ≥ 5: the break-even is 5 / 0.3 = 16.67, after a step and
			// off any ladder (17 environments, 5 instances).
			name: "after a step", prices: stepTable(0.3), configs: []LMIConfig{small}, std: oneGBOneSecond,
			lo: 1, hi: 10000, wantFound: true, wantRate: 5 / 0.3, wantConfig: "small", wantInstances: 5,
		},
		{
			// Up to 16 req/s only: no dearer on [13.33, 16].
			name: "after a step, within a shorter range", prices: stepTable(0.3), configs: []LMIConfig{small}, std: oneGBOneSecond,
			lo: 1, hi: 16, wantFound: true, wantRate: 4 / 0.3, wantConfig: "small", wantInstances: 4,
		},
		{
			// Up to 2 req/s: $3 > $2.
			name: "the range ends first", prices: stepTable(1), configs: []LMIConfig{small}, std: oneGBOneSecond,
			lo: 1, hi: 2,
		},
		{
			// Standard $0.2 per req/s; small costs $0.25 per req/s at
			// best (an instance a 4 req/s): never.
			name: "never cheaper", prices: stepTable(0.2), configs: []LMIConfig{small}, std: oneGBOneSecond,
			lo: 1, hi: 10000,
		},
		{
			// big: $3 ≤ 0.2r from 15 req/s, up to 24; then m+1 ≤ 0.2 × 8m.
			// small at 15 req/s: 15 environments, 4 instances, $4: big is the
			// cheapest there (4 environments on 3 instances).
			name: "the cheapest of several", prices: stepTable(0.2), configs: []LMIConfig{small, failed, big}, std: oneGBOneSecond,
			lo: 1, hi: 10000, wantFound: true, wantRate: 15, wantConfig: "big", wantInstances: 3, wantSkipped: []string{"failed"},
		},
		{
			// Default prices: c8g.xlarge, 4 environments of 2048 MB at 10
			// req/s each: 3 × 0.15952 × 1.15 = $0.550344 an hour up to
			// 120 req/s. Standard arm64 2048 MB 100 ms: 3600 × 0.0000133334
			// × 2 × 0.1 = $0.009600048 per req/s (+ requests, on both
			// sides): 0.550344 / 0.009600048 = 57.3272 req/s; after the
			// floor, $0.183448 per 40 req/s stays below $0.384.
			name: "default prices", prices: Default(), std: StandardConfig{Arch: "arm64", MemoryMB: 2048, MeanDurationMs: 100}, lo: 1, hi: 10000,
			configs: []LMIConfig{{Name: "lmi-2048", Env: LMIEnvironment{2048, 2}, KneeRPSPerEnv: 10,
				Provider: CapacityProvider{Arch: "arm64", AllowedInstanceTypes: []string{"c8g.xlarge"}}}},
			wantFound: true, wantRate: 57.327213363933176, wantConfig: "lmi-2048", wantInstances: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be, err := tt.prices.BreakEven(tt.configs, tt.std, tt.lo, tt.hi)
			if err != nil {
				t.Fatal(err)
			}
			if be.Found != tt.wantFound || strings.Join(be.Skipped, ",") != strings.Join(tt.wantSkipped, ",") {
				t.Fatalf("BreakEven = %+v, want found %v, skipped %v", be, tt.wantFound, tt.wantSkipped)
			}
			if !tt.wantFound {
				if be.LMI != nil || be.Standard != nil {
					t.Errorf("no break-even, but %+v", be)
				}
				return
			}
			if !near(be.RateRPS, tt.wantRate, 1e-9) || be.LMI.Config != tt.wantConfig || be.LMI.Instances != tt.wantInstances {
				t.Errorf("break-even %v req/s on %s × %d instances, want %v on %s × %d", be.RateRPS, be.LMI.Config, be.LMI.Instances,
					tt.wantRate, tt.wantConfig, tt.wantInstances)
			}
			// At the break-even LMI costs what standard does, or less
			// when it is cheaper from the lowest rate.
			if be.LMI.TotalUSD > be.Standard.TotalUSD+1e-9 || (be.RateRPS > tt.lo && !near(be.LMI.TotalUSD, be.Standard.TotalUSD, 1e-9)) {
				t.Errorf("at %v req/s LMI $%v, standard $%v", be.RateRPS, be.LMI.TotalUSD, be.Standard.TotalUSD)
			}
		})
	}
}

// TestBreakEvenHoldsAbove checks the break-even's promise on a fine grid:
// no dearer at every rate from it up to hi, dearer just below it.
func TestBreakEvenHoldsAbove(t *testing.T) {
	for _, perRPS := range []float64{0.26, 0.3, 0.45, 1} {
		p := stepTable(perRPS)
		be, err := p.BreakEven([]LMIConfig{small, big}, oneGBOneSecond, 1, 200)
		if err != nil || !be.Found {
			t.Fatalf("$%v per req/s: %+v, %v", perRPS, be, err)
		}
		cheapest := func(r float64) float64 {
			a, _ := p.LMIAtRate(small, r)
			b, _ := p.LMIAtRate(big, r)
			return min(a.TotalUSD, b.TotalUSD)
		}
		for r := be.RateRPS; r <= 200; r += 0.01 {
			if s, _ := p.StandardHourly(oneGBOneSecond, r); cheapest(r) > s.TotalUSD+1e-9 {
				t.Fatalf("$%v per req/s: break-even %v, but LMI $%v > standard $%v at %v req/s", perRPS, be.RateRPS, cheapest(r), s.TotalUSD, r)
			}
		}
		if r := be.RateRPS - 0.001; r >= 1 {
			if s, _ := p.StandardHourly(oneGBOneSecond, r); cheapest(r) <= s.TotalUSD {
				t.Errorf("$%v per req/s: break-even %v, but LMI is no dearer at %v already", perRPS, be.RateRPS, r)
			}
		}
	}
}

func TestBreakEvenErrors(t *testing.T) {
	p := stepTable(1)
	tooBig := LMIConfig{Name: "huge", Env: LMIEnvironment{10240, 2}, KneeRPSPerEnv: 1, Provider: CapacityProvider{Arch: "arm64"}}
	tiny := LMIConfig{Name: "tiny", Env: LMIEnvironment{2048, 2}, KneeRPSPerEnv: 1e-4, Provider: CapacityProvider{Arch: "arm64"}}
	tests := []struct {
		name    string
		configs []LMIConfig
		std     StandardConfig
		lo, hi  float64
		want    string
		is      error
	}{
		{name: "all failed", configs: []LMIConfig{failed}, std: oneGBOneSecond, lo: 1, hi: 10, is: ErrNoSLOStep},
		{name: "none", std: oneGBOneSecond, lo: 1, hi: 10, is: ErrNoSLOStep},
		{name: "does not fit", configs: []LMIConfig{tooBig}, std: oneGBOneSecond, lo: 1, hi: 10, want: "huge", is: ErrDoesNotFit},
		{name: "too many steps", configs: []LMIConfig{tiny}, std: oneGBOneSecond, lo: 1, hi: 10000, want: "narrow the rates"},
		{name: "bad range", configs: []LMIConfig{small}, std: oneGBOneSecond, lo: 10, hi: 1, want: "0 ≤ low ≤ high"},
		{name: "bad standard", configs: []LMIConfig{small}, std: StandardConfig{Arch: "arm64", MemoryMB: 0, MeanDurationMs: 1}, lo: 1, hi: 10, want: "memory"},
		{name: "unknown type", configs: []LMIConfig{{Name: "x", Env: LMIEnvironment{2048, 2}, KneeRPSPerEnv: 1,
			Provider: CapacityProvider{Arch: "arm64", AllowedInstanceTypes: []string{"c8g.xlarge"}}}}, std: oneGBOneSecond, lo: 1, hi: 10,
			want: "--prices", is: ErrUnknownInstanceType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.BreakEven(tt.configs, tt.std, tt.lo, tt.hi)
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("error = %v, want it to mention %q (and be %v)", err, tt.want, tt.is)
			}
		})
	}
}
