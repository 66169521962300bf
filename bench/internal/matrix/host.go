package matrix

import (
	"fmt"
	"math"
	"strings"
	"time"

	"lambdabench/bench/internal/hostload"
)

// MarkHost records in every measured configuration how busy this machine
// was while it ran (local target; host samples from hostload), from its
// first invocation to the end of its last, and adds a note naming the
// host-bound ones.
func MarkHost(s *Summary, samples []Sample, host []hostload.Sample) {
	if len(host) == 0 {
		return
	}
	type window struct{ start, end time.Time }
	windows := map[string]*window{}
	for _, smp := range samples {
		if smp.Kind == KindSkipped || smp.Time.IsZero() {
			continue
		}
		end := smp.Time
		if !math.IsNaN(smp.RoundTripMs) {
			end = end.Add(time.Duration(smp.RoundTripMs * float64(time.Millisecond)))
		}
		w := windows[smp.Function]
		if w == nil {
			windows[smp.Function] = &window{smp.Time, end}
			continue
		}
		if smp.Time.Before(w.start) {
			w.start = smp.Time
		}
		if end.After(w.end) {
			w.end = end
		}
	}
	var bound []string
	for i := range s.Results {
		r := &s.Results[i]
		w := windows[r.Function]
		if w == nil || !r.Measured() {
			continue
		}
		r.Saturation = hostload.Window(host, hostload.DefaultInterval, w.start, w.end)
		if r.Saturation != nil && r.HostCPUSaturated {
			bound = append(bound, fmt.Sprintf("%s (%.0f%% of the time)", r.Label(), 100*r.SaturatedShare))
		}
	}
	if len(bound) > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%s — %s: this machine's CPU was over %.0f%% busy while environments ran invocations, so they competed for its cores (with each other, or with the machine's other processes).",
			strings.Join(bound, ", "), hostload.HostBoundNote, 100*hostload.DefaultThreshold))
	}
}

// hostCell is the Host column of a configuration: "-" when not measured.
func hostCell(r Result) string {
	switch h := r.Saturation; {
	case h == nil:
		return "-"
	case h.HostCPUSaturated:
		return fmt.Sprintf("**host-bound %.0f%%**", 100*h.SaturatedShare)
	default:
		return fmt.Sprintf("ok %.0f%%", 100*h.SaturatedShare)
	}
}

// hasHost reports whether any configuration carries host data.
func (s Summary) hasHost() bool {
	for _, r := range s.Results {
		if r.Saturation != nil {
			return true
		}
	}
	return false
}
