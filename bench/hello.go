package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"lambdabench/bench/internal/capacity"
	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/hello"
	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
)

const helloDescription = `The standard-vs-LMI hello experiment: the hello function behind API Gateway —
standard Lambda at 128 MB and 2048 MB against Lambda Managed Instances (LMI) at
2048 MB — under staged load, every endpoint loaded at once by its own
generator, so a slow endpoint never slows another. It runs 'load''s engine
(same models, stages, thresholds and results) on our stacks' endpoints.

Scenarios (the query string sent to every endpoint; --workload sets the numbers):
  fast-io   delay_ms=100       slow-io   delay_ms=500
  low-cpu   hash_loops=50000   high-cpu  hash_loops=200000
  all       the four in turn   custom    --query as given

Targets:
  local (default)  starts a local Lambda on 127.0.0.1 with the three hello
                   functions (building function/ for this machine, or
                   --binary) and loads its API Gateway routes. Default
                   stages 10s:4,20s:4,10s:8. Also writes host.csv: a stage
                   in which this machine's CPU was saturated is marked
                   host-bound (its latencies measure the machine, not
                   Lambda); on a host of at most 4 cores the endpoints of a
                   CPU-bound scenario are loaded one after another.
  aws              loads the URLs of a deployed LMI stack (its outputs, or
                   --outputs-file). Default stages 3m:64,6m:64,3m:128.
                   Between scenarios it waits until the capacity provider
                   is back to its pre-run EC2 instance count.

Writes to --out what 'load' writes (samples.csv, summary.json, summary.md,
load-<scenario>.png), and concurrency-<scenario>.png: execution
environments and invocations in flight over time. Cost is estimated for
the standard functions (--arch) and the capacity provider (--lmi-*).

Examples:
  bench hello --scenario low-cpu
  bench hello --scenario fast-io --rate 0s:20,20s:20 --threshold 'p99<500ms'
  bench hello --target aws --stack GoLambdaBenchLmi --cloudwatch`

// The hello experiment's default load profiles: 64 then 128 virtual users
// for 12 minutes on AWS, and one this 2-core machine runs in 40 s per
// scenario against the local Lambda.
const (
	defaultStagesAWS   = "3m:64,6m:64,3m:128"
	defaultStagesLocal = "10s:4,20s:4,10s:8"
)

// helloFlags are the hello verb's settings.
type helloFlags struct {
	profileFlags
	targetFlags // --target, --stack, --outputs-file, --region, --profile, --binary, --no-cpu-limits
	ll          localLambdaFlags

	scenario, query, endpoints string
	workload                   hello.Workload

	scaleInCheck    time.Duration
	scaleInMaxWait  time.Duration
	providerARN     string
	cloudwatch      cloudwatchFlag
	arch            string
	lmiInstanceType string
	lmiInstances    float64
	inTurn          string
	cooldown        time.Duration

	local *target.LocalTarget // a local Lambda already running (the suite's); nil = start one
}

// newHelloFlagSet is the hello verb's flag set and the settings it fills.
func newHelloFlagSet(stdout, stderr io.Writer) (*flag.FlagSet, *helloFlags) {
	f := &helloFlags{workload: hello.DefaultWorkload}
	f.profileFlags.verb = "hello"
	f.defaultStages = func() string {
		if f.target == string(target.AWS) {
			return defaultStagesAWS
		}
		return defaultStagesLocal
	}
	fs := newFlagSet("hello", "hello [flags]", helloDescription, stdout, stderr)
	f.register(fs)
	groupFlags(fs, "hello [flags]", helloDescription, []flagGroup{
		{"Scenarios and endpoints", []string{"scenario", "query", "workload", "endpoints", "endpoints-in-turn", "cooldown"}},
		{"Load profile", []string{"stages", "rate", "max-in-flight", "timeout"}},
		{"Verdict and cost", []string{"threshold", "junit", "prices", "arch", "lmi-instance-type", "lmi-instances"}},
		{"Results", []string{"out", "force", "no-charts", "progress-every"}},
		{"Target", []string{"target", "stack", "outputs-file", "region", "profile"}},
		{"Local Lambda (--target local)", []string{"binary", "no-cpu-limits", "idle-timeout", "lmi-scaling", "cpu-period", "calibration"}},
		{"AWS (--target aws)", []string{"scale-in-max-wait", "scale-in-check", "capacity-provider-arn", "cloudwatch"}},
	})
	return fs, f
}

func (f *helloFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.scenario, "scenario", "all", "fast-io, slow-io, low-cpu, high-cpu, all, custom, or a comma-separated list")
	fs.StringVar(&f.query, "query", "", "custom scenario: the query string to send, e.g. 'delay_ms=50&hash_loops=10000' (alone, implies --scenario custom)")
	fs.StringVar(&f.endpoints, "endpoints", "all", "endpoints to load, comma-separated: default-128, default-2048, lmi-2048 (or all)")
	fs.Var(&f.workload, "workload", "the scenarios' numbers, comma-separated SCENARIO=N: delay_ms of fast-io and slow-io (0..15000), hash_loops of low-cpu and high-cpu (0..1000000)")
	f.profileFlags.register(fs, defaultStagesLocal+" local, "+defaultStagesAWS+" aws")
	f.targetFlags.register(fs, "local", targetStack|targetOutputs|targetLocal, target.LmiStack)
	f.ll.register(fs)
	fs.StringVar(&f.inTurn, "endpoints-in-turn", "auto", "load the endpoints one after another instead of at once: on, off, or auto (local target, CPU-bound scenario, host of at most "+fmt.Sprint(smallHostCores)+" cores)")
	fs.DurationVar(&f.cooldown, "cooldown", 0, "after each scenario (each endpoint, in turn), wait this long without load while the function side's concurrency is still charted, e.g. to see LMI scale in")
	fs.DurationVar(&f.scaleInMaxWait, "scale-in-max-wait", 90*time.Minute, "aws: before each scenario after the first, wait up to this long for the capacity provider to get back to its pre-run EC2 instance count (0: do not wait)")
	fs.DurationVar(&f.scaleInCheck, "scale-in-check", time.Minute, "aws: how often to count the capacity provider's instances while waiting")
	fs.StringVar(&f.providerARN, "capacity-provider-arn", "", "aws: capacity provider to watch (default: the stack output CapacityProviderArn)")
	fs.Var(&f.cloudwatch, "cloudwatch", "aws: fetch the LMI function's ExecutionEnvironmentConcurrency (Average, SampleCount) for each scenario and chart it; --cloudwatch=PERIOD sets the statistics' period (whole minutes, default 1m)")
	fs.StringVar(&f.arch, "arch", load.DefaultArch, "cost: architecture of the standard functions (arm64 or x86_64)")
	fs.StringVar(&f.lmiInstanceType, "lmi-instance-type", load.DefaultLMIInstanceType, "cost: EC2 instance type of the capacity provider")
	fs.Float64Var(&f.lmiInstances, "lmi-instances", load.DefaultLMIInstances, "cost: instances the capacity provider runs (aws: measured before and after each scenario instead)")
}

// cloudwatchFlag is --cloudwatch: off, on (a 1-minute period), or on with
// the period given (--cloudwatch=5m).
type cloudwatchFlag struct {
	on     bool
	period time.Duration
}

func (c *cloudwatchFlag) String() string {
	if c == nil || !c.on {
		return "false"
	}
	return c.period.String()
}

// IsBoolFlag lets --cloudwatch stand alone.
func (c *cloudwatchFlag) IsBoolFlag() bool { return true }

func (c *cloudwatchFlag) Set(s string) error {
	switch s {
	case "true":
		c.on, c.period = true, time.Minute
	case "false":
		c.on = false
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Minute || d%time.Minute != 0 {
			return fmt.Errorf("want a period of whole minutes, such as 1m or 5m")
		}
		c.on, c.period = true, d
	}
	return nil
}

// smallHostCores is the most cores of a host on which --endpoints-in-turn
// auto loads the endpoints of a CPU-bound scenario one after another: run
// at once, their environments' quotas would add up to more than its cores.
const smallHostCores = 4

// inTurnFunc returns the load run's InTurn decision for --endpoints-in-turn.
func (f *helloFlags) inTurnFunc(local bool, cores int) func(load.Scenario) bool {
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

// scenarios returns the hello scenarios to run.
func (f *helloFlags) scenarios() ([]load.Scenario, error) {
	scs, err := hello.Scenarios(f.scenario, f.workload, f.query)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return scs, nil
}

// validate checks every flag before anything starts: no local Lambda, no
// request, no AWS call happens for a command line that cannot run.
func (f *helloFlags) validate() error {
	if _, err := f.kind(); err != nil {
		return err
	}
	ths, prices, err := f.profileFlags.check()
	if err != nil {
		return err
	}
	if f.query != "" && f.scenario == "all" {
		f.scenario = "custom"
	}
	if err := f.targetFlags.check(); err != nil {
		return err
	}
	scenarios, err := f.scenarios()
	if err != nil {
		return err
	}
	switch {
	case f.cooldown < 0:
		return usagef("--cooldown %s: must not be negative", f.cooldown)
	case f.scaleInMaxWait < 0:
		return usagef("--scale-in-max-wait %s: must not be negative (0: do not wait)", f.scaleInMaxWait)
	case f.lmiInstances <= 0:
		return usagef("--lmi-instances must be positive")
	}
	if _, err := cost.NormalizeArch(f.arch); err != nil {
		return usageError{err.Error()}
	}
	switch f.inTurn {
	case "auto", "on", "off":
	default:
		return usagef("--endpoints-in-turn %q: want auto, on or off", f.inTurn)
	}
	if err := f.ll.validate(); err != nil {
		return err
	}
	if _, err := prices.InstancePrice(f.lmiInstanceType); err != nil {
		return usagef("--lmi-instance-type: %v", err)
	}
	names, err := hello.EndpointNames(f.endpoints)
	if err != nil {
		return usageError{err.Error()}
	}
	if err := checkScopes(ths, scenarios, names); err != nil {
		return err
	}
	return prepareOut(f.outDir(), f.force)
}

func runHello(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newHelloFlagSet(stdout, stderr)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	generatorGC()
	res, err := helloRun(ctx, f, stdout, stderr)
	if res.dir != "" {
		fmt.Fprintf(stdout, "\nResults: %s\n", res.dir)
	}
	return f.profileFlags.finish(res, err)
}

// helloRun runs the hello experiment with settings f (validated) and
// writes its report. On an interruption it still writes a partial summary
// of everything measured. A crossed threshold returns an error wrapping
// threshold.ErrCrossed.
func helloRun(ctx context.Context, f *helloFlags, stdout, stderr io.Writer) (loadResult, error) {
	var res loadResult
	scenarios, err := f.scenarios()
	if err != nil {
		return res, err
	}
	prices, err := f.priceTable()
	if err != nil {
		return res, err
	}
	cfg, info, err := f.runConfig(scenarios, prices, stderr)
	if err != nil {
		return res, err
	}
	cfg.Cooldown = f.cooldown
	info.Target = f.target
	info.Cost = load.CostInputs{Prices: &prices, Arch: f.arch, LMIInstanceType: f.lmiInstanceType, LMIInstances: f.lmiInstances,
		LMIInstancesByScenario: map[string]float64{}}

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
			cpu, _ := f.cpuModel() // checked by validate
			opts := target.LocalOptions{Binary: f.binary, Hello: true, BuildLog: stderr, NoCPUControl: f.noCPULimits, CPU: cpu}
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
			"local Lambda: "+f.ll.describe(), "confinement: "+lt.Server.Confinement())
	case target.AWS:
		at, err = target.OpenAWS(ctx, target.AWSOptions{Region: f.region, Profile: f.profile, Stack: f.stack, OutputsFile: f.outputsFile})
		if err != nil {
			return res, err
		}
		outputs = at.Outputs
		info.Stack, info.Region = f.stack, at.Config.Region
	}
	eps, fns, err := hello.ResolveEndpoints(f.endpoints, outputs)
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
	return runPlanned(ctx, &f.profileFlags, cfg, info, stdout, stderr)
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
	f            *helloFlags
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
	} else if w.f.scaleInMaxWait > 0 && n > w.baseline {
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
	if !w.f.cloudwatch.on {
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
		FunctionName: fn, CapacityProviderName: w.providerName, Start: start, End: end, Period: w.f.cloudwatch.period,
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
