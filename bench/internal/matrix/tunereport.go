package matrix

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// writeTuneMarkdown is summary.md of a tune run: one table across both
// architectures with the percentiles, cold starts, status and cost, then
// the verdict and notes.
func (s Summary) writeTuneMarkdown(w io.Writer) error {
	var b strings.Builder
	fn := "function"
	if s.Meta.Tune != nil {
		fn = s.Meta.Tune.Function
	}
	fmt.Fprintf(&b, "# Tune: %s — %s target\n\n", fn, s.Meta.Target)
	if s.Partial {
		b.WriteString("> **Partial**: the run was interrupted; these tables cover what was measured.\n\n")
	}
	fmt.Fprintf(&b, "Started %s · payload `%s` · %d forced cold start(s) and %d warm invocation(s) per configuration",
		s.Meta.Started.UTC().Format("2006-01-02 15:04 MST"), s.Meta.Payload, s.Meta.Cold, s.Meta.Runs)
	if s.Meta.Parallel > 1 {
		fmt.Fprintf(&b, ", %d at a time", s.Meta.Parallel)
	}
	fmt.Fprintf(&b, ".\nDurations are Lambda's REPORT Duration in ms; \"Trimmed\" drops %.0f%% at each end (what the verdict uses).\n\n", s.Meta.Trim*100)

	b.WriteString("| Configuration | vCPUs | Status | P50 | P95 | P99 | Max | Mean | Trimmed | Init P50 | Cold billed | Max memory | $ per 1M | Pareto |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n")
	said := map[string]bool{}
	for _, r := range s.Results {
		if why, all := AllSkipped(s.Results, r.Arch); all {
			if !said[r.Arch] {
				fmt.Fprintf(&b, "| %s (every size) | | not measured: %s ||||||||||||\n", r.Arch, strings.ReplaceAll(why, "|", "/"))
				said[r.Arch] = true
			}
			continue
		}
		if r.Skip != "" {
			fmt.Fprintf(&b, "| %s | %.2f | not measured: %s ||||||||||||\n", r.Label(), r.VCPUs, strings.ReplaceAll(r.Skip, "|", "/"))
			continue
		}
		if !r.Measured() {
			fmt.Fprintf(&b, "| %s | %.2f | %s: %s ||||||||||||\n", r.Label(), r.VCPUs, r.Status(), strings.ReplaceAll(r.FirstError, "|", "/"))
			continue
		}
		mark := ""
		if slices.Contains(s.Pareto, s.NameOf(r)) {
			mark = "✓"
		}
		status := r.Status()
		if r.Excluded != "" {
			status += " (excluded)"
		}
		if r.Throttled() {
			status += " THROTTLED"
		}
		fmt.Fprintf(&b, "| %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f MB | $%.4f | %s |\n",
			r.Label(), r.VCPUs, status, ms(r.Warm.P50), ms(r.Warm.P95), ms(r.Warm.P99), ms(r.Warm.Max), ms(r.Warm.Mean), ms(r.Duration()),
			msOrDash(r.ColdInit.P50, r.ColdInit.N), msOrDash(r.ColdBill.Mean, r.ColdBill.N), r.MaxMemoryMB, r.CostPerMillion, mark)
	}

	fmt.Fprintf(&b, "\n## Cost per 1M invocations\n\n%s prices of %s (%s): billed duration × memory × GB-second price + $%.2f per 1M requests. ",
		s.Prices.Region, s.Prices.Date, orWord(s.Meta.PricesSource, "built in"), s.Prices.RequestPerMillion)
	fmt.Fprintf(&b, "%.1f%% of invocations are priced as cold starts, whose billed duration includes the init (provided.* runtimes).\n\n", s.Meta.ColdShare*100)
	b.WriteString("| Configuration | Warm billed mean | Warm $ per 1M | Cold $ per 1M | Blended $ per 1M | vs cheapest |\n|---|---:|---:|---:|---:|---:|\n")
	cheapest := s.cheapestCost()
	for _, r := range s.Results {
		if !r.Measured() {
			continue
		}
		cold := "—"
		if r.ColdCostPerMillion > 0 {
			cold = fmt.Sprintf("$%.4f", r.ColdCostPerMillion)
		}
		fmt.Fprintf(&b, "| %s | %s | $%.4f | %s | $%.4f | %+.0f%% |\n", r.Label(), ms(r.Billed.Mean), r.WarmCostPerMillion, cold, r.CostPerMillion, (r.CostPerMillion/cheapest-1)*100)
	}

	b.WriteString("\n## Verdict\n\n")
	if s.Verdict == nil {
		b.WriteString("No configuration was measured successfully, so there is no verdict.\n")
	} else {
		v := s.Verdict
		fmt.Fprintf(&b, "**%s %d MB** — strategy `%s`: %s. Trimmed mean %s ms, $%.4f per 1M invocations.\n",
			v.Choice.Arch, v.Choice.MemoryMB, v.Strategy, v.Why, ms(v.Choice.DurationMs), v.Choice.CostPerMillion)
	}
	if len(s.PowerTuning) > 0 {
		b.WriteString("\n## AWS Lambda Power Tuning\n\nPower Tuning's result per architecture (the strategy among that architecture's configurations; `power_tuning` in summary.json) and its visualization:\n\n")
		for _, arch := range archsOf(s.Results) {
			if pt := s.PowerTuning[arch]; pt != nil {
				fmt.Fprintf(&b, "- **%s**: %d MB, trimmed mean %s ms, $%.4f per 1M invocations — [visualization](%s)\n", arch, pt.Power, ms(pt.Duration), pt.Cost*1e6, pt.StateMachine.Visualization)
			}
		}
	}
	if notes := s.tuneNotes(); len(notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tuneNotes are the run's notes plus what only tune says.
func (s Summary) tuneNotes() []string {
	out := slices.Clone(s.Notes)
	for _, r := range s.Results {
		if r.Excluded != "" {
			out = append(out, fmt.Sprintf("%s: left out of the verdict — %s.", r.Label(), r.Excluded))
		}
	}
	return out
}
