package lmitune

import (
	"math"
	"strings"
	"testing"

	"lambdabench/bench/internal/cost"
)

func TestPrice(t *testing.T) {
	held := Result{Config: Config{MemoryMB: 2048, GiBPerVCPU: 2, PerEnvConcurrency: 8}, Label: "a", Environments: 1, VCPUsPerEnv: 1,
		KneeStep: 1, KneeRPSPerEnv: 100, Steps: []Step{{Step: 1, Held: true, Goodput: 100}}}
	none := Result{Config: Config{MemoryMB: 2048, GiBPerVCPU: 2, PerEnvConcurrency: 1}, Label: "b", Status: "no step held"}
	tests := []struct {
		name      string
		standard  *Standard
		breakEven float64 // 0: none
		says      string
	}{
		// Standard arm64 2048 MB at 100 ms: $0.010320048/h per req/s; LMI on
		// c8g.xlarge (4 environments of 1 vCPU, 2 GiB each): 3 × $0.15952 ×
		// 1.15 = $0.550344/h on the floor + $0.00072/h per req/s of requests,
		// so equal at 0.550344 ÷ (0.010320048 − 0.00072) = 57.327 req/s.
		{"crossing on the floor", &Standard{MemoryMB: 2048, Arch: "arm64", DurationMs: 100}, 57.327, "from 57.3 req/s on"},
		// At 1 ms standard Lambda costs $0.000816/h per req/s, less than
		// LMI's requests and instances per req/s: never.
		{"never", &Standard{MemoryMB: 2048, Arch: "arm64", DurationMs: 1}, 0, "never within the rates asked"},
		{"no standard figure", nil, 0, "no standard Lambda figure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summary{Meta: Meta{Arch: "arm64"}, Results: []Result{held, none}, Standard: tt.standard}
			if err := Price(&s, []float64{1, 100, 10000}, []string{"c8g.xlarge"}, cost.Default()); err != nil {
				t.Fatal(err)
			}
			if len(s.Rates) != 3 || len(s.Rates[2].LMI) != 1 {
				t.Fatalf("rates %+v: want 3, each priced for the one configuration that held", s.Rates)
			}
			// 10000 req/s: 100 environments, 25 instances.
			top := s.Rates[2].LMI[0]
			if top.Environments != 100 || top.Instances != 25 || math.Abs(top.USDPerHour-(25*0.15952*1.15+7.2)) > 1e-6 {
				t.Errorf("10000 req/s: %+v", top)
			}
			if floor := s.Rates[0].LMI[0]; floor.Instances != cost.LMIMinInstances {
				t.Errorf("1 req/s: %d instances, want the minimum %d", floor.Instances, cost.LMIMinInstances)
			}
			switch {
			case tt.breakEven == 0 && s.BreakEvenRPS != nil:
				t.Errorf("break-even %v, want none", *s.BreakEvenRPS)
			case tt.breakEven != 0 && (s.BreakEvenRPS == nil || math.Abs(*s.BreakEvenRPS-tt.breakEven) > 0.002):
				t.Errorf("break-even %v, want %v", s.BreakEvenRPS, tt.breakEven)
			}
			if !strings.Contains(s.BreakEven, tt.says) {
				t.Errorf("break-even says %q, want %q", s.BreakEven, tt.says)
			}
			if s.Meta.InstanceType != "c8g.xlarge" {
				t.Errorf("instance type %q", s.Meta.InstanceType)
			}
		})
	}
}
