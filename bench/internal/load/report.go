package load

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/results"
	"lambdabench/bench/internal/threshold"
)

// Files of a load run's directory.
const (
	SamplesFile     = "samples.csv"
	SummaryJSONFile = "summary.json"
	SummaryMDFile   = "summary.md"
	ConcurrencyFile = "concurrency.csv"
)

// RunInfo describes how a run was made: what summary.json records beyond
// what samples.csv holds. Rebuild keeps it from the summary.json it finds.
type RunInfo struct {
	Target      string            `json:"target"` // "local" or "aws"
	Stack       string            `json:"stack,omitempty"`
	Region      string            `json:"region,omitempty"`
	URLs        map[string]string `json:"urls,omitempty"` // endpoint name → URL
	Started     time.Time         `json:"started"`
	Generator   string            `json:"generator,omitempty"` // the machine that sent the load
	Timeout     string            `json:"timeout,omitempty"`
	MaxInFlight int               `json:"max_in_flight,omitempty"`
	Thresholds  []string          `json:"thresholds,omitempty"`
	Cost        CostInputs        `json:"cost"`
	Notes       []string          `json:"notes,omitempty"`
}

// Report is summary.json: the run, its outcome per scenario, endpoint and
// stage, and its threshold checks.
type Report struct {
	// Partial is set when the run was interrupted: the summaries cover
	// what was measured until then.
	Partial   bool              `json:"partial"`
	Run       RunInfo           `json:"run"`
	Scenarios []ScenarioSummary `json:"scenarios"`
	Checks    []Check           `json:"threshold_checks,omitempty"`
	// NoCharts is set when the charts were not drawn (--no-charts, or
	// drawing them failed): summary.md then links no images.
	NoCharts bool `json:"no_charts,omitempty"`
	// ChartError says why the charts asked for could not be drawn. It is a
	// warning: the measurement and the exit status do not depend on it.
	ChartError string `json:"chart_error,omitempty"`
	// Generators, in a run fanned out over several generators
	// (--generators), describes each; GeneratorCost how they are priced.
	Generators    []GeneratorRow `json:"generators,omitempty"`
	GeneratorCost *GeneratorCost `json:"generator_cost,omitempty"`
	// GeneratorWindows are the windows a run longer than one generator
	// invocation was split into (the rows then are per generator and
	// window).
	GeneratorWindows []Window `json:"generator_windows,omitempty"`
}

// Failures counts the attempted requests (sent or dropped) of every
// scenario and endpoint, and those that failed (no 2xx, or dropped).
func (r *Report) Failures() (attempted, failed int64) {
	for _, sc := range r.Scenarios {
		for _, e := range sc.Endpoints {
			t := e.Total
			attempted += t.Requests + t.Dropped
			failed += t.Requests + t.Dropped - t.OK
		}
	}
	return attempted, failed
}

// EndpointOrder is the order reports list the hello endpoints in.
var EndpointOrder = []string{"default-128", "default-2048", "lmi-2048"}

// finish prices every endpoint and checks the thresholds. The error wraps
// threshold.ErrCrossed when a threshold was crossed.
func (r *Report) finish() error {
	for i := range r.Scenarios {
		sc := &r.Scenarios[i]
		for j := range sc.Endpoints {
			e := &sc.Endpoints[j]
			est, err := estimateCost(sc.Name, e, r.Run.Cost)
			if err != nil {
				r.Run.Notes = appendOnce(r.Run.Notes, "no cost estimate: "+err.Error())
				continue
			}
			e.Cost = est
		}
	}
	ths, err := threshold.ParseAll(r.Run.Thresholds)
	if err != nil {
		return err
	}
	r.Checks, err = Evaluate(ths, r.Scenarios)
	return err
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// write writes summary.json, summary.md and, with charts, the charts into
// dir.
func (r *Report) write(dir string, charts bool) error {
	r.NoCharts = !charts
	if err := results.WriteFileAtomic(filepath.Join(dir, SummaryJSONFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}); err != nil {
		return err
	}
	if err := results.WriteFileAtomic(filepath.Join(dir, SummaryMDFile), func(w io.Writer) error {
		return r.Markdown(w)
	}); err != nil {
		return err
	}
	if !charts {
		return nil
	}
	if err := writeCharts(dir, r); err != nil {
		// A warning, not a failure: the summaries are rewritten to say so
		// and to link no image that was not drawn.
		r.ChartError = err.Error()
		return r.write(dir, false)
	}
	return nil
}

// ReadReport reads a summary.json.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	return &r, nil
}

// Rebuild rebuilds summary.json, summary.md and the charts of a load run
// directory from its samples.csv (and concurrency.csv when present). How
// the run was made (target, URLs, thresholds, cost assumptions, whether it
// was interrupted) is kept from the summary.json already there, if any.
// Crossed thresholds are recorded in the summary, not returned as an error.
//
// A last line cut short (a run killed while writing it) is skipped, with a
// warning written to warn; any other damage in samples.csv is an error
// naming the file and line, and then nothing in dir is changed.
func Rebuild(dir string, warn io.Writer) error { return rebuild(dir, true, warn) }

func rebuild(dir string, charts bool, warn io.Writer) error {
	path := filepath.Join(dir, SamplesFile)
	f, err := openSamples(path)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", dir, err)
	}
	defer f.Close()
	if w := f.Warning(); w != "" && warn != nil {
		fmt.Fprintln(warn, w)
	}
	m := NewMetrics()
	var first time.Time // when the run started, from its samples
	dec := NewCSVDecoder(bufio.NewReaderSize(f, 1<<20))
	for {
		var r Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return &results.DamagedError{Path: path, Err: err}
		}
		if first.IsZero() || r.Time.Add(-r.Elapsed).Before(first) {
			first = r.Time.Add(-r.Elapsed)
		}
		m.Add(&r)
	}
	m.Close()
	rep := &Report{}
	sumPath := filepath.Join(dir, SummaryJSONFile)
	if old, err := ReadReport(sumPath); err == nil {
		rep.Run, rep.Partial = old.Run, old.Partial
	} else {
		// Rebuild from the samples all the same, and say what they cannot tell.
		why := "missing"
		if !errors.Is(err, fs.ErrNotExist) {
			why = fmt.Sprintf("damaged (%v)", err)
			if rerr := os.Rename(sumPath, sumPath+".damaged"); rerr != nil {
				return fmt.Errorf("rebuild %s: keep the damaged %s: %w", dir, SummaryJSONFile, rerr)
			}
			why += "; kept as " + SummaryJSONFile + ".damaged"
		}
		rep.Run = RunInfo{Target: "unknown", Started: first.UTC().Truncate(time.Second)}
		if warn != nil {
			fmt.Fprintf(warn, "warning: %s is %s: rebuilt from %s; the start time comes from the first sample, "+
				"and these settings could not be recovered: target, stack, region, URLs, timeout, max in flight, "+
				"thresholds, cost inputs (architecture, prices, LMI instances), notes, and whether the run was interrupted\n",
				sumPath, why, SamplesFile)
		}
	}
	if rep.Partial {
		m.MarkPartial()
	}
	rep.Scenarios = m.Summaries(EndpointOrder)
	if len(rep.Scenarios) == 0 {
		return fmt.Errorf("rebuild %s: %s has no samples", dir, SamplesFile)
	}
	conc, err := readConcurrency(filepath.Join(dir, ConcurrencyFile))
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", dir, err)
	}
	for i := range rep.Scenarios {
		rep.Scenarios[i].Concurrency = conc[rep.Scenarios[i].Name]
	}
	host, err := hostload.ReadFile(filepath.Join(dir, hostload.File))
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", dir, err)
	}
	applyHost(rep.Scenarios, host)
	if err := rep.finish(); err != nil && !errors.Is(err, threshold.ErrCrossed) {
		return fmt.Errorf("rebuild %s: %w", dir, err)
	}
	if err := rep.write(dir, charts); err != nil {
		return fmt.Errorf("rebuild %s: %w", dir, err)
	}
	rep.warnCharts(warn)
	return nil
}

// warnCharts prints the warning of charts that could not be drawn, if any.
func (r *Report) warnCharts(w io.Writer) {
	if r.ChartError != "" && w != nil {
		fmt.Fprintf(w, "warning: charts not drawn: %s (the results are kept; `bench report DIR` draws them later)\n", r.ChartError)
	}
}

// Markdown writes the report as summary.md: per scenario the table
// per stage and over all stages, the cost estimate, the threshold checks and
// the charts.
func (r *Report) Markdown(w io.Writer) error {
	bw := &errWriter{w: w}
	bw.printf("# Load test")
	if r.Partial {
		bw.printf(" (PARTIAL: interrupted)")
	}
	bw.printf("\n\n")
	if r.Run.Target != "" {
		bw.printf("Target: %s", r.Run.Target)
		if r.Run.Stack != "" {
			bw.printf(", stack %s", r.Run.Stack)
		}
		if r.Run.Region != "" {
			bw.printf(", region %s", r.Run.Region)
		}
		bw.printf(". Started %s", r.Run.Started.UTC().Format(time.RFC3339))
		if r.Run.Generator != "" {
			bw.printf(" from %s", r.Run.Generator)
		}
		bw.printf(".\n\n")
	}
	if r.Partial {
		bw.printf("**The run was interrupted: the figures cover what was measured until then.**\n\n")
	}
	for _, w := range r.warnings() {
		bw.printf("**%s**\n\n", w)
	}
	for _, sc := range r.Scenarios {
		bw.printf("## %s", sc.Name)
		if sc.Query != "" {
			bw.printf(" (`%s`)", sc.Query)
		}
		bw.printf("\n\n")
		unit := "VUs"
		if sc.Model == Open {
			unit = "requests/s"
		}
		bw.printf("%s model, stages `%s` (%s per endpoint), %.0f s. Latencies in ms; error %% = non-2xx, network errors, function errors and dropped requests over requests attempted (sent + dropped).",
			titleCase(string(sc.Model)), sc.Stages, unit, sc.DurationS)
		if sc.Model == Open {
			bw.printf(" Latency runs from each request's due time; lag = how late the generator sent it (its own share of the latency).")
		} else {
			bw.printf(" Closed model: a virtual user waits for each answer before sending the next, so a stall delays the requests that would have been sent meanwhile and hides them from the percentiles (coordinated omission); use --rate (open model) to see stalls.")
		}
		if sc.InTurn {
			bw.printf(" The endpoints were loaded one after another, not at once, so that they did not compete for this machine's cores.")
		}
		bw.printf("\n\n")
		bw.table(loadTable(sc))
		bw.printf("\n")
		if hb := hostBoundEndpoints(&sc); hb != "" {
			bw.printf("**%s** (%s of the time): this machine's CPU was over %.0f%% busy while environments ran invocations, so they competed for its cores (with each other, or with the machine's other processes).\n\n",
				hostload.HostBoundNote, hb, 100*hostload.DefaultThreshold)
		} else if hasHost(sc) {
			bw.printf("Host: not saturated (host column: share of seconds this machine's CPU was saturated).\n\n")
		}
		if ct := costTable(sc); ct != nil {
			bw.printf("Cost of this traffic on AWS (%s prices):\n\n", costRegion(r))
			bw.table(ct)
			bw.printf("\n")
		}
		if !r.NoCharts {
			bw.printf("![%s](%s)\n\n", sc.Name, panelFile(sc.Name))
			if len(sc.Concurrency) > 0 {
				bw.printf("Concurrency (%s): ![%s concurrency](%s)\n\n", sc.Concurrency[0].Source, sc.Name, concurrencyFile(sc.Name))
			}
		}
	}
	if len(r.Generators) > 0 {
		r.generatorsMarkdown(bw)
	}
	switch {
	case r.ChartError != "":
		bw.printf("Warning: charts not drawn (%s); `bench report DIR` draws them from samples.csv.\n\n", r.ChartError)
	case r.NoCharts && len(r.Generators) == 0:
		bw.printf("Charts not drawn (--no-charts): `go run ./bench report DIR` draws them from samples.csv.\n\n")
	}
	if notes := costNotes(r); len(notes) > 0 {
		bw.printf("Cost basis:\n\n")
		for _, n := range notes {
			bw.printf("- %s\n", n)
		}
		bw.printf("\n")
	}
	if len(r.Checks) > 0 {
		bw.printf("## Thresholds\n\n")
		rows := [][]string{{"threshold", "subject", "actual", "result"}}
		for _, c := range r.Checks {
			res := "pass"
			if !c.Passed {
				res = "**FAIL**"
			}
			act := fmt.Sprintf("%.1f ms", c.Actual)
			switch c.Metric {
			case "error_rate":
				act = fmt.Sprintf("%.2f%%", 100*c.Actual)
			case "dropped":
				act = fmt.Sprintf("%.0f", c.Actual)
			}
			rows = append(rows, []string{"`" + c.Threshold + "`", c.Subject, act, res})
		}
		bw.table(rows)
		bw.printf("\n")
	}
	for _, n := range r.Run.Notes {
		bw.printf("Note: %s\n", n)
	}
	return bw.err
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func costRegion(r *Report) string {
	if p := r.Run.Cost.Prices; p != nil && p.Region != "" {
		return p.Region
	}
	return "us-east-1"
}

func costNotes(r *Report) []string {
	var notes []string
	for _, sc := range r.Scenarios {
		for _, e := range sc.Endpoints {
			if e.Cost != nil {
				notes = appendOnce(notes, e.Cost.Kind+": "+e.Cost.Basis)
			}
		}
	}
	return notes
}

// loadTable is the console table, one row per endpoint and stage,
// then the totals.
func loadTable(sc ScenarioSummary) [][]string {
	fnErr := false
	for _, e := range sc.Endpoints {
		fnErr = fnErr || e.Total.FunctionErrors > 0
	}
	head := []string{"stage", "endpoint", "requests", "req/s", "4xx", "429", "5xx", "net err"}
	if fnErr {
		head = append(head, "fn err")
	}
	head = append(head, "dropped", "error %", "avg", "p50", "p90", "p95", "p99", "p99.9", "max")
	if sc.Model == Open {
		head = append(head, "lag p50", "lag p99")
	}
	head = append(head, "cold")
	host := hasHost(sc)
	if host {
		head = append(head, "host")
	}
	rows := [][]string{head}
	row := func(stage string, e string, s StageSummary) []string {
		l := s.Latency
		out := []string{
			stage, e, fmt.Sprint(s.Requests), fmt.Sprintf("%.1f", s.Throughput),
			fmt.Sprint(s.Status4xx), fmt.Sprint(s.Status429), fmt.Sprint(s.Status5xx), fmt.Sprint(s.NetworkErrors),
		}
		if fnErr {
			out = append(out, fmt.Sprint(s.FunctionErrors))
		}
		out = append(out, fmt.Sprint(s.Dropped), fmt.Sprintf("%.2f", s.ErrorRate),
			ms(l.Mean), ms(l.P50), ms(l.P90), ms(l.P95), ms(l.P99), ms(l.P999), ms(l.Max))
		if sc.Model == Open {
			out = append(out, lagMs(s.SendLag.P50), lagMs(s.SendLag.P99))
		}
		out = append(out, fmt.Sprint(s.ColdStarts))
		if host {
			out = append(out, hostColumn(s))
		}
		return out
	}
	nStages := 0
	for _, e := range sc.Endpoints {
		nStages = max(nStages, len(e.Stages))
	}
	for i := 0; i < nStages; i++ {
		for _, e := range sc.Endpoints {
			if i < len(e.Stages) {
				s := e.Stages[i]
				if s.Requests+s.Dropped == 0 && strings.HasSuffix(s.Label, " 0s") {
					continue // a 0s stage is an instant jump: it owns no time
				}
				rows = append(rows, row(fmt.Sprintf("%d: %s", s.Stage, s.Label), e.Endpoint, s))
			}
		}
	}
	for _, e := range sc.Endpoints {
		rows = append(rows, row("**all**", e.Endpoint, e.Total))
	}
	return rows
}

func ms(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 1000:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// lagMs formats a send lag: to the µs, as it is measured.
func lagMs(v float64) string { return fmt.Sprintf("%.3f", v) }

// costTable prices every endpoint; an endpoint whose cost model is not
// known says so.
func costTable(sc ScenarioSummary) [][]string {
	rows := [][]string{{"endpoint", "kind", "billed requests", "GB-s", "instance-hours", "compute $", "instances $", "fee $", "requests $", "total $", "$ per 1M"}}
	for _, e := range sc.Endpoints {
		c := e.Cost
		if c == nil {
			rows = append(rows, []string{e.Endpoint, UnknownTarget + " (--cost-model prices it)", "-", "-", "-", "-", "-", "-", "-", "-", "-"})
			continue
		}
		kind := fmt.Sprintf("standard %d MB %s", c.MemoryMB, c.Arch)
		if c.Kind == "lmi" {
			kind = fmt.Sprintf("LMI %g × %s", c.Instances, c.InstanceType)
		}
		b := c.Bill
		rows = append(rows, []string{
			e.Endpoint, kind, fmt.Sprintf("%.0f", b.Requests), fmt.Sprintf("%.2f", b.GBSeconds), fmt.Sprintf("%.4f", b.InstanceHours),
			usd(b.ComputeUSD), usd(b.InstanceUSD), usd(b.ManagementFeeUSD), usd(b.RequestUSD), usd(b.TotalUSD), fmt.Sprintf("%.2f", c.PerMillionUSD),
		})
	}
	return rows
}

// warnings are said at the top of summary.md: every request failed,
// requests dropped, a generator that could not keep up.
func (r *Report) warnings() []string {
	var out []string
	if len(r.GeneratorWindows) > 1 {
		out = append(out, r.windowWarnings()...)
	} else {
		for _, g := range r.Generators {
			switch g.Status {
			case GenMissing:
				out = append(out, fmt.Sprintf("Generator %d failed (%s): its share of the load (%.1f%%) is MISSING from every figure below.", g.Generator, g.Error, 100*g.Share))
			case GenPartial:
				out = append(out, fmt.Sprintf("Generator %d stopped before the end of its profile: its share of the load (%.1f%%) is only partly counted.", g.Generator, 100*g.Share))
			}
			if g.FellBehind {
				out = append(out, fmt.Sprintf("Generator %d fell behind: send lag p99 %.3f ms, max %.3f ms; latencies include this lag. Use more generators or a lower rate.", g.Generator, g.SendLagP99Ms, g.SendLagMaxMs))
			}
		}
	}
	if att, failed := r.Failures(); att > 0 && failed == att {
		out = append(out, fmt.Sprintf("Every one of the %d requests failed.", att))
	}
	for _, sc := range r.Scenarios {
		for _, e := range sc.Endpoints {
			t := e.Total
			if t.Dropped > 0 {
				out = append(out, fmt.Sprintf("%s/%s: %d of %d requests dropped (more than --max-in-flight due at once, or due beyond the timeout): counted as failed.",
					sc.Name, e.Endpoint, t.Dropped, t.Requests+t.Dropped))
			}
			if sc.Model == Open && t.LagWarning() {
				out = append(out, fmt.Sprintf("%s/%s: the generator could not keep up: send lag p99 %.3f ms (over 1 ms or 1%% of latency p50 %s ms); latencies include this lag. Use fewer endpoints, a lower rate or a bigger machine.",
					sc.Name, e.Endpoint, t.SendLag.P99, ms(t.Latency.P50)))
			}
		}
	}
	return out
}

func usd(v float64) string { return fmt.Sprintf("%.6f", v) }

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// table writes rows as a Markdown table with aligned columns (readable as
// plain text too); the first row is the header.
func (e *errWriter) table(rows [][]string) {
	if len(rows) == 0 {
		return
	}
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range r {
			pad := width[i] - len([]rune(c))
			if i >= 2 { // numbers right-aligned
				b.WriteString(" " + strings.Repeat(" ", pad) + c + " |")
			} else {
				b.WriteString(" " + c + strings.Repeat(" ", pad) + " |")
			}
		}
		e.printf("%s\n", b.String())
	}
	line(rows[0])
	cells := make([]string, len(width))
	for i, w := range width {
		if i >= 2 {
			cells[i] = strings.Repeat("-", w+1) + ":"
		} else {
			cells[i] = strings.Repeat("-", w+2)
		}
	}
	e.printf("|%s|\n", strings.Join(cells, "|"))
	for _, r := range rows[1:] {
		line(r)
	}
}

// generatorsMarkdown writes the per-generator table (a row per generator
// and window when the run was chained over several windows) and what the
// generators cost.
func (r *Report) generatorsMarkdown(bw *errWriter) {
	gens := map[int]bool{}
	for _, g := range r.Generators {
		gens[g.Generator] = true
	}
	bw.printf("## Generators\n\n")
	head := "generator"
	if nw := len(r.GeneratorWindows); nw > 1 {
		head = "generator, window"
		w := r.GeneratorWindows[0].To - r.GeneratorWindows[0].From
		bw.printf("%d generators sent the load, each its share, in %d windows of up to %s chained back to back: every generator was invoked once per window, all of a window's invocations starting at the same time; the figures above merge the histograms of every generator and window exactly. One row per generator and window (its offsets from the run's start); start lag = how late the invocation began after its window's start; send lag over all its endpoints.\n\n",
			len(gens), nw, shortDuration(w))
	} else {
		bw.printf("%d generators sent the load, each its share, all starting at the same time; the figures above merge their histograms exactly. Start lag = how late a generator began after the common start; send lag over all its endpoints.\n\n", len(gens))
	}
	rows := [][]string{{head, "function", "status", "share", "requests", "dropped", "start lag ms", "send lag p99 ms", "send lag max ms", "billed ms", "cost USD"}}
	var total, billed float64
	for _, g := range r.Generators {
		st := g.Status
		if g.FellBehind {
			st += ", fell behind"
		}
		who := fmt.Sprint(g.Generator)
		if len(r.GeneratorWindows) > 1 {
			who += fmt.Sprintf(", %d (%s)", g.Window, windowSpan(g))
		}
		rows = append(rows, []string{who, g.Function, st, fmt.Sprintf("%.1f%%", 100*g.Share),
			fmt.Sprint(g.Requests), fmt.Sprint(g.Dropped), lagMs(g.StartLagMs), lagMs(g.SendLagP99Ms), lagMs(g.SendLagMaxMs),
			fmt.Sprintf("%.0f", g.BilledMs), usd(g.CostUSD)})
		total += g.CostUSD
		billed += g.BilledMs
	}
	bw.table(rows)
	bw.printf("\n")
	if c := r.GeneratorCost; c != nil && c.MemoryMB > 0 {
		per := ""
		if len(r.GeneratorWindows) > 1 {
			per = " (one per invocation)"
		}
		bw.printf("The generators themselves cost %s USD on AWS (%s prices): %.0f ms billed in all at %d MB %s, plus %d requests%s.\n\n",
			usd(total), costRegion(r), billed, c.MemoryMB, c.Arch, len(r.Generators), per)
	}
}

// windowWarnings are the generators' warnings of a run chained over
// several windows: one line per generator and kind, naming the windows.
func (r *Report) windowWarnings() []string {
	var out []string
	for i := 0; i < len(r.Generators); {
		j := i
		for j < len(r.Generators) && r.Generators[j].Generator == r.Generators[i].Generator {
			j++
		}
		var missing, partial, behind []string
		var p99, mx float64
		for _, g := range r.Generators[i:j] {
			w := fmt.Sprintf("%d (%s)", g.Window, windowSpan(g))
			switch g.Status {
			case GenMissing:
				missing = append(missing, w+": "+g.Error)
			case GenPartial:
				partial = append(partial, w)
			}
			if g.FellBehind {
				behind = append(behind, w)
				p99, mx = max(p99, g.SendLagP99Ms), max(mx, g.SendLagMaxMs)
			}
		}
		g := r.Generators[i]
		windows := func(ws []string) string {
			if len(ws) == 1 {
				return "window " + ws[0]
			}
			return "windows " + strings.Join(ws, "; ")
		}
		if len(missing) > 0 {
			out = append(out, fmt.Sprintf("Generator %d failed in %s: its share of the load in that time (%.1f%%) is MISSING from every figure below.",
				g.Generator, windows(missing), 100*g.Share))
		}
		if len(partial) > 0 {
			out = append(out, fmt.Sprintf("Generator %d stopped before the end of %s: its share of the load in that time (%.1f%%) is only partly counted.",
				g.Generator, windows(partial), 100*g.Share))
		}
		if len(behind) > 0 {
			out = append(out, fmt.Sprintf("Generator %d fell behind in %s: send lag p99 up to %.3f ms, max %.3f ms; latencies include this lag. Use more generators or a lower rate.",
				g.Generator, windows(behind), p99, mx))
		}
		i = j
	}
	return out
}

// windowSpan is a generator row's window as offsets from the run's start:
// "14m–28m".
func windowSpan(g GeneratorRow) string {
	d := func(s float64) string {
		return shortDuration(time.Duration(s * float64(time.Second)).Round(time.Millisecond))
	}
	return d(g.WindowFromS) + "–" + d(g.WindowToS)
}
