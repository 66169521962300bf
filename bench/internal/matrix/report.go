package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/stats"
)

// Meta describes how a run was made; it travels in summary.json so that a
// rebuild from samples.csv says the same things.
type Meta struct {
	Kind         string    `json:"kind,omitempty"` // matrix (default) | tune
	Target       string    `json:"target"`         // local | aws
	Stack        string    `json:"stack,omitempty"`
	Started      time.Time `json:"started"`
	Payload      string    `json:"payload"`
	Cold         int       `json:"cold"`
	Runs         int       `json:"runs"`
	Parallel     int       `json:"parallel_invocations"`
	Trim         float64   `json:"trim"`
	Strategy     string    `json:"strategy"`
	Weight       float64   `json:"balanced_weight"`
	HostCores    int       `json:"host_cores,omitempty"`    // local target: the cap on vCPUs
	Confinement  string    `json:"confinement,omitempty"`   // local target: how CPU shares were enforced
	PricesSource string    `json:"prices_source,omitempty"` // file the prices came from; "" = built in

	// ColdShare is the share of invocations priced as cold starts in
	// Result.CostPerMillion (0 = warm invocations only).
	ColdShare float64 `json:"cold_share,omitempty"`
	// AllowedErrors is how many failed invocations a configuration may have
	// and still take part in the verdict (nil = any number).
	AllowedErrors *int `json:"allowed_errors,omitempty"`
	// AllowedErrorTypes are function error types (errorType) whose
	// failures never count against AllowedErrors (Power Tuning's
	// allowedExceptions).
	AllowedErrorTypes []string `json:"allowed_error_types,omitempty"`
	// Tune describes what a tune run tuned (nil for matrix runs).
	Tune *TuneMeta `json:"tune,omitempty"`
}

// TuneMeta describes the function a tune run measured.
type TuneMeta struct {
	Function string   `json:"function"`           // name or ARN
	Endpoint string   `json:"endpoint,omitempty"` // Lambda API endpoint ("" = AWS)
	Source   string   `json:"source,omitempty"`   // --source folder or --binary path (local)
	Handler  string   `json:"handler,omitempty"`
	Archs    []string `json:"architectures"`
	Payloads []string `json:"payloads,omitempty"` // names of a weighted list
	OnlyCold bool     `json:"only_cold,omitempty"`
	// PowerTuningStats adds every configuration's figures to the Power
	// Tuning result objects (Power Tuning's includeOutputResults).
	PowerTuningStats bool `json:"power_tuning_stats,omitempty"`
	// ParallelConfigs is how many configurations were measured at once
	// (0 or 1: one after another).
	ParallelConfigs int `json:"parallel_configs,omitempty"`
}

// Verdict is the configuration the chosen strategy picks.
type Verdict struct {
	Strategy string         `json:"strategy"`
	Weight   float64        `json:"balanced_weight,omitempty"`
	Choice   cost.Candidate `json:"choice"`
	Why      string         `json:"why"`
}

// Summary is summary.json: the run, every configuration, and the verdict.
type Summary struct {
	Kind    string          `json:"kind"` // "matrix"
	Meta    Meta            `json:"meta"`
	Partial bool            `json:"partial"` // the run was interrupted
	Prices  cost.PriceTable `json:"prices"`
	Results []Result        `json:"results"`
	Verdict *Verdict        `json:"verdict,omitempty"`
	Pareto  []string        `json:"pareto_front"` // functions no other configuration beats on both cost and duration
	Notes   []string        `json:"notes"`
	// PowerTuning is, for a tune run, AWS Lambda Power Tuning's result
	// object per architecture (the strategy applied to its configurations
	// alone), with its visualization link.
	PowerTuning map[string]*PowerTuningResult `json:"power_tuning,omitempty"`
}

// Build summarises samples into a Summary.
func Build(samples []Sample, meta Meta, prices cost.PriceTable, partial bool) (Summary, error) {
	var priceErr error
	price := func(arch string, mem int, billed []float64) float64 {
		b, err := prices.Standard(arch, mem, billed)
		if err != nil {
			priceErr = err
			return 0
		}
		return b.PerMillion()
	}
	kind := meta.Kind
	if kind == "" {
		kind = "matrix"
	}
	s := Summary{Kind: kind, Meta: meta, Partial: partial, Prices: prices}
	if meta.Tune != nil && meta.Tune.OnlyCold {
		samples = coldAsDuration(samples)
	}
	s.Results = Summarize(samples, meta.Trim, price)
	if priceErr != nil {
		return s, fmt.Errorf("price the results: %w", priceErr)
	}
	var cands []cost.Candidate
	for i := range s.Results {
		r := &s.Results[i]
		if !r.Measured() {
			continue
		}
		if meta.ColdShare > 0 && r.ColdCostPerMillion > 0 {
			r.CostPerMillion = (1-meta.ColdShare)*r.WarmCostPerMillion + meta.ColdShare*r.ColdCostPerMillion
		}
		if meta.AllowedErrors != nil && r.Failures-allowedFailures(samples, *r, meta.AllowedErrorTypes) > *meta.AllowedErrors {
			r.Excluded = fmt.Sprintf("%d failed invocations, more than --allowed-errors %d", r.Failures, *meta.AllowedErrors)
			if len(meta.AllowedErrorTypes) > 0 {
				r.Excluded += " beside the allowed error types " + strings.Join(meta.AllowedErrorTypes, ", ")
			}
			continue
		}
		cands = append(cands, cost.Candidate{Name: s.NameOf(*r), Arch: r.Arch, MemoryMB: r.MemoryMB, DurationMs: r.Duration(), CostPerMillion: r.CostPerMillion})
	}
	if len(cands) > 0 {
		strategy, err := cost.ParseStrategy(meta.Strategy)
		if err != nil {
			return s, err
		}
		choice, err := cost.Choose(cands, strategy, meta.Weight)
		if err != nil {
			return s, fmt.Errorf("verdict: %w", err)
		}
		s.Verdict = &Verdict{Strategy: string(strategy), Choice: choice, Why: why(strategy, meta.Weight)}
		if strategy == cost.StrategyBalanced {
			s.Verdict.Weight = meta.Weight
		}
		for _, c := range cost.ParetoFront(cands) {
			s.Pareto = append(s.Pareto, c.Name)
		}
		if kind == "tune" {
			s.PowerTuning = powerTuning(s, strategy, meta.Weight, meta.Tune != nil && meta.Tune.PowerTuningStats)
		}
	}
	s.Notes = notes(s)
	return s, nil
}

// allowedFailures counts r's failed invocations whose function error type
// is one of types.
func allowedFailures(samples []Sample, r Result, types []string) int {
	n := 0
	if len(types) == 0 {
		return 0
	}
	for _, s := range samples {
		if s.OK || s.derived || s.Arch != r.Arch || s.MemoryMB != r.MemoryMB || s.Function != r.Function || (s.Kind != KindCold && s.Kind != KindWarm) {
			continue
		}
		for _, t := range types {
			if strings.Contains(s.Error, "): "+t+": ") {
				n++
				break
			}
		}
	}
	return n
}

func why(s cost.Strategy, w float64) string {
	switch s {
	case cost.StrategyCost:
		return "lowest cost per 1M invocations"
	case cost.StrategySpeed:
		return "lowest trimmed mean warm duration"
	}
	return fmt.Sprintf("lowest %.2f × cost/max cost + %.2f × duration/max duration (trimmed means)", w, 1-w)
}

func notes(s Summary) []string {
	var out []string
	n := 0
	for _, r := range s.Results {
		if r.Measured() && (n == 0 || r.Warm.N < n) {
			n = r.Warm.N
		}
	}
	if n > 0 {
		var same, need []string
		for _, p := range []float64{95, 99, 99.9} {
			if !stats.DistinctFromMax(n, p) {
				same = append(same, "P"+trimFloat(p))
				need = append(need, fmt.Sprintf("P%s ≥ %d", trimFloat(p), stats.MinSamples(p)))
			}
		}
		if len(same) > 0 {
			out = append(out, fmt.Sprintf("With %d warm samples per configuration, %s equal the slowest sample (a percentile needs enough samples to differ from the maximum: %s).", n, strings.Join(same, ", "), strings.Join(need, ", ")))
		}
	}
	var throttled []string
	for _, r := range s.Results {
		if r.Throttled() {
			throttled = append(throttled, fmt.Sprintf("%s (p50 %s, p95 %s, mean %s, trimmed mean %s ms)",
				r.Label(), ms(r.Warm.P50), ms(r.Warm.P95), ms(r.Warm.Mean), ms(r.Warm.TrimmedMean)))
		}
	}
	if len(throttled) > 0 {
		out = append(out, fmt.Sprintf("Shaped by CPU throttling: %s. With less than one vCPU a run that uses up its share of a throttling period waits for the next one, so p95 is over 3× p50; the trimmed mean the verdict uses drops those runs and hides it — compare the mean.",
			strings.Join(throttled, "; ")))
	}
	saidArch := map[string]bool{}
	for _, r := range s.Results {
		switch {
		case r.Skip != "":
			if why, all := AllSkipped(s.Results, r.Arch); all {
				if !saidArch[r.Arch] {
					out = append(out, fmt.Sprintf("%s: not measured — %s.", r.Arch, why))
					saidArch[r.Arch] = true
				}
				continue
			}
			out = append(out, fmt.Sprintf("%s: not measured — %s.", r.Label(), r.Skip))
		case !r.Measured() && r.FirstError != "":
			out = append(out, fmt.Sprintf("%s: every invocation failed — %s", r.Label(), r.FirstError))
		case r.Failures > 0:
			out = append(out, fmt.Sprintf("%s: %d of %d invocations failed — first: %s", r.Label(), r.Failures, r.Invocations, r.FirstError))
		}
		if r.Measured() && s.Meta.Cold > 0 && r.ColdSeen < s.Meta.Cold {
			out = append(out, fmt.Sprintf("%s: %d of %d forced cold starts reported an Init Duration.", r.Label(), r.ColdSeen, s.Meta.Cold))
		}
	}
	if note := batchNote(s); note != "" && s.Kind != "tune" {
		out = append(out, note)
	}
	if s.Meta.Target == "local" && s.Meta.HostCores > 0 {
		if s.Kind == "tune" {
			out = append(out, fmt.Sprintf("Local target: each environment gets the vCPUs its memory buys, capped at this machine's %d cores (%s); these are this machine's durations, not Lambda's.", s.Meta.HostCores, orWord(s.Meta.Confinement, "confinement unknown")))
		} else {
			out = append(out, fmt.Sprintf("Local target: each environment gets the vCPUs its memory buys, capped at this machine's %d cores (%s); speedup is measured against that capped share.", s.Meta.HostCores, orWord(s.Meta.Confinement, "confinement unknown")))
		}
	}
	if s.Meta.Tune != nil && s.Meta.Tune.OnlyCold {
		out = append(out, "Cold starts only (--runs 0): the duration columns are each forced cold start's Duration + Init Duration (Power Tuning's onlyColdStarts).")
	}
	if s.Partial {
		out = append(out, "The run was interrupted: this summary covers only what was measured.")
	}
	return out
}

// batchNote says when the batch size caps the speedup: count items over w
// workers take ceil(count/w) rounds, so 20 items on 6 workers give at most 5×.
func batchNote(s Summary) string {
	var req struct {
		Count int `json:"count"`
	}
	if json.Unmarshal([]byte(s.Meta.Payload), &req) != nil || req.Count <= 0 {
		return ""
	}
	var caps []string
	for _, r := range s.Results {
		if !r.Measured() || r.Workers <= 1 {
			continue
		}
		rounds := (req.Count + r.Workers - 1) / r.Workers
		if best := float64(req.Count) / float64(rounds); best < float64(r.Workers)-1e-9 {
			caps = append(caps, fmt.Sprintf("%d workers at most %.2f×", r.Workers, best))
		}
	}
	if len(caps) == 0 {
		return ""
	}
	slices.Sort(caps)
	caps = slices.Compact(caps)
	return fmt.Sprintf("A batch of %d items does not split evenly over every pool: %s (ceil(%d ÷ workers) rounds of hashing).", req.Count, strings.Join(caps, ", "), req.Count)
}

func orWord(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", f), "0"), ".")
}

// WriteJSON writes summary.json.
func (s Summary) WriteJSON(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// ReadSummary reads a summary.json.
func ReadSummary(path string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read summary: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// WriteMarkdown writes the human-readable report: the bcrypt matrix's tables plus
// percentiles, cold starts and the verdict.
func (s Summary) WriteMarkdown(w io.Writer) error {
	if s.Kind == "tune" {
		return s.writeTuneMarkdown(w)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Matrix benchmark — %s target\n\n", s.Meta.Target)
	if s.Partial {
		b.WriteString("> **Partial**: the run was interrupted; these tables cover what was measured.\n\n")
	}
	fmt.Fprintf(&b, "Started %s · payload `%s` · %d forced cold start(s) and %d warm invocation(s) per configuration",
		s.Meta.Started.UTC().Format("2006-01-02 15:04 MST"), s.Meta.Payload, s.Meta.Cold, s.Meta.Runs)
	if s.Meta.Parallel > 1 {
		fmt.Fprintf(&b, ", %d at a time", s.Meta.Parallel)
	}
	b.WriteString(".\nDurations are Lambda's REPORT Duration in ms (the handler's own where there was none).\n\n")

	archs := s.archs()
	for _, arch := range archs {
		fmt.Fprintf(&b, "## %s — warm processing\n\n", arch)
		if why, all := AllSkipped(s.Results, arch); all {
			fmt.Fprintf(&b, "Not measured: %s.\n\n", why)
			continue
		}
		host := s.hasHost()
		if host {
			b.WriteString("| Memory | vCPUs | Workers | Mean | Trimmed | P50 | P90 | P95 | P99 | Max | Speedup | Ideal | Efficiency | Parallelism | Threads | CPUs seen | Host |\n")
			b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		} else {
			b.WriteString("| Memory | vCPUs | Workers | Mean | Trimmed | P50 | P90 | P95 | P99 | Max | Speedup | Ideal | Efficiency | Parallelism | Threads | CPUs seen |\n")
			b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		}
		for _, r := range s.Results {
			if r.Arch != arch {
				continue
			}
			if !r.Measured() {
				fmt.Fprintf(&b, "| %d MB | %.2f | %d | %s |||||||||||||\n", r.MemoryMB, r.VCPUs, r.Workers, notMeasured(r))
				continue
			}
			w := r.Warm
			fmt.Fprintf(&b, "| %d MB | %.2f | %d | %s | %s | %s | %s | %s | %s | %s | %.2f× | %.2f× | %.0f%% | %.2f | %.0f | %.0f |",
				r.MemoryMB, r.VCPUs, r.Workers, ms(w.Mean), ms(w.TrimmedMean), ms(w.P50), ms(w.P90), ms(w.P95), ms(w.P99), ms(w.Max),
				r.Speedup, r.IdealSpeedup, r.Efficiency*100, r.Parallelism, r.ThreadsUsed, r.DetectedCPUs)
			if host {
				fmt.Fprintf(&b, " %s |", hostCell(r))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}

	b.WriteString("## Cold starts\n\n| Configuration | Cold starts | Init P50 | Init max | Cold round trip P50 | Warm round trip P50 |\n|---|---:|---:|---:|---:|---:|\n")
	for _, r := range s.Results {
		if !r.Measured() {
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", r.Label(), r.ColdSeen, msOrDash(r.ColdInit.P50, r.ColdInit.N), msOrDash(r.ColdInit.Max, r.ColdInit.N),
			msOrDash(r.ColdTotal.P50, r.ColdTotal.N), msOrDash(r.RoundTrip.P50, r.RoundTrip.N))
	}

	fmt.Fprintf(&b, "\n## Cost per 1M invocations\n\n%s prices of %s (%s): billed duration × memory × GB-second price + $%.2f per 1M requests.\n\n",
		s.Prices.Region, s.Prices.Date, orWord(s.Meta.PricesSource, "built in"), s.Prices.RequestPerMillion)
	b.WriteString("| Configuration | Billed mean | Cost per 1M | vs cheapest | Pareto |\n|---|---:|---:|---:|:---:|\n")
	cheapest := s.cheapestCost()
	for _, r := range s.Results {
		if !r.Measured() {
			continue
		}
		mark := ""
		if slices.Contains(s.Pareto, s.NameOf(r)) {
			mark = "✓"
		}
		fmt.Fprintf(&b, "| %s | %s | $%.2f | %+.0f%% | %s |\n", r.Label(), ms(r.Billed.Mean), r.CostPerMillion, (r.CostPerMillion/cheapest-1)*100, mark)
	}

	if s.measuredArchs() > 1 {
		b.WriteString("\n## arm64 vs x86_64\n\n| Memory | arm64 mean | x86_64 mean | x86_64 vs arm64 | arm64 $/1M | x86_64 $/1M |\n|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range s.Results {
			if r.Arch != "x86_64" || !r.Measured() {
				continue
			}
			for _, a := range s.Results {
				if a.Arch == "arm64" && a.MemoryMB == r.MemoryMB && a.Measured() {
					fmt.Fprintf(&b, "| %d MB | %s | %s | %+.1f%% | $%.2f | $%.2f |\n", r.MemoryMB, ms(a.Warm.Mean), ms(r.Warm.Mean), r.ArchDelta*100, a.CostPerMillion, r.CostPerMillion)
				}
			}
		}
	}

	b.WriteString("\n## Verdict\n\n")
	if s.Verdict == nil {
		b.WriteString("No configuration was measured, so there is no verdict.\n")
	} else {
		v := s.Verdict
		fmt.Fprintf(&b, "**%s %d MB** (`%s`) — strategy `%s`: %s. Trimmed mean %s, $%.2f per 1M invocations.\n",
			v.Choice.Arch, v.Choice.MemoryMB, v.Choice.Name, v.Strategy, v.Why, ms(v.Choice.DurationMs), v.Choice.CostPerMillion)
	}
	if len(s.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// measuredArchs counts the architectures with at least one measured configuration.
func (s Summary) measuredArchs() int {
	seen := map[string]bool{}
	for _, r := range s.Results {
		if r.Measured() {
			seen[r.Arch] = true
		}
	}
	return len(seen)
}

func (s Summary) archs() []string {
	var out []string
	for _, r := range s.Results {
		if !slices.Contains(out, r.Arch) {
			out = append(out, r.Arch)
		}
	}
	return out
}

// AllSkipped reports whether every configuration of arch was skipped for
// one and the same reason, and that reason.
func AllSkipped(results []Result, arch string) (string, bool) {
	why := ""
	for _, r := range results {
		if r.Arch != arch {
			continue
		}
		if r.Skip == "" || (why != "" && r.Skip != why) {
			return "", false
		}
		why = r.Skip
	}
	return why, why != ""
}

func notMeasured(r Result) string {
	if r.Skip != "" {
		return "not measured: " + r.Skip
	}
	return "failed: " + strings.ReplaceAll(r.FirstError, "|", "/")
}

func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func msOrDash(v float64, n int) string {
	if n == 0 {
		return "—"
	}
	return ms(v)
}

// WriteFiles writes summary.json and summary.md into dir.
func (s Summary) WriteFiles(dir string) error {
	if err := s.WriteJSON(filepath.Join(dir, "summary.json")); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "summary.md"))
	if err != nil {
		return fmt.Errorf("write summary.md: %w", err)
	}
	if err := s.WriteMarkdown(f); err != nil {
		f.Close()
		return fmt.Errorf("write summary.md: %w", err)
	}
	return f.Close()
}

// Rebuild recomputes summary.json, summary.md (and the charts, through
// charts) of a matrix results folder from its samples.csv, keeping the
// run's description from the old summary.json when there is one. Damaged
// samples (anything but a torn last line) leave the folder untouched. The
// warnings say what the user must know about the rebuilt summary: a torn
// last line skipped, a summary.json missing or damaged (kept beside as
// summary.json.damaged) and which settings could not be recovered.
func Rebuild(dir string, prices cost.PriceTable, pricesSource string) (s Summary, warnings []string, err error) {
	path := filepath.Join(dir, "samples.csv")
	samples, torn, err := ReadFile(path)
	if err != nil {
		return Summary{}, nil, fmt.Errorf("rebuild %s: %w", dir, err)
	}
	if torn != nil {
		warnings = append(warnings, torn.Warning(path))
	}
	host, err := hostload.ReadFile(filepath.Join(dir, hostload.File))
	if err != nil {
		return Summary{}, warnings, fmt.Errorf("rebuild %s: %w", dir, err)
	}
	sumPath := filepath.Join(dir, "summary.json")
	meta, partial := Meta{}, false
	old, err := ReadSummary(sumPath)
	switch {
	case err == nil:
		meta, partial = old.Meta, old.Partial
	default:
		var lost []string
		meta, lost = RecoverMeta(samples)
		why := "missing"
		if !errors.Is(err, fs.ErrNotExist) {
			why = "damaged (" + err.Error() + ")"
			if rerr := os.Rename(sumPath, sumPath+".damaged"); rerr != nil {
				return Summary{}, warnings, fmt.Errorf("rebuild %s: keep the damaged summary.json: %w", dir, rerr)
			}
			why += "; kept as summary.json.damaged"
		}
		warnings = append(warnings, fmt.Sprintf("warning: %s is %s: rebuilt from samples.csv; not recovered: %s", sumPath, why, strings.Join(lost, "; ")))
	}
	if pricesSource != "" {
		meta.PricesSource = pricesSource
	}
	s, err = Build(samples, meta, prices, partial)
	if err != nil {
		return s, warnings, err
	}
	MarkHost(&s, samples, host)
	if err := s.WriteFiles(dir); err != nil {
		return s, warnings, err
	}
	if err := s.WriteCharts(dir); err != nil {
		warnings = append(warnings, fmt.Sprintf("warning: charts not drawn: %v (the summaries are rebuilt)", err))
	}
	return s, warnings, nil
}

// RecoverMeta rebuilds a run's description from its samples alone, for a
// folder whose summary.json is missing or damaged: what the samples show
// (the kind of run, when it started, the cold starts and warm runs per
// configuration, the payloads, a tune run's function and architectures) is
// recovered; the rest takes the defaults and is listed in lost, each with
// the value used.
func RecoverMeta(samples []Sample) (meta Meta, lost []string) {
	meta = Meta{Target: "unknown", Trim: stats.DefaultTrim, Strategy: string(cost.StrategyBalanced), Weight: cost.DefaultBalancedWeight}
	type key struct {
		arch string
		mem  int
	}
	cold, warm := map[key]int{}, map[key]int{}
	funcs := map[string]bool{}
	aliases := false // tune invokes its own aliases, bench-tune-<run>-…
	var archs, payloads []string
	for _, smp := range samples {
		if meta.Started.IsZero() || smp.Time.Before(meta.Started) {
			meta.Started = smp.Time
		}
		k := key{smp.Arch, smp.MemoryMB}
		switch smp.Kind {
		case KindCold:
			cold[k]++
		case KindWarm:
			warm[k]++
		}
		if smp.Kind == KindSkipped {
			continue
		}
		funcs[smp.Function] = true
		aliases = aliases || strings.HasPrefix(smp.Qualifier, "bench-tune-")
		if !slices.Contains(archs, smp.Arch) {
			archs = append(archs, smp.Arch)
		}
		if smp.Payload != "" && !slices.Contains(payloads, smp.Payload) {
			payloads = append(payloads, smp.Payload)
		}
	}
	for _, n := range cold {
		meta.Cold = max(meta.Cold, n)
	}
	for _, n := range warm {
		meta.Runs = max(meta.Runs, n)
	}
	// A tune run invokes its aliases of one function at every configuration;
	// a matrix run one function per configuration.
	if len(funcs) == 1 && (aliases || len(cold) > 1 || len(warm) > 1) {
		meta.Kind = "tune"
		for f := range funcs {
			meta.Tune = &TuneMeta{Function: f, Archs: archs, Payloads: payloads}
		}
	}
	lost = []string{
		"target (shown as unknown)",
		fmt.Sprintf("strategy (%s used)", meta.Strategy),
		fmt.Sprintf("balanced weight (%g used)", meta.Weight),
		fmt.Sprintf("trim (%g used)", meta.Trim),
		"payload",
		"parallel invocations",
		"prices source (the prices given to report, or the built-in ones, used)",
		"host cores and confinement",
		"whether the run was interrupted",
	}
	if meta.Kind == "tune" {
		lost = append(lost, "cold share (warm invocations priced)", "allowed errors (any number)", "cold starts only (--runs 0)", "endpoint, source and handler")
	}
	return meta, lost
}

// NameOf is the name the verdict and the Pareto front give a configuration:
// its function in a matrix (one function per configuration), its label in a
// tune run (one function in every configuration).
func (s Summary) NameOf(r Result) string {
	if s.Kind == "tune" || r.Function == "" {
		return r.Label()
	}
	return r.Function
}

// coldAsDuration adds, for every successful cold start, a warm-kind copy
// whose duration is Duration + Init Duration: with --runs 0 (cold starts only) the
// durations the tables, the cost and the verdict use are the cold starts'.
// samples.csv keeps only the real rows.
func coldAsDuration(samples []Sample) []Sample {
	out := slices.Clone(samples)
	for _, s := range samples {
		if s.Kind != KindCold || !s.OK {
			continue
		}
		c := s
		c.Kind = KindWarm
		if !math.IsNaN(c.InitMs) && !math.IsNaN(c.DurationMs) {
			c.DurationMs += c.InitMs
		}
		c.derived = true
		out = append(out, c)
	}
	return out
}

// cheapestCost is the lowest cost per 1M invocations of the measured configurations (+Inf when
// none was measured).
func (s Summary) cheapestCost() float64 {
	cheapest := math.Inf(1)
	for _, r := range s.Results {
		if r.Measured() && r.CostPerMillion < cheapest {
			cheapest = r.CostPerMillion
		}
	}
	return cheapest
}
