// Package threshold parses and checks pass/fail criteria such as
// "p95<500ms" or "lmi-2048:error_rate<1%", k6-style: a run that crosses one
// exits with code 99 so that CI can gate on it.
package threshold

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"lambdabench/bench/internal/stats"
)

// ExitCode is the process exit status when a threshold is crossed (k6's).
const ExitCode = 99

// ErrCrossed is wrapped by the error a run returns when a threshold failed.
var ErrCrossed = errors.New("threshold crossed")

// Threshold is one criterion: Metric Op Value, optionally only for results
// whose name contains Scope.
type Threshold struct {
	Raw    string
	Scope  string
	Metric string // min mean trimmed_mean p50 p90 p95 p99 p99.9 max error_rate dropped
	Op     string // < <= > >=
	Value  float64
}

var ops = []string{"<=", ">=", "<", ">"}

// Parse reads one threshold, e.g. "p95<500ms", "avg<=1.5s",
// "error_rate<1%", "dropped<1" (a count), "x86_64 2048:p99<2s".
func Parse(s string) (Threshold, error) {
	t := Threshold{Raw: s}
	expr := strings.TrimSpace(s)
	if i := strings.LastIndex(expr, ":"); i >= 0 {
		t.Scope, expr = strings.TrimSpace(expr[:i]), strings.TrimSpace(expr[i+1:])
	}
	var left, right string
	for _, op := range ops {
		if l, r, ok := strings.Cut(expr, op); ok {
			t.Op, left, right = op, strings.TrimSpace(l), strings.TrimSpace(r)
			break
		}
	}
	if t.Op == "" {
		return t, fmt.Errorf("threshold %q: want METRIC<VALUE, e.g. p95<500ms or error_rate<1%%", s)
	}
	t.Metric = strings.ToLower(left)
	switch t.Metric {
	case "avg", "mean":
		t.Metric = "mean"
	case "errors", "error-rate", "error_rate":
		t.Metric = "error_rate"
	case "dropped":
	case "min", "max", "trimmed_mean", "p50", "med", "p90", "p95", "p99", "p99.9":
		if t.Metric == "med" {
			t.Metric = "p50"
		}
	default:
		return t, fmt.Errorf("threshold %q: unknown metric %q (use min, avg, trimmed_mean, p50, p90, p95, p99, p99.9, max, error_rate or dropped)", s, left)
	}
	var err error
	switch t.Metric {
	case "error_rate":
		t.Value, err = parsePercent(right)
	case "dropped":
		t.Value, err = strconv.ParseFloat(right, 64)
		if err != nil || t.Value < 0 {
			err = fmt.Errorf("value %q is not a request count like 0 or 10", right)
		}
	default:
		t.Value, err = parseMillis(right)
	}
	if err != nil {
		return t, fmt.Errorf("threshold %q: %w", s, err)
	}
	return t, nil
}

// ParseAll parses a list of thresholds (each element may hold several,
// comma-separated).
func ParseAll(list []string) ([]Threshold, error) {
	var out []Threshold
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			t, err := Parse(s)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	return out, nil
}

func parseMillis(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64) // a bare number is milliseconds
	if err != nil {
		d, derr := time.ParseDuration(s)
		if derr != nil {
			return 0, fmt.Errorf("value %q is not a duration like 500ms or 1.5s", s)
		}
		v = float64(d) / float64(time.Millisecond)
	}
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("duration %q: a duration is not negative", s)
	}
	return v, nil
}

func parsePercent(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not a rate like 1%% or 0.01", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("error rate %q is outside 0–100%%", s)
	}
	return v, nil
}

// Subject is one measured thing a threshold applies to.
type Subject struct {
	Name      string
	Summary   stats.Summary
	ErrorRate float64 // failed ÷ attempted, 0–1
	Dropped   int64   // requests never sent (load's open model)
}

// Failure is a threshold a subject crossed.
type Failure struct {
	Threshold Threshold
	Subject   string
	Actual    float64
}

func (f Failure) String() string {
	unit := "ms"
	actual := strconv.FormatFloat(f.Actual, 'f', 2, 64)
	switch f.Threshold.Metric {
	case "error_rate":
		unit, actual = "%", strconv.FormatFloat(f.Actual*100, 'f', 2, 64)
	case "dropped":
		unit, actual = " requests", strconv.FormatFloat(f.Actual, 'f', 0, 64)
	}
	return fmt.Sprintf("%s: %s is %s%s, threshold %s", f.Subject, f.Threshold.Metric, actual, unit, f.Threshold.Raw)
}

// Check evaluates every threshold against every subject in its scope. A
// threshold whose scope matches no subject is reported as an error, so a
// typo cannot pass silently.
func Check(ts []Threshold, subjects []Subject) ([]Failure, error) {
	var fails []Failure
	for _, t := range ts {
		matched := false
		for _, s := range subjects {
			if t.Scope != "" && !strings.Contains(s.Name, t.Scope) {
				continue
			}
			matched = true
			v := s.Value(t.Metric)
			if t.Metric != "error_rate" && t.Metric != "dropped" {
				if s.Summary.N == 0 {
					fails = append(fails, Failure{Threshold: t, Subject: s.Name + " (no successful samples)"})
					continue
				}
			}
			if !holds(v, t.Op, t.Value) {
				fails = append(fails, Failure{Threshold: t, Subject: s.Name, Actual: v})
			}
		}
		if !matched {
			return fails, fmt.Errorf("threshold %q matches nothing measured", t.Raw)
		}
	}
	return fails, nil
}

// Value is the subject's value of a threshold metric (as Threshold.Metric
// names it): the error rate (0–1) or a latency in milliseconds.
func (s Subject) Value(metric string) float64 {
	switch metric {
	case "error_rate":
		return s.ErrorRate
	case "dropped":
		return float64(s.Dropped)
	}
	return summaryMetric(s.Summary, metric)
}

func summaryMetric(s stats.Summary, m string) float64 {
	switch m {
	case "mean":
		return s.Mean
	case "trimmed_mean":
		return s.TrimmedMean
	case "min":
		return s.Min
	case "max":
		return s.Max
	case "p50":
		return s.P50
	case "p90":
		return s.P90
	case "p95":
		return s.P95
	case "p99":
		return s.P99
	}
	return s.P999 // "p99.9"
}

func holds(v float64, op string, limit float64) bool {
	switch op {
	case "<":
		return v < limit
	case "<=":
		return v <= limit
	case ">":
		return v > limit
	}
	return v >= limit
}

// CheckScopes reports, before a run, the first threshold whose scope matches
// none of the names that will be measured: a typo is refused up front rather
// than after the whole run.
func CheckScopes(ts []Threshold, names []string) error {
	for _, t := range ts {
		if t.Scope == "" {
			continue
		}
		matched := false
		for _, n := range names {
			if strings.Contains(n, t.Scope) {
				matched = true
				break
			}
		}
		if !matched {
			return fmt.Errorf("threshold %q matches nothing to be measured (%s)", t.Raw, strings.Join(names, ", "))
		}
	}
	return nil
}
