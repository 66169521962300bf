package load

import (
	"errors"
	"testing"

	"lambdabench/bench/internal/stats"
	"lambdabench/bench/internal/threshold"
)

func TestEvaluate(t *testing.T) {
	sc := []ScenarioSummary{{
		Name: "low-cpu",
		Endpoints: []EndpointSummary{
			{Endpoint: "default-128", Total: StageSummary{Requests: 100, OK: 97, ErrorRate: 3, Latency: stats.Summary{N: 100, Mean: 300, P95: 700, P99: 900}}},
			{Endpoint: "lmi-2048", Total: StageSummary{Requests: 100, OK: 100, Latency: stats.Summary{N: 100, Mean: 40, P95: 60, P99: 80}}},
		},
	}}
	tests := []struct {
		thresholds []string
		failed     int // failed checks
		checks     int
		wantErr    bool // an error other than a crossed threshold
	}{
		{thresholds: []string{"p95<1s"}, checks: 2},
		{thresholds: []string{"p95<500ms"}, failed: 1, checks: 2},
		{thresholds: []string{"lmi-2048:p95<500ms"}, checks: 1},
		{thresholds: []string{"low-cpu/default-128:p95<500ms"}, failed: 1, checks: 1},
		{thresholds: []string{"error-rate<1%"}, failed: 1, checks: 2},
		{thresholds: []string{"error-rate<=3%"}, checks: 2},
		{thresholds: []string{"avg<100ms", "p99<1s"}, failed: 1, checks: 4},
		{thresholds: []string{"nope-512:p95<1s"}, wantErr: true}, // no silent typo
	}
	for _, tt := range tests {
		ths, err := threshold.ParseAll(tt.thresholds)
		if err != nil {
			t.Fatal(err)
		}
		checks, err := Evaluate(ths, sc)
		if tt.wantErr {
			if err == nil || errors.Is(err, threshold.ErrCrossed) {
				t.Errorf("%v: error %v, want one about matching nothing", tt.thresholds, err)
			}
			continue
		}
		failed := 0
		for _, c := range checks {
			if !c.Passed {
				failed++
			}
		}
		if failed != tt.failed || len(checks) != tt.checks {
			t.Errorf("%v: %d checks, %d failed; want %d, %d: %+v", tt.thresholds, len(checks), failed, tt.checks, tt.failed, checks)
		}
		if (tt.failed > 0) != errors.Is(err, threshold.ErrCrossed) {
			t.Errorf("%v: error %v, want ErrCrossed: %v", tt.thresholds, err, tt.failed > 0)
		}
	}
}
