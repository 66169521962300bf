package load

import (
	"slices"
	"time"

	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/stats"
)

// StageSummary is the outcome of one endpoint over one stage (Stage >= 1) or
// over the whole scenario (Stage 0).
type StageSummary struct {
	Stage int    `json:"stage"`
	Label string `json:"label"`

	// Requests counts the requests sent; Dropped those the open model could
	// not send (not in Requests, not in the latencies, but failures in
	// ErrorRate).
	Requests int64 `json:"requests"`
	Dropped  int64 `json:"dropped"`
	// Throughput is Requests (sent) divided by WindowS, the stage's own
	// duration in the load profile (over all stages: the profile's); a
	// stage of an interrupted run counts only the time it ran. A stage of
	// no duration has none.
	Throughput float64 `json:"throughput_rps"`
	WindowS    float64 `json:"window_s"`

	OK            int64 `json:"status_2xx"`
	Status4xx     int64 `json:"status_4xx"` // 4xx other than 429
	Status429     int64 `json:"status_429"`
	Status5xx     int64 `json:"status_5xx"`
	NetworkErrors int64 `json:"network_errors"` // no answer: connection errors and timeouts
	OtherStatus   int64 `json:"other_status"`   // 1xx and 3xx
	// FunctionErrors counts invocations the function answered with an
	// error (X-Amz-Function-Error).
	FunctionErrors int64 `json:"function_errors"`
	// ErrorRate is the percentage of attempted requests (sent + dropped)
	// that did not get a 2xx: dropped requests are failures.
	ErrorRate float64 `json:"error_rate_pct"`

	// ColdStarts and MaxConcurrent come from the hello function's answers.
	ColdStarts    int64 `json:"cold_starts"`
	MaxConcurrent int   `json:"max_concurrent"`

	// Latency covers every sent request, successful or not, from its due
	// (open model) or send (closed model) time to the end of the answer.
	Latency stats.Summary `json:"latency_ms"`
	// SendLag is how late the generator sent the requests after their due
	// time (open model): the generator's share of Latency, not the endpoint's.
	SendLag stats.Summary `json:"send_lag_ms"`
	// BilledMs is the sum of the REPORT lines' Billed Duration (--log-tail)
	// over Reported invocations.
	Reported int64   `json:"reported,omitempty"`
	BilledMs float64 `json:"billed_ms,omitempty"`

	// Saturation is how busy this machine was during the stage (local
	// target): host_cpu_saturated and the share of time saturated.
	*hostload.Saturation
}

// LagWarning reports whether the generator could not keep up: send lag p99
// above 1 ms or above 1% of the latency p50 (as k6 warns of insufficient
// VUs). Its share of the latencies is the generator's, not the endpoint's.
func (s StageSummary) LagWarning() bool {
	return s.SendLag.N > 0 && (s.SendLag.P99 > 1 || s.SendLag.P99 > 0.01*s.Latency.P50)
}

// EndpointSummary is the outcome of one endpoint in one scenario.
type EndpointSummary struct {
	Endpoint string         `json:"endpoint"`
	Total    StageSummary   `json:"total"`
	Stages   []StageSummary `json:"stages"`
	Cost     *CostEstimate  `json:"cost,omitempty"`

	billedMs    float64 // for the cost estimate
	billable    int64
	reportBased bool      // billedMs is the REPORT lines' Billed Duration
	start       time.Time // wall clock at this endpoint's elapsed 0
}

// ScenarioSummary is the outcome of one scenario: every endpoint under the
// same workload and load profile.
type ScenarioSummary struct {
	Name      string            `json:"name"`
	Query     string            `json:"query"`
	Model     Model             `json:"model"`
	Stages    string            `json:"stages"`
	Start     time.Time         `json:"start"`
	DurationS float64           `json:"duration_s"`
	Endpoints []EndpointSummary `json:"endpoints"`

	// Concurrency, when known, is the function side's concurrency over the
	// scenario: from the local Lambda or CloudWatch.
	Concurrency []ConcurrencySeries `json:"concurrency,omitempty"`

	// InTurn is set when the endpoints were loaded one after another
	// rather than at once (so that they did not compete for a small host).
	InTurn bool `json:"endpoints_in_turn,omitempty"`

	stages Stages
}

// Profile returns the scenario's load profile.
func (s *ScenarioSummary) Profile() Stages { return s.stages }

func (c *counter) summary(stage int, label string, window time.Duration) StageSummary {
	s := StageSummary{
		Stage: stage, Label: label,
		Requests: c.requests, Dropped: c.dropped,
		OK: c.ok, Status4xx: c.c4xx, Status429: c.c429, Status5xx: c.c5xx,
		NetworkErrors: c.netErr, OtherStatus: c.other, FunctionErrors: c.fnErr,
		ColdStarts: c.cold, MaxConcurrent: c.maxConcurrent,
		Latency:  c.hist.Summary(stats.DefaultTrim),
		SendLag:  c.lag.Summary(stats.DefaultTrim),
		Reported: c.reported, BilledMs: c.reportBilled,
	}
	if n := c.requests + c.dropped; n > 0 {
		s.ErrorRate = 100 * float64(n-c.ok) / float64(n)
	}
	if window > 0 {
		s.WindowS = window.Seconds()
		s.Throughput = float64(c.requests) / window.Seconds()
	}
	return s
}

// window is how long stage i (-1: all stages) of a profile lasted for an
// endpoint: its planned duration, or, in an interrupted run, until the
// endpoint's last answer (cut, elapsed since the endpoint started).
func window(ss Stages, i int, partial bool, cut time.Duration) time.Duration {
	start, d := time.Duration(0), ss.Total()
	if i >= 0 {
		start, d = ss.Start(i), ss[i].Duration
	}
	if partial {
		d = min(d, max(0, cut-start))
	}
	return d
}

// Summaries returns the outcome of every scenario, in the order they ran,
// endpoints in the order of endpointOrder (names not in it come last, in the
// order they first answered).
func (m *Metrics) Summaries(endpointOrder []string) []ScenarioSummary {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ScenarioSummary, 0, len(m.scenarios))
	for _, s := range m.scenarios {
		ss := ScenarioSummary{
			Name: s.name, Query: s.query, Model: s.model,
			Stages: s.stages.String(), Start: s.start.UTC(),
			stages: s.stages,
		}
		var end time.Duration
		for _, e := range s.endpoints {
			es := EndpointSummary{
				Endpoint: e.name,
				Total:    e.total.summary(0, "all stages", window(s.stages, -1, m.partial, e.total.lastEnd)),
				billedMs: e.total.billedMs,
				billable: e.total.billable,
				start:    e.start,
			}
			if t := e.total; t.reported > 0 && t.reported == t.billable {
				// Every billable invocation has its REPORT line: bill those.
				es.billedMs, es.reportBased = t.reportBilled, true
			}
			for i, c := range e.stages {
				es.Stages = append(es.Stages, c.summary(i+1, s.stages.Label(i), window(s.stages, i, m.partial, e.total.lastEnd)))
			}
			end = max(end, e.total.lastEnd)
			ss.Endpoints = append(ss.Endpoints, es)
		}
		ss.DurationS = end.Seconds()
		for _, e := range s.endpoints {
			if d := e.start.Sub(s.start); d > time.Second || d < -time.Second {
				ss.InTurn = true
			}
		}
		rank := func(name string) int {
			if i := slices.Index(endpointOrder, name); i >= 0 {
				return i
			}
			return len(endpointOrder)
		}
		slices.SortStableFunc(ss.Endpoints, func(a, b EndpointSummary) int { return rank(a.Endpoint) - rank(b.Endpoint) })
		out = append(out, ss)
	}
	return out
}
