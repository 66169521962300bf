package threshold

import (
	"strings"
	"testing"

	"lambdabench/bench/internal/stats"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Threshold
		wantErr string
	}{
		{in: "p95<500ms", want: Threshold{Metric: "p95", Op: "<", Value: 500}},
		{in: "avg <= 1.5s", want: Threshold{Metric: "mean", Op: "<=", Value: 1500}},
		{in: "error_rate<1%", want: Threshold{Metric: "error_rate", Op: "<", Value: 0.01}},
		{in: "errors<0.05", want: Threshold{Metric: "error_rate", Op: "<", Value: 0.05}},
		{in: "lmi-2048:p99.9<2s", want: Threshold{Scope: "lmi-2048", Metric: "p99.9", Op: "<", Value: 2000}},
		{in: "med>=250", want: Threshold{Metric: "p50", Op: ">=", Value: 250}},
		{in: "p95", wantErr: "want METRIC<VALUE"},
		{in: "p42<1s", wantErr: "unknown metric"},
		{in: "p95<fast", wantErr: "not a duration"},
		{in: "error_rate<150%", wantErr: "outside"},
		{in: "p50<-5ms", wantErr: "not negative"},
		{in: "p99<-1", wantErr: "not negative"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Raw = ""
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	subjects := []Subject{
		{Name: "default-128", Summary: stats.Summary{N: 10, P95: 900, Mean: 300}, ErrorRate: 0},
		{Name: "lmi-2048", Summary: stats.Summary{N: 10, P95: 200, Mean: 100}, ErrorRate: 0.02},
		{Name: "broken", ErrorRate: 1},
	}
	tests := []struct {
		thresholds []string
		wantFails  []string
		wantErr    string
	}{
		{thresholds: []string{"lmi:p95<500ms"}},
		{thresholds: []string{"default:p95<500ms"}, wantFails: []string{"default-128: p95 is 900.00ms"}},
		{thresholds: []string{"error_rate<1%"}, wantFails: []string{"lmi-2048: error_rate is 2.00%", "broken: error_rate is 100.00%"}},
		{thresholds: []string{"broken:avg<1s"}, wantFails: []string{"broken (no successful samples)"}},
		{thresholds: []string{"typo:p95<1s"}, wantErr: "matches nothing"},
		{thresholds: []string{"lmi:avg<1s, lmi:p95>100ms"}},
	}
	for _, tt := range tests {
		ts, err := ParseAll(tt.thresholds)
		if err != nil {
			t.Fatal(err)
		}
		fails, err := Check(ts, subjects)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err = %v, want %q", tt.thresholds, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(fails) != len(tt.wantFails) {
			t.Fatalf("%v: fails = %v, want %v", tt.thresholds, fails, tt.wantFails)
		}
		for i, f := range fails {
			if !strings.HasPrefix(f.String(), tt.wantFails[i]) {
				t.Errorf("%v: fail %d = %q, want prefix %q", tt.thresholds, i, f, tt.wantFails[i])
			}
		}
	}
}

func TestCheckScopes(t *testing.T) {
	names := []string{"arm64 1536 MB", "x86_64 2048 MB"}
	tests := []struct {
		threshold string
		wantErr   bool
	}{
		{"p95<1s", false},
		{"x86_64 2048:p95<1s", false},
		{"2048 MB:avg<1s", false},
		{"x86_64 1536:p95<1s", true},
		{"arm 10240:p95<1s", true},
	}
	for _, tt := range tests {
		ts, err := ParseAll([]string{tt.threshold})
		if err != nil {
			t.Fatal(err)
		}
		err = CheckScopes(ts, names)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v", tt.threshold, err, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "matches nothing to be measured") {
			t.Errorf("%s: err = %v", tt.threshold, err)
		}
	}
}
