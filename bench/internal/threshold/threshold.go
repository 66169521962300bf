// Package threshold parses and checks pass/fail criteria such as
// "p95<500ms" or "lmi-2048:error_rate<1%", k6-style: a run that crosses one
// exits with code 99 so that CI can gate on it.
package threshold

import (
	"errors"
	"fmt"
	"math"
	"regexp"
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

// k6Metrics are k6's metric names a threshold may start with, as in
// "http_req_duration:p(95)<500": they name what is measured, not a scope.
var k6Metrics = map[string]string{
	"http_req_duration": "",           // the metric follows: p(95), avg, …
	"http_req_failed":   "error_rate", // its only aggregation, rate
}

// k6Percentile is k6's spelling of a percentile: p(95), p(99.9).
var k6Percentile = regexp.MustCompile(`^p\(\s*([0-9.]+)\s*\)$`)

// Parse reads one threshold, e.g. "p95<500ms", "avg<=1.5s",
// "error_rate<1%", "dropped<1" (a count), "x86_64 2048:p99<2s". k6's
// spelling is accepted too: "p(95)<500" (a bare number is milliseconds),
// "http_req_failed<0.01" or "rate<0.01" (the error rate), and k6's metric
// names in front, "http_req_duration:p(95)<500".
func Parse(s string) (Threshold, error) {
	t := Threshold{Raw: s}
	expr := strings.Trim(strings.TrimSpace(s), `'"`+"`")
	if i := strings.LastIndex(expr, ":"); i >= 0 {
		t.Scope, expr = strings.TrimSpace(expr[:i]), strings.TrimSpace(expr[i+1:])
	}
	k6Metric := ""
	if m, ok := k6Metrics[t.Scope]; ok {
		t.Scope, k6Metric = "", m
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
	if m := k6Percentile.FindStringSubmatch(t.Metric); m != nil {
		t.Metric = "p" + m[1]
	}
	if m, ok := k6Metrics[t.Metric]; ok && m != "" {
		t.Metric = m
	}
	if k6Metric != "" && t.Metric == "rate" {
		t.Metric = k6Metric
	}
	switch t.Metric {
	case "avg", "mean":
		t.Metric = "mean"
	case "errors", "error-rate", "error_rate", "rate":
		t.Metric = "error_rate"
	case "dropped":
	case "min", "max", "trimmed_mean", "p50", "med", "p90", "p95", "p99", "p99.9":
		if t.Metric == "med" {
			t.Metric = "p50"
		}
	default:
		return t, fmt.Errorf("threshold %q: unknown metric %q (use min, avg, med, trimmed_mean, p50, p90, p95, p99, p99.9 — or k6's p(95) —, max, error_rate (k6: http_req_failed, rate) or dropped)", s, left)
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

// k6List is a k6 thresholds entry pasted as it is written in a k6 script:
// http_req_duration: ['p(95)<500', 'p(99)<1500'].
var k6List = regexp.MustCompile(`^\s*["']?([A-Za-z_][A-Za-z0-9_.{}:-]*?)["']?\s*:\s*\[(.*)\]\s*,?\s*$`)

// ParseAll parses a list of thresholds (each element may hold several,
// comma-separated, or be a k6 thresholds entry such as
// "http_req_duration: ['p(95)<500', 'p(99)<1500']").
func ParseAll(list []string) ([]Threshold, error) {
	var out []Threshold
	for _, item := range list {
		parts := strings.Split(item, ",")
		if m := k6List.FindStringSubmatch(item); m != nil {
			parts = nil
			for _, e := range strings.Split(m[2], ",") {
				if e = strings.Trim(strings.TrimSpace(e), `'"`+"`"); e != "" {
					parts = append(parts, m[1]+":"+e)
				}
			}
		}
		for _, s := range parts {
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
	outcomes, err := Evaluate(ts, subjects)
	var fails []Failure
	for _, o := range outcomes {
		if !o.Passed {
			fails = append(fails, o.Failure())
		}
	}
	return fails, err
}

// Outcome is one threshold checked on one subject, passed or not.
type Outcome struct {
	Threshold Threshold
	Subject   string
	Actual    float64
	Passed    bool
	// NoSamples is set for a duration threshold on a subject without a
	// successful sample: it fails, with no actual value.
	NoSamples bool
}

// Failure is the outcome as a crossed threshold.
func (o Outcome) Failure() Failure {
	if o.NoSamples {
		return Failure{Threshold: o.Threshold, Subject: o.Subject + " (no successful samples)"}
	}
	return Failure{Threshold: o.Threshold, Subject: o.Subject, Actual: o.Actual}
}

// Evaluate checks every threshold against every subject in its scope and
// returns every outcome, threshold by threshold, passed or not (for a
// report such as JUnit's, one test case each). A threshold whose scope
// matches no subject is an error.
func Evaluate(ts []Threshold, subjects []Subject) ([]Outcome, error) {
	var out []Outcome
	for _, t := range ts {
		matched := false
		for _, s := range subjects {
			if t.Scope != "" && !strings.Contains(s.Name, t.Scope) {
				continue
			}
			matched = true
			o := Outcome{Threshold: t, Subject: s.Name, Actual: s.Value(t.Metric)}
			if t.Metric != "error_rate" && t.Metric != "dropped" && s.Summary.N == 0 {
				o.NoSamples, o.Actual = true, 0
			} else {
				o.Passed = holds(o.Actual, t.Op, t.Value)
			}
			out = append(out, o)
		}
		if !matched {
			return out, fmt.Errorf("threshold %q matches nothing measured", t.Raw)
		}
	}
	return out, nil
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
