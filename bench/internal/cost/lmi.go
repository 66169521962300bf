package cost

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strings"
)

// LMIMinInstances is the fewest instances an LMI capacity provider runs for
// a function version: publishing a version starts 3 instances by default
// (one per Availability Zone, for resiliency), and they stay while the
// version is active whatever the traffic. The 3 execution environments a
// version starts with always fit on them.
const LMIMinInstances = 3

// DefaultConcurrencyLimit is an AWS account's default concurrency limit
// for standard Lambda in a region: the concurrent executions all its
// functions share. StandardHour.OverDefaultLimit says when a rate needs
// more.
const DefaultConcurrencyLimit = 1000

// ErrNoSLOStep is wrapped by EnvironmentsNeeded when a configuration's
// knee is not positive: the configuration held no step of the SLO, so no
// number of environments is known to serve a rate.
var ErrNoSLOStep = errors.New("the configuration held no step of the SLO")

// ErrDoesNotFit is wrapped by the errors about an execution environment
// larger than an instance type.
var ErrDoesNotFit = errors.New("the execution environment does not fit on the instance type")

// maxEnvironments bounds EnvironmentsNeeded, far above any real fleet.
const maxEnvironments = 1e9

// ceilTol rounds x up to a whole number, ignoring float noise of a few
// units in the last place (2.7/0.3 = 9.000000000000002 gives 9).
func ceilTol(x float64) float64 { return math.Ceil(x * (1 - 1e-12)) }

// floorTol rounds x down to a whole number, ignoring float noise (a
// quotient of 3.9999999999999996 gives 4).
func floorTol(x float64) float64 { return math.Floor(x * (1 + 1e-12)) }

// EnvironmentsNeeded is how many LMI execution environments serve rateRPS
// when one environment serves kneeRPSPerEnv within the SLO (the highest
// rate per environment the configuration held): ceil(rate ÷ knee), at
// least 1 for a positive rate, 0 for none. A knee that is not positive is
// an error wrapping ErrNoSLOStep.
func EnvironmentsNeeded(rateRPS, kneeRPSPerEnv float64) (int, error) {
	switch {
	case !(kneeRPSPerEnv > 0):
		return 0, fmt.Errorf("environments needed: knee of %v req/s per environment: %w", kneeRPSPerEnv, ErrNoSLOStep)
	case math.IsInf(kneeRPSPerEnv, 0):
		return 0, fmt.Errorf("environments needed: knee of %v req/s per environment, want a finite number", kneeRPSPerEnv)
	case !(rateRPS >= 0) || math.IsInf(rateRPS, 0):
		return 0, fmt.Errorf("environments needed: rate of %v req/s, want a non-negative number", rateRPS)
	case rateRPS == 0:
		return 0, nil
	}
	n := ceilTol(rateRPS / kneeRPSPerEnv)
	if n > maxEnvironments {
		return 0, fmt.Errorf("environments needed: %v req/s at %v req/s per environment is over %v environments", rateRPS, kneeRPSPerEnv, maxEnvironments)
	}
	return max(1, int(n)), nil
}

// LMIEnvironment is the size of an LMI function's execution environment:
// its memory and the capacity provider configuration's
// ExecutionEnvironmentMemoryGiBPerVCpu (AWS allows 2 to 8).
type LMIEnvironment struct {
	// MemoryMB is the function's memory.
	MemoryMB int `json:"memory_mb"`
	// GiBPerVCPU is the memory per vCPU of the environment.
	GiBPerVCPU float64 `json:"gib_per_vcpu"`
}

// MemoryGiB is the environment's memory in GiB: MemoryMB / 1024.
func (e LMIEnvironment) MemoryGiB() float64 { return float64(e.MemoryMB) / 1024 }

// VCPUs is the environment's vCPUs: MemoryMB / 1024 / GiBPerVCPU (2048 MB
// at 2 GiB per vCPU is 1 vCPU).
func (e LMIEnvironment) VCPUs() float64 { return e.MemoryGiB() / e.GiBPerVCPU }

func (e LMIEnvironment) check() error {
	if e.MemoryMB <= 0 {
		return fmt.Errorf("lmi environment: memory must be positive, got %d MB", e.MemoryMB)
	}
	if !(e.GiBPerVCPU > 0) || math.IsInf(e.GiBPerVCPU, 0) {
		return fmt.Errorf("lmi environment: memory per vCPU must be a positive number of GiB, got %v", e.GiBPerVCPU)
	}
	return nil
}

// EnvironmentsPerInstance is how many execution environments of env fit
// on one instance of instanceType. Each environment needs env.VCPUs() of
// the instance's vCPUs and env.MemoryGiB() of its memory, so k identical
// environments fit while k × vCPUs ≤ V and k × GiB ≤ G: an instance of V
// vCPUs and G GiB holds floor(min(V ÷ env.VCPUs(), G ÷ env.MemoryGiB())),
// the lesser of the vCPU and the memory packing (c8g.xlarge, 4 vCPUs and
// 8 GiB, holds 4 environments of 2048 MB at 2 GiB per vCPU, 1 vCPU and
// 2 GiB each; 2 of 3072 MB at 2, 1.5 vCPUs each: fractional vCPUs are
// shared). The whole instance is counted: AWS does not publish what its
// agent and the OS keep back, so the count is an upper bound and the
// instances needed a lower bound. An environment that does not fit on an
// instance at all is an error wrapping ErrDoesNotFit that names the type.
func (t PriceTable) EnvironmentsPerInstance(instanceType string, env LMIEnvironment) (int, error) {
	if err := env.check(); err != nil {
		return 0, err
	}
	in, err := t.Instance(instanceType)
	if err != nil {
		return 0, err
	}
	if in.VCPUs <= 0 || !(in.MemoryGiB > 0) {
		return 0, fmt.Errorf("instance type %s has no vcpus or memory_gib in the price table; give them under ec2_instances in a --prices file", instanceType)
	}
	n := floorTol(min(float64(in.VCPUs)/env.VCPUs(), in.MemoryGiB/env.MemoryGiB()))
	if n < 1 {
		return 0, fmt.Errorf("%w: %d MB at %g GiB per vCPU (%g vCPUs, %g GiB) on %s (%d vCPUs, %g GiB)",
			ErrDoesNotFit, env.MemoryMB, env.GiBPerVCPU, env.VCPUs(), env.MemoryGiB(), instanceType, in.VCPUs, in.MemoryGiB)
	}
	return int(min(n, maxEnvironments)), nil
}

// InstancesNeeded is how many instances of instanceType run environments
// execution environments of env: ceil(environments ÷
// EnvironmentsPerInstance), never fewer than LMIMinInstances.
func (t PriceTable) InstancesNeeded(instanceType string, env LMIEnvironment, environments int) (int, error) {
	if environments < 0 {
		return 0, fmt.Errorf("instances needed: %d environments, want a non-negative number", environments)
	}
	per, err := t.EnvironmentsPerInstance(instanceType, env)
	if err != nil {
		return 0, fmt.Errorf("instances needed: %w", err)
	}
	return instancesFor(environments, per), nil
}

// instancesFor is ceil(environments ÷ perInstance), at least
// LMIMinInstances.
func instancesFor(environments, perInstance int) int {
	return max(LMIMinInstances, (environments+perInstance-1)/perInstance)
}

// LMIHour is what an hour of Lambda Managed Instances costs at a steady
// rate, split by charge, with the capacity behind it. Amounts are USD per
// hour.
type LMIHour struct {
	// Config names the configuration priced (LMIConfig.Name), if any.
	Config string `json:"config,omitempty"`
	// InstanceType is the EC2 type the capacity provider runs.
	InstanceType string `json:"instance_type"`
	// Assumed is set when the capacity provider allows any instance type
	// of its architecture and InstanceType is the cheapest of the price
	// table's, an assumption about what Lambda would choose.
	Assumed bool `json:"instance_type_assumed,omitempty"`
	// RateRPS is the rate in requests per second.
	RateRPS float64 `json:"rate_rps"`
	// Environments is the execution environments the rate needs.
	Environments int `json:"environments"`
	// EnvironmentsPerInstance is how many fit on one instance.
	EnvironmentsPerInstance int `json:"environments_per_instance"`
	// Instances is the instances running (at least LMIMinInstances).
	Instances int `json:"instances"`
	// VCPUs is the vCPUs of those instances, all billed.
	VCPUs int `json:"vcpus"`
	// EnvironmentVCPUs is the vCPUs the environments use.
	EnvironmentVCPUs float64 `json:"environment_vcpus"`
	// InstanceUSD is instances × the on-demand price.
	InstanceUSD float64 `json:"instance_usd_per_hour"`
	// ManagementFeeUSD is the management fee on InstanceUSD.
	ManagementFeeUSD float64 `json:"management_fee_usd_per_hour"`
	// RequestUSD is rate × 3600 × the request price.
	RequestUSD float64 `json:"request_usd_per_hour"`
	// TotalUSD is the sum of the charges.
	TotalUSD float64 `json:"total_usd_per_hour"`
}

// LMIHourly prices an hour of environments execution environments of env
// on instanceType serving rateRPS: the instances needed (InstancesNeeded)
// × the on-demand price × (1 + the management fee) + rate × 3600 × the
// request price. There is no GB-second charge.
func (t PriceTable) LMIHourly(instanceType string, env LMIEnvironment, environments int, rateRPS float64) (LMIHour, error) {
	if !(rateRPS >= 0) || math.IsInf(rateRPS, 0) {
		return LMIHour{}, fmt.Errorf("lmi cost per hour: rate of %v req/s, want a non-negative number", rateRPS)
	}
	if environments < 0 {
		return LMIHour{}, fmt.Errorf("lmi cost per hour: %d environments, want a non-negative number", environments)
	}
	per, err := t.EnvironmentsPerInstance(instanceType, env)
	if err != nil {
		return LMIHour{}, fmt.Errorf("lmi cost per hour: %w", err)
	}
	in := t.Instances[instanceType]
	n := instancesFor(environments, per)
	h := LMIHour{
		InstanceType: instanceType, RateRPS: rateRPS,
		Environments: environments, EnvironmentsPerInstance: per, Instances: n,
		VCPUs: n * in.VCPUs, EnvironmentVCPUs: float64(environments) * env.VCPUs(),
	}
	h.InstanceUSD = float64(n) * in.USDPerHour
	h.ManagementFeeUSD = h.InstanceUSD * t.LMIManagementFee
	h.RequestUSD = rateRPS * 3600 * t.RequestPerMillion / 1e6
	h.TotalUSD = h.InstanceUSD + h.ManagementFeeUSD + h.RequestUSD
	return h, nil
}

// CapacityProvider is what the cost calculations need of an LMI capacity
// provider.
type CapacityProvider struct {
	// Arch is the provider's architecture ("arm64" or "x86_64").
	Arch string `json:"arch"`
	// AllowedInstanceTypes are the types it may run; empty allows any of
	// its architecture.
	AllowedInstanceTypes []string `json:"allowed_instance_types,omitempty"`
}

// candidateTypes returns the instance types p may run and whether they
// are assumed (p allows any): then every type of the price table of p's
// architecture (the built-in ones and any a --prices file adds). An
// allowed type missing from the table or of another architecture is an
// error.
func (t PriceTable) candidateTypes(p CapacityProvider) ([]string, bool, error) {
	arch, err := NormalizeArch(p.Arch)
	if err != nil {
		return nil, false, fmt.Errorf("capacity provider: %w", err)
	}
	if len(p.AllowedInstanceTypes) == 0 {
		types, err := t.InstanceTypes(arch)
		if err != nil {
			return nil, false, err
		}
		if len(types) == 0 {
			return nil, true, fmt.Errorf("capacity provider: the price table has no %s instance type; add some under ec2_instances in a --prices file", arch)
		}
		return types, true, nil
	}
	for _, typ := range p.AllowedInstanceTypes {
		in, err := t.Instance(typ)
		if err != nil {
			return nil, false, fmt.Errorf("capacity provider: %w", err)
		}
		if in.Architecture != arch {
			return nil, false, fmt.Errorf("capacity provider: instance type %s is %s, the provider is %s", typ, orUnknown(in.Architecture), arch)
		}
	}
	return p.AllowedInstanceTypes, false, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "of no known architecture"
	}
	return s
}

// CheapestLMI prices environments execution environments of env serving
// rateRPS on each instance type p may run (its allowed types; when it
// allows any, every type of the price table of its architecture, and the
// result is marked Assumed) and returns the cheapest hour: the lowest
// TotalUSD, then the lower hourly price, then the name. Types the
// environment does not fit on are skipped; an error says so when none is
// left.
func (t PriceTable) CheapestLMI(p CapacityProvider, env LMIEnvironment, environments int, rateRPS float64) (LMIHour, error) {
	types, assumed, err := t.candidateTypes(p)
	if err != nil {
		return LMIHour{}, fmt.Errorf("cheapest lmi: %w", err)
	}
	var best *LMIHour
	var unfit []string
	for _, typ := range types {
		h, err := t.LMIHourly(typ, env, environments, rateRPS)
		if err != nil {
			if !errors.Is(err, ErrDoesNotFit) {
				return LMIHour{}, fmt.Errorf("cheapest lmi: %w", err)
			}
			unfit = append(unfit, typ)
			continue
		}
		h.Assumed = assumed
		if best == nil || cmp.Or(cmp.Compare(h.TotalUSD, best.TotalUSD),
			cmp.Compare(t.Instances[typ].USDPerHour, t.Instances[best.InstanceType].USDPerHour),
			strings.Compare(typ, best.InstanceType)) < 0 {
			best = &h
		}
	}
	if best == nil {
		return LMIHour{}, fmt.Errorf("cheapest lmi: %d MB at %g GiB per vCPU fits on none of %s: %w",
			env.MemoryMB, env.GiBPerVCPU, strings.Join(unfit, ", "), ErrDoesNotFit)
	}
	return *best, nil
}

// LMIConfig is one LMI configuration a break-even compares: an environment
// size on a capacity provider, and the rate one environment sustains.
type LMIConfig struct {
	// Name identifies the configuration in reports.
	Name string `json:"name"`
	// Env is the execution environment's size.
	Env LMIEnvironment `json:"env"`
	// KneeRPSPerEnv is the highest rate one environment held within the
	// SLO; 0 when it held no step.
	KneeRPSPerEnv float64 `json:"knee_rps_per_env"`
	// Provider is the capacity provider.
	Provider CapacityProvider `json:"provider"`
}

// LMIAtRate prices an hour of c at rateRPS: the environments the rate
// needs (EnvironmentsNeeded) on the cheapest instance type (CheapestLMI).
func (t PriceTable) LMIAtRate(c LMIConfig, rateRPS float64) (LMIHour, error) {
	envs, err := EnvironmentsNeeded(rateRPS, c.KneeRPSPerEnv)
	if err != nil {
		return LMIHour{}, fmt.Errorf("lmi configuration %s: %w", c.Name, err)
	}
	h, err := t.CheapestLMI(c.Provider, c.Env, envs, rateRPS)
	if err != nil {
		return LMIHour{}, fmt.Errorf("lmi configuration %s: %w", c.Name, err)
	}
	h.Config = c.Name
	return h, nil
}

// StandardConfig is a standard Lambda function as the hourly cost sees it.
type StandardConfig struct {
	// Arch is "arm64" or "x86_64" (any spelling NormalizeArch reads).
	Arch string `json:"arch"`
	// MemoryMB is the function's memory.
	MemoryMB int `json:"memory_mb"`
	// MeanDurationMs is the mean duration of an invocation.
	MeanDurationMs float64 `json:"mean_duration_ms"`
	// Billed says MeanDurationMs is already the mean billed duration
	// (each invocation rounded up to 1 ms, as REPORT's Billed Duration
	// is): it is then not rounded again.
	Billed bool `json:"billed,omitempty"`
}

// StandardHour is what an hour of standard Lambda costs at a steady rate,
// and the concurrency it needs. Amounts are USD per hour.
type StandardHour struct {
	// RateRPS is the rate in requests per second.
	RateRPS float64 `json:"rate_rps"`
	// BilledMs is the billed duration of the mean duration.
	BilledMs float64 `json:"billed_ms"`
	// Concurrency is the concurrent executions the rate keeps busy:
	// rate × mean duration (Little's law).
	Concurrency float64 `json:"concurrency"`
	// OverDefaultLimit is set when Concurrency is above
	// DefaultConcurrencyLimit: the account needs a higher limit.
	OverDefaultLimit bool `json:"over_default_concurrency_limit,omitempty"`
	// ComputeUSD is the GB-second charge.
	ComputeUSD float64 `json:"compute_usd_per_hour"`
	// RequestUSD is rate × 3600 × the request price.
	RequestUSD float64 `json:"request_usd_per_hour"`
	// TotalUSD is the sum of the charges.
	TotalUSD float64 `json:"total_usd_per_hour"`
}

// StandardHourly prices an hour of c at rateRPS: rate × 3600 × (GB-second
// price × MemoryMB/1024 × BilledMs(MeanDurationMs)/1000 + request price),
// at the first GB-second tier: the price until the account's GB-seconds of
// the month, per region and architecture, pass 6 B (x86_64) or 7.5 B
// (arm64); at 2048 MB and 100 ms (0.2 GB-s a request) arm64 passes that
// only above about 14,000 req/s all month. Rounding the mean rather than each invocation up to 1 ms
// undercounts by under 1 ms per invocation.
func (t PriceTable) StandardHourly(c StandardConfig, rateRPS float64) (StandardHour, error) {
	price, err := t.GBSecondPrice(c.Arch)
	if err != nil {
		return StandardHour{}, fmt.Errorf("standard lambda cost per hour: %w", err)
	}
	switch {
	case c.MemoryMB <= 0:
		return StandardHour{}, fmt.Errorf("standard lambda cost per hour: memory must be positive, got %d MB", c.MemoryMB)
	case !(c.MeanDurationMs >= 0) || math.IsInf(c.MeanDurationMs, 0):
		return StandardHour{}, fmt.Errorf("standard lambda cost per hour: duration is %v ms, want a non-negative number", c.MeanDurationMs)
	case !(rateRPS >= 0) || math.IsInf(rateRPS, 0):
		return StandardHour{}, fmt.Errorf("standard lambda cost per hour: rate of %v req/s, want a non-negative number", rateRPS)
	}
	h := StandardHour{RateRPS: rateRPS, BilledMs: BilledMs(c.MeanDurationMs), Concurrency: rateRPS * c.MeanDurationMs / 1000}
	if c.Billed {
		h.BilledMs = c.MeanDurationMs
	}
	h.OverDefaultLimit = h.Concurrency > DefaultConcurrencyLimit
	h.ComputeUSD = rateRPS * 3600 * price * gigabytes(c.MemoryMB) * h.BilledMs / 1000
	h.RequestUSD = rateRPS * 3600 * t.RequestPerMillion / 1e6
	h.TotalUSD = h.ComputeUSD + h.RequestUSD
	return h, nil
}

// Default bounds of the rates a break-even looks at, in requests per
// second.
const (
	DefaultMinRPS = 1
	DefaultMaxRPS = 10000
)

// RateLadder is the rates to tabulate between loRPS and hiRPS: loRPS, every
// power of ten strictly between, and hiRPS (1 to 10,000 gives 1, 10, 100,
// 1000, 10000; 5 to 2000 gives 5, 10, 100, 1000, 2000). One row a decade
// keeps a table short; the break-even is computed exactly, not read off
// the ladder, and the costs between two rows follow the instance steps, so
// a chart should draw those rather than join the rows.
func RateLadder(loRPS, hiRPS float64) ([]float64, error) {
	if !(loRPS > 0) || !(hiRPS >= loRPS) || math.IsInf(hiRPS, 0) {
		return nil, fmt.Errorf("rate ladder: want 0 < low ≤ high, finite, got %v and %v req/s", loRPS, hiRPS)
	}
	rates := []float64{loRPS}
	for k := int(math.Floor(math.Log10(loRPS))) + 1; ; k++ {
		p := math.Pow10(k)
		if p >= hiRPS {
			break
		}
		if p > loRPS {
			rates = append(rates, p)
		}
	}
	if hiRPS > loRPS {
		rates = append(rates, hiRPS)
	}
	return rates, nil
}

// DefaultRateLadder is RateLadder(DefaultMinRPS, DefaultMaxRPS): 1, 10,
// 100, 1000 and 10000 req/s.
func DefaultRateLadder() []float64 {
	r, _ := RateLadder(DefaultMinRPS, DefaultMaxRPS)
	return r
}
