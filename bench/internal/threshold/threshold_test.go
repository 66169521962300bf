package threshold

import (
	"fmt"
	"strconv"
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
		// k6's spelling, pasted as k6 users write it.
		{in: "p(95)<500", want: Threshold{Metric: "p95", Op: "<", Value: 500}},
		{in: "'p(99.9)<1500'", want: Threshold{Metric: "p99.9", Op: "<", Value: 1500}},
		{in: "http_req_duration:p(90)<=2s", want: Threshold{Metric: "p90", Op: "<=", Value: 2000}},
		{in: "http_req_duration:avg<200", want: Threshold{Metric: "mean", Op: "<", Value: 200}},
		{in: "http_req_failed<0.01", want: Threshold{Metric: "error_rate", Op: "<", Value: 0.01}},
		{in: "http_req_failed:rate<0.01", want: Threshold{Metric: "error_rate", Op: "<", Value: 0.01}},
		{in: "rate<=1%", want: Threshold{Metric: "error_rate", Op: "<=", Value: 0.01}},
		{in: "lmi-2048:p(95)<500", want: Threshold{Scope: "lmi-2048", Metric: "p95", Op: "<", Value: 500}},
		{in: "p(75)<500", wantErr: "unknown metric"},
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

// A k6 thresholds entry pasted whole becomes one threshold per element.
func TestParseAllK6Entry(t *testing.T) {
	tests := []struct {
		in   string
		want []string // Metric Op Value
	}{
		{`http_req_duration: ['p(95)<500', 'p(99)<1500']`, []string{"p95<500", "p99<1500"}},
		{`"http_req_failed": ["rate<0.01"],`, []string{"error_rate<0.01"}},
		{`p95<500ms, error_rate<1%`, []string{"p95<500", "error_rate<0.01"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ts, err := ParseAll([]string{tt.in})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, th := range ts {
				if th.Scope != "" {
					t.Errorf("%q: scope %q, want none", th.Raw, th.Scope)
				}
				got = append(got, th.Metric+th.Op+strconv.FormatFloat(th.Value, 'g', -1, 64))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// Evaluate returns every outcome, passed or not, in threshold order.
func TestEvaluate(t *testing.T) {
	subjects := []Subject{
		{Name: "a", Summary: stats.Summary{N: 10, P95: 900}},
		{Name: "b", Summary: stats.Summary{N: 10, P95: 100}},
		{Name: "c"},
	}
	ts, err := ParseAll([]string{"p(95)<500", "http_req_failed<0.01"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Evaluate(ts, subjects)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range out {
		got = append(got, fmt.Sprintf("%s %s %v %v", o.Threshold.Raw, o.Subject, o.Passed, o.NoSamples))
	}
	want := []string{"p(95)<500 a false false", "p(95)<500 b true false", "p(95)<500 c false true",
		"http_req_failed<0.01 a true false", "http_req_failed<0.01 b true false", "http_req_failed<0.01 c true false"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("outcomes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
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
