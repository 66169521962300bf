package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/threshold"
)

// ErrAllFailed is wrapped by Run's error when every request of the run
// failed or was dropped.
var ErrAllFailed = errors.New("every request failed")

// Scenario is a workload: a name and the query string every endpoint's
// requests get.
type Scenario struct {
	Name  string
	Query string
}

// RunConfig is a whole load run: scenarios one after the other, every
// endpoint loaded at once in each.
type RunConfig struct {
	Dir       string // output directory, created if needed
	Endpoints []Endpoint
	Scenarios []Scenario
	Model     Model
	Stages    Stages
	// Timeout, MaxInFlight and Invoker are as in AttackOptions.
	Timeout     time.Duration
	MaxInFlight int
	Invoker     Invoker
	Info        RunInfo // recorded in summary.json (thresholds and cost assumptions included)
	// NoCharts skips the PNG charts ('bench report' can draw them later).
	NoCharts bool

	// Before, when set, runs before each scenario (i counts from 0): with
	// the aws target it waits for the capacity provider to scale back in.
	Before func(ctx context.Context, i int, sc Scenario) error
	// Concurrency, when set, returns the function side's concurrency
	// during a scenario's window (local Lambda timeline or CloudWatch).
	Concurrency func(ctx context.Context, sc Scenario, start, end time.Time) ([]ConcurrencySeries, error)

	// Host, when set, monitors this machine during the run (local target):
	// its per-second samples go to host.csv and mark host-bound stages.
	Host *hostload.Monitor
	// InTurn, when set and true for a scenario, loads its endpoints one
	// after another instead of all at once.
	InTurn func(Scenario) bool
	// Cooldown is a pause after each scenario (after each endpoint when
	// they run in turn) during which the function side's concurrency is
	// still recorded: its scale-in shows in the concurrency chart.
	Cooldown time.Duration

	// Progress receives the live status; Interactive redraws it in place
	// (a terminal) instead of printing a line every ProgressEvery.
	Progress      io.Writer
	Interactive   bool
	ProgressEvery time.Duration // plain lines; 0 = 10 s
	// Logf receives what the run does between scenarios (nil = Progress).
	Logf func(format string, args ...any)
}

// Run runs every scenario, streams each request to samples.csv in
// cfg.Dir (flushed at least once a second), and writes summary.json,
// summary.md and the charts. When ctx ends it stops promptly, keeps every
// sample measured, writes a summary marked partial and returns an error
// wrapping ctx's. Otherwise it returns an error wrapping
// threshold.ErrCrossed when a threshold was crossed. The report is returned
// whenever summaries were written.
func Run(ctx context.Context, cfg RunConfig) (*Report, error) {
	if len(cfg.Scenarios) == 0 {
		return nil, errors.New("load run: no scenarios")
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(format string, args ...any) { fmt.Fprintf(cfg.Progress, format+"\n", args...) }
	}
	// Check the thresholds before spending minutes of load.
	if _, err := threshold.ParseAll(cfg.Info.Thresholds); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("load run: %w", err)
	}
	f, err := os.Create(filepath.Join(cfg.Dir, SamplesFile))
	if err != nil {
		return nil, fmt.Errorf("load run: %w", err)
	}
	defer f.Close()
	_ = os.Remove(filepath.Join(cfg.Dir, ConcurrencyFile))
	enc := NewCSVEncoder(f)
	m := NewMetrics()
	conc := map[string][]ConcurrencySeries{}
	if cfg.Info.Started.IsZero() {
		cfg.Info.Started = time.Now().UTC().Truncate(time.Second)
	}

	var runErr error
	partial := false
	for i, sc := range cfg.Scenarios {
		if ctx.Err() != nil {
			partial = true
			break
		}
		if cfg.Before != nil {
			if err := cfg.Before(ctx, i, sc); err != nil {
				if ctx.Err() != nil {
					partial = true
					break
				}
				runErr = fmt.Errorf("before scenario %s: %w", sc.Name, err)
				break
			}
		}
		groups := [][]Endpoint{cfg.Endpoints}
		if cfg.InTurn != nil && len(cfg.Endpoints) > 1 && cfg.InTurn(sc) {
			groups = nil
			for _, e := range cfg.Endpoints {
				groups = append(groups, []Endpoint{e})
			}
		}
		for _, eps := range groups {
			if ctx.Err() != nil {
				partial = true
				break
			}
			gcfg := cfg
			gcfg.Endpoints = eps
			q := ""
			if sc.Query != "" {
				q = " (" + sc.Query + ")"
			}
			if len(groups) > 1 {
				logf("scenario %s%s: %s model, stages %s, endpoint %s (endpoints one after another)", sc.Name, q, cfg.Model, cfg.Stages, endpointNames(eps))
			} else {
				logf("scenario %s%s: %s model, stages %s, endpoints %s", sc.Name, q, cfg.Model, cfg.Stages, endpointNames(eps))
			}
			start := time.Now()
			err := runScenario(ctx, gcfg, sc, enc, m)
			if err != nil {
				runErr = err
				partial = true
				break
			}
			if cfg.Cooldown > 0 && ctx.Err() == nil {
				logf("cooldown: %s without load", cfg.Cooldown)
				select {
				case <-ctx.Done():
				case <-time.After(cfg.Cooldown):
				}
			}
			end := time.Now()
			if ctx.Err() != nil {
				partial = true
			}
			if cfg.Concurrency != nil {
				// The run may be interrupted: still read what the function side saw.
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				series, err := cfg.Concurrency(cctx, sc, start, end)
				cancel()
				if err != nil {
					logf("concurrency of %s: %v", sc.Name, err)
					cfg.Info.Notes = appendOnce(cfg.Info.Notes, fmt.Sprintf("concurrency of %s not available: %v", sc.Name, err))
				} else if series = ofEndpoints(series, eps); len(series) > 0 {
					conc[sc.Name] = append(conc[sc.Name], series...)
					if err := writeConcurrency(filepath.Join(cfg.Dir, ConcurrencyFile), sc.Name, series); err != nil {
						return nil, err
					}
				}
			}
			if partial {
				break
			}
		}
		if partial || runErr != nil {
			break
		}
	}
	if err := enc.Flush(); err != nil && runErr == nil {
		runErr = err
	}
	m.Close()

	if partial {
		m.MarkPartial()
	}
	rep := &Report{Partial: partial, Run: cfg.Info, Scenarios: m.Summaries(EndpointOrder)}
	for i := range rep.Scenarios {
		rep.Scenarios[i].Concurrency = conc[rep.Scenarios[i].Name]
	}
	if cfg.Host != nil {
		samples := cfg.Host.Samples()
		if err := hostload.WriteFile(filepath.Join(cfg.Dir, hostload.File), samples); err != nil {
			runErr = errors.Join(runErr, err)
		}
		applyHost(rep.Scenarios, samples)
	}
	if len(rep.Scenarios) == 0 {
		if runErr != nil {
			return nil, runErr
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("load run interrupted before any request: %w", ctx.Err())
		}
		return nil, errors.New("load run: no requests were sent")
	}
	checkErr := rep.finish()
	if err := rep.write(cfg.Dir, !cfg.NoCharts); err != nil {
		return rep, errors.Join(runErr, err)
	}
	rep.warnCharts(cfg.Progress)
	switch {
	case runErr != nil:
		return rep, runErr
	case ctx.Err() != nil:
		return rep, fmt.Errorf("interrupted: partial results in %s: %w", cfg.Dir, ctx.Err())
	}
	if att, failed := rep.Failures(); att > 0 && failed == att {
		// Not a threshold verdict: nothing was measured that worked.
		return rep, fmt.Errorf("%w: all %d requests failed (results in %s)", ErrAllFailed, att, cfg.Dir)
	}
	return rep, checkErr
}

// ofEndpoints keeps the series of the given endpoints.
func ofEndpoints(series []ConcurrencySeries, eps []Endpoint) []ConcurrencySeries {
	var out []ConcurrencySeries
	for _, s := range series {
		for _, e := range eps {
			if s.Endpoint == e.Name {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

func endpointNames(eps []Endpoint) string {
	names := make([]string, len(eps))
	for i, e := range eps {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// runScenario loads the endpoints with one scenario, feeding every result to
// the encoder and the metrics while the progress display reads them.
func runScenario(ctx context.Context, cfg RunConfig, sc Scenario, enc *CSVEncoder, m *Metrics) error {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := Attack(actx, cfg.Endpoints, AttackOptions{
		Scenario: sc.Name, Query: sc.Query, Model: cfg.Model, Stages: cfg.Stages,
		Timeout: cfg.Timeout, MaxInFlight: cfg.MaxInFlight, Invoker: cfg.Invoker,
	})
	if err != nil {
		return err
	}
	p := &progress{w: cfg.Progress, interactive: cfg.Interactive, every: cfg.ProgressEvery,
		m: m, scenario: sc.Name, model: cfg.Model, stages: cfg.Stages, start: time.Now()}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { p.run(stop) })
	defer func() {
		close(stop)
		wg.Wait()
	}()

	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	var writeErr error
	take := func(r *Result) {
		defer r.release()
		if writeErr != nil {
			return // draining after a failed write
		}
		if err := enc.Encode(r); err != nil {
			writeErr = err
			cancel()
			return
		}
		m.Add(r)
	}
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				if writeErr != nil {
					return writeErr
				}
				return enc.Flush()
			}
			take(r)
			// Take what is already waiting without a select per result.
			for n := len(ch); n > 0; n-- {
				take(<-ch)
			}
		case <-flush.C:
			if writeErr == nil {
				if err := enc.Flush(); err != nil {
					writeErr = err
					cancel()
				}
			}
		}
	}
}

// progress shows a scenario's live status: stage, VUs or rate, requests,
// errors and p95 per endpoint.
type progress struct {
	w           io.Writer
	interactive bool
	every       time.Duration
	m           *Metrics
	scenario    string
	model       Model
	stages      Stages
	start       time.Time
	drawn       int // lines drawn last time (interactive)
}

func (p *progress) run(stop <-chan struct{}) {
	period := p.every
	if p.interactive {
		period = 500 * time.Millisecond
	} else if period <= 0 {
		period = 10 * time.Second
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			p.draw(true)
			return
		case <-t.C:
			p.draw(false)
		}
	}
}

func (p *progress) draw(final bool) {
	el := time.Since(p.start)
	total := p.stages.Total()
	stage := p.stages.At(el)
	var head string
	if stage < 0 {
		head = fmt.Sprintf("%s  %s/%s  finishing", p.scenario, fmtClock(min(el, total)), fmtClock(total))
	} else {
		level := fmt.Sprintf("%d VUs", p.stages.VUsAt(el))
		if p.model == Open {
			level = fmt.Sprintf("%.1f req/s", p.stages.RateAt(el))
		}
		head = fmt.Sprintf("%s  %s/%s  stage %d/%d (%s)  %s per endpoint", p.scenario, fmtClock(el), fmtClock(total),
			stage+1, len(p.stages), p.stages.Label(stage), level)
	}
	if final {
		head = fmt.Sprintf("%s  done in %s", p.scenario, fmtClock(el))
	}
	lines := []string{head}
	for _, l := range p.m.Live(p.scenario) {
		line := fmt.Sprintf("  %-13s %8d req  %6d err  p95 %s (stage %d)", l.Endpoint, l.Requests, l.Errors, fmtMs(l.P95), l.Stage)
		if l.Dropped > 0 {
			line += fmt.Sprintf("  %d dropped", l.Dropped)
		}
		lines = append(lines, line)
	}
	var b strings.Builder
	if p.interactive {
		if p.drawn > 0 {
			fmt.Fprintf(&b, "\x1b[%dA", p.drawn) // back to the first line drawn
		}
		for _, l := range lines {
			b.WriteString("\x1b[2K" + l + "\n")
		}
		p.drawn = len(lines)
	} else {
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	_, _ = io.WriteString(p.w, b.String())
}

func fmtClock(d time.Duration) string {
	s := int(math.Round(d.Seconds()))
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

func fmtMs(v float64) string {
	if v == 0 {
		return "-"
	}
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	if v < 1000 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.2f s", v/1000)
}
