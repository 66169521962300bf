package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"lambdabench/bench/internal/capacity"
	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/threshold"
)

const loadDescription = `Staged HTTP load on the hello endpoints — standard Lambda at 128 MB and 2048 MB
against Lambda Managed Instances (LMI) at 2048 MB — one scenario at a time, every
endpoint loaded at once by its own independent generator, so a slow endpoint
never slows another.

Load models:
  closed (default)  --stages: virtual users (VUs), each sending a request and
                    waiting for its answer before the next; duration:target
                    pairs ramp linearly from the previous target (0 at first),
                    as k6's ramping-vus does.
  open              --rate: requests per second, same syntax; each request is
                    sent at its due time whatever the answers do, and its
                    latency is measured from that due time, so a stall shows in
                    the percentiles (coordinated omission corrected, as wrk2).
                    At most --max-in-flight per endpoint: requests due beyond
                    that are dropped and reported.

Scenarios (query string sent to every endpoint):
  fast-io   delay_ms=100       slow-io   delay_ms=500
  low-cpu   hash_loops=50000   high-cpu  hash_loops=200000
  all       the four in turn   custom    --query as given

Targets:
  local (default)  starts a local Lambda on 127.0.0.1 with the three hello
                   functions (building function/ for this machine) and loads
                   its API Gateway routes. Default stages 10s:4,20s:4,10s:8.
  aws              loads the URLs of a deployed LMI stack (its outputs, or
                   --outputs-file). Default stages 3m:64,6m:64,3m:128 (the
                   seed's). Between scenarios it waits until the capacity
                   provider is back to its pre-run EC2 instance count.

Writes to --out: samples.csv (every request, as it happens), summary.json,
summary.md (per scenario and stage: requests, req/s, 4xx, 429, 5xx, network
errors, dropped, error %, avg, p50, p90, p95, p99, p99.9, max, cold starts; and
a cost estimate), load-<scenario>.png (latency over time with the stages,
1 s averages, distribution, avg/p50/p95/p99) and concurrency-<scenario>.png.
Locally also host.csv: every stage says whether this machine's CPU was
saturated (host-bound: the latencies then measure the machine, not Lambda);
on a host of at most 4 cores the endpoints of a CPU-bound scenario are
loaded one after another (--endpoints-in-turn).
'go run ./bench report DIR' rebuilds them from samples.csv.

Examples:
  go run ./bench load --scenario low-cpu
  go run ./bench load --scenario fast-io --rate 0s:20,20s:20 --threshold 'p99<500ms'
  go run ./bench load --target aws --stack GoLambdaBenchLmi --cloudwatch`

// Default load profiles: the seed's on AWS, and one this 2-core machine
// runs in 40 s per scenario against the local Lambda.
const (
	defaultStagesAWS   = "3m:64,6m:64,3m:128"
	defaultStagesLocal = "10s:4,20s:4,10s:8"
)

// loadFlags are the load verb's settings.
type loadFlags struct {
	target                 string
	stack, region, profile string
	outputsFile, binary    string
	noCPULimits            bool

	scenario, query, endpoints string
	workload                   load.Workload
	stages, rate               string
	maxInFlight                int
	timeout                    time.Duration

	waitScaleIn      bool
	scaleInCheck     time.Duration
	scaleInMaxWait   time.Duration
	providerARN      string
	cloudwatch       bool
	cloudwatchPeriod time.Duration
	prices, arch     string
	lmiInstanceType  string
	lmiInstances     float64
	thresholds       listFlag
	out              string
	noCharts         bool
	progressEvery    time.Duration
	local            *target.LocalTarget // a local Lambda already running (the suite's); nil = start one
	ll               localLambdaFlags
	inTurn           string
	cooldown         time.Duration
}

func (f *loadFlags) register(fs interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	BoolVar(*bool, string, bool, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	Float64Var(*float64, string, float64, string)
}) {
	fs.StringVar(&f.target, "target", "local", "where to send the load: local (a local Lambda on this machine) or aws (a deployed LMI stack)")
	fs.StringVar(&f.stack, "stack", target.LmiStack, "aws: the LMI stack whose outputs give the endpoint URLs")
	fs.StringVar(&f.region, "region", "", "aws: region (default: AWS_REGION or the profile's)")
	fs.StringVar(&f.profile, "profile", "", "aws: shared config profile (default: the default chain)")
	fs.StringVar(&f.outputsFile, "outputs-file", "", "aws: read stack outputs from this file (written by cdk deploy --outputs-file) instead of CloudFormation")
	fs.StringVar(&f.binary, "binary", "", "local: run this bootstrap instead of building function/ for this machine")
	fs.BoolVar(&f.noCPULimits, "no-cpu-limits", false, "local: do not confine environments to the CPU share their memory buys")

	fs.StringVar(&f.scenario, "scenario", "all", "fast-io, slow-io, low-cpu, high-cpu, all, custom, or a comma-separated list")
	fs.StringVar(&f.query, "query", "", "custom scenario: the query string to send, e.g. 'delay_ms=50&hash_loops=10000' (alone, implies --scenario custom)")
	fs.StringVar(&f.endpoints, "endpoints", "all", "endpoints to load, comma-separated: default-128, default-2048, lmi-2048 (or all)")
	fs.IntVar(&f.workload.FastIODelayMs, "fast-io-delay-ms", load.DefaultWorkload.FastIODelayMs, "fast-io: delay_ms (0..15000)")
	fs.IntVar(&f.workload.SlowIODelayMs, "slow-io-delay-ms", load.DefaultWorkload.SlowIODelayMs, "slow-io: delay_ms (0..15000)")
	fs.IntVar(&f.workload.LowCPUHashLoops, "low-cpu-hash-loops", load.DefaultWorkload.LowCPUHashLoops, "low-cpu: hash_loops (0..1000000)")
	fs.IntVar(&f.workload.HighCPUHashLoops, "high-cpu-hash-loops", load.DefaultWorkload.HighCPUHashLoops, "high-cpu: hash_loops (0..1000000)")
	fs.StringVar(&f.stages, "stages", "", "closed model: VU stages per endpoint, duration:target pairs (default "+defaultStagesLocal+" local, "+defaultStagesAWS+" aws)")
	fs.StringVar(&f.rate, "rate", "", "open model: requests-per-second stages per endpoint, e.g. 0s:50,1m:50 (constant 50/s for 1m) or 30s:100 (ramp 0→100/s)")
	fs.IntVar(&f.maxInFlight, "max-in-flight", load.DefaultMaxInFlight, "open model: most requests in flight per endpoint; requests due beyond it are dropped and reported")
	fs.DurationVar(&f.timeout, "timeout", load.DefaultTimeout, "per-request timeout (API Gateway's own limit is 29s)")

	fs.BoolVar(&f.waitScaleIn, "wait-for-scale-in", true, "aws: before each scenario after the first, wait until the capacity provider is back to its pre-run EC2 instance count")
	fs.DurationVar(&f.scaleInCheck, "scale-in-check", time.Minute, "aws: how often to count the capacity provider's instances while waiting")
	fs.DurationVar(&f.scaleInMaxWait, "scale-in-max-wait", 90*time.Minute, "aws: longest wait for scale-in before going on anyway")
	fs.StringVar(&f.providerARN, "capacity-provider-arn", "", "aws: capacity provider to watch (default: the stack output CapacityProviderArn)")
	fs.BoolVar(&f.cloudwatch, "cloudwatch", false, "aws: fetch the LMI function's ExecutionEnvironmentConcurrency (Average, SampleCount) for each scenario and chart it")
	fs.DurationVar(&f.cloudwatchPeriod, "cloudwatch-period", time.Minute, "aws: period of the CloudWatch statistics (whole minutes)")
	fs.StringVar(&f.prices, "prices", "", "cost: JSON price table overriding the built-in prices")
	fs.StringVar(&f.arch, "arch", load.DefaultArch, "cost: architecture of the standard functions (arm64 or x86_64)")
	fs.StringVar(&f.lmiInstanceType, "lmi-instance-type", load.DefaultLMIInstanceType, "cost: EC2 instance type of the capacity provider")
	fs.Float64Var(&f.lmiInstances, "lmi-instances", load.DefaultLMIInstances, "cost: instances the capacity provider runs (aws: measured before and after each scenario instead)")
	fs.StringVar(&f.out, "out", "", "results folder (default bench-results/<timestamp>-load)")
	fs.BoolVar(&f.noCharts, "no-charts", false, "skip the PNG charts (faster; 'go run ./bench report DIR' draws them later)")
	fs.DurationVar(&f.progressEvery, "progress-every", 10*time.Second, "how often to print progress when stderr is not a terminal (on a terminal it refreshes twice a second)")
	fs.StringVar(&f.inTurn, "endpoints-in-turn", "auto", "load the endpoints one after another instead of at once: on, off, or auto (local target, CPU-bound scenario, host of at most "+fmt.Sprint(smallHostCores)+" cores)")
	fs.DurationVar(&f.cooldown, "cooldown", 0, "after each scenario (each endpoint, in turn), wait this long without load while the function side's concurrency is still charted, e.g. to see LMI scale in")
	f.ll.register(fs)
}

// smallHostCores is the most cores of a host on which --endpoints-in-turn
// auto loads the endpoints of a CPU-bound scenario one after another: run
// at once, their environments' quotas would add up to more than its cores.
const smallHostCores = 4

// inTurnFunc returns the load run's InTurn decision for --endpoints-in-turn.
func (f *loadFlags) inTurnFunc(local bool, cores int) func(load.Scenario) bool {
	switch f.inTurn {
	case "on":
		return func(load.Scenario) bool { return true }
	case "off":
		return nil
	}
	if !local || cores > smallHostCores {
		return nil
	}
	return cpuBound
}

// cpuBound reports whether a scenario's query asks the hello function for
// CPU work (hash_loops > 0).
func cpuBound(sc load.Scenario) bool {
	q, err := url.ParseQuery(sc.Query)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(q.Get("hash_loops"))
	return err == nil && n > 0
}

// profile returns the load model and stages the flags ask for.
func (f *loadFlags) loadProfile() (load.Model, load.Stages, error) {
	switch {
	case f.stages != "" && f.rate != "":
		return "", nil, usagef("--stages (closed model) and --rate (open model) exclude each other")
	case f.rate != "":
		st, err := load.ParseStages(f.rate, false)
		if err != nil {
			return "", nil, usagef("--rate: %v", err)
		}
		if st.Arrivals(st.Total()) < 1 {
			return "", nil, usagef("--rate %s: these stages never send a request", f.rate)
		}
		return load.Open, st, nil
	}
	spec := f.stages
	if spec == "" {
		spec = defaultStagesLocal
		if f.target == string(target.AWS) {
			spec = defaultStagesAWS
		}
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

func (f *loadFlags) validate() error {
	if _, err := target.ParseKind(f.target); err != nil {
		return usageError{err.Error()}
	}
	if _, _, err := f.loadProfile(); err != nil {
		return err
	}
	if f.query != "" && f.scenario == "all" {
		f.scenario = "custom"
	}
	if _, err := load.Scenarios(f.scenario, f.workload, f.query); err != nil {
		return usageError{err.Error()}
	}
	if f.cooldown < 0 {
		return usagef("--cooldown %s: must not be negative", f.cooldown)
	}
	if f.timeout <= 0 || f.maxInFlight < 1 {
		return usagef("--timeout must be positive and --max-in-flight at least 1")
	}
	if _, err := cost.NormalizeArch(f.arch); err != nil {
		return usageError{err.Error()}
	}
	if f.lmiInstances <= 0 {
		return usagef("--lmi-instances must be positive")
	}
	if _, err := threshold.ParseAll(f.thresholds); err != nil {
		return usageError{err.Error()}
	}
	switch f.inTurn {
	case "auto", "on", "off":
	default:
		return usagef("--endpoints-in-turn %q: want auto, on or off", f.inTurn)
	}
	return f.ll.validate()
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f loadFlags
	fs := newFlagSet("load", "load [flags]", loadDescription, stdout, stderr)
	f.register(fs)
	fs.Var(&f.thresholds, "threshold", "fail (exit 99) when an endpoint's totals cross this: p50/p90/p95/p99/p99.9/avg/min/max<DURATION or error_rate<PERCENT, optionally scoped: 'lmi-2048:p99<1s', 'low-cpu/:p95<300ms' (repeatable)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	res, err := loadRun(ctx, f, stdout, stderr)
	if res.dir != "" {
		fmt.Fprintf(stdout, "\nResults: %s\n", res.dir)
	}
	return err
}

// loadResult is what a load run leaves behind.
type loadResult struct {
	dir    string
	report *load.Report
}

// loadRun runs the load test with settings f (validated) and writes its
// report. On an interruption it still writes a partial summary of
// everything measured. A crossed threshold returns an error wrapping
// threshold.ErrCrossed.
func loadRun(ctx context.Context, f loadFlags, stdout, stderr io.Writer) (loadResult, error) {
	var res loadResult
	model, stages, err := f.loadProfile()
	if err != nil {
		return res, err
	}
	scenarios, err := load.Scenarios(f.scenario, f.workload, f.query)
	if err != nil {
		return res, usageError{err.Error()}
	}
	prices := cost.Default()
	if f.prices != "" {
		if prices, err = cost.Load(f.prices); err != nil {
			return res, err
		}
	}
	host, _ := os.Hostname()
	info := load.RunInfo{
		Target: f.target, Started: time.Now().UTC().Truncate(time.Second),
		Generator:   fmt.Sprintf("%s (%s/%s, %d cores)", host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
		Timeout:     f.timeout.String(),
		MaxInFlight: f.maxInFlight,
		Thresholds:  f.thresholds,
		Cost: load.CostInputs{Prices: &prices, Arch: f.arch, LMIInstanceType: f.lmiInstanceType, LMIInstances: f.lmiInstances,
			LMIInstancesByScenario: map[string]float64{}},
	}
	if model == load.Closed {
		info.MaxInFlight = 0
	}
	cfg := load.RunConfig{
		Scenarios: scenarios, Model: model, Stages: stages,
		Timeout: f.timeout, MaxInFlight: f.maxInFlight, NoCharts: f.noCharts, Cooldown: f.cooldown,
		Progress: stderr, Interactive: isTerminal(stderr), ProgressEvery: f.progressEvery,
	}

	var (
		outputs map[string]string
		lt      *target.LocalTarget
		at      *target.AWSTarget
	)
	switch target.Kind(f.target) {
	case target.Local:
		lt = f.local
		if lt == nil {
			fmt.Fprintln(stderr, "Starting the local Lambda (building the function for this machine)…")
			opts := target.LocalOptions{Binary: f.binary, Hello: true, BuildLog: stderr, NoCPUControl: f.noCPULimits}
			f.ll.apply(&opts)
			lt, err = target.StartLocal(ctx, opts)
			if err != nil {
				return res, err
			}
			defer lt.Close()
			fmt.Fprintf(stderr, "Local Lambda: %s; %d host cores cap each environment's vCPUs.\n", lt.Server.Confinement(), lt.Server.HostCores())
			fmt.Fprintf(stderr, "Local Lambda scaling: %s; environments' CPU from %s.\n", f.ll.describe(), lt.Server.CPUSource())
		}
		mon, err := hostload.New(hostload.Options{Cores: runtime.NumCPU(), Demand: lt.Server.BusyVCPUs})
		if err != nil {
			fmt.Fprintf(stderr, "Not measuring this machine's load: %v\n", err)
			info.Notes = append(info.Notes, "host saturation not measured: "+err.Error())
		} else {
			mon.Start()
			defer mon.Stop()
			cfg.Host = mon
		}
		outputs = lt.Outputs
		info.Notes = append(info.Notes, "local target: the cost estimate prices this traffic as if it ran on AWS",
			"local Lambda: "+f.ll.describe())
	case target.AWS:
		at, err = target.OpenAWS(ctx, target.AWSOptions{Region: f.region, Profile: f.profile, Stack: f.stack, OutputsFile: f.outputsFile})
		if err != nil {
			return res, err
		}
		outputs = at.Outputs
		info.Stack, info.Region = f.stack, at.Config.Region
	}
	eps, fns, err := load.ResolveEndpoints(f.endpoints, outputs)
	if err != nil {
		return res, usageError{err.Error()}
	}
	cfg.Endpoints = eps
	cfg.InTurn = f.inTurnFunc(lt != nil, runtime.NumCPU())
	if cfg.InTurn != nil && len(eps) > 1 {
		var names []string
		for _, sc := range scenarios {
			if cfg.InTurn(sc) {
				names = append(names, sc.Name)
			}
		}
		if len(names) > 0 {
			note := fmt.Sprintf("%s: endpoints loaded one after another, not at once", strings.Join(names, ", "))
			if f.inTurn == "auto" {
				note += fmt.Sprintf(" (CPU-bound on a %d-core host: at once, their environments would compete for its cores; --endpoints-in-turn off to load them together)", runtime.NumCPU())
			}
			fmt.Fprintln(stderr, "Load: "+note+".")
			info.Notes = append(info.Notes, note)
		}
	}
	info.URLs = map[string]string{}
	for _, e := range eps {
		info.URLs[e.Name] = e.URL
	}
	switch {
	case lt != nil:
		cfg.Concurrency = localConcurrency(lt.Server, fns)
	case at != nil:
		arn := f.providerARN
		if arn == "" {
			arn = outputs["CapacityProviderArn"]
		}
		w := &awsWatch{ec2: ec2.NewFromConfig(at.Config), cw: cloudwatch.NewFromConfig(at.Config), arn: arn,
			providerName: outputs["CapacityProviderName"], lmiFunction: fns["lmi-2048"], f: f, info: &info, stderr: stderr}
		cfg.Before = w.before
		cfg.Concurrency = w.concurrency
	}

	res.dir = f.out
	if res.dir == "" {
		res.dir = filepath.Join("bench-results", time.Now().Format("20060102-150405")+"-load")
	}
	cfg.Dir = res.dir
	cfg.Info = info
	unit := "VUs"
	if model == load.Open {
		unit = "requests/s"
	}
	fmt.Fprintf(stderr, "Load: %d scenario(s) × %s, %s model, stages %s (%s per endpoint, %s each), writing %s\n",
		len(scenarios), strings.Join(endpointNames(eps), ", "), model, stages, unit, stages.Total(), res.dir)
	rep, err := load.Run(ctx, cfg)
	res.report = rep
	if rep != nil {
		if b, rerr := os.ReadFile(filepath.Join(res.dir, load.SummaryMDFile)); rerr == nil {
			fmt.Fprintf(stdout, "\n%s", b)
		}
	}
	return res, err
}

func endpointNames(eps []load.Endpoint) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.Name
	}
	return out
}

// localConcurrency reads each endpoint's function timeline from the local
// Lambda over a scenario's window: execution environments and invocations
// in flight, every 100 ms.
func localConcurrency(srv *locallambda.Server, fns map[string]string) func(ctx context.Context, sc load.Scenario, start, end time.Time) ([]load.ConcurrencySeries, error) {
	return func(_ context.Context, _ load.Scenario, start, end time.Time) ([]load.ConcurrencySeries, error) {
		var out []load.ConcurrencySeries
		for _, name := range load.EndpointOrder {
			fn, ok := fns[name]
			if !ok || fn == "" {
				continue
			}
			s := load.ConcurrencySeries{Endpoint: name, Function: fn, Source: load.SourceLocal}
			for _, smp := range srv.Timeline(fn) {
				if smp.Time.Before(start) || smp.Time.After(end) {
					continue
				}
				el := math.Round(smp.Time.Sub(start).Seconds()*1000) / 1000
				p := load.ConcurrencyPoint{
					Elapsed: time.Duration(el * float64(time.Second)), ElapsedS: el,
					Environments: float64(smp.Environments), Value: float64(smp.InFlight),
				}
				if len(smp.CPU) > 0 {
					var sum float64
					var per []string
					for _, c := range smp.CPU {
						sum += c.Utilization
						per = append(per, fmt.Sprintf("#%d %.0f%% (used %.0f%%)", c.ID, 100*c.Utilization, 100*c.Used))
					}
					mean := math.Round(1000*sum/float64(len(smp.CPU))) / 10
					p.CPU, p.CPUPerEnv = &mean, strings.Join(per, "; ")
				}
				var events []string
				for _, e := range smp.Events {
					events = append(events, e.String())
				}
				p.Event = strings.Join(events, "; ")
				s.Points = append(s.Points, p)
			}
			out = append(out, s)
		}
		return out, nil
	}
}

// awsWatch watches the LMI capacity provider between and during scenarios.
type awsWatch struct {
	ec2          capacity.InstanceDescriber
	cw           capacity.MetricStatisticsGetter
	arn          string
	providerName string
	lmiFunction  string
	f            loadFlags
	info         *load.RunInfo
	stderr       io.Writer

	baseline   int
	atStart    int
	haveCounts bool
}

// before records the instance count before the first scenario (the
// baseline) and, before the others, waits for the provider to get back to
// it.
func (w *awsWatch) before(ctx context.Context, i int, sc load.Scenario) error {
	if w.arn == "" {
		if i == 0 {
			fmt.Fprintln(w.stderr, "No capacity provider ARN (stack output CapacityProviderArn or --capacity-provider-arn): not watching LMI instances.")
		}
		return nil
	}
	n, err := capacity.CountInstances(ctx, w.ec2, w.arn)
	if err != nil {
		// Not fatal: the load test does not need EC2 permissions.
		fmt.Fprintf(w.stderr, "Cannot count the capacity provider's instances: %v\n", err)
		w.haveCounts = false
		return nil
	}
	if i == 0 {
		w.baseline = n
		fmt.Fprintf(w.stderr, "Capacity provider baseline: %d instance(s).\n", n)
	} else if w.f.waitScaleIn && n > w.baseline {
		n, err = capacity.WaitForBaseline(ctx, w.ec2, w.arn, capacity.WaitOptions{
			Baseline: w.baseline, Interval: w.f.scaleInCheck, MaxWait: w.f.scaleInMaxWait,
			Logf: func(format string, a ...any) { fmt.Fprintf(w.stderr, format+"\n", a...) },
		})
		if err != nil {
			return err
		}
	}
	w.atStart, w.haveCounts = n, true
	return nil
}

// concurrency counts the instances after the scenario (for the cost
// estimate: the mean of the counts before and after) and, with
// --cloudwatch, reads the LMI function's ExecutionEnvironmentConcurrency.
func (w *awsWatch) concurrency(ctx context.Context, sc load.Scenario, start, end time.Time) ([]load.ConcurrencySeries, error) {
	if w.haveCounts {
		if n, err := capacity.CountInstances(ctx, w.ec2, w.arn); err == nil {
			w.info.Cost.LMIInstancesByScenario[sc.Name] = float64(w.atStart+n) / 2
		}
	}
	if !w.f.cloudwatch {
		return nil, nil
	}
	fn := w.lmiFunction
	if fn == "" {
		return nil, nil
	}
	// CloudWatch publishes a minute after the fact; give it that minute.
	if wait := time.Until(end.Add(90 * time.Second)); wait > 0 {
		fmt.Fprintf(w.stderr, "Waiting %s for CloudWatch to publish the last minute of %s…\n", wait.Round(time.Second), sc.Name)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	pts, err := capacity.EnvironmentConcurrency(ctx, w.cw, capacity.ConcurrencyQuery{
		FunctionName: fn, CapacityProviderName: w.providerName, Start: start, End: end, Period: w.f.cloudwatchPeriod,
	})
	if err != nil {
		return nil, err
	}
	s := load.ConcurrencySeries{Endpoint: "lmi-2048", Function: fn, Source: load.SourceCloudWatch}
	for _, p := range pts {
		el := math.Round(p.Time.Sub(start).Seconds()*1000) / 1000
		s.Points = append(s.Points, load.ConcurrencyPoint{
			Elapsed: time.Duration(el * float64(time.Second)), ElapsedS: el,
			Environments: p.SampleCount, Value: p.Average * p.SampleCount,
		})
	}
	return []load.ConcurrencySeries{s}, nil
}
