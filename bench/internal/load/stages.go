package load

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Stage is one step of a load profile: over Duration the load moves linearly
// from the previous stage's target (0 before the first stage) to Target. In
// the closed model Target is a number of virtual users, in the open model a
// rate in requests per second.
type Stage struct {
	Duration time.Duration
	Target   float64
}

// Stages is a load profile, as k6 describes one with its stages.
type Stages []Stage

// maxStageDuration bounds one stage so that the integer arithmetic of the
// ramps cannot overflow; a day is far beyond any sensible benchmark.
const maxStageDuration = 24 * time.Hour

// ParseStages parses "30s:8,1m:8,30s:16": comma-separated duration:target
// pairs. Durations are Go durations (a stage may last 0s, an instant jump);
// targets are non-negative numbers, whole numbers when integer is set
// (virtual users). The profile must last longer than zero.
func ParseStages(s string, integer bool) (Stages, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty stages: give duration:target pairs such as 30s:8,1m:8")
	}
	var out Stages
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		d, t, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("stage %d %q: want duration:target, such as 30s:8", i+1, part)
		}
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return nil, fmt.Errorf("stage %d %q: bad duration: %w", i+1, part, err)
		}
		if dur < 0 || dur > maxStageDuration {
			return nil, fmt.Errorf("stage %d %q: duration must be between 0s and %s", i+1, part, maxStageDuration)
		}
		target, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil || math.IsNaN(target) || math.IsInf(target, 0) {
			return nil, fmt.Errorf("stage %d %q: bad target %q: want a number", i+1, part, t)
		}
		if target < 0 {
			return nil, fmt.Errorf("stage %d %q: target must not be negative", i+1, part)
		}
		if integer && target != math.Trunc(target) {
			return nil, fmt.Errorf("stage %d %q: virtual users must be a whole number", i+1, part)
		}
		if integer && target > 100000 {
			return nil, fmt.Errorf("stage %d %q: at most 100000 virtual users", i+1, part)
		}
		if !integer && target > 1e6 {
			return nil, fmt.Errorf("stage %d %q: at most 1000000 requests per second", i+1, part)
		}
		out = append(out, Stage{Duration: dur, Target: target})
	}
	if out.Total() <= 0 {
		return nil, fmt.Errorf("stages %q last 0s: give at least one stage a duration", s)
	}
	return out, nil
}

// String formats the stages in the syntax ParseStages reads.
func (ss Stages) String() string {
	parts := make([]string, len(ss))
	for i, st := range ss {
		parts[i] = shortDuration(st.Duration) + ":" + strconv.FormatFloat(st.Target, 'f', -1, 64)
	}
	return strings.Join(parts, ",")
}

// shortDuration formats d without the zero units time.Duration.String adds
// ("1m0s" becomes "1m").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Total is how long the whole profile lasts.
func (ss Stages) Total() time.Duration {
	var t time.Duration
	for _, st := range ss {
		t += st.Duration
	}
	return t
}

// Start returns the offset at which stage i (0-based) begins.
func (ss Stages) Start(i int) time.Duration {
	var t time.Duration
	for _, st := range ss[:i] {
		t += st.Duration
	}
	return t
}

// From returns the level stage i (0-based) starts from: the previous
// stage's target, 0 for the first.
func (ss Stages) From(i int) float64 {
	if i == 0 {
		return 0
	}
	return ss[i-1].Target
}

// At returns the 0-based index of the stage running at offset t, or -1 when
// t is before the start or at or after the end of the profile. A stage owns
// [start, start+duration); stages lasting 0s own no time.
func (ss Stages) At(t time.Duration) int {
	if t < 0 {
		return -1
	}
	var start time.Duration
	for i, st := range ss {
		if t < start+st.Duration {
			return i
		}
		start += st.Duration
	}
	return -1
}

// Label describes stage i (0-based) for a table: "ramp 0→8 over 10s" or
// "hold 8 for 20s".
func (ss Stages) Label(i int) string {
	from, to := ss.From(i), ss[i].Target
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	if from == to {
		return fmt.Sprintf("hold %s for %s", f(to), shortDuration(ss[i].Duration))
	}
	return fmt.Sprintf("ramp %s→%s over %s", f(from), f(to), shortDuration(ss[i].Duration))
}

// MaxTarget is the highest target of any stage.
func (ss Stages) MaxTarget() float64 {
	var m float64
	for _, st := range ss {
		m = max(m, st.Target)
	}
	return m
}

// VUsAt returns the number of virtual users active at offset t in the closed
// model, k6's ramping-vus semantics: within a stage the count moves linearly
// from the previous target and a ramp reaches each whole number only once
// the line has got there (rounded toward the stage's starting level), so a
// 10s ramp from 0 to 10 has 1 VU from 1s, 5 from 5s and 10 only at the end.
// Outside the profile it returns 0.
func (ss Stages) VUsAt(t time.Duration) int {
	i := ss.At(t)
	if i < 0 {
		return 0
	}
	from, to := int64(ss.From(i)), int64(ss[i].Target)
	x, d := int64(t-ss.Start(i)), int64(ss[i].Duration)
	// (to-from)*x fits in int64: |to-from| <= 1e5 and x < 24h in ns (8.64e13).
	return int(from + (to-from)*x/d) // Go's division truncates toward zero: toward from.
}

// NextActive returns the earliest offset at or after t at which virtual user
// n (1-based) is active, that is VUsAt >= n, and false when it never is
// again. The engine uses it to put idle virtual users to sleep.
func (ss Stages) NextActive(n int, t time.Duration) (time.Duration, bool) {
	if t < 0 {
		t = 0
	}
	var start time.Duration
	for i, st := range ss {
		end := start + st.Duration
		if st.Duration == 0 || t >= end {
			start = end
			continue
		}
		from, to := int64(ss.From(i)), int64(st.Target)
		at := max(t, start)
		if ss.VUsAt(at) >= n {
			return at, true
		}
		if to > from && int64(n) <= to {
			// Ramping up: VUsAt >= n once (to-from)*x/d >= n-from, that is
			// x >= ceil(d*(n-from)/(to-from)).
			d := int64(st.Duration)
			x := (d*(int64(n)-from) + (to - from) - 1) / (to - from)
			if cand := start + time.Duration(x); cand < end {
				return max(cand, t), true
			}
		}
		start = end
	}
	return 0, false
}

// RateAt returns the arrival rate (requests per second) at offset t in the
// open model: linear within each stage from the previous stage's target.
// Outside the profile it returns 0.
func (ss Stages) RateAt(t time.Duration) float64 {
	i := ss.At(t)
	if i < 0 {
		return 0
	}
	from, to := ss.From(i), ss[i].Target
	frac := float64(t-ss.Start(i)) / float64(ss[i].Duration)
	return from + (to-from)*frac
}

// Arrivals returns how many requests are due by offset t in the open model:
// the integral of the rate from 0 to t. At or after the end it returns the
// total for the whole profile.
func (ss Stages) Arrivals(t time.Duration) float64 {
	var n float64
	var start time.Duration
	for i, st := range ss {
		if st.Duration == 0 {
			continue
		}
		from, to := ss.From(i), st.Target
		x := min(max(t-start, 0), st.Duration)
		xs, ds := x.Seconds(), st.Duration.Seconds()
		n += from*xs + (to-from)*xs*xs/(2*ds)
		start += st.Duration
	}
	return n
}

// DueTime returns the offset at which the k-th request (1-based) is due in
// the open model: the time at which Arrivals reaches k. ok is false when the
// profile ends first.
func (ss Stages) DueTime(k float64) (time.Duration, bool) {
	var done float64 // arrivals before the current stage
	var start time.Duration
	for i, st := range ss {
		if st.Duration == 0 {
			continue
		}
		from, to := ss.From(i), st.Target
		ds := st.Duration.Seconds()
		inStage := (from + to) / 2 * ds
		if done+inStage < k {
			done += inStage
			start += st.Duration
			continue
		}
		// Solve from*x + (to-from)/(2d)*x² = k - done for x in [0, d].
		need := k - done
		a := (to - from) / (2 * ds)
		var x float64
		switch {
		case math.Abs(a) < 1e-12:
			if from == 0 {
				return 0, false
			}
			x = need / from
		default:
			disc := from*from + 4*a*need
			if disc < 0 {
				disc = 0
			}
			// The numerically stable root of a*x² + from*x - need = 0.
			x = 2 * need / (from + math.Sqrt(disc))
		}
		x = min(max(x, 0), ds)
		due := start + time.Duration(x*float64(time.Second))
		if due >= start+st.Duration {
			// Rounding put it on the boundary: it belongs to the next stage.
			due = start + st.Duration - 1
		}
		return due, true
	}
	return 0, false
}

// FirstDue returns the number (1-based) of the first request of the open
// model due at or after offset t: the requests due in [t1, t2) are those
// from FirstDue(t1) up to, not including, FirstDue(t2), so windows that
// tile a profile send every request exactly once. It starts from the
// arrivals due by t and steps to the exact boundary, so it costs a few
// DueTime calls however long the profile.
func (ss Stages) FirstDue(t time.Duration) int {
	if t <= 0 {
		return 1
	}
	k := max(1, int(math.Ceil(ss.Arrivals(t))))
	for k > 1 {
		due, ok := ss.DueTime(float64(k - 1))
		if ok && due < t {
			break
		}
		k--
	}
	for {
		due, ok := ss.DueTime(float64(k))
		if !ok || due >= t {
			return k
		}
		k++
	}
}
