package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/threshold"
)

// profileFlags are the load engine's settings that load and hello share:
// the load profile, its limits, the thresholds, prices and where the
// results go.
type profileFlags struct {
	stages, rate  string
	maxInFlight   int
	timeout       time.Duration
	thresholds    listFlag
	junit         string
	prices        string
	out           string
	force         bool
	noCharts      bool
	progressEvery time.Duration

	// defaultStages are the closed-model stages when neither --stages nor
	// --rate is given; verb names the default results folder.
	defaultStages func() string
	verb          string
}

// register adds the profile flags to fs; stagesDefault describes the
// default stages in --help.
func (p *profileFlags) register(fs *flag.FlagSet, stagesDefault string) {
	fs.StringVar(&p.stages, "stages", "", "closed model: virtual users (VUs) per endpoint as duration:target pairs, ramped linearly from the previous target (default "+stagesDefault+")")
	fs.StringVar(&p.rate, "rate", "", "open model: requests per second per endpoint, same syntax, e.g. 0s:50,1m:50 (constant 50/s for 1m) or 30s:100 (ramp 0→100/s)")
	fs.IntVar(&p.maxInFlight, "max-in-flight", load.DefaultMaxInFlight, "open model: most requests in flight per endpoint; requests due beyond it are dropped, reported and counted as failed")
	fs.DurationVar(&p.timeout, "timeout", load.DefaultTimeout, "per-request timeout from the moment it is sent: later answers count as timeouts (API Gateway's own limit is 29s)")
	fs.Var(&p.thresholds, "threshold", "fail (exit 99) when an endpoint's totals cross this: p50/p90/p95/p99/p99.9/avg/min/max<DURATION, error_rate<PERCENT (dropped requests count as failed) or dropped<COUNT, optionally scoped: 'api:p99<1s', 'low-cpu/:p95<300ms'; k6's 'p(95)<500' and 'http_req_failed<0.01' work too (repeatable)")
	registerJUnit(fs, &p.junit, "the --threshold checks (per threshold and endpoint)")
	fs.StringVar(&p.prices, "prices", "", "cost: JSON price table overriding the built-in prices")
	fs.StringVar(&p.out, "out", "", "results folder (default bench-results/<timestamp>-"+p.verb+")")
	fs.BoolVar(&p.force, "force", false, forceHelp)
	fs.BoolVar(&p.noCharts, "no-charts", false, "skip the PNG charts (faster; 'bench report DIR' draws them later)")
	fs.DurationVar(&p.progressEvery, "progress-every", 10*time.Second, "how often to print progress when stderr is not a terminal (on a terminal it refreshes twice a second)")
}

// loadProfile returns the load model and stages the flags ask for.
func (p *profileFlags) loadProfile() (load.Model, load.Stages, error) {
	switch {
	case p.stages != "" && p.rate != "":
		return "", nil, usagef("--stages (closed model) and --rate (open model) exclude each other")
	case p.rate != "":
		st, err := load.ParseStages(p.rate, false)
		if err != nil {
			return "", nil, usagef("--rate: %v", err)
		}
		if st.Arrivals(st.Total()) < 1 {
			return "", nil, usagef("--rate %s: these stages never send a request", p.rate)
		}
		return load.Open, st, nil
	}
	spec := p.stages
	if spec == "" {
		spec = p.defaultStages()
	}
	st, err := load.ParseStages(spec, true)
	if err != nil {
		return "", nil, usagef("--stages: %v", err)
	}
	if _, ok := st.NextActive(1, 0); !ok {
		return "", nil, usagef("--stages %s: these stages never start a virtual user (a ramp reaches its target only at its end: try 0s:1,%s)", spec, spec)
	}
	return load.Closed, st, nil
}

// check validates the profile flags (bad usage: exit 2) and returns the
// thresholds and the price table.
func (p *profileFlags) check() ([]threshold.Threshold, cost.PriceTable, error) {
	if _, _, err := p.loadProfile(); err != nil {
		return nil, cost.PriceTable{}, err
	}
	if p.timeout <= 0 || p.maxInFlight < 1 {
		return nil, cost.PriceTable{}, usagef("--timeout must be positive and --max-in-flight at least 1")
	}
	prices, err := p.priceTable()
	if err != nil {
		return nil, cost.PriceTable{}, usageError{err.Error()}
	}
	ths, err := threshold.ParseAll(p.thresholds)
	if err != nil {
		return nil, cost.PriceTable{}, usageError{err.Error()}
	}
	if err := checkJUnit(p.junit, len(ths), "--threshold checks"); err != nil {
		return nil, cost.PriceTable{}, err
	}
	return ths, prices, nil
}

// finish writes --junit from the run's threshold checks (summary.json) and
// keeps the run's error.
func (p *profileFlags) finish(res loadResult, err error) error {
	if p.junit == "" || res.dir == "" || errors.As(err, new(usageError)) {
		return err
	}
	rep := res.report
	if rep == nil {
		r, rerr := load.ReadReport(filepath.Join(res.dir, load.SummaryJSONFile))
		if rerr != nil {
			return err // nothing was measured: no report to write
		}
		rep = r
	}
	return writeJUnit(p.junit, "bench "+p.verb+" "+res.dir, loadCheckCases(p.verb, rep.Checks), err)
}

// checkScopes refuses a threshold scoped to nothing the run will measure:
// a typo. Scopes match "SCENARIO/ENDPOINT".
func checkScopes(ths []threshold.Threshold, scenarios []load.Scenario, endpoints []string) error {
	for _, t := range ths {
		if t.Scope == "" {
			continue
		}
		found := false
		for _, sc := range scenarios {
			for _, n := range endpoints {
				found = found || strings.Contains(sc.Name+"/"+n, t.Scope)
			}
		}
		if !found {
			return usagef("--threshold %q: %q matches none of the endpoints (%s) in scenarios %s", t.Raw, t.Scope, strings.Join(endpoints, ", "), scenarioNames(scenarios))
		}
	}
	return nil
}

func scenarioNames(scs []load.Scenario) string {
	out := make([]string, len(scs))
	for i, s := range scs {
		out[i] = s.Name
	}
	return strings.Join(out, ", ")
}

func (p *profileFlags) priceTable() (cost.PriceTable, error) {
	if p.prices == "" {
		return cost.Default(), nil
	}
	return cost.Load(p.prices)
}

// outDir is the results folder: --out or a new one under bench-results.
func (p *profileFlags) outDir() string {
	if p.out == "" {
		p.out = filepath.Join("bench-results", time.Now().Format("20060102-150405")+"-"+p.verb)
	}
	return p.out
}

// runConfig is the engine's configuration and the report's run
// information from the profile flags (validated).
func (p *profileFlags) runConfig(scenarios []load.Scenario, prices cost.PriceTable, stderr io.Writer) (load.RunConfig, load.RunInfo, error) {
	model, stages, err := p.loadProfile()
	if err != nil {
		return load.RunConfig{}, load.RunInfo{}, err
	}
	host, _ := os.Hostname()
	info := load.RunInfo{
		Started:     time.Now().UTC().Truncate(time.Second),
		Generator:   fmt.Sprintf("%s (%s/%s, %d cores)", host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
		Timeout:     p.timeout.String(),
		MaxInFlight: p.maxInFlight,
		Thresholds:  p.thresholds,
		Cost:        load.CostInputs{Prices: &prices},
	}
	if model == load.Closed {
		info.MaxInFlight = 0
	}
	cfg := load.RunConfig{
		Scenarios: scenarios, Model: model, Stages: stages,
		Timeout: p.timeout, MaxInFlight: p.maxInFlight, NoCharts: p.noCharts,
		Progress: stderr, Interactive: isTerminal(stderr), ProgressEvery: p.progressEvery,
	}
	return cfg, info, nil
}

// loadResult is what a load run leaves behind.
type loadResult struct {
	dir    string
	report *load.Report
}

// runPlanned runs cfg (endpoints resolved) and prints its summary.
func runPlanned(ctx context.Context, p *profileFlags, cfg load.RunConfig, info load.RunInfo, stdout, stderr io.Writer) (loadResult, error) {
	var res loadResult
	res.dir = p.outDir()
	cfg.Dir = res.dir
	cfg.Info = info
	unit := "VUs"
	if cfg.Model == load.Open {
		unit = "requests/s"
	}
	fmt.Fprintf(stderr, "Load: %d scenario(s) × %s, %s model, stages %s (%s per endpoint, %s each), writing %s\n",
		len(cfg.Scenarios), strings.Join(endpointNames(cfg.Endpoints), ", "), cfg.Model, cfg.Stages, unit, cfg.Stages.Total(), res.dir)
	rep, err := load.Run(ctx, cfg)
	res.report = rep
	printSummary(rep, res.dir, stdout)
	return res, err
}

// printSummary prints a run's summary.md, when the run wrote one.
func printSummary(rep *load.Report, dir string, stdout io.Writer) {
	if rep == nil {
		return
	}
	if b, err := os.ReadFile(filepath.Join(dir, load.SummaryMDFile)); err == nil {
		fmt.Fprintf(stdout, "\n%s", b)
	}
}

// generatorGC makes the garbage collector of a load run collect at 50%
// heap growth instead of 100%: the generator allocates little per request,
// and this keeps its memory near vegeta's for a few percent of CPU. GOGC
// overrides it.
func generatorGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}

func endpointNames(eps []load.Endpoint) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.Name
	}
	return out
}
