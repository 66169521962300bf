package load

import "time"

// ConcurrencyPoint is one observation of a function's concurrency.
type ConcurrencyPoint struct {
	Elapsed time.Duration `json:"-"`
	// ElapsedS is Elapsed in seconds from the scenario's start, for JSON.
	ElapsedS float64 `json:"elapsed_s"`
	// Value is the concurrency: in-flight invocations (local Lambda) or
	// ExecutionEnvironmentConcurrency's Average (CloudWatch).
	Value float64 `json:"value"`
	// Environments is the number of execution environments, when known
	// (local Lambda), or CloudWatch's SampleCount as a proxy for it.
	Environments float64 `json:"environments"`
	// CPU is the mean CPU utilisation of the function's ready environments
	// that its scaling uses (CPU used or waited for, in percent of their
	// vCPUs, at most 100), and CPUPerEnv each one's with the CPU it actually
	// got ("#1 100% (used 41%); #2 80% (used 80%)"): LMI functions of the
	// local Lambda only (nil and empty otherwise).
	CPU       *float64 `json:"cpu_util_pct,omitempty"`
	CPUPerEnv string   `json:"cpu_per_env,omitempty"`
	// Event names the scaling decisions taken since the previous point.
	Event string `json:"event,omitempty"`
}

// ConcurrencySeries is the concurrency of one function over a scenario.
type ConcurrencySeries struct {
	Endpoint string             `json:"endpoint"`
	Function string             `json:"function"`
	Source   string             `json:"source"` // "local lambda" or "cloudwatch"
	Points   []ConcurrencyPoint `json:"points"`
}
