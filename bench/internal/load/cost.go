package load

import (
	"fmt"
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
}

// Default cost assumptions: the seed's capacity provider.
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
)

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

// estimateCost prices an endpoint's traffic; nil when the endpoint is not
// one of the known kinds.
func estimateCost(scenario string, e *EndpointSummary, billedMs float64, billable int64, in CostInputs) (*CostEstimate, error) {
	kind, mb, ok := endpointKind(e.Endpoint)
	if !ok {
		return nil, nil
	}
	in = in.withDefaults()
	t := *in.Prices
	est := &CostEstimate{Kind: kind}
	switch kind {
	case "standard":
		price, err := t.GBSecondPrice(in.Arch)
		if err != nil {
			return nil, fmt.Errorf("cost of %s: %w", e.Endpoint, err)
		}
		est.MemoryMB, est.Arch, est.Basis = mb, in.Arch, basisLatency
		b := cost.Bill{Requests: float64(billable), GBSeconds: billedMs / 1000 * float64(mb) / 1024}
		b.ComputeUSD = b.GBSeconds * price
		b.RequestUSD = b.Requests / 1e6 * t.RequestPerMillion
		b.TotalUSD = b.ComputeUSD + b.RequestUSD
		est.Bill = b
	case "lmi":
		n := in.LMIInstances
		if v, ok := in.LMIInstancesByScenario[scenario]; ok && v > 0 {
			n = v
		}
		est.InstanceType, est.Instances, est.Basis = in.LMIInstanceType, n, basisLMI
		b, err := t.LMI(in.LMIInstanceType, n*e.Total.WindowS/3600, float64(billable))
		if err != nil {
			return nil, fmt.Errorf("cost of %s: %w", e.Endpoint, err)
		}
		est.Bill = b
	}
	est.PerMillionUSD = est.Bill.PerMillion()
	return est, nil
}
