package lmitune

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/results"
	"lambdabench/bench/internal/tune"
)

// Write writes summary.json and summary.md (and the charts, when a
// renderer is linked) of an LMI tune into dir.
func Write(dir string, s Summary) error {
	if err := writeJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return err
	}
	charts := drawCharts(dir, s)
	var md strings.Builder
	Markdown(&md, s, charts)
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("write summary.md: %w", err)
	}
	return nil
}

// writeJSON writes a summary.json whole or not at all.
func writeJSON(path string, s Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	return results.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// Decode reads an LMI tune's summary.json; anything else is an error that
// says what the file is.
func Decode(b []byte, name string) (Summary, error) {
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: not a readable summary.json: %w", name, err)
	}
	if s.Kind != Kind {
		return s, fmt.Errorf("%s: kind %q, not an LMI tune (%q)", name, s.Kind, Kind)
	}
	return s, nil
}

// Read reads the summary.json of an LMI tune's results folder.
func Read(dir string) (Summary, error) {
	path := filepath.Join(dir, "summary.json")
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Summary{}, fmt.Errorf("%s has no summary.json", dir)
		}
		return Summary{}, err
	}
	return Decode(b, path)
}

// IsLMI reports whether summary.json bytes are an LMI tune's.
func IsLMI(b []byte) bool {
	var k struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(b, &k) == nil && k.Kind == Kind
}

func fmtMs(v float64) string { return fmt.Sprintf("%.1f", v) }

func money(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("$%.0f", v)
	case v >= 1:
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.4f", v)
}

func fmtRate(v float64) string {
	switch {
	case v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64) // 0.005, 2.5: small rates keep their digits
}

// offeredUnit names what a step offers.
func (m Meta) offeredUnit() string {
	if m.Model == "open" {
		return "req/s"
	}
	return "VUs"
}

func errorsCell(s Step) string {
	var parts []string
	add := func(n int64, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(s.Status429, "429")
	add(s.Status4xx, "4xx")
	add(s.Status5xx, "5xx")
	add(s.FunctionErrors, "function")
	add(s.NetworkErrors, "network")
	add(s.Dropped, "dropped")
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}

func hostCell(s Step) string {
	switch {
	case s.Host == nil:
		return "-"
	case s.Host.HostCPUSaturated:
		return fmt.Sprintf("**host-bound %.0f%%**", 100*s.Host.SaturatedShare)
	}
	return fmt.Sprintf("ok %.0f%%", 100*s.Host.SaturatedShare)
}

func envCPUCell(s Step) string {
	if s.EnvCPU < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", s.EnvCPU)
}

func envsCell(s Step) string {
	if s.Environments < 0 {
		return "-"
	}
	return fmt.Sprint(s.Environments)
}

// Markdown writes summary.md; charts are the image files drawn (relative
// to the folder), or the reason they were not.
func Markdown(w io.Writer, s Summary, charts Charts) {
	m := s.Meta
	fmt.Fprintf(w, "# LMI tune: %s\n\n", m.Function)
	where := "AWS"
	if m.Target == "local" {
		where = fmt.Sprintf("the local Lambda on this machine (%d cores; %s; CPU period %s) — emulated, not measured on AWS", m.HostCores, m.Confinement, m.CPUPeriod)
	}
	fmt.Fprintf(w, "- Target: %s\n", where)
	fmt.Fprintf(w, "- Ran %s – %s", m.Started.Format("2006-01-02 15:04:05Z"), m.Finished.Format("15:04:05Z"))
	if m.Interrupted {
		fmt.Fprint(w, " (**interrupted**: what was measured is below)")
	}
	fmt.Fprintln(w)
	model := "closed model: a ramp of virtual users, each waiting for its answer"
	if m.Model == "open" {
		model = "open model: a ramp of request rates, sent whatever the answers do"
	}
	fmt.Fprintf(w, "- Load: %s; %gs per step; each version pinned to %d execution environment(s)\n", model, m.StepS, m.Environments)
	fmt.Fprintf(w, "- Objectives: %s, errors ≤ %.2f%%; latency is of successful requests (nearest rank)\n", strings.Join(m.SLO, ", "), 100*m.MaxErrorRate)
	fmt.Fprintf(w, "- The knee: the step with the highest successful requests per second that met every objective, per environment and per vCPU\n")
	fmt.Fprintf(w, "- Instances: %s; prices %s\n", instanceLine(m), m.Prices)
	if m.Payload != "" {
		fmt.Fprintf(w, "- Payload: `%s`\n", m.Payload)
	}
	for _, n := range m.Notes {
		fmt.Fprintf(w, "- Note: %s\n", n)
	}
	fmt.Fprintf(w, "\n## Knees\n\n| configuration | vCPU per env | status | knee step | req/s per env | req/s per vCPU | p99 at knee ms |\n|---|---:|---|---:|---:|---:|---:|\n")
	for _, r := range s.Results {
		status := r.Status
		if r.HostLimit != "" {
			status += " (" + r.HostLimit + ")"
		}
		if r.Held() {
			fmt.Fprintf(w, "| %s | %.2f | %s | %d | %.1f | %.1f | %s |\n", r.Label, r.VCPUsPerEnv, status, r.KneeStep, r.KneeRPSPerEnv, r.KneeRPSPerVCPU, fmtMs(r.KneeP99))
		} else {
			fmt.Fprintf(w, "| %s | %.2f | %s | - | - | - | - |\n", r.Label, r.VCPUsPerEnv, status)
		}
	}
	if charts.Latency != "" {
		fmt.Fprintf(w, "\n![latency against offered load](%s)\n", charts.Latency)
	}
	fmt.Fprintf(w, "\n## Steps\n")
	unit := m.offeredUnit()
	for _, r := range s.Results {
		fmt.Fprintf(w, "\n### %s\n\n| step | offered %s | req/s | ok req/s | p50 ms | p95 ms | p99 ms | errors | envs | env CPU (vCPUs) | host | objectives |\n|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|\n", r.Label, unit)
		for _, st := range r.Steps {
			held := "held"
			if !st.Held {
				held = "broke: " + st.Broke
			}
			if st.Step == r.KneeStep {
				held = "**knee**"
			}
			fmt.Fprintf(w, "| %d | %s | %.1f | %.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n", st.Step, fmtRate(st.Offered), st.Throughput, st.Goodput,
				fmtMs(st.Latency.P50), fmtMs(st.Latency.P95), fmtMs(st.Latency.P99), errorsCell(st), envsCell(st), envCPUCell(st), hostCell(st), held)
		}
		if len(r.Steps) == 0 {
			fmt.Fprintf(w, "| - | - | - | - | - | - | - | - | - | - | - | %s |\n", r.Status)
		}
	}
	fmt.Fprintf(w, "\n## Cost per hour\n\n")
	if st := s.Standard; st != nil {
		fmt.Fprintf(w, "Standard Lambda: %s %d MB, %.1f ms billed per invocation (%s); concurrency = rate × duration.\n\n", st.Arch, st.MemoryMB, st.DurationMs, st.Source)
	} else {
		fmt.Fprintf(w, "Standard Lambda: no figure (give --standard-from DIR, or --standard-memory MB with --target local).\n\n")
	}
	costTable(w, s, true)
	fmt.Fprintf(w, "\n**Break-even:** %s\n", s.BreakEven)
	if charts.Cost != "" {
		fmt.Fprintf(w, "\n![cost per hour against request rate](%s)\n", charts.Cost)
	}
	if charts.Err != "" {
		fmt.Fprintf(w, "\nCharts not drawn: %s\n", charts.Err)
	}
}

func instanceLine(m Meta) string {
	if m.InstanceNote != "" {
		return m.InstanceType + " (" + m.InstanceNote + ")"
	}
	return m.InstanceType
}

// costTable writes the cost ladder: one row per rate, one column per
// configuration that held a step, standard Lambda and the cheapest.
func costTable(w io.Writer, s Summary, md bool) {
	var labels []string
	for _, r := range s.Results {
		if r.Held() {
			labels = append(labels, r.Label)
		}
	}
	cols := append([]string{"req/s"}, labels...)
	cols = append(cols, "standard", "cheapest")
	row := func(cells []string) {
		if md {
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
			return
		}
		for i, c := range cells {
			if i == 0 {
				fmt.Fprintf(w, "%8s", c)
			} else {
				fmt.Fprintf(w, " %14s", c)
			}
		}
		fmt.Fprintln(w)
	}
	if !md {
		// Long labels would break a fixed-width table: number them.
		short := []string{"req/s"}
		for i := range labels {
			short = append(short, fmt.Sprintf("[%d]", i+1))
		}
		row(append(short, "standard", "cheapest"))
	} else {
		row(cols)
		sep := []string{"---:"}
		for range labels {
			sep = append(sep, "---:")
		}
		row(append(sep, "---:", "---"))
	}
	for _, rc := range s.Rates {
		cells := []string{fmtRate(rc.RPS)}
		for _, l := range labels {
			cell := "-"
			for _, c := range rc.LMI {
				if c.Label == l {
					if c.Note != "" {
						cell = "n/a"
					} else {
						cell = fmt.Sprintf("%s (%d×)", money(c.USDPerHour), c.Instances)
					}
				}
			}
			cells = append(cells, cell)
		}
		std := "-"
		if rc.StandardUSDPerHour != nil {
			std = money(*rc.StandardUSDPerHour)
		}
		cheapest := rc.Cheapest
		if rc.StandardUSDPerHour != nil && cheapest != "" {
			for _, c := range rc.LMI {
				if c.Label == rc.Cheapest && *rc.StandardUSDPerHour < c.USDPerHour {
					cheapest = "standard"
				}
			}
		}
		if !md {
			for i, l := range labels {
				if cheapest == l {
					cheapest = fmt.Sprintf("[%d]", i+1)
				}
			}
		}
		row(append(cells, std, cheapest))
	}
	if !md {
		for i, l := range labels {
			fmt.Fprintf(w, "  [%d] %s\n", i+1, l)
		}
	}
}

// PrintTable prints the knees, the cost ladder and the break-even.
func PrintTable(w io.Writer, s Summary) {
	fmt.Fprintf(w, "\n%-26s %6s %-16s %6s %11s %11s %9s\n", "configuration", "vCPU", "status", "knee", "req/s/env", "req/s/vCPU", "p99 ms")
	for _, r := range s.Results {
		status := r.Status
		if r.HostLimit != "" {
			status += " *"
		}
		if r.Held() {
			k := r.Steps[r.KneeStep-1]
			fmt.Fprintf(w, "%-26s %6.2f %-16s %6s %11.1f %11.1f %9.1f\n", r.Label, r.VCPUsPerEnv, matrix.Truncate(status, 16), fmtRate(k.Offered)+" "+shortUnit(s.Meta), r.KneeRPSPerEnv, r.KneeRPSPerVCPU, r.KneeP99)
		} else {
			fmt.Fprintf(w, "%-26s %6.2f %-16s %6s %11s %11s %9s\n", r.Label, r.VCPUsPerEnv, matrix.Truncate(status, 16), "-", "-", "-", "-")
		}
	}
	for _, r := range s.Results {
		if r.HostLimit != "" {
			fmt.Fprintf(w, "* %s %s\n", r.Label, r.HostLimit)
		}
	}
	if st := s.Standard; st != nil {
		fmt.Fprintf(w, "\nCost per hour (LMI: %s; standard: %s %d MB, %.1f ms billed):\n", instanceLine(s.Meta), st.Arch, st.MemoryMB, st.DurationMs)
	} else {
		fmt.Fprintf(w, "\nCost per hour (LMI: %s; no standard Lambda figure):\n", instanceLine(s.Meta))
	}
	costTable(w, s, false)
	fmt.Fprintf(w, "\nBreak-even: %s\n", s.BreakEven)
}

func shortUnit(m Meta) string {
	if m.Model == "open" {
		return "r/s"
	}
	return "VU"
}

// writePlan prints what a run would do, and the IAM actions it needs.
func writePlan(o Options, orig tune.Original, cfgs []Config, runID string) {
	w := o.Plan
	if w == nil {
		return
	}
	fmt.Fprintf(w, "Plan (dry run, run %s): tune %s on Lambda Managed Instances, %d configuration(s):\n", runID, orig.FunctionName, len(cfgs))
	for i, c := range cfgs {
		ramp := o.RampFor(c)
		var levels []string
		for _, l := range ramp {
			levels = append(levels, fmtRate(l))
		}
		fmt.Fprintf(w, "  %2d. %s (%.2f vCPU per environment): UpdateFunctionConfiguration (MemorySize %d, CapacityProviderConfig %g GiB per vCPU, %d per environment), PublishVersion, wait until Active, PutFunctionScalingConfig min = max = %d; ramp %s %s, %s each, until %s or errors > %.2f%%\n",
			i+1, c.Label(), c.VCPUs(), c.MemoryMB, c.GiBPerVCPU, c.PerEnvConcurrency, o.Environments, strings.Join(levels, ","), modelUnit(o), o.Step, sloText(o), 100*o.MaxErrorRate)
	}
	fmt.Fprintf(w, "Afterwards (also on Ctrl-C or an error): delete every version published, restore $LATEST's memory, capacity provider configuration and environment; $LATEST.PUBLISHED is never changed.\n")
	fmt.Fprintf(w, "IAM actions needed: %s\n", strings.Join(tune.LMIActions, ", "))
}

func modelUnit(o Options) string {
	if o.Model == "open" {
		return "req/s"
	}
	return "virtual users"
}

func sloText(o Options) string {
	var s []string
	for _, t := range o.SLO {
		s = append(s, t.Raw)
	}
	if len(s) == 0 {
		return "no latency objective"
	}
	return strings.Join(s, " and ")
}
