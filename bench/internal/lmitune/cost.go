package lmitune

import (
	"fmt"
	"slices"
	"strings"

	"lambdabench/bench/internal/cost"
)

// Price fills in s's cost ladder at rates (req/s; nil: the rates already
// in s) and the break-even against standard Lambda: each configuration
// that held a step needs ceil(rate ÷ knee) environments on the cheapest
// instance type the capacity provider allows (allowed; empty: any of the
// function's architecture, an assumption the summary states).
func Price(s *Summary, rates []float64, allowed []string, prices cost.PriceTable) error {
	if len(rates) == 0 {
		for _, rc := range s.Rates {
			rates = append(rates, rc.RPS)
		}
	}
	provider := cost.CapacityProvider{Arch: s.Meta.Arch, AllowedInstanceTypes: allowed}
	var cfgs []cost.LMIConfig
	for _, r := range s.Results {
		if r.Held() {
			cfgs = append(cfgs, cost.LMIConfig{Name: r.Label, Env: cost.LMIEnvironment{MemoryMB: r.MemoryMB, GiBPerVCPU: r.GiBPerVCPU},
				KneeRPSPerEnv: r.KneeRPSPerEnv, Provider: provider})
		}
	}
	var std *cost.StandardConfig
	if st := s.Standard; st != nil {
		// The mean of the invocations' billed durations, each already
		// rounded up: not rounded again.
		std = &cost.StandardConfig{Arch: st.Arch, MemoryMB: st.MemoryMB, MeanDurationMs: st.DurationMs, Billed: true}
	}
	s.Rates = nil
	var used []string
	assumed := false
	var errs []string
	for _, rate := range rates {
		rc := RateCost{RPS: rate}
		best := -1.0
		for _, c := range cfgs {
			h, err := prices.LMIAtRate(c, rate)
			cc := ConfigCost{Label: c.Name}
			if err != nil {
				cc.Note = err.Error()
				if !slices.Contains(errs, cc.Note) {
					errs = append(errs, cc.Note)
				}
			} else {
				cc = ConfigCost{Label: c.Name, Environments: h.Environments, VCPUs: float64(h.VCPUs), InstanceType: h.InstanceType,
					Instances: h.Instances, InstanceUSD: h.InstanceUSD, FeeUSD: h.ManagementFeeUSD, RequestUSD: h.RequestUSD, USDPerHour: h.TotalUSD}
				if !slices.Contains(used, h.InstanceType) {
					used = append(used, h.InstanceType)
				}
				assumed = assumed || h.Assumed
				if best < 0 || h.TotalUSD < best {
					best, rc.Cheapest = h.TotalUSD, c.Name
				}
			}
			rc.LMI = append(rc.LMI, cc)
		}
		if std != nil {
			h, err := prices.StandardHourly(*std, rate)
			if err != nil {
				return fmt.Errorf("standard Lambda: %w", err)
			}
			v := h.TotalUSD
			rc.StandardUSDPerHour, rc.StandardConcurrency = &v, h.Concurrency
		}
		s.Rates = append(s.Rates, rc)
	}
	slices.Sort(used)
	s.Meta.InstanceType = strings.Join(used, ", ")
	switch {
	case len(used) == 0 && len(allowed) > 0:
		s.Meta.InstanceType = strings.Join(allowed, ", ")
	case len(used) == 0:
		s.Meta.InstanceType = "none priced"
	}
	if assumed {
		s.Meta.InstanceNote = fmt.Sprintf("assumed: the cheapest %s type in the price table that fits; the capacity provider allows any", s.Meta.Arch)
	} else if len(allowed) > 0 && s.Meta.InstanceNote == "" {
		s.Meta.InstanceNote = "the capacity provider's allowed types"
	}
	s.BreakEvenRPS, s.BreakEvenConfig = nil, ""
	switch {
	case std == nil:
		s.BreakEven = "no standard Lambda figure to compare with (give --standard-from DIR, or --standard-memory MB with --target local)"
	case len(cfgs) == 0:
		s.BreakEven = "no LMI configuration held a step of the objectives: nothing to price"
	case len(rates) == 0:
		s.BreakEven = "no rates asked"
	default:
		lo, hi := slices.Min(rates), slices.Max(rates)
		be, err := prices.BreakEven(cfgs, *std, lo, hi)
		if err != nil {
			return fmt.Errorf("break-even: %w", err)
		}
		if !be.Found {
			s.BreakEven = fmt.Sprintf("never within the rates asked (%s–%s req/s): standard Lambda %d MB stays cheaper than every LMI configuration", fmtRate(lo), fmtRate(hi), std.MemoryMB)
		} else {
			v := round3(be.RateRPS)
			s.BreakEvenRPS = &v
			s.BreakEvenConfig = be.LMI.Config
			from := fmt.Sprintf("from %s req/s on", fmtRate(v))
			if be.RateRPS <= lo {
				from = fmt.Sprintf("at every rate asked (from %s req/s)", fmtRate(lo))
			}
			where := fmt.Sprintf("%s on %d × %s", be.LMI.Config, be.LMI.Instances, be.LMI.InstanceType)
			if be.LMI.Instances == cost.LMIMinInstances {
				where = fmt.Sprintf("%s on %d × %s, the 3-instance minimum", be.LMI.Config, be.LMI.Instances, be.LMI.InstanceType)
			}
			s.BreakEven = fmt.Sprintf("LMI is no dearer than standard Lambda %d MB %s, up to %s req/s: %s, $%.4f/h against $%.4f/h",
				std.MemoryMB, from, fmtRate(hi), where, be.LMI.TotalUSD, be.Standard.TotalUSD)
			if top := s.Rates[len(s.Rates)-1]; top.Cheapest != "" && top.StandardUSDPerHour != nil {
				for _, c := range top.LMI {
					if c.Label == top.Cheapest {
						s.BreakEven += fmt.Sprintf("; at %s req/s the cheapest is %s, $%.2f/h against $%.2f/h", fmtRate(top.RPS), c.Label, c.USDPerHour, *top.StandardUSDPerHour)
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
