package cost

import (
	"errors"
	"fmt"
	"math"
)

// Bill is what a set of invocations costs, split by charge. All amounts
// are in USD.
type Bill struct {
	// Requests is the number of invocations billed.
	Requests float64 `json:"requests"`
	// GBSeconds is the billed compute of standard Lambda (0 for LMI).
	GBSeconds float64 `json:"gb_seconds"`
	// InstanceHours is the EC2 time of an LMI capacity provider (0 for
	// standard Lambda).
	InstanceHours float64 `json:"instance_hours"`
	// ComputeUSD is the GB-second charge of standard Lambda.
	ComputeUSD float64 `json:"compute_usd"`
	// InstanceUSD is the EC2 on-demand charge of LMI.
	InstanceUSD float64 `json:"instance_usd"`
	// ManagementFeeUSD is the LMI management fee.
	ManagementFeeUSD float64 `json:"management_fee_usd"`
	// RequestUSD is the request charge.
	RequestUSD float64 `json:"request_usd"`
	// TotalUSD is the sum of the charges.
	TotalUSD float64 `json:"total_usd"`
}

// PerMillion is the total cost scaled to one million requests, or 0 when
// the bill has no requests.
func (b Bill) PerMillion() float64 {
	if b.Requests <= 0 {
		return 0
	}
	return b.TotalUSD / b.Requests * 1e6
}

// BilledMs is the billed duration Lambda charges for an invocation that ran
// durationMs: rounded up to the next whole millisecond, at least 1 ms.
// A REPORT line's Billed Duration is returned unchanged.
func BilledMs(durationMs float64) float64 {
	// Rounding to a nanosecond first keeps float noise (263.0000000001)
	// from adding a millisecond.
	return max(1, math.Ceil(math.Round(durationMs*1e6)/1e6))
}

// Invocation is the cost in USD of one standard Lambda invocation of
// memoryMB on arch that ran durationMs (billed rounded up to 1 ms): billed
// seconds × memory in GB (MB/1024) × the first-tier GB-second price + one
// request.
func (t PriceTable) Invocation(arch string, memoryMB int, durationMs float64) (float64, error) {
	b, err := t.Standard(arch, memoryMB, []float64{durationMs})
	if err != nil {
		return 0, err
	}
	return b.TotalUSD, nil
}

// PerMillion is the cost in USD of one million standard Lambda invocations
// like the one Invocation prices.
func (t PriceTable) PerMillion(arch string, memoryMB int, durationMs float64) (float64, error) {
	c, err := t.Invocation(arch, memoryMB, durationMs)
	if err != nil {
		return 0, err
	}
	return c * 1e6, nil
}

// Standard bills a set of standard Lambda invocations of memoryMB on arch,
// one per duration (each billed rounded up to 1 ms), at the first-tier
// GB-second price. Bill.PerMillion then gives the cost per million
// invocations like these; it is more exact than PerMillion of a mean
// duration, which rounds the mean rather than each invocation.
func (t PriceTable) Standard(arch string, memoryMB int, durationsMs []float64) (Bill, error) {
	price, err := t.GBSecondPrice(arch)
	if err != nil {
		return Bill{}, fmt.Errorf("standard lambda cost: %w", err)
	}
	if memoryMB <= 0 {
		return Bill{}, fmt.Errorf("standard lambda cost: memory must be positive, got %d MB", memoryMB)
	}
	var billedMs float64
	for i, d := range durationsMs {
		if !(d >= 0) || math.IsInf(d, 0) {
			return Bill{}, fmt.Errorf("standard lambda cost: duration %d is %v ms, want a non-negative number", i, d)
		}
		billedMs += BilledMs(d)
	}
	b := Bill{
		Requests:  float64(len(durationsMs)),
		GBSeconds: billedMs / 1000 * gigabytes(memoryMB),
	}
	b.ComputeUSD = b.GBSeconds * price
	b.RequestUSD = b.Requests / 1e6 * t.RequestPerMillion
	b.TotalUSD = b.ComputeUSD + b.RequestUSD
	return b, nil
}

// Monthly bills invocations a month of standard Lambda invocations of
// memoryMB on arch, each running durationMs, walking the architecture's
// GB-second tiers. It assumes these are the account's only invocations of
// that architecture in the region that month (AWS aggregates the tiers per
// account, region and architecture).
func (t PriceTable) Monthly(arch string, memoryMB int, durationMs, invocations float64) (Bill, error) {
	tiers, err := t.tiers(arch)
	if err != nil {
		return Bill{}, fmt.Errorf("monthly lambda cost: %w", err)
	}
	switch {
	case memoryMB <= 0:
		return Bill{}, fmt.Errorf("monthly lambda cost: memory must be positive, got %d MB", memoryMB)
	case !(durationMs >= 0) || math.IsInf(durationMs, 0):
		return Bill{}, fmt.Errorf("monthly lambda cost: duration is %v ms, want a non-negative number", durationMs)
	case !(invocations >= 0) || math.IsInf(invocations, 0):
		return Bill{}, fmt.Errorf("monthly lambda cost: invocations is %v, want a non-negative number", invocations)
	}
	b := Bill{
		Requests:  invocations,
		GBSeconds: invocations * BilledMs(durationMs) / 1000 * gigabytes(memoryMB),
	}
	var below float64 // GB-seconds charged in lower tiers
	for _, tier := range tiers {
		inTier := b.GBSeconds - below
		if tier.UpToGBSeconds > 0 {
			inTier = min(inTier, tier.UpToGBSeconds-below)
		}
		if inTier <= 0 {
			break
		}
		b.ComputeUSD += inTier * tier.Price
		below += inTier
	}
	b.RequestUSD = invocations / 1e6 * t.RequestPerMillion
	b.TotalUSD = b.ComputeUSD + b.RequestUSD
	return b, nil
}

// LMI bills Lambda Managed Instances: instanceHours of instanceType at its
// on-demand price, the management fee on that, and requests at the request
// price. There is no GB-second charge.
func (t PriceTable) LMI(instanceType string, instanceHours, requests float64) (Bill, error) {
	hourly, err := t.InstancePrice(instanceType)
	if err != nil {
		return Bill{}, fmt.Errorf("lmi cost: %w", err)
	}
	if !(instanceHours >= 0) || math.IsInf(instanceHours, 0) {
		return Bill{}, fmt.Errorf("lmi cost: instance hours is %v, want a non-negative number", instanceHours)
	}
	if !(requests >= 0) || math.IsInf(requests, 0) {
		return Bill{}, fmt.Errorf("lmi cost: requests is %v, want a non-negative number", requests)
	}
	b := Bill{Requests: requests, InstanceHours: instanceHours}
	b.InstanceUSD = instanceHours * hourly
	b.ManagementFeeUSD = b.InstanceUSD * t.LMIManagementFee
	b.RequestUSD = requests / 1e6 * t.RequestPerMillion
	b.TotalUSD = b.InstanceUSD + b.ManagementFeeUSD + b.RequestUSD
	return b, nil
}

// LMIPerMillion is the cost in USD of one million requests served by
// instances (an average count; the default minimum is 3) of instanceType
// running continuously at requestsPerSecond: the instance time those
// requests take, with the management fee, plus the request charge.
func (t PriceTable) LMIPerMillion(instanceType string, instances, requestsPerSecond float64) (float64, error) {
	if !(instances >= 0) || math.IsInf(instances, 0) {
		return 0, fmt.Errorf("lmi cost per million: instances is %v, want a non-negative number", instances)
	}
	if !(requestsPerSecond > 0) || math.IsInf(requestsPerSecond, 0) {
		return 0, errors.New("lmi cost per million: throughput must be a positive number of requests per second")
	}
	hours := instances * (1e6 / requestsPerSecond) / 3600
	b, err := t.LMI(instanceType, hours, 1e6)
	if err != nil {
		return 0, err
	}
	return b.TotalUSD, nil
}

// gigabytes is Lambda's memory size in GB for billing: MB / 1024.
func gigabytes(memoryMB int) float64 { return float64(memoryMB) / 1024 }
