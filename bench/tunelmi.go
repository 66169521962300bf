package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/lmitune"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/threshold"
	"lambdabench/bench/internal/tune"
)

const tuneLMIDescription = `Tunes a function on Lambda Managed Instances (LMI): which memory, GiB per vCPU and
invocations per execution environment, and from what traffic on LMI is cheaper
than standard Lambda. For each configuration it sets it on $LATEST, publishes a
version, waits until it is Active, pins it to --environments execution
environments (PutFunctionScalingConfig min = max) and steps the load up through
the Invoke API until an objective breaks: --slo on the successful requests'
latency, --max-error-rate. The knee is the step with the most successful
requests per second that held, per environment and per vCPU. From the knees it
prices --rates on LMI (instances × on-demand price × 1.15, at least 3 instances,
+ requests) and on standard Lambda (GB-seconds + requests) and finds the
break-even rate. At the end (also on Ctrl-C and on errors) it deletes its
versions and restores $LATEST; 'tune --cleanup DIR' finishes that after a crash.

--target aws tunes --function NAME|ARN, an LMI function ('bench tune' finds out
by itself). --target local runs --source DIR or --binary PATH on the local
Lambda as an LMI function: each environment gets memory ÷ ratio vCPUs of this
machine's cores.`

// tuneLMIFlags are tune --lmi's settings.
type tuneLMIFlags struct {
	target                  targetFlags
	lmi                     bool
	function, source        string
	env                     listFlag
	timeout                 time.Duration
	memories, ratios, concs string
	environments            int
	ramp, rateRamp          string
	step                    time.Duration
	slo                     listFlag
	maxErrorRate            string
	rates                   string
	instanceType            string
	standardFrom            string
	standardMemory          int
	payload, prices         string
	out                     string
	force, dryRun           bool
	createdOut              string // what validate created of --out's path (firstMissing)
	cleanup                 string
}

// Defaults of tune --lmi.
const (
	defaultLMIMemory       = "2048"
	defaultLMIRatios       = "2,4,8"
	defaultLMIConcurrency  = "1,4,16,64"
	defaultLMIRates        = "1,10,100,1000,10000"
	defaultLMISLO          = "p99<500ms"
	defaultLMIMaxErrorRate = "1%"
)

// wantsLMI reports whether args ask for tune --lmi (before any "--").
func wantsLMI(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-lmi", "--lmi", "-lmi=true", "--lmi=true":
			return true
		}
	}
	return false
}

func newTuneLMIFlagSet(f *tuneLMIFlags, stdout, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet("tune --lmi", "tune --lmi [flags]", tuneLMIDescription, stdout, stderr)
	f.target.register(fs, "aws", targetTune)
	fs.BoolVar(&f.lmi, "lmi", false, "tune for Lambda Managed Instances (these flags); without it tune sweeps standard Lambda")
	fs.StringVar(&f.function, "function", "", "aws: the LMI function to tune (name or ARN); local: its name (default tune-<folder>)")
	fs.StringVar(&f.source, "source", "", "local: a Go main package `folder` of a Lambda function, built like 'make function'")
	fs.Var(&f.env, "env", "local: an environment variable KEY=VALUE of the function (repeatable); _HANDLER=NAME sets its handler (default bootstrap)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "local: the function's timeout (1s..15m)")
	fs.StringVar(&f.memories, "memory", defaultLMIMemory, "memory sizes in MB, comma-separated (2048..10240: LMI's minimum is 2048)")
	fs.StringVar(&f.ratios, "gib-per-vcpu", defaultLMIRatios, "memory per vCPU of an execution environment, GiB, comma-separated (2.0..8.0)")
	fs.StringVar(&f.concs, "per-env-concurrency", defaultLMIConcurrency, "invocations one execution environment takes at once, comma-separated (1..1600)")
	fs.IntVar(&f.environments, "environments", 1, "execution environments each version is pinned to, so that one environment's capacity is measured, not autoscaling (1..15000)")
	fs.StringVar(&f.ramp, "ramp", "", "closed model: virtual users per step, comma-separated (default: doubling from 1 to twice the environments' invocation slots)")
	fs.StringVar(&f.rateRamp, "rate-ramp", "", "open model instead: requests per second per step, comma-separated, e.g. 10,20,40,80")
	fs.DurationVar(&f.step, "step", 10*time.Second, "how long each step of the ramp lasts")
	fs.Var(&f.slo, "slo", "objective a step must meet on its successful requests, threshold syntax, e.g. 'p99<200ms' (repeatable; default "+defaultLMISLO+")")
	fs.StringVar(&f.maxErrorRate, "max-error-rate", defaultLMIMaxErrorRate, "most failed or dropped requests a step may have and still hold (0%..100%)")
	fs.StringVar(&f.rates, "rates", defaultLMIRates, "traffic levels to price, requests per second, comma-separated")
	fs.StringVar(&f.instanceType, "instance-type", "", "the EC2 instance type the capacity provider runs (default: the provider's allowed types on AWS, else the cheapest of the architecture that fits)")
	fs.StringVar(&f.standardFrom, "standard-from", "", "price standard Lambda from a previous 'bench tune' results `folder` of the same function (its verdict, or --standard-memory)")
	fs.IntVar(&f.standardMemory, "standard-memory", 0, "standard Lambda memory size to price against (local: measured in this run; default the first --memory)")
	fs.StringVar(&f.payload, "payload", "", "request payload: JSON, or @FILE to read it from a file (default {})")
	fs.StringVar(&f.prices, "prices", "", "JSON price table overriding the built-in prices and instance types (see matrix --print-prices)")
	fs.StringVar(&f.out, "out", "", "results folder (default bench-results/<timestamp>-tune-lmi)")
	registerForce(fs, &f.force)
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan, every change it would make and the IAM actions it needs; change and invoke nothing")
	fs.StringVar(&f.cleanup, "cleanup", "", "undo what an interrupted or crashed run left: read the journal in this results `folder`")
	groupFlags(fs, "tune --lmi [flags]", tuneLMIDescription, []flagGroup{
		{"Function", []string{"lmi", "target", "function", "source", "binary", "env", "timeout", "payload"}},
		{"Sweep", []string{"memory", "gib-per-vcpu", "per-env-concurrency", "environments"}},
		{"Ramp and objectives", []string{"ramp", "rate-ramp", "step", "slo", "max-error-rate"}},
		{"Cost", []string{"rates", "instance-type", "standard-from", "standard-memory", "prices"}},
		{"Results", []string{"out", "force", "dry-run", "cleanup"}},
		{"AWS", []string{"region", "profile", "endpoint-url"}},
		{"Local Lambda", []string{"no-cpu-limits", "cpu-period", "calibration"}},
	})
	return fs
}

func runTuneLMI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f tuneLMIFlags
	fs := newTuneLMIFlagSet(&f, stdout, stderr)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if f.cleanup != "" {
		return tuneCleanup(ctx, tuneFlags{target: f.target, cleanup: f.cleanup}, stdout, stderr)
	}
	o, err := f.validate()
	if err != nil {
		return err
	}
	err = f.run(ctx, o, stdout, stderr)
	if !f.dryRun {
		err = summarizeRun(f.out, err)
	}
	undoOut(err, f.out, f.createdOut)
	return err
}

// parseFloats reads a comma-separated list of numbers within [lo, hi].
func parseFloats(flagName, s string, lo, hi float64, unit string) ([]float64, error) {
	var out []float64
	for _, p := range splitList(s) {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(v) || v < lo || v > hi {
			return nil, usagef("--%s: %q is not a number between %g and %g%s", flagName, p, lo, hi, unit)
		}
		if slices.Contains(out, v) {
			return nil, usagef("--%s: %s is given twice", flagName, p)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, usagef("--%s: no value given", flagName)
	}
	return out, nil
}

func (f *tuneLMIFlags) validate() (lmitune.Options, error) {
	var o lmitune.Options
	kind, err := f.target.kind()
	if err != nil {
		return o, err
	}
	if err := f.target.checkEndpoint(); err != nil {
		return o, err
	}
	cpu, err := f.target.cpuModel()
	if err != nil {
		return o, err
	}
	o.Target, o.CPU, o.NoCPULimits = kind, cpu, f.target.noCPULimits
	switch kind {
	case target.AWS:
		if f.function == "" {
			return o, usagef("tune --lmi: --function NAME|ARN is required with --target aws (or tune a function on this machine: --target local --source DIR)")
		}
		if f.source != "" || f.target.binary != "" {
			return o, usagef("tune --lmi: --source and --binary are for --target local; on AWS the function's own code is measured")
		}
		if f.target.profile == target.NoCredentials {
			return o, usagef("tune --lmi: --profile none (placeholder credentials) is for --target local")
		}
		if f.standardMemory > 0 && f.standardFrom == "" {
			return o, usagef("tune --lmi: --standard-memory alone measures standard Lambda on the local target only; on AWS give --standard-from DIR, a 'bench tune' of a standard copy of the function")
		}
	case target.Local:
		if (f.source == "") == (f.target.binary == "") {
			return o, usagef("tune --lmi --target local: pass --source DIR or --binary PATH (one of them)")
		}
		if err := f.target.checkBinary(); err != nil {
			return o, err
		}
		if err := checkSource(f.source); err != nil {
			return o, err
		}
		if f.function == "" {
			f.function = localFunctionName(f.source, f.target.binary)
		}
		if f.timeout < time.Second || f.timeout > 15*time.Minute {
			return o, usagef("tune: --timeout %s out of 1s..15m", f.timeout)
		}
		if f.environments > locallambda.MaxVersionEnvironments {
			return o, usagef("--environments %d: the local Lambda runs at most %d environments of a version on this machine", f.environments, locallambda.MaxVersionEnvironments)
		}
	}
	o.Function, o.Source, o.Binary, o.Timeout = f.function, f.source, f.target.binary, f.timeout
	if o.Memories, err = parseMemories(f.memories); err != nil {
		return o, err
	}
	if len(o.Memories) == 0 {
		return o, usagef("--memory: no memory size given")
	}
	for _, m := range o.Memories {
		if m < 2048 {
			return o, usagef("--memory: %d MB is below 2048 MB, the smallest function Lambda Managed Instances runs", m)
		}
	}
	if o.Ratios, err = parseFloats("gib-per-vcpu", f.ratios, 2, 8, " GiB per vCPU"); err != nil {
		return o, err
	}
	concs, err := parseFloats("per-env-concurrency", f.concs, 1, 1600, "")
	if err != nil {
		return o, err
	}
	for _, c := range concs {
		if c != math.Trunc(c) {
			return o, usagef("--per-env-concurrency: %g is not a whole number", c)
		}
		o.Concurrencies = append(o.Concurrencies, int(c))
	}
	if f.environments < 1 || f.environments > 15000 {
		return o, usagef("--environments %d: give 1..15000", f.environments)
	}
	o.Environments = f.environments
	switch {
	case f.ramp != "" && f.rateRamp != "":
		return o, usagef("--ramp (closed model) and --rate-ramp (open model) exclude each other")
	case f.rateRamp != "":
		o.Model = load.Open
		if o.Ramp, err = parseFloats("rate-ramp", f.rateRamp, 0.001, 1e6, " requests per second"); err != nil {
			return o, err
		}
	default:
		o.Model = load.Closed
		if f.ramp != "" {
			if o.Ramp, err = parseFloats("ramp", f.ramp, 1, 100000, " virtual users"); err != nil {
				return o, err
			}
			for _, v := range o.Ramp {
				if v != math.Trunc(v) {
					return o, usagef("--ramp: %g is not a whole number of virtual users", v)
				}
			}
		}
	}
	if f.step < time.Second || f.step > time.Hour {
		return o, usagef("--step %s: give 1s..1h", f.step)
	}
	o.Step = f.step
	slo := []string(f.slo)
	if len(slo) == 0 {
		slo = []string{defaultLMISLO}
	}
	if o.SLO, err = threshold.ParseAll(slo); err != nil {
		return o, usageError{"--slo: " + err.Error()}
	}
	for _, t := range o.SLO {
		if t.Scope != "" {
			return o, usagef("--slo %q: an objective applies to every configuration; leave out the scope", t.Raw)
		}
	}
	if o.MaxErrorRate, err = parseErrorRate(f.maxErrorRate); err != nil {
		return o, err
	}
	if o.Rates, err = parseFloats("rates", f.rates, 0.001, 1e7, " requests per second"); err != nil {
		return o, err
	}
	slices.Sort(o.Rates)
	o.Prices = cost.Default()
	if f.prices != "" {
		if o.Prices, err = cost.Load(f.prices); err != nil {
			return o, usageError{err.Error()}
		}
		o.PricesSource = f.prices
	}
	if f.instanceType != "" {
		if _, err := o.Prices.InstancePrice(f.instanceType); err != nil {
			return o, usagef("--instance-type %s: %v", f.instanceType, err)
		}
		o.InstanceType = f.instanceType
	}
	if f.standardMemory != 0 && (f.standardMemory < 128 || f.standardMemory > 10240) {
		return o, usagef("--standard-memory %d: give 128..10240 MB", f.standardMemory)
	}
	if f.standardFrom != "" {
		if o.Standard, err = standardFrom(f.standardFrom, f.standardMemory); err != nil {
			return o, err
		}
	} else if kind == target.Local {
		o.StandardMemory = f.standardMemory
		if o.StandardMemory == 0 {
			o.StandardMemory = o.Memories[0]
		}
	}
	payloads, err := tune.Payloads(f.payload)
	if err != nil {
		return o, usageError{err.Error()}
	}
	if len(payloads) != 1 {
		return o, usagef("--payload: tune --lmi sends one payload; a weighted list is for tune without --lmi")
	}
	o.Payload = json.RawMessage(payloads[0].Body)
	if o.Handler, o.Env, err = handlerAndEnv(f.env); err != nil {
		return o, err
	}
	o.Endpoint, o.Region, o.Profile = f.target.endpointURL, f.target.region, f.target.profile
	if !f.dryRun {
		if f.out == "" {
			f.out = filepath.Join("bench-results", time.Now().Format("20060102-150405")+"-tune-lmi")
		}
		if f.createdOut, err = prepareTuneOut(f.out, f.force); err != nil {
			return o, err
		}
	}
	o.Out, o.DryRun = f.out, f.dryRun
	return o, nil
}

// parseErrorRate reads --max-error-rate: "1%" or a fraction "0.01".
func parseErrorRate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err == nil && pct {
		v /= 100
	}
	if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
		return 0, usagef("--max-error-rate %q: give a share such as 1%% or 0.01 (0%%..100%%)", s)
	}
	return v, nil
}

// standardFrom reads the standard Lambda figure from a previous tune's
// results: the configuration at memoryMB (0: the verdict's).
func standardFrom(dir string, memoryMB int) (*lmitune.Standard, error) {
	s, err := matrix.ReadSummary(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, usagef("--standard-from %s: %v", dir, err)
	}
	if s.Kind != "tune" {
		return nil, usagef("--standard-from %s: kind %q, not the results of 'bench tune'", dir, s.Kind)
	}
	arch, mem := "", memoryMB
	if mem == 0 {
		if s.Verdict == nil {
			return nil, usagef("--standard-from %s: the run has no verdict: give --standard-memory MB", dir)
		}
		arch, mem = s.Verdict.Choice.Arch, s.Verdict.Choice.MemoryMB
	}
	var sizes []string
	for _, r := range s.Results {
		if !r.Measured() {
			continue
		}
		sizes = append(sizes, strconv.Itoa(r.MemoryMB))
		if r.MemoryMB == mem && (arch == "" || r.Arch == arch) {
			// The mean billed duration of the warm invocations (each
			// rounded up, as Lambda bills them); without REPORT lines,
			// the mean duration rounded up.
			d, n, what := r.Billed.Mean, r.Billed.N, "billed"
			if n == 0 || math.IsNaN(d) || d <= 0 {
				d, n, what = cost.BilledMs(r.Warm.Mean), r.Warm.N, "duration, rounded up"
			}
			if math.IsNaN(d) || d <= 0 {
				continue
			}
			return &lmitune.Standard{MemoryMB: mem, Arch: r.Arch, DurationMs: d, N: n,
				Source: fmt.Sprintf("the warm mean %s of 'bench tune' in %s (%s)", what, dir, s.Meta.Target)}, nil
		}
	}
	return nil, usagef("--standard-from %s: no measured configuration at %d MB (it has %s)", dir, mem, strings.Join(sizes, ", "))
}

func (f *tuneLMIFlags) run(ctx context.Context, o lmitune.Options, stdout, stderr io.Writer) error {
	if o.Target == target.Local && !o.DryRun {
		creds, err := f.target.localCredentials(ctx, stderr)
		if err != nil {
			return err
		}
		o.Credentials = creds
	}
	o.Client = func(ctx context.Context) (tune.LMIAPI, error) { return f.target.lambdaClient(ctx) }
	o.Plan, o.Log = stdout, stderr
	o.OnStep = func(r lmitune.Result, s lmitune.Step) {
		held := "held"
		if !s.Held {
			held = "broke: " + s.Broke
		}
		fmt.Fprintf(stderr, "  %s step %d (%g %s): %.1f req/s ok, p99 %.1f ms, %s\n", r.Label, s.Step, s.Offered, unitOf(o.Model), s.Goodput, s.Latency.P99, held)
	}
	sum, err := lmitune.Run(ctx, o)
	if sum.Kind != "" {
		lmitune.PrintTable(stdout, sum)
		fmt.Fprintf(stdout, "\nResults: %s\n", f.out)
	}
	if err != nil {
		return asUsage(err)
	}
	return nil
}

func unitOf(m load.Model) string {
	if m == load.Open {
		return "req/s"
	}
	return "VUs"
}
