package load

import (
	"fmt"
	"strings"

	"lambdabench/bench/internal/threshold"
)

// Check is the outcome of one threshold on one endpoint of one scenario, as
// summary.json records it.
type Check struct {
	Threshold string  `json:"threshold"`
	Metric    string  `json:"metric"`
	Subject   string  `json:"subject"` // "scenario/endpoint"
	Actual    float64 `json:"actual"`  // milliseconds, a 0–1 rate for error_rate, a count for dropped
	Passed    bool    `json:"passed"`
}

// subjects turns the totals of every endpoint of every scenario into what
// thresholds are checked against, named "scenario/endpoint" so that a
// threshold scoped to "lmi-2048" (or "low-cpu/") picks its own.
func subjects(scenarios []ScenarioSummary) []threshold.Subject {
	var out []threshold.Subject
	for _, sc := range scenarios {
		for _, e := range sc.Endpoints {
			out = append(out, threshold.Subject{
				Name:      sc.Name + "/" + e.Endpoint,
				Summary:   e.Total.Latency,
				ErrorRate: e.Total.ErrorRate / 100,
				Dropped:   e.Total.Dropped,
			})
		}
	}
	return out
}

// Evaluate checks thresholds against the totals (all stages) of every
// endpoint of every scenario. The error wraps threshold.ErrCrossed when one
// was crossed; a threshold that matches no endpoint is an error too.
func Evaluate(ths []threshold.Threshold, scenarios []ScenarioSummary) ([]Check, error) {
	if len(ths) == 0 {
		return nil, nil
	}
	subs := subjects(scenarios)
	fails, err := threshold.Check(ths, subs)
	if err != nil {
		return nil, fmt.Errorf("check thresholds: %w", err)
	}
	var checks []Check
	var msgs []string
	for _, t := range ths {
		for _, s := range subs {
			if t.Scope != "" && !strings.Contains(s.Name, t.Scope) {
				continue
			}
			c := Check{Threshold: t.Raw, Metric: t.Metric, Subject: s.Name, Passed: true}
			for _, f := range fails {
				if f.Threshold.Raw == t.Raw && strings.HasPrefix(f.Subject, s.Name) {
					c.Passed, c.Actual = false, f.Actual
				}
			}
			if c.Passed {
				c.Actual = s.Value(t.Metric)
			}
			checks = append(checks, c)
		}
	}
	for _, f := range fails {
		msgs = append(msgs, f.String())
	}
	if len(msgs) > 0 {
		return checks, fmt.Errorf("%w: %s", threshold.ErrCrossed, strings.Join(msgs, "; "))
	}
	return checks, nil
}
