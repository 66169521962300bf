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
}

// ConcurrencySeries is the concurrency of one function over a scenario.
type ConcurrencySeries struct {
	Endpoint string             `json:"endpoint"`
	Function string             `json:"function"`
	Source   string             `json:"source"` // "local lambda" or "cloudwatch"
	Points   []ConcurrencyPoint `json:"points"`
}
