package cost

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// BreakEvenPoint is the rate from which Lambda Managed Instances cost no
// more than standard Lambda, within the rates looked at.
type BreakEvenPoint struct {
	// LoRPS and HiRPS are the rates looked at.
	LoRPS float64 `json:"lo_rps"`
	HiRPS float64 `json:"hi_rps"`
	// Found is false when every LMI configuration costs more than
	// standard Lambda at HiRPS: "none" within the rates looked at.
	Found bool `json:"found"`
	// RateRPS is the break-even rate: the lowest rate from which the
	// cheapest LMI configuration costs no more than standard Lambda at
	// every rate up to HiRPS. LoRPS when LMI is that cheap from the start.
	RateRPS float64 `json:"rate_rps,omitempty"`
	// LMI is the cheapest LMI configuration at RateRPS (LMI.Config names
	// it).
	LMI *LMIHour `json:"lmi,omitempty"`
	// Standard is standard Lambda at RateRPS.
	Standard *StandardHour `json:"standard,omitempty"`
	// Skipped names the configurations left out because they held no
	// step of the SLO.
	Skipped []string `json:"skipped,omitempty"`
}

// maxSteps bounds the instance-count steps BreakEven walks.
const maxSteps = 2_000_000

// step is one LMI configuration on one instance type: its instance cost
// per hour (with the fee) is a step function of the rate, jumping just
// above every multiple m ≥ LMIMinInstances of widthRPS, the rate one
// instance serves.
type step struct {
	kneeRPS     float64
	perInstance int
	usdPerHour  float64 // one instance's on-demand price
	fee         float64 // the management fee, a fraction of usdPerHour
	widthRPS    float64 // kneeRPS × perInstance
}

// fixedUSD is the instance cost and fee per hour at rateRPS, as LMIHourly
// computes them.
func (s step) fixedUSD(rateRPS float64) float64 {
	envs, err := EnvironmentsNeeded(rateRPS, s.kneeRPS)
	if err != nil {
		return math.Inf(1)
	}
	inst := float64(instancesFor(envs, s.perInstance)) * s.usdPerHour
	return inst + inst*s.fee
}

// BreakEven finds the lowest rate r in [loRPS, hiRPS] from which the
// cheapest of configs (each on the cheapest instance type its provider
// allows, as LMIAtRate prices it) costs no more per hour than std does at
// r and at every rate up to hiRPS, and which configuration that is. A
// configuration whose knee is not positive (it held no step of the SLO) is
// left out and named in Skipped; it is an error wrapping ErrNoSLOStep when
// none is left.
//
// It is exact (to float rounding), not read off a ladder of rates: per
// hour, standard Lambda costs s × r and LMI K(r) + q × r, where q × r is
// the request charge and K, the instances with their fee, is a step
// function that rises just above each multiple m ≥ LMIMinInstances of the
// rate one instance serves (knee × environments per instance), for every
// configuration and instance type. Between two such steps K is constant,
// so LMI is no dearer from r = K ÷ (s − q) on. BreakEven walks the steps
// down from hiRPS until LMI is dearer somewhere in a step, and returns
// where it last became no dearer; Found is false when LMI is dearer at
// hiRPS already.
func (t PriceTable) BreakEven(configs []LMIConfig, std StandardConfig, loRPS, hiRPS float64) (BreakEvenPoint, error) {
	be := BreakEvenPoint{LoRPS: loRPS, HiRPS: hiRPS}
	if !(loRPS >= 0) || !(hiRPS >= loRPS) || math.IsInf(hiRPS, 0) {
		return be, fmt.Errorf("break-even: want rates 0 ≤ low ≤ high, finite, got %v and %v req/s", loRPS, hiRPS)
	}
	unit, err := t.StandardHourly(std, 1)
	if err != nil {
		return be, fmt.Errorf("break-even: %w", err)
	}
	slope := unit.TotalUSD - 3600*t.RequestPerMillion/1e6 // s − q, USD per hour per req/s

	var usable []LMIConfig
	var steps []step
	for _, c := range configs {
		if _, err := EnvironmentsNeeded(1, c.KneeRPSPerEnv); errors.Is(err, ErrNoSLOStep) {
			be.Skipped = append(be.Skipped, c.Name)
			continue
		} else if err != nil {
			return be, fmt.Errorf("break-even: lmi configuration %s: %w", c.Name, err)
		}
		types, _, err := t.candidateTypes(c.Provider)
		if err != nil {
			return be, fmt.Errorf("break-even: lmi configuration %s: %w", c.Name, err)
		}
		n := len(steps)
		for _, typ := range types {
			per, err := t.EnvironmentsPerInstance(typ, c.Env)
			if errors.Is(err, ErrDoesNotFit) {
				continue
			} else if err != nil {
				return be, fmt.Errorf("break-even: lmi configuration %s: %w", c.Name, err)
			}
			steps = append(steps, step{kneeRPS: c.KneeRPSPerEnv, perInstance: per, usdPerHour: t.Instances[typ].USDPerHour,
				fee: t.LMIManagementFee, widthRPS: c.KneeRPSPerEnv * float64(per)})
		}
		if len(steps) == n {
			return be, fmt.Errorf("break-even: lmi configuration %s: an execution environment of %d MB at %g GiB per vCPU fits on none of its instance types: %w",
				c.Name, c.Env.MemoryMB, c.Env.GiBPerVCPU, ErrDoesNotFit)
		}
		usable = append(usable, c)
	}
	if len(usable) == 0 {
		return be, fmt.Errorf("break-even: no LMI configuration to compare: %w", ErrNoSLOStep)
	}

	// The rates strictly between lo and hi just above which some step
	// function rises.
	var rises []float64
	total := 0.0
	for _, s := range steps {
		total += math.Max(0, hiRPS/s.widthRPS-LMIMinInstances+1)
	}
	if total > maxSteps {
		return be, fmt.Errorf("break-even: over %d instance-count steps between %v and %v req/s; narrow the rates", maxSteps, loRPS, hiRPS)
	}
	for _, s := range steps {
		for m := float64(LMIMinInstances); m*s.widthRPS < hiRPS; m++ {
			if r := m * s.widthRPS; r > loRPS {
				rises = append(rises, r)
			}
		}
	}
	slices.Sort(rises)
	rises = slices.Compact(rises)

	fixed := func(r float64) float64 { // the cheapest K at r
		best := math.Inf(1)
		for _, s := range steps {
			best = min(best, s.fixedUSD(r))
		}
		return best
	}
	// Walk the intervals (left, right] from the top: K is constant on
	// each, the value it has at right.
	var from float64
	found := false
	right := hiRPS
	for i := len(rises); i >= 0; i-- {
		left := loRPS
		if i > 0 {
			left = rises[i-1]
		}
		k := fixed(right)
		if k <= slope*left && k <= slope*right { // no dearer on the whole interval
			from, found = left, true
			right = left
			continue
		}
		if slope > 0 && k <= slope*right { // no dearer from k/slope on
			from, found = max(left, k/slope), true
		}
		break
	}
	if !found {
		return be, nil
	}
	be.Found, be.RateRPS = true, from
	for _, c := range usable {
		h, err := t.LMIAtRate(c, from)
		if err != nil {
			return be, fmt.Errorf("break-even: %w", err)
		}
		if be.LMI == nil || h.TotalUSD < be.LMI.TotalUSD {
			be.LMI = &h
		}
	}
	sh, err := t.StandardHourly(std, from)
	if err != nil {
		return be, fmt.Errorf("break-even: %w", err)
	}
	be.Standard = &sh
	return be, nil
}
