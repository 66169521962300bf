package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/target"
)

const loadDescription = `Staged load on any HTTP endpoint or Lambda function: each --url, --targets
file and --function is loaded at once by its own independent generator, so a
slow endpoint never slows another. (The standard-vs-LMI hello experiment on
our stacks is 'bench hello'.)

What to load (repeatable, combine freely; at least one):
  --url [NAME=]URL      an HTTP(S) URL, with --method, --header 'K: V'
                        (repeatable), --body or --body-file.
  --targets [NAME=]FILE the requests of a JSON list
                        [{"name","method","url","headers":{},"body","weight"}],
                        picked in proportion to their weights.
  --function NAME|ARN   a Lambda function through the Invoke API, with
                        --payload or --payload-file; --log-tail records each
                        REPORT line's Duration and Billed Duration (cost from
                        billed time); --endpoint-url sends the calls to a
                        local Lambda ('bench serve').
Only the URLs and functions given ever receive traffic; redirects are not
followed; a failed request is reported, not retried (but for a keep-alive
connection the server closed before answering, retried once). Cost is
estimated for functions (their memory and architecture) or --cost-model.

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
                    requests due beyond that are dropped and counted as failed.

Beyond one machine: --generators N sends the --url/--targets load from N
load-generator functions at once, each with 1/N of it, merged exactly:
--generators-on local runs them as local Lambda functions on this machine,
aws invokes the function of the --generator-stack deployed to your account.

Writes to --out: samples.csv (every request, as it happens), summary.json,
summary.md (per endpoint and stage: requests, req/s, 4xx, 429, 5xx, network
errors, function errors, dropped, error %, avg, p50, p90, p95, p99, p99.9,
max, send lag p50/p99 (open model); and a cost estimate) and load-load.png
(latency over time with the stages, 1 s averages, distribution, percentiles).
'bench report DIR' rebuilds them from samples.csv. Percentiles are nearest
rank (the sample of rank ceil(p/100·n)) everywhere. A run in which every
request failed exits 1; a crossed --threshold exits 99.

Examples:
  bench load --url api=http://127.0.0.1:8080/ --rate 0s:200,20s:200
  bench load --url api=http://127.0.0.1:8080/ --stages 5s:8,20s:8 --threshold 'p99<200ms'
  bench load --function my-fn --payload '{"n":1}' --log-tail --rate 0s:20,30s:20
  bench load --generators 4 --url api=http://127.0.0.1:8080/ --rate 0s:400,20s:400`

// defaultStagesLoad is load's closed-model profile when neither --stages
// nor --rate is given: 40 s, 4 then 8 virtual users.
const defaultStagesLoad = "10s:4,20s:4,10s:8"

// loadFlags are the load verb's settings.
type loadFlags struct {
	profileFlags

	urls, headers, targetFiles, functions listFlag
	method, body, bodyFile                string
	payload, payloadFile                  string
	logTail                               bool
	costModel                             string
	region, profile, endpointURL          string

	generators       int           // load-generator invocations sharing the load (0 = this machine)
	generatorsOn     string        // local or aws
	generatorStack   string        // aws: the stack whose function generates
	outputsFile      string        // aws: that stack's outputs, from a file
	generatorSamples bool          // the generators send every request's sample
	generatorWindow  time.Duration // the longest stretch one generator invocation sends (0 = as long as fits)

	set     map[string]bool // flags given on the command line
	generic []load.Endpoint // built by validate from --url, --targets, --function
}

// newLoadFlagSet is the load verb's flag set and the settings it fills.
func newLoadFlagSet(stdout, stderr io.Writer) (*flag.FlagSet, *loadFlags) {
	f := &loadFlags{}
	f.profileFlags.verb = "load"
	f.defaultStages = func() string { return defaultStagesLoad }
	fs := newFlagSet("load", "load [flags]", loadDescription, stdout, stderr)
	f.register(fs)
	groupFlags(fs, "load [flags]", loadDescription, []flagGroup{
		{"What to load", []string{"url", "method", "header", "body", "body-file", "targets", "function", "payload", "payload-file", "log-tail"}},
		{"Load profile", []string{"stages", "rate", "max-in-flight", "timeout"}},
		{"Verdict and cost", []string{"threshold", "junit", "cost-model", "prices"}},
		{"Results", []string{"out", "force", "no-charts", "progress-every"}},
		{"AWS (--function, --generators-on aws)", []string{"region", "profile", "endpoint-url"}},
		{"Beyond one machine", []string{"generators", "generators-on", "generator-stack", "outputs-file", "generator-samples", "generator-window"}},
	})
	return fs, f
}

func (f *loadFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.urls, "url", "load this HTTP(S) URL, '[NAME=]URL', each with its own generator (repeatable)")
	fs.StringVar(&f.method, "method", "GET", "--url: HTTP method")
	fs.Var(&f.headers, "header", "--url: request header 'Key: Value' (repeatable)")
	fs.StringVar(&f.body, "body", "", "--url: request body")
	fs.StringVar(&f.bodyFile, "body-file", "", "--url: read the request body from this file")
	fs.Var(&f.targetFiles, "targets", "'[NAME=]FILE': one generator sending the weighted requests of a JSON list of {name, method, url, headers, body, weight} (repeatable)")
	fs.Var(&f.functions, "function", "load this Lambda function (name or ARN) through the Invoke API, each with its own generator (repeatable)")
	fs.StringVar(&f.payload, "payload", "", "--function: JSON event to send (default {})")
	fs.StringVar(&f.payloadFile, "payload-file", "", "--function: read the JSON event from this file")
	fs.BoolVar(&f.logTail, "log-tail", false, "--function: ask for each invocation's log tail and record its REPORT Duration and Billed Duration (cost from billed time)")
	fs.StringVar(&f.costModel, "cost-model", "", "price every endpoint as 'standard:MEMORY_MB:ARCH' (e.g. standard:2048:arm64) or 'lmi:INSTANCE_TYPE:INSTANCES' (e.g. lmi:c8g.xlarge:3); without it URLs are not priced and functions are priced from their configuration")
	f.profileFlags.register(fs, defaultStagesLoad)
	fs.StringVar(&f.region, "region", "", "aws: region (default: AWS_REGION or the profile's)")
	fs.StringVar(&f.profile, "profile", "", "aws: shared config profile (default: the default chain)")
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "send the Lambda API calls (--function invocations, or the generators' with --generators-on aws) to this URL instead of AWS, e.g. a local Lambda started with 'bench serve'")
	fs.IntVar(&f.generators, "generators", 0, "send the load from N (2 or more) load-generator functions at once, each with 1/N of it, merged exactly")
	fs.StringVar(&f.generatorsOn, "generators-on", "local", "--generators: local (local Lambda functions on this machine) or aws (invoke the --generator-stack's function)")
	fs.StringVar(&f.generatorStack, "generator-stack", target.LoadGenStack, "--generators-on aws: the deployed stack whose output names the generator function")
	fs.StringVar(&f.outputsFile, "outputs-file", "", "--generators-on aws: read the generator stack's outputs from this `file` (written by cdk deploy --outputs-file) instead of CloudFormation")
	fs.BoolVar(&f.generatorSamples, "generator-samples", false, "--generators: each generator also sends every request's sample (within Lambda's 6 MB answer), so samples.csv, charts, report and compare work as for a run from this machine")
	fs.DurationVar(&f.generatorWindow, "generator-window", 0, "--generators: the longest stretch of the run one generator invocation sends; a longer run is chained over several windows, each generator invoked once per window (default: as long as fits one 15-minute invocation with the start lead, --timeout and a margin: 14m with the default --timeout)")
}

// validate checks every flag before anything starts: no request and no
// AWS call happens for a command line that cannot run.
func (f *loadFlags) validate() error {
	ths, prices, err := f.profileFlags.check()
	if err != nil {
		return err
	}
	if err := f.buildGeneric(); err != nil {
		return err
	}
	if f.endpointURL != "" {
		if err := (&targetFlags{endpointURL: f.endpointURL}).checkEndpoint(); err != nil {
			return err
		}
	}
	if f.costModel != "" {
		if _, err := load.ParseCostModel(f.costModel, prices); err != nil {
			return usagef("--cost-model: %v", err)
		}
	}
	if err := checkScopes(ths, f.scenarios(), endpointNames(f.generic)); err != nil {
		return err
	}
	if err := f.validateGenerators(); err != nil {
		return err
	}
	return prepareOut(f.outDir(), f.force)
}

// scenarios is the one scenario a load run has: "load".
func (f *loadFlags) scenarios() []load.Scenario {
	return []load.Scenario{{Name: "load"}}
}

// buildGeneric turns --url, --targets and --function into endpoints,
// checking every URL, header, body file and payload.
func (f *loadFlags) buildGeneric() error {
	if len(f.urls)+len(f.targetFiles)+len(f.functions) == 0 {
		return usagef("load: what to load? Give --url, --targets or --function (the standard-vs-LMI hello experiment on our stacks is 'bench hello')")
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
	if len(f.functions) == 0 && (f.set["payload"] || f.set["payload-file"] || f.set["log-tail"]) {
		return usagef("--payload, --payload-file and --log-tail apply to --function, and none is given")
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
		k, v, err := parseHeader(h)
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
		name, raw, err := parseURLFlag(u)
		if err != nil {
			return usageError{err.Error()}
		}
		eps = append(eps, load.Endpoint{Name: name, Requests: []load.Request{{Method: f.method, URL: raw, Headers: headers, Body: body}}})
	}
	for _, t := range f.targetFiles {
		name, path, err := targetsName(t)
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
	fs, f := newLoadFlagSet(stdout, stderr)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if err := f.validate(); err != nil {
		return err
	}
	generatorGC()
	res, err := loadRun(ctx, f, stdout, stderr)
	if res.dir != "" {
		fmt.Fprintf(stdout, "\nResults: %s\n", res.dir)
	}
	return summarizeRun(res.dir, f.finish(res, err))
}

// loadRun runs the load test with settings f (validated) and writes its
// report. Functions are looked up first (an unknown one is a usage error,
// before any invocation) and priced from their configuration unless
// --cost-model says otherwise. On an interruption it still writes a
// partial summary of everything measured. A crossed threshold returns an
// error wrapping threshold.ErrCrossed.
func loadRun(ctx context.Context, f *loadFlags, stdout, stderr io.Writer) (loadResult, error) {
	prices, err := f.priceTable()
	if err != nil {
		return loadResult{}, err
	}
	cfg, info, err := f.runConfig(f.scenarios(), prices, stderr)
	if err != nil {
		return loadResult{}, err
	}
	info.Target = "given"
	info.Cost.Arch, info.Cost.LMIInstanceType, info.Cost.LMIInstances = load.DefaultArch, load.DefaultLMIInstanceType, load.DefaultLMIInstances
	info.Cost.LMIInstancesByScenario = map[string]float64{}
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
	return runPlanned(ctx, &f.profileFlags, cfg, info, stdout, stderr)
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
