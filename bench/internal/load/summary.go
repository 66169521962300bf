package load

import (
	"cmp"
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
	// not send (not in Requests, not in the latencies).
	Requests int64 `json:"requests"`
	Dropped  int64 `json:"dropped"`
	// Throughput is Requests per second of the stage's active window, from
	// the first request sent to the last answer received.
	Throughput float64 `json:"throughput_rps"`
	WindowS    float64 `json:"window_s"`

	OK            int64 `json:"status_2xx"`
	Status4xx     int64 `json:"status_4xx"` // 4xx other than 429
	Status429     int64 `json:"status_429"`
	Status5xx     int64 `json:"status_5xx"`
	NetworkErrors int64 `json:"network_errors"` // no answer: connection errors and timeouts
	OtherStatus   int64 `json:"other_status"`   // 1xx and 3xx
	// ErrorRate is the percentage of sent requests that did not get a 2xx.
	ErrorRate float64 `json:"error_rate_pct"`

	// ColdStarts and MaxConcurrent come from the hello function's answers.
	ColdStarts    int64 `json:"cold_starts"`
	MaxConcurrent int   `json:"max_concurrent"`

	// Latency covers every sent request, successful or not, from its due
	// (open model) or send (closed model) time to the end of the answer.
	Latency stats.Summary `json:"latency_ms"`

	// Saturation is how busy this machine was during the stage (local
	// target): host_cpu_saturated and the share of time saturated.
	*hostload.Saturation
}

// EndpointSummary is the outcome of one endpoint in one scenario.
type EndpointSummary struct {
	Endpoint string         `json:"endpoint"`
	Total    StageSummary   `json:"total"`
	Stages   []StageSummary `json:"stages"`
	Cost     *CostEstimate  `json:"cost,omitempty"`

	// Buckets and Points feed the charts; they are not part of summary.json.
	Buckets []Bucket `json:"-"`
	Points  []Point  `json:"-"`

	billedMs float64 // for the cost estimate
	billable int64
	start    time.Time // wall clock at this endpoint's elapsed 0
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

func (c *counter) summary(stage int, label string) StageSummary {
	s := StageSummary{
		Stage: stage, Label: label,
		Requests: c.requests, Dropped: c.dropped,
		OK: c.ok, Status4xx: c.c4xx, Status429: c.c429, Status5xx: c.c5xx,
		NetworkErrors: c.netErr, OtherStatus: c.other,
		ColdStarts: c.cold, MaxConcurrent: c.maxConcurrent,
		Latency: c.hist.Summary(stats.DefaultTrim),
	}
	if c.requests > 0 {
		s.ErrorRate = 100 * float64(c.requests-c.ok) / float64(c.requests)
		if w := c.lastEnd - c.firstSent; w > 0 {
			s.WindowS = w.Seconds()
			s.Throughput = float64(c.requests) / w.Seconds()
		}
	}
	return s
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
				Total:    e.total.summary(0, "all stages"),
				Buckets:  slices.Clone(e.buckets),
				Points:   slices.Clone(e.points),
				billedMs: e.total.billedMs,
				billable: e.total.billable,
				start:    e.start,
			}
			for i := range es.Buckets {
				if b := &es.Buckets[i]; b.Requests > 0 {
					b.MeanMs = float64(b.sum) / float64(b.Requests) / float64(time.Millisecond)
				}
			}
			slices.SortFunc(es.Points, func(a, b Point) int { return cmp.Compare(a.Elapsed, b.Elapsed) })
			for i, c := range e.stages {
				es.Stages = append(es.Stages, c.summary(i+1, s.stages.Label(i)))
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
