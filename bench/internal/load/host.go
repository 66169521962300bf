package load

import (
	"fmt"
	"strings"
	"time"

	"lambdabench/bench/internal/hostload"
)

// applyHost marks every endpoint's stages and totals with how busy the
// host was while they ran (local target: host.csv). Each endpoint's window
// starts at its own first request, so endpoints loaded one after another
// each get their own seconds.
func applyHost(scs []ScenarioSummary, samples []hostload.Sample) {
	if len(samples) == 0 {
		return
	}
	for i := range scs {
		sc := &scs[i]
		st := sc.Profile()
		for j := range sc.Endpoints {
			e := &sc.Endpoints[j]
			start := e.start
			if start.IsZero() {
				start = sc.Start
			}
			end := start.Add(max(st.Total(), time.Duration(sc.DurationS*float64(time.Second))))
			e.Total.Saturation = hostload.Window(samples, hostload.DefaultInterval, start, end)
			for k := range e.Stages {
				s := &e.Stages[k]
				if s.Stage < 1 || s.Stage > len(st) {
					continue
				}
				from := start.Add(st.Start(s.Stage - 1))
				to := from.Add(st[s.Stage-1].Duration)
				if s.Stage == len(st) && end.After(to) {
					to = end // the last stage owns the drain
				}
				s.Saturation = hostload.Window(samples, hostload.DefaultInterval, from, to)
			}
		}
	}
}

// hostBoundEndpoints lists the endpoints of a scenario whose totals were
// host-bound, with the share of time: "default-2048 63%, lmi-2048 40%".
func hostBoundEndpoints(sc *ScenarioSummary) string {
	var out []string
	for _, e := range sc.Endpoints {
		if h := e.Total.Saturation; h != nil && h.HostCPUSaturated {
			out = append(out, fmt.Sprintf("%s %.0f%%", e.Endpoint, 100*h.SaturatedShare))
		}
	}
	return strings.Join(out, ", ")
}

// hostColumn is a table cell for a stage's host: "-" when not measured,
// "ok 12%" when not host-bound, "**host-bound 63%**" when it was.
func hostColumn(s StageSummary) string {
	h := s.Saturation
	switch {
	case h == nil:
		return "-"
	case h.HostCPUSaturated:
		return fmt.Sprintf("**host-bound %.0f%%**", 100*h.SaturatedShare)
	}
	return fmt.Sprintf("ok %.0f%%", 100*h.SaturatedShare)
}

// hasHost reports whether any stage of the scenario has host data.
func hasHost(sc ScenarioSummary) bool {
	for _, e := range sc.Endpoints {
		if e.Total.Saturation != nil {
			return true
		}
	}
	return false
}
