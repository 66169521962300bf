package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"lambdabench/bench/internal/capacity"
	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/threshold"
)

const loadDescription = `Staged load on any HTTP endpoint or Lambda function, or on the hello endpoints
— standard Lambda at 128 MB and 2048 MB against Lambda Managed Instances (LMI)
at 2048 MB — every endpoint loaded at once by its own independent generator, so
a slow endpoint never slows another.

What to load (the first three replace the hello scenarios; combine freely):
  --url [NAME=]URL      an HTTP(S) URL, one generator each (repeatable), with
                        --method, --header 'K: V' (repeatable), --body or
                        --body-file applied to every --url.
  --targets [NAME=]FILE one generator sending the requests of a JSON list
                        [{"name","method","url","headers":{},"body","weight"}],
                        picked in proportion to their weights.
  --function NAME|ARN   a Lambda function through the Invoke API (repeatable),
                        with --payload/--payload-file; --log-tail records each
                        REPORT line's Duration and Billed Duration, and the
                        cost is then computed from billed time. --endpoint-url
                        sends the Invoke calls to a local Lambda ('serve').
  (none of them)        the hello scenarios below, on --target local or aws.
Only the URLs and functions given ever receive traffic; redirects are not
followed; a failed request is reported, not retried (but for a keep-alive
connection the server closed before answering, retried once). Cost is estimated only where the target is known: our stacks,
--function (its memory and architecture), or --cost-model.

Load models:
  closed (default)  --stages: virtual users (VUs), each sending a request and
                    waiting for its answer before the next; duration:target
                    pairs ramp linearly from the previous target (0 at first),
                    as k6's ramping-vus does.
  open              --rate: requests per second, same syntax; each request is
                    sent at its due time whatever the answers do, and its
                    latency is measured from that due time, so a stall shows in
                    the percentiles (coordinated omission corrected, as wrk2).
                    Each request's send lag (due → sent) is recorded: it is the
                    generator's share of the latency, and a warning says when
                    it could not keep up. At most --max-in-flight per endpoint:
                    requests due beyond that are dropped, reported and counted
                    as failed.

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
errors, function errors, dropped, error %, avg, p50, p90, p95, p99, p99.9, max,
send lag p50/p99 (open model), cold starts; and a cost estimate),
load-<scenario>.png (latency over time with the stages, 1 s averages,
distribution, avg/p50/p95/p99) and concurrency-<scenario>.png.
Locally also host.csv: every stage says whether this machine's CPU was
saturated (host-bound: the latencies then measure the machine, not Lambda);
on a host of at most 4 cores the endpoints of a CPU-bound scenario are
loaded one after another (--endpoints-in-turn).
'go run ./bench report DIR' rebuilds them from samples.csv. Percentiles are
nearest rank (the sample of rank ceil(p/100·n)) everywhere. A run in which
every request failed exits 1.

Examples:
  go run ./bench load --url api=http://127.0.0.1:8080/ --rate 0s:200,20s:200
  go run ./bench load --function my-fn --payload '{"n":1}' --log-tail --rate 0s:20,30s:20
  go run ./bench load --scenario low-cpu
  go run ./bench load --scenario fast-io --rate 0s:20,20s:20 --threshold 'p99<500ms'
  go run ./bench load --target aws --stack GoLambdaBenchLmi --cloudwatch
  go run ./bench load --generators 4 --url api=http://127.0.0.1:8080/ --rate 0s:400,20s:400`

// Default load profiles: the seed's on AWS, and one this 2-core machine
// runs in 40 s per scenario against the local Lambda.
const (
	defaultStagesAWS   = "3m:64,6m:64,3m:128"
	defaultStagesLocal = "10s:4,20s:4,10s:8"
)

// loadFlags are the load verb's settings.
type loadFlags struct {
	targetFlags // --target, --stack, --region, --profile, --outputs-file, --endpoint-url, --binary, --no-cpu-limits

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
	force            bool
	noCharts         bool
	progressEvery    time.Duration
	local            *target.LocalTarget // a local Lambda already running (the suite's); nil = start one
	ll               localLambdaFlags
	inTurn           string
	cooldown         time.Duration

	// What to load instead of the hello scenarios.
	urls, headers, targetFiles, functions listFlag
	method, body, bodyFile                string
	payload, payloadFile                  string
	logTail                               bool
	costModel                             string
	set                                   map[string]bool // flags given on the command line
	generic                               []load.Endpoint // built by validate from --url, --targets, --function
	generators                            int             // load-generator invocations sharing the load (0 = this machine)
	generatorSamples                      bool            // the generators send every request's sample
	generatorWindow                       time.Duration   // the longest stretch one generator invocation sends (0 = as long as fits)
}

func (f *loadFlags) register(fs interface {
	Var(flag.Value, string, string)
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	BoolVar(*bool, string, bool, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	Float64Var(*float64, string, float64, string)
}) {
	fs.Var(&f.urls, "url", "load this HTTP(S) URL, '[NAME=]URL', each with its own generator (repeatable); replaces the hello scenarios")
	fs.StringVar(&f.method, "method", "GET", "--url: HTTP method")
	fs.Var(&f.headers, "header", "--url: request header 'Key: Value' (repeatable)")
	fs.StringVar(&f.body, "body", "", "--url: request body")
	fs.StringVar(&f.bodyFile, "body-file", "", "--url: read the request body from this file")
	fs.Var(&f.targetFiles, "targets", "'[NAME=]FILE': one generator sending the weighted requests of a JSON list of {name, method, url, headers, body, weight} (repeatable)")
	fs.Var(&f.functions, "function", "load this Lambda function (name or ARN) through the Invoke API, each with its own generator (repeatable)")
	fs.StringVar(&f.payload, "payload", "", "--function: JSON event to send (default {})")
	fs.StringVar(&f.payloadFile, "payload-file", "", "--function: read the JSON event from this file")
	fs.BoolVar(&f.logTail, "log-tail", false, "--function: ask for each invocation's log tail and record its REPORT Duration and Billed Duration (cost from billed time)")
	fs.StringVar(&f.costModel, "cost-model", "", "price --url/--targets/--function endpoints as 'standard:MEMORY_MB:ARCH' (e.g. standard:2048:arm64) or 'lmi:INSTANCE_TYPE:INSTANCES' (e.g. lmi:c8g.xlarge:3); without it they are an unknown target (functions: their configuration)")
	f.targetFlags.register(fs, "local", targetStack|targetOutputs|targetLocal, target.LmiStack)

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
	fs.DurationVar(&f.timeout, "timeout", load.DefaultTimeout, "per-request timeout from the moment it is sent: later answers count as timeouts (API Gateway's own limit is 29s)")

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
	fs.BoolVar(&f.force, "force", false, forceHelp)
	fs.BoolVar(&f.noCharts, "no-charts", false, "skip the PNG charts (faster; 'go run ./bench report DIR' draws them later)")
	fs.IntVar(&f.generators, "generators", 0, "send the --url/--targets load, or the hello scenarios', from N (2 or more) load-generator functions at once, each with 1/N of it, merged exactly: --target local runs them as local Lambda functions, aws invokes the "+target.LoadGenStack+" stack's function")
	fs.BoolVar(&f.generatorSamples, "generator-samples", false, "--generators: each generator also sends every request's sample (within Lambda's 6 MB answer), so samples.csv, charts, report and compare work as for a run from this machine")
	fs.DurationVar(&f.generatorWindow, "generator-window", 0, "--generators: the longest stretch of the run one generator invocation sends; a longer run is chained over several windows, each generator invoked once per window (default: as long as fits one 15-minute invocation with the start lead, --timeout and a margin: 14m with the default --timeout)")
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

// validate checks every flag before anything starts: no local Lambda, no
// request, no AWS call happens for a command line that cannot run.
func (f *loadFlags) validate() error {
	if _, err := f.kind(); err != nil {
		return err
	}
	if _, _, err := f.loadProfile(); err != nil {
		return err
	}
	if f.query != "" && f.scenario == "all" {
		f.scenario = "custom"
	}
	if err := f.buildGeneric(); err != nil {
		return err
	}
	if err := f.checkEndpoint(); err != nil {
		return err
	}
	scenarios, err := f.scenarios()
	if err != nil {
		return err
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
	prices, err := f.priceTable()
	if err != nil {
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
	var names []string
	if f.generic != nil {
		if f.costModel != "" {
			if _, err := load.ParseCostModel(f.costModel, prices); err != nil {
				return usagef("--cost-model: %v", err)
			}
		}
		for _, e := range f.generic {
			names = append(names, e.Name)
		}
	} else if names, err = load.EndpointNames(f.endpoints); err != nil {
		return usageError{err.Error()}
	}
	ths, err := threshold.ParseAll(f.thresholds)
	if err != nil {
		return usageError{err.Error()}
	}
	// A threshold scoped to nothing this run will measure is a typo.
	for _, t := range ths {
		if t.Scope == "" {
			continue
		}
		found := false
		for _, sc := range scenarios {
			for _, n := range names {
				found = found || strings.Contains(sc.Name+"/"+n, t.Scope)
			}
		}
		if !found {
			return usagef("--threshold %q: %q matches none of the endpoints (%s) in scenarios %s", t.Raw, t.Scope, strings.Join(names, ", "), scenarioNames(scenarios))
		}
	}
	if err := f.validateGenerators(); err != nil {
		return err
	}
	return prepareOut(f.outDir(), f.force)
}

func scenarioNames(scs []load.Scenario) string {
	out := make([]string, len(scs))
	for i, s := range scs {
		out[i] = s.Name
	}
	return strings.Join(out, ", ")
}

// scenarios returns the scenarios to run: the hello scenarios, or for
// --url, --targets and --function one scenario named "load" (its query, if
// --query is given, added to every URL).
func (f *loadFlags) scenarios() ([]load.Scenario, error) {
	if f.generic != nil {
		return []load.Scenario{{Name: "load", Query: strings.TrimPrefix(f.query, "?")}}, nil
	}
	scs, err := load.Scenarios(f.scenario, f.workload, f.query)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return scs, nil
}

func (f *loadFlags) priceTable() (cost.PriceTable, error) {
	if f.prices == "" {
		return cost.Default(), nil
	}
	return cost.Load(f.prices)
}

// outDir is the results folder: --out or a new one under bench-results.
func (f *loadFlags) outDir() string {
	if f.out == "" {
		f.out = filepath.Join("bench-results", time.Now().Format("20060102-150405")+"-load")
	}
	return f.out
}

// buildGeneric turns --url, --targets and --function into endpoints,
// checking every URL, header, body file and payload.
func (f *loadFlags) buildGeneric() error {
	if len(f.urls)+len(f.targetFiles)+len(f.functions) == 0 {
		for _, n := range []string{"method", "header", "body", "body-file", "payload", "payload-file", "log-tail", "endpoint-url", "cost-model"} {
			if n == "endpoint-url" && f.generators > 0 {
				continue // where the generators are invoked
			}
			if f.set[n] {
				return usagef("--%s applies to --url, --targets or --function, and none is given", n)
			}
		}
		return nil
	}
	for _, n := range []string{"target", "stack", "endpoints", "scenario", "outputs-file", "binary", "no-cpu-limits",
		"fast-io-delay-ms", "slow-io-delay-ms", "low-cpu-hash-loops", "high-cpu-hash-loops", "capacity-provider-arn", "cloudwatch"} {
		if f.generators > 0 && (n == "target" || n == "stack" || n == "outputs-file" || n == "no-cpu-limits") {
			continue // where the generators run
		}
		if f.set[n] {
			return usagef("--%s picks the hello scenarios of our stacks; it does not combine with --url, --targets or --function", n)
		}
	}
	if f.body != "" && f.bodyFile != "" {
		return usagef("--body and --body-file exclude each other")
	}
	if f.payload != "" && f.payloadFile != "" {
		return usagef("--payload and --payload-file exclude each other")
	}
	if len(f.urls) == 0 && (f.set["method"] || f.set["header"] || f.set["body"] || f.set["body-file"]) {
		return usagef("--method, --header, --body and --body-file apply to --url, and none is given")
	}
	if len(f.functions) == 0 && (f.set["payload"] || f.set["payload-file"] || f.set["log-tail"] || (f.set["endpoint-url"] && f.generators == 0)) {
		return usagef("--payload, --payload-file, --log-tail and --endpoint-url apply to --function, and none is given")
	}
	body := f.body
	if f.bodyFile != "" {
		b, err := os.ReadFile(f.bodyFile)
		if err != nil {
			return usagef("--body-file: %v", err)
		}
		body = string(b)
	}
	headers := map[string]string{}
	for _, h := range f.headers {
		k, v, err := load.ParseHeader(h)
		if err != nil {
			return usageError{err.Error()}
		}
		if old, ok := headers[k]; ok {
			v = old + ", " + v
		}
		headers[k] = v
	}
	var eps []load.Endpoint
	for _, u := range f.urls {
		name, raw, err := load.ParseURLFlag(u)
		if err != nil {
			return usageError{err.Error()}
		}
		eps = append(eps, load.Endpoint{Name: name, Requests: []load.Request{{Method: f.method, URL: raw, Headers: headers, Body: body}}})
	}
	for _, t := range f.targetFiles {
		name, path, err := load.TargetsName(t)
		if err != nil {
			return usageError{err.Error()}
		}
		reqs, err := load.ReadTargetsFile(path)
		if err != nil {
			return usageError{err.Error()}
		}
		eps = append(eps, load.Endpoint{Name: name, Requests: reqs})
	}
	payload := []byte(f.payload)
	if f.payloadFile != "" {
		b, err := os.ReadFile(f.payloadFile)
		if err != nil {
			return usagef("--payload-file: %v", err)
		}
		payload = b
	}
	if len(payload) > 0 && !json.Valid(payload) {
		return usagef("--payload: not valid JSON")
	}
	for _, fn := range f.functions {
		if strings.TrimSpace(fn) == "" {
			return usagef("--function: empty name")
		}
		// Hello: an answer shaped like the hello function's gives cold starts
		// and concurrency; any other answer is left alone.
		eps = append(eps, load.Endpoint{Name: load.FunctionShortName(fn), Hello: true, Function: &load.Function{Name: fn, Payload: payload, LogTail: f.logTail}})
	}
	load.UniqueNames(eps)
	for _, e := range eps {
		if err := load.CheckEndpoint(e); err != nil {
			return usagef("%s: %v", e.Name, err)
		}
	}
	f.generic = eps
	return nil
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f loadFlags
	fs := newFlagSet("load", "load [flags]", loadDescription, stdout, stderr)
	f.register(fs)
	fs.Var(&f.thresholds, "threshold", "fail (exit 99) when an endpoint's totals cross this: p50/p90/p95/p99/p99.9/avg/min/max<DURATION, error_rate<PERCENT (dropped requests count as failed) or dropped<COUNT, optionally scoped: 'lmi-2048:p99<1s', 'low-cpu/:p95<300ms' (repeatable)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if err := f.validate(); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// The generator allocates little per request; collecting at 50%
		// heap growth instead of 100% keeps its peak RSS near vegeta's for
		// a few percent of CPU. GOGC overrides it.
		debug.SetGCPercent(50)
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
	scenarios, err := f.scenarios()
	if err != nil {
		return res, err
	}
	prices, err := f.priceTable()
	if err != nil {
		return res, err
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

	if f.generic != nil {
		return loadGeneric(ctx, f, cfg, info, prices, stdout, stderr)
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
		if f.generators > 0 {
			// The generators run beside the functions on this machine:
			// the run measures neither alone, and the report says so.
			info.Notes = append(info.Notes, "the local generators and the local Lambda shared this machine's cores: host saturation is not measured")
		} else if err != nil {
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
	if f.generators > 0 {
		info.URLs = map[string]string{}
		for _, e := range eps {
			info.URLs[e.Name] = e.URL
		}
		info.Notes = append(info.Notes, fmt.Sprintf("the generators ran the scenarios back to back, each followed by --timeout (%s) for its last answers: no wait for scale-in, no cooldown", f.timeout))
		return loadDistributed(ctx, f, cfg, info, stdout, stderr)
	}
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

	return runPlanned(ctx, f, cfg, info, stdout, stderr)
}

// runPlanned runs cfg (endpoints resolved) and prints its summary.
func runPlanned(ctx context.Context, f loadFlags, cfg load.RunConfig, info load.RunInfo, stdout, stderr io.Writer) (loadResult, error) {
	var res loadResult
	res.dir = f.outDir()
	cfg.Dir = res.dir
	cfg.Info = info
	model, stages, scenarios, eps := cfg.Model, cfg.Stages, cfg.Scenarios, cfg.Endpoints
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

// loadGeneric runs --url, --targets and --function endpoints: no local
// Lambda, no stack. Functions are looked up first (an unknown one is a usage
// error, before any invocation) and priced from their configuration unless
// --cost-model says otherwise.
func loadGeneric(ctx context.Context, f loadFlags, cfg load.RunConfig, info load.RunInfo, prices cost.PriceTable, stdout, stderr io.Writer) (loadResult, error) {
	info.Target = "given"
	info.Cost.Generic = true
	info.Cost.Models = map[string]string{}
	info.URLs = map[string]string{}
	cfg.Endpoints = f.generic
	for _, e := range f.generic {
		switch {
		case e.Function != nil:
			info.URLs[e.Name] = "lambda:" + e.Function.Name
		case len(e.Requests) == 1:
			info.URLs[e.Name] = e.Requests[0].Method + " " + e.Requests[0].URL
		default:
			info.URLs[e.Name] = fmt.Sprintf("%d weighted requests", len(e.Requests))
		}
		if f.costModel != "" {
			info.Cost.Models[e.Name] = f.costModel
		}
	}
	if f.generators > 0 {
		return loadDistributed(ctx, f, cfg, info, stdout, stderr)
	}
	if len(f.functions) > 0 {
		client, err := f.lambdaClient(ctx)
		if err != nil {
			return loadResult{}, err
		}
		cfg.Invoker = client
		for _, e := range f.generic {
			if e.Function == nil {
				continue
			}
			conf, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(e.Function.Name)})
			if err != nil {
				var nf *lambdatypes.ResourceNotFoundException
				if errors.As(err, &nf) {
					return loadResult{}, usagef("--function %s: unknown function", e.Function.Name)
				}
				return loadResult{}, fmt.Errorf("--function %s: %w", e.Function.Name, err)
			}
			if f.costModel != "" {
				continue
			}
			switch {
			case conf.CapacityProviderConfig != nil:
				info.Notes = append(info.Notes, fmt.Sprintf("%s runs on Lambda Managed Instances: pass --cost-model lmi:INSTANCE_TYPE:INSTANCES to price it", e.Name))
			case conf.MemorySize != nil:
				arch := cost.ArchX86_64
				if len(conf.Architectures) > 0 && conf.Architectures[0] == lambdatypes.ArchitectureArm64 {
					arch = cost.ArchARM64
				}
				info.Cost.Models[e.Name] = fmt.Sprintf("standard:%d:%s", *conf.MemorySize, arch)
			}
		}
		if f.endpointURL != "" {
			info.Notes = append(info.Notes, "functions invoked through "+f.endpointURL+": the cost estimate prices this traffic as if it ran on AWS")
		}
	}
	return runPlanned(ctx, f, cfg, info, stdout, stderr)
}

// lambdaClient is the Lambda client of --function: the local Lambda at
// --endpoint-url, or AWS. Its connection pool holds --max-in-flight idle
// connections, so the load does not open a connection per invocation.
func (f *loadFlags) lambdaClient(ctx context.Context) (*lambda.Client, error) {
	pool := func(o *lambda.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = f.maxInFlight
			t.MaxIdleConnsPerHost = f.maxInFlight
		})
	}
	if f.endpointURL != "" {
		c := target.LocalLambdaClient(f.endpointURL)
		return lambda.New(c.Options(), pool), nil
	}
	cfg, err := target.LoadAWSConfig(ctx, f.region, f.profile)
	if err != nil {
		return nil, err
	}
	return lambda.NewFromConfig(cfg, pool), nil
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
