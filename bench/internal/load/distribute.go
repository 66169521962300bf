package load

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	resultsdir "lambdabench/bench/internal/results"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/threshold"
)

// ErrGeneratorMissing is wrapped by Distribute's error when a generator
// failed or timed out: its share of the load is missing from the report.
var ErrGeneratorMissing = errors.New("a generator's share of the load is missing")

// GeneratorsFile holds every generator's result (metrics included) of a
// distributed run; PerSecondFile the per-second aggregates summed over the
// generators.
const (
	GeneratorsFile = "generators.json"
	PerSecondFile  = "per_second.csv"
)

// Generator statuses in GeneratorRow.
const (
	GenOK      = "ok"
	GenPartial = "partial" // stopped before the end of its profile
	GenMissing = "missing" // failed or timed out: nothing of its share is counted
)

// GeneratorRow is one invocation of a generator in a distributed run as the
// report shows it: one per generator, or, for a run longer than one
// invocation, one per generator and window.
type GeneratorRow struct {
	Generator int `json:"generator"`
	// Window is the window of the run the invocation sent (1-based), from
	// WindowFromS to WindowToS seconds after the run's start.
	Window      int     `json:"window"`
	WindowFromS float64 `json:"window_from_s"`
	WindowToS   float64 `json:"window_to_s"`
	Function    string  `json:"function"`
	Status      string  `json:"status"`
	Error       string  `json:"error,omitempty"`
	// Share is the fraction of the load this generator was given (in its
	// window).
	Share    float64 `json:"share"`
	Requests int64   `json:"requests"`
	Dropped  int64   `json:"dropped"`
	// StartLagMs is how late it began after the common start time;
	// SendLagP99Ms and SendLagMaxMs its send lag over every endpoint.
	StartLagMs   float64 `json:"start_lag_ms"`
	SendLagP99Ms float64 `json:"send_lag_p99_ms"`
	SendLagMaxMs float64 `json:"send_lag_max_ms"`
	FellBehind   bool    `json:"fell_behind"`
	// BilledMs is the invocation's Billed Duration (its REPORT line, or
	// the invocation's wall time rounded up when there is none); CostUSD
	// what the invocation costs at the generator's memory and architecture.
	BilledMs float64 `json:"billed_ms"`
	CostUSD  float64 `json:"cost_usd"`
}

// GeneratorCost is how the generators' invocations are priced.
type GeneratorCost struct {
	MemoryMB int    `json:"memory_mb"`
	Arch     string `json:"arch"`
}

// DistributeConfig is a load run fanned out over several generator
// invocations.
type DistributeConfig struct {
	Dir string
	// Plan is the run (endpoints, scenarios, model, stages, timeout, in-flight
	// bound); Generator, Generators and StartAt are set for each invocation.
	Plan GenPlan
	// Functions names the generator function of each generator (one name
	// for all, or one per generator).
	Functions  []string
	Generators int
	Invoker    Invoker
	// Lead is how far in the future the common start time is set, so that
	// every invocation has begun (cold start included) by then; each
	// later window's invocations are made this long before it starts.
	Lead time.Duration
	// Window is the longest stretch of the run one invocation sends (0:
	// the whole run in one invocation). A longer run is chained: split
	// into windows (GenPlan.SplitWindows), each generator invoked once per
	// window, window k+1's invocations made while window k's still run so
	// that its load begins exactly where window k's ends.
	Window time.Duration
	Cost   GeneratorCost
	Info   RunInfo
	// NoCharts skips the charts, which are drawn only when the plan asks
	// for samples (Plan.Samples) and every generator sent them.
	NoCharts bool
	// Progress receives what the run does.
	Progress io.Writer
}

// Distribute invokes the generators at once with the same plan and start
// time — once per window when the run is longer than cfg.Window, each
// window's invocations a lead ahead of its start — merges what every
// generator measured in every window exactly (histograms and counts), and
// writes summary.json, summary.md, generators.json and per_second.csv into
// cfg.Dir. A generator invocation that fails or times out is a row marked
// missing, a warning in the report, and an error wrapping
// ErrGeneratorMissing: its share of its window is never silently left out.
// Otherwise the error is a threshold verdict as Run's.
func Distribute(ctx context.Context, cfg DistributeConfig) (*Report, error) {
	n := cfg.Generators
	if n < 1 || (len(cfg.Functions) != 1 && len(cfg.Functions) != n) {
		return nil, fmt.Errorf("distribute: %d generators, %d function names", n, len(cfg.Functions))
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if _, err := threshold.ParseAll(cfg.Info.Thresholds); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("distribute: %w", err)
	}
	for _, f := range []string{SamplesFile, ConcurrencyFile} {
		_ = os.Remove(filepath.Join(cfg.Dir, f)) // an earlier run's would not match this one
	}
	plan := cfg.Plan
	plan.Version = GenPlanVersion
	plan.Generators = n
	plan.StartAt = time.Now().Add(cfg.Lead).UTC().Round(time.Millisecond)
	probe := plan
	probe.Generator, probe.WindowIndex, probe.Windows = 1, 1, 1
	probe.Window = Window{From: 0, To: probe.LoadEnd()}
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	windows := probe.SplitWindows(cfg.Window)
	plan.Windows = len(windows)
	if cfg.Info.Started.IsZero() {
		cfg.Info.Started = plan.StartAt.Truncate(time.Second)
	}
	if len(windows) == 1 {
		fmt.Fprintf(cfg.Progress, "Invoking %d generators, all starting at %s (in %s), ending by %s\n",
			n, plan.StartAt.Format("15:04:05.000"), cfg.Lead, plan.End().Format("15:04:05"))
	} else {
		fmt.Fprintf(cfg.Progress, "The run is longer than one invocation's window (%s): %d windows, each generator invoked once per window, "+
			"%s ahead of it; starting at %s, ending by %s\n",
			cfg.Window, len(windows), cfg.Lead, plan.StartAt.Format("15:04:05.000"), plan.End().Format("15:04:05"))
	}

	// rows and results hold window w's generator i at w*n+i; invoked
	// marks the windows whose invocations were made.
	rows := make([]GeneratorRow, len(windows)*n)
	results := make([]*GenResult, len(windows)*n)
	invoked := 0
	var (
		wg      sync.WaitGroup
		printMu sync.Mutex // the generators report as they finish
	)
	for w, win := range windows {
		// Window w+1's invocations are made a lead ahead of its start,
		// while window w's still run.
		if w > 0 && !sleepUntil(ctx, plan.StartAt.Add(win.From-cfg.Lead)) {
			break
		}
		invoked++
		if len(windows) > 1 {
			printMu.Lock()
			fmt.Fprintf(cfg.Progress, "Window %d/%d (%s of the run): invoking %d generators, starting at %s\n",
				w+1, len(windows), win, n, plan.StartAt.Add(win.From).Format("15:04:05.000"))
			printMu.Unlock()
		}
		for i := range n {
			fn := cfg.Functions[0]
			if len(cfg.Functions) == n {
				fn = cfg.Functions[i]
			}
			p := plan
			p.Generator = i + 1
			p.Window, p.WindowIndex = win, w+1
			wg.Go(func() {
				res, row := invokeGenerator(ctx, cfg, fn, p)
				row.Share = shareOf(plan, i+1)
				results[w*n+i], rows[w*n+i] = res, row
				status := row.Status
				if row.Error != "" {
					status += ": " + row.Error
				}
				printMu.Lock()
				defer printMu.Unlock()
				where := fmt.Sprintf("generator %d/%d", i+1, n)
				if len(windows) > 1 {
					where = fmt.Sprintf("window %d/%d, %s", w+1, len(windows), where)
				}
				fmt.Fprintf(cfg.Progress, "  %s (%s): %s, %d requests, %d dropped\n", where, fn, status, row.Requests, row.Dropped)
			})
		}
	}
	wg.Wait()
	rows, results = rows[:invoked*n], results[:invoked*n]

	m := NewMetrics()
	var kept []*GenResult
	missing := 0
	for _, res := range results {
		if res == nil {
			missing++
			continue
		}
		m.Merge(res.Metrics)
		kept = append(kept, res)
	}
	// One generator's windows side by side: which fell behind, and when.
	slices.SortStableFunc(rows, func(a, b GeneratorRow) int { return a.Generator - b.Generator })
	m.setStages(plan.Stages) // the whole run's profile, not one generator's share
	m.Close()
	if ctx.Err() != nil {
		m.MarkPartial()
	}
	rep := &Report{Partial: ctx.Err() != nil, Run: cfg.Info, Scenarios: m.Summaries(EndpointOrder), Generators: rows,
		GeneratorCost: &cfg.Cost}
	if len(windows) > 1 {
		rep.GeneratorWindows = windows
	}
	if invoked < len(windows) {
		rep.Run.Notes = append(rep.Run.Notes, fmt.Sprintf("interrupted: windows %d to %d of %d (%s on) were never sent",
			invoked+1, len(windows), len(windows), windows[invoked].From))
	}
	haveSamples := false
	if plan.Samples && len(kept) > 0 {
		var err error
		if haveSamples, err = writeSamples(cfg.Dir, kept); err != nil {
			return nil, err
		}
		if !haveSamples {
			rep.Run.Notes = appendOnce(rep.Run.Notes, "no samples.csv: a generator's samples did not fit Lambda's response limit (the figures come from the histograms, which are complete)")
		}
	}
	if !haveSamples {
		rep.Run.Notes = appendOnce(rep.Run.Notes, "no charts and no samples.csv (compare and report need it): the generators sent histograms and per-second aggregates ("+PerSecondFile+"); --generator-samples asks for samples")
	}
	checkErr := rep.finish()
	if err := rep.write(cfg.Dir, haveSamples && !cfg.NoCharts); err != nil {
		return rep, err
	}
	rep.warnCharts(cfg.Progress)
	if err := writeGenerators(cfg.Dir, kept); err != nil {
		return rep, err
	}
	switch {
	case ctx.Err() != nil:
		return rep, fmt.Errorf("interrupted: partial results in %s: %w", cfg.Dir, ctx.Err())
	case missing > 0 && len(windows) == 1:
		return rep, fmt.Errorf("%w: %d of %d generators failed (results in %s)", ErrGeneratorMissing, missing, n, cfg.Dir)
	case missing > 0:
		return rep, fmt.Errorf("%w: %d of %d generator invocations (%d generators × %d windows) failed (results in %s)",
			ErrGeneratorMissing, missing, len(rows), n, len(windows), cfg.Dir)
	case len(rep.Scenarios) == 0:
		return rep, errors.New("distributed run: no requests were sent")
	}
	if att, failed := rep.Failures(); att > 0 && failed == att {
		return rep, fmt.Errorf("%w: all %d requests failed (results in %s)", ErrAllFailed, att, cfg.Dir)
	}
	return rep, checkErr
}

// shareOf is the fraction of the load generator i of plan sends: its part
// of the profile's peak.
func shareOf(plan GenPlan, i int) float64 {
	var whole, part float64
	share := ShareStages(plan.Stages, plan.Model, i, plan.Generators)
	for k := range plan.Stages {
		whole += plan.Stages[k].Target
		part += share[k].Target
	}
	if whole == 0 {
		return 0
	}
	return part / whole
}

// invokeGenerator runs one generator and describes it; the result is nil
// when the generator's share is missing.
func invokeGenerator(ctx context.Context, cfg DistributeConfig, fn string, p GenPlan) (*GenResult, GeneratorRow) {
	row := GeneratorRow{Generator: p.Generator, Window: p.WindowIndex, WindowFromS: p.Window.From.Seconds(), WindowToS: p.Window.To.Seconds(),
		Function: fn, Status: GenMissing}
	payload, err := json.Marshal(p)
	if err != nil {
		row.Error = err.Error()
		return nil, row
	}
	// The generator's own limit ends it; this bounds a lost answer.
	ictx, cancel := context.WithDeadline(ctx, p.WindowEnd().Add(2*time.Minute))
	defer cancel()
	began := time.Now()
	out, err := cfg.Invoker.Invoke(ictx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: payload, LogType: types.LogTypeTail}, noRetry)
	wall := time.Since(began)
	row.BilledMs = cost.BilledMs(float64(wall) / float64(time.Millisecond))
	if err != nil {
		row.Error = err.Error()
		return nil, row
	}
	if out.LogResult != nil {
		if tail, derr := base64.StdEncoding.DecodeString(*out.LogResult); derr == nil {
			if _, billed := parseReport(tail); billed > 0 {
				row.BilledMs = billed
			}
		}
	}
	if cfg.Info.Cost.Prices != nil && cfg.Cost.MemoryMB > 0 {
		if usd, err := cfg.Info.Cost.Prices.Invocation(cfg.Cost.Arch, cfg.Cost.MemoryMB, row.BilledMs); err == nil {
			row.CostUSD = usd
		}
	}
	if out.FunctionError != nil {
		row.Error = "function error " + *out.FunctionError + ": " + string(out.Payload)
		return nil, row
	}
	res, err := DecodeResponse(out.Payload)
	if err != nil {
		row.Error = err.Error()
		return nil, row
	}
	if res.Generator != p.Generator || res.Generators != p.Generators || res.WindowIndex != p.WindowIndex || res.Window != p.Window {
		row.Error = fmt.Sprintf("answered as generator %d of %d, window %d (%s)", res.Generator, res.Generators, res.WindowIndex, res.Window)
		return nil, row
	}
	row.Status = GenOK
	if res.Partial {
		row.Status = GenPartial
	}
	row.StartLagMs = float64(res.StartLag) / float64(time.Millisecond)
	for _, sc := range res.Metrics.Summaries(nil) {
		for _, e := range sc.Endpoints {
			t := e.Total
			row.Requests += t.Requests
			row.Dropped += t.Dropped
			row.SendLagP99Ms = max(row.SendLagP99Ms, t.SendLag.P99)
			row.SendLagMaxMs = max(row.SendLagMaxMs, t.SendLag.Max)
			row.FellBehind = row.FellBehind || (sc.Model == Open && t.LagWarning())
		}
	}
	return res, row
}

// writeGenerators writes every generator's result and the per-second
// aggregates summed over the generators.
func writeGenerators(dir string, results []*GenResult) error {
	if err := resultsdir.WriteFileAtomic(filepath.Join(dir, GeneratorsFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}); err != nil {
		return err
	}
	type key struct {
		scenario, endpoint string
		second             int
	}
	sum := map[key]*Second{}
	var order []key
	for _, r := range results {
		for _, s := range r.Seconds {
			k := key{s.Scenario, s.Endpoint, s.Second}
			a := sum[k]
			if a == nil {
				a = &Second{Scenario: s.Scenario, Endpoint: s.Endpoint, Second: s.Second}
				sum[k] = a
				order = append(order, k)
			}
			a.Sent += s.Sent
			a.OK += s.OK
			a.Errors += s.Errors
			a.Dropped += s.Dropped
			a.MaxLat = max(a.MaxLat, s.MaxLat)
			a.MaxLag = max(a.MaxLag, s.MaxLag)
		}
	}
	return resultsdir.WriteFileAtomic(filepath.Join(dir, PerSecondFile), func(w io.Writer) error {
		if _, err := fmt.Fprintln(w, "scenario,endpoint,second,sent,status_2xx,errors,dropped,max_latency_ms,max_send_lag_ms"); err != nil {
			return err
		}
		for _, k := range order {
			a := sum[k]
			if _, err := fmt.Fprintf(w, "%s,%s,%d,%d,%d,%d,%d,%.3f,%.3f\n", a.Scenario, a.Endpoint, a.Second, a.Sent, a.OK, a.Errors, a.Dropped,
				float64(a.MaxLat)/1e6, float64(a.MaxLag)/1e6); err != nil {
				return err
			}
		}
		return nil
	})
}

// setStages records st as every scenario's profile: merged generators'
// metrics carry one generator's share of it.
func (m *Metrics) setStages(st Stages) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.scenarios {
		if len(s.stages) == len(st) {
			s.stages = st
		}
	}
}

// writeSamples writes samples.csv from every generator's samples, in time
// order; false (and no file) when a generator sent none.
func writeSamples(dir string, results []*GenResult) (bool, error) {
	var all []*Result
	for _, r := range results {
		if r.samples == nil {
			return false, nil
		}
		dec := NewCSVDecoder(bytes.NewReader(r.samples))
		for {
			var res Result
			err := dec.Decode(&res)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return false, fmt.Errorf("generator %d samples: %w", r.Generator, err)
			}
			all = append(all, &res)
		}
	}
	slices.SortStableFunc(all, func(a, b *Result) int { return a.Time.Compare(b.Time) })
	return true, resultsdir.WriteFileAtomic(filepath.Join(dir, SamplesFile), func(w io.Writer) error {
		enc := NewCSVEncoder(w)
		for _, r := range all {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return enc.Flush()
	})
}
