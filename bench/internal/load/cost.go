package load

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"lambdabench/bench/internal/cost"
)

// CostInputs are the assumptions of the cost estimates, recorded in
// summary.json so that a rebuilt report prices the run the same way.
type CostInputs struct {
	// Prices is the price table; zero means cost.Default().
	Prices *cost.PriceTable `json:"prices,omitempty"`
	// Arch is the architecture of the standard functions ("arm64").
	Arch string `json:"arch"`
	// LMIInstanceType and LMIInstances describe the capacity provider: the
	// instance type and how many instances ran (LMI's default minimum is 3).
	LMIInstanceType string  `json:"lmi_instance_type"`
	LMIInstances    float64 `json:"lmi_instances"`
	// LMIInstancesByScenario overrides LMIInstances per scenario with the
	// mean instance count observed on AWS.
	LMIInstancesByScenario map[string]float64 `json:"lmi_instances_by_scenario,omitempty"`
	// Models gives the cost model of endpoints by name, as --cost-model or
	// the function's configuration states it ("standard:2048:arm64",
	// "lmi:c8g.xlarge:3").
	Models map[string]string `json:"models,omitempty"`
	// Generic is set when the endpoints are the user's (--url, --targets,
	// --function) rather than our stacks': then only Models price them, and
	// an endpoint without one is an unknown target. Otherwise the names
	// default-<MB> and lmi-<MB> tell the kind.
	Generic bool `json:"generic,omitempty"`
}

// CostModel is what an endpoint runs on, for the cost estimate.
type CostModel struct {
	Kind         string // "standard" or "lmi"
	MemoryMB     int    // standard
	Arch         string // standard
	InstanceType string // lmi
	Instances    float64
}

// ParseCostModel reads 'standard:MEMORY_MB:ARCH' (128–10240 MB, arm64 or
// x86_64) or 'lmi:INSTANCE_TYPE:INSTANCES', checking the instance type and
// architecture against prices.
func ParseCostModel(spec string, prices cost.PriceTable) (CostModel, error) {
	parts := strings.Split(strings.TrimSpace(spec), ":")
	bad := func(why string) (CostModel, error) {
		return CostModel{}, fmt.Errorf("cost model %q: %s (want standard:MEMORY_MB:ARCH such as standard:2048:arm64, or lmi:INSTANCE_TYPE:INSTANCES such as lmi:c8g.xlarge:3)", spec, why)
	}
	if len(parts) != 3 {
		return bad("three fields separated by ':'")
	}
	switch parts[0] {
	case "standard":
		mb, err := strconv.Atoi(parts[1])
		if err != nil || mb < 128 || mb > 10240 {
			return bad("memory must be 128 to 10240 MB")
		}
		arch, err := cost.NormalizeArch(parts[2])
		if err != nil {
			return bad(err.Error())
		}
		if _, err := prices.GBSecondPrice(arch); err != nil {
			return bad(err.Error())
		}
		return CostModel{Kind: "standard", MemoryMB: mb, Arch: arch}, nil
	case "lmi":
		if _, err := prices.InstancePrice(parts[1]); err != nil {
			return bad(err.Error())
		}
		n, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || n <= 0 || math.IsInf(n, 0) {
			return bad("instances must be a positive number")
		}
		return CostModel{Kind: "lmi", InstanceType: parts[1], Instances: n}, nil
	}
	return bad("unknown kind " + parts[0])
}

// Default cost assumptions: the LMI stack's capacity provider.
const (
	DefaultArch            = cost.ArchARM64
	DefaultLMIInstanceType = "c8g.xlarge"
	DefaultLMIInstances    = 3
)

func (in CostInputs) withDefaults() CostInputs {
	if in.Prices == nil {
		p := cost.Default()
		in.Prices = &p
	}
	if in.Arch == "" {
		in.Arch = DefaultArch
	}
	if in.LMIInstanceType == "" {
		in.LMIInstanceType = DefaultLMIInstanceType
	}
	if in.LMIInstances <= 0 {
		in.LMIInstances = DefaultLMIInstances
	}
	return in
}

// CostEstimate is what the traffic sent to one endpoint during a scenario
// would cost on AWS.
type CostEstimate struct {
	Kind          string    `json:"kind"` // "standard" or "lmi"
	MemoryMB      int       `json:"memory_mb,omitempty"`
	Arch          string    `json:"arch,omitempty"`
	InstanceType  string    `json:"instance_type,omitempty"`
	Instances     float64   `json:"instances,omitempty"`
	Basis         string    `json:"basis"`
	Bill          cost.Bill `json:"bill"`
	PerMillionUSD float64   `json:"per_million_usd"`
}

// Bases of the estimates, as summary.json and summary.md state them.
const (
	basisLatency = "billed duration = client-measured latency of each request that reached the function, " +
		"rounded up to 1 ms: an upper bound (it includes the network and API Gateway; REPORT lines are not " +
		"available through API Gateway)"
	basisLMI = "instances × the endpoint's active window × on-demand price + management fee + requests " +
		"reaching the function"
	basisReport = "billed duration = the Billed Duration of each invocation's REPORT line (--log-tail)"
)

// UnknownTarget is what the cost table says of an endpoint whose cost model
// is not known.
const UnknownTarget = "unknown target"

// endpointKind reads an endpoint name of the form default-<MB> or lmi-<MB>.
func endpointKind(name string) (kind string, memoryMB int, ok bool) {
	k, mb, found := strings.Cut(name, "-")
	if !found {
		return "", 0, false
	}
	n, err := strconv.Atoi(mb)
	if err != nil || n <= 0 {
		return "", 0, false
	}
	switch k {
	case "default":
		return "standard", n, true
	case "lmi":
		return "lmi", n, true
	}
	return "", 0, false
}

// modelOf returns the cost model of an endpoint: from in.Models, or for our
// stacks' endpoints from its name; ok is false for an unknown target.
func modelOf(endpoint string, in CostInputs) (CostModel, bool, error) {
	if spec, ok := in.Models[endpoint]; ok {
		m, err := ParseCostModel(spec, *in.Prices)
		return m, err == nil, err
	}
	if in.Generic {
		return CostModel{}, false, nil
	}
	kind, mb, ok := endpointKind(endpoint)
	if !ok {
		return CostModel{}, false, nil
	}
	if kind == "lmi" {
		return CostModel{Kind: kind, InstanceType: in.LMIInstanceType, Instances: in.LMIInstances}, true, nil
	}
	return CostModel{Kind: kind, MemoryMB: mb, Arch: in.Arch}, true, nil
}

// estimateCost prices an endpoint's traffic; nil for an unknown target.
func estimateCost(scenario string, e *EndpointSummary, in CostInputs) (*CostEstimate, error) {
	in = in.withDefaults()
	m, ok, err := modelOf(e.Endpoint, in)
	if err != nil {
		return nil, fmt.Errorf("cost of %s: %w", e.Endpoint, err)
	}
	if !ok {
		return nil, nil
	}
	t := *in.Prices
	est := &CostEstimate{Kind: m.Kind}
	switch m.Kind {
	case "standard":
		price, err := t.GBSecondPrice(m.Arch)
		if err != nil {
			return nil, fmt.Errorf("cost of %s: %w", e.Endpoint, err)
		}
		est.MemoryMB, est.Arch, est.Basis = m.MemoryMB, m.Arch, basisLatency
		if e.reportBased {
			est.Basis = basisReport
		}
		b := cost.Bill{Requests: float64(e.billable), GBSeconds: e.billedMs / 1000 * float64(m.MemoryMB) / 1024}
		b.ComputeUSD = b.GBSeconds * price
		b.RequestUSD = b.Requests / 1e6 * t.RequestPerMillion
		b.TotalUSD = b.ComputeUSD + b.RequestUSD
		est.Bill = b
	case "lmi":
		n := m.Instances
		if v, ok := in.LMIInstancesByScenario[scenario]; ok && v > 0 && in.Models[e.Endpoint] == "" {
			n = v
		}
		est.InstanceType, est.Instances, est.Basis = m.InstanceType, n, basisLMI
		b, err := t.LMI(m.InstanceType, n*e.Total.WindowS/3600, float64(e.billable))
		if err != nil {
			return nil, fmt.Errorf("cost of %s: %w", e.Endpoint, err)
		}
		est.Bill = b
	}
	est.PerMillionUSD = est.Bill.PerMillion()
	return est, nil
}
