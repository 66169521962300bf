package cost

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Strategy is what the verdict optimises, as in AWS Lambda Power Tuning.
type Strategy string

// The strategies Choose understands.
const (
	// StrategyCost picks the cheapest candidate (the faster one on a tie).
	StrategyCost Strategy = "cost"
	// StrategySpeed picks the fastest candidate (the cheaper one on a tie).
	StrategySpeed Strategy = "speed"
	// StrategyBalanced picks the lowest weight×cost/maxCost +
	// (1−weight)×duration/maxDuration.
	StrategyBalanced Strategy = "balanced"
)

// DefaultBalancedWeight is the balanced strategy's default weight, Power
// Tuning's default: cost and duration count the same.
const DefaultBalancedWeight = 0.5

// ParseStrategy reads a strategy name (cost, speed or balanced; any case).
func ParseStrategy(s string) (Strategy, error) {
	switch st := Strategy(strings.ToLower(strings.TrimSpace(s))); st {
	case StrategyCost, StrategySpeed, StrategyBalanced:
		return st, nil
	}
	return "", fmt.Errorf("unknown strategy %q (want cost, speed or balanced)", s)
}

// ParseStrategySpec reads a --strategy value: cost, speed, balanced, or
// balanced:WEIGHT with the weight of cost (0..1; the default
// DefaultBalancedWeight), e.g. balanced:0.3.
func ParseStrategySpec(s string) (Strategy, float64, error) {
	name, w, hasWeight := strings.Cut(s, ":")
	st, err := ParseStrategy(name)
	if err != nil {
		return "", 0, fmt.Errorf("--strategy: unknown strategy %q (want cost, speed, balanced or balanced:WEIGHT, such as balanced:0.3)", s)
	}
	if !hasWeight {
		return st, DefaultBalancedWeight, nil
	}
	if st != StrategyBalanced {
		return "", 0, fmt.Errorf("--strategy %q: only balanced takes a weight (balanced:0.3)", s)
	}
	weight, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
	if err != nil || !(weight >= 0 && weight <= 1) {
		return "", 0, fmt.Errorf("--strategy %q: the weight of cost must be between 0 and 1 (duration gets 1-weight)", s)
	}
	return st, weight, nil
}

// String returns the strategy's name.
func (s Strategy) String() string { return string(s) }

// Candidate is one measured configuration the verdict chooses among.
type Candidate struct {
	// Name identifies the configuration, e.g. the function name.
	Name string `json:"name"`
	// Arch is the architecture ("arm64" or "x86_64").
	Arch string `json:"arch"`
	// MemoryMB is the configured memory.
	MemoryMB int `json:"memory_mb"`
	// DurationMs is the representative duration (for example the trimmed
	// mean of the warm billed durations).
	DurationMs float64 `json:"duration_ms"`
	// CostPerMillion is the cost of one million invocations in USD.
	CostPerMillion float64 `json:"cost_per_million_usd"`
}

// usable reports whether c has a measured duration and a cost: Power
// Tuning likewise drops configurations without an average duration.
func (c Candidate) usable() bool {
	return c.DurationMs > 0 && !math.IsInf(c.DurationMs, 0) &&
		c.CostPerMillion >= 0 && !math.IsInf(c.CostPerMillion, 0)
}

// ErrNoCandidates is returned by Choose when no candidate has a positive
// duration and a non-negative cost.
var ErrNoCandidates = errors.New("no measured candidate to choose from")

// Choose picks the best candidate for strategy. Candidates without a
// positive duration or with a negative, NaN or infinite cost are skipped
// (failed configurations). balancedWeight (0..1) is used only by the
// balanced strategy: 1 minimises cost alone, 0 duration alone. Ties go to
// the cheaper, then the faster, then the earlier candidate.
//
// It matches AWS Lambda Power Tuning's analyzer, except that a weight
// outside 0..1 is an error here where Power Tuning clamps it, and that
// ties are broken explicitly rather than by sort order.
func Choose(cands []Candidate, strategy Strategy, balancedWeight float64) (Candidate, error) {
	if strategy == StrategyBalanced && !(balancedWeight >= 0 && balancedWeight <= 1) {
		return Candidate{}, fmt.Errorf("choose: balanced weight must be between 0 and 1, got %v", balancedWeight)
	}
	usable := usableOnly(cands)
	if len(usable) == 0 {
		return Candidate{}, fmt.Errorf("choose (%s): %w", strategy, ErrNoCandidates)
	}
	byCostThenSpeed := func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.CostPerMillion, b.CostPerMillion), cmp.Compare(a.DurationMs, b.DurationMs))
	}
	var less func(a, b Candidate) int
	switch strategy {
	case StrategyCost:
		less = byCostThenSpeed
	case StrategySpeed:
		less = func(a, b Candidate) int {
			return cmp.Or(cmp.Compare(a.DurationMs, b.DurationMs), cmp.Compare(a.CostPerMillion, b.CostPerMillion))
		}
	case StrategyBalanced:
		var maxCost, maxDur float64
		for _, c := range usable {
			maxCost = max(maxCost, c.CostPerMillion)
			maxDur = max(maxDur, c.DurationMs)
		}
		score := func(c Candidate) float64 {
			s := (1 - balancedWeight) * c.DurationMs / maxDur
			if maxCost > 0 { // all free: cost does not separate them
				s += balancedWeight * c.CostPerMillion / maxCost
			}
			return s
		}
		less = func(a, b Candidate) int {
			return cmp.Or(cmp.Compare(score(a), score(b)), byCostThenSpeed(a, b))
		}
	default:
		return Candidate{}, fmt.Errorf("choose: unknown strategy %q (want cost, speed or balanced)", strategy)
	}
	return slices.MinFunc(usable, less), nil
}

// ParetoFront returns the candidates no other candidate beats on both cost
// and duration (cheaper or equal and faster or equal, strictly better on
// one), sorted by duration, fastest first: the only configurations worth
// considering. Unusable candidates (see Choose) are left out.
func ParetoFront(cands []Candidate) []Candidate {
	usable := usableOnly(cands)
	var front []Candidate
	for i, c := range usable {
		dominated := false
		for j, o := range usable {
			if i != j && o.CostPerMillion <= c.CostPerMillion && o.DurationMs <= c.DurationMs &&
				(o.CostPerMillion < c.CostPerMillion || o.DurationMs < c.DurationMs) {
				dominated = true
				break
			}
		}
		if !dominated {
			front = append(front, c)
		}
	}
	slices.SortStableFunc(front, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.DurationMs, b.DurationMs), cmp.Compare(a.CostPerMillion, b.CostPerMillion))
	})
	return front
}

func usableOnly(cands []Candidate) []Candidate {
	var out []Candidate
	for _, c := range cands {
		if c.usable() {
			out = append(out, c)
		}
	}
	return out
}
