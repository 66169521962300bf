package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/calibrate"
	"lambdabench/bench/internal/cgroup"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/tune"
)

// targetUse says which of the shared target flags a verb takes.
type targetUse int

const (
	targetStack    targetUse = 1 << iota // --stack: the verb reads one stack's outputs
	targetOutputs                        // --outputs-file: stack outputs from a file
	targetLocal                          // --binary and --no-cpu-limits: the verb can start a local Lambda
	targetEndpoint                       // --endpoint-url: the verb calls the Lambda API
	// targetCredentials: --profile and --region also say which AWS
	// credentials and region the user's function gets on the local target.
	targetCredentials

	targetTune = targetLocal | targetEndpoint | targetCredentials // tune names its function itself: no stack
)

// targetFlags are the flags that say where a verb sends its invocations,
// registered in one place for every verb.
type targetFlags struct {
	target      string
	stack       string
	region      string
	profile     string
	outputsFile string
	endpointURL string
	binary      string
	noCPULimits bool
	cpuPeriod   periodFlag
	calibration string
}

// periodFlag is --cpu-period: a duration that remembers whether it was
// given, so that it and --calibration exclude each other.
type periodFlag struct {
	d   time.Duration
	set bool
}

func (p *periodFlag) String() string {
	if p == nil || !p.set {
		return locallambda.DefaultCPUPeriod.String()
	}
	return p.d.String()
}

func (p *periodFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	p.d, p.set = d, true
	return nil
}

// flagAdder is the part of a *flag.FlagSet the target flags need, so a
// verb that registers its flags through an interface can pass it on.
type flagAdder interface {
	StringVar(p *string, name, value, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	Var(value flag.Value, name, usage string)
}

// register adds the target flags to fs; def is the default --target and
// stack the default --stack (when the verb reads one).
func (t *targetFlags) register(fs flagAdder, def string, use targetUse, stack ...string) {
	fs.StringVar(&t.target, "target", def, "where to run: local (a local Lambda on this machine) or aws (your account, or --endpoint-url)")
	if use&targetStack != 0 {
		d := ""
		if len(stack) > 0 {
			d = stack[0]
		}
		fs.StringVar(&t.stack, "stack", d, "aws: the stack whose outputs name the functions")
	}
	if use&targetOutputs != 0 {
		fs.StringVar(&t.outputsFile, "outputs-file", "", "aws: read stack outputs from this `file` (written by cdk deploy --outputs-file) instead of CloudFormation")
	}
	if use&targetCredentials != 0 {
		fs.StringVar(&t.region, "region", "", "region: aws: the function's; local: the AWS_REGION your function gets (default: AWS_REGION or the profile's)")
		t.registerProfile(fs, "shared config profile: aws: the account to call; local: whose credentials your function gets, or 'none' for placeholders that reach no account (default: your default chain)")
	} else {
		fs.StringVar(&t.region, "region", "", "aws: region (default: AWS_REGION or the profile's)")
		t.registerProfile(fs, "aws: shared config profile (default: the default chain)")
	}
	if use&targetEndpoint != 0 {
		fs.StringVar(&t.endpointURL, "endpoint-url", "", "aws: send Lambda API calls to this URL instead of AWS (e.g. a local Lambda started with serve)")
	}
	if use&targetLocal != 0 {
		t.registerLocal(fs)
	}
}

// registerProfile adds --profile with its help text.
func (t *targetFlags) registerProfile(fs flagAdder, usage string) {
	fs.StringVar(&t.profile, "profile", "", usage)
}

// localCredentials resolves, once, the AWS credentials a user's function
// gets on the local Lambda (--profile, --region: see
// target.ResolveCredentials) and says on w where they come from, never a
// secret, and which endpoint overrides it passes on. A profile that gives
// no credentials is bad usage (exit 2).
func (t *targetFlags) localCredentials(ctx context.Context, w io.Writer) (locallambda.Credentials, error) {
	c, line, err := target.ResolveCredentials(ctx, target.CredentialsOptions{Profile: t.profile, Region: t.region})
	if err != nil {
		return c, usagef("--profile %s: %v (or --profile none for placeholder credentials)", t.profile, err)
	}
	fmt.Fprintf(w, "Credentials for the function: %s.\n", line)
	if names := locallambda.EnvNames(locallambda.EndpointEnv(os.Environ())); len(names) > 0 {
		fmt.Fprintf(w, "Endpoints for the function: %s, from this environment.\n", strings.Join(names, ", "))
	}
	return c, nil
}

// registerLocal adds only the local Lambda's flags (for verbs that run
// locally only: the suite and serve).
func (t *targetFlags) registerLocal(fs flagAdder) {
	fs.StringVar(&t.binary, "binary", "", "local: run this bootstrap `path` instead of building the function for this machine")
	fs.BoolVar(&t.noCPULimits, "no-cpu-limits", false, "local: do not confine environments to the CPU share their memory buys")
	fs.Var(&t.cpuPeriod, "cpu-period", "local: the CPU throttling interval: an environment gets its share of every period and waits for the next once it has used it (1ms..1s; see 'bench calibrate')")
	fs.StringVar(&t.calibration, "calibration", "", "local: throttle as a calibration measured (its period, and the CPU share of each memory size): a calibration.json `file` written by 'bench calibrate'")
}

// cpuModel is how the local Lambda throttles environments: --cpu-period,
// or --calibration's period and shares (bad usage: exit 2).
func (t *targetFlags) cpuModel() (target.CPUModel, error) {
	switch {
	case t.cpuPeriod.set && t.calibration != "":
		return target.CPUModel{}, usagef("--cpu-period and --calibration exclude each other: a calibration carries its period")
	case t.cpuPeriod.set:
		if t.cpuPeriod.d < cgroup.MinPeriod || t.cpuPeriod.d > cgroup.MaxPeriod {
			return target.CPUModel{}, usagef("--cpu-period %s: give %s to %s", t.cpuPeriod.d, cgroup.MinPeriod, cgroup.MaxPeriod)
		}
		return target.CPUModel{Period: t.cpuPeriod.d}, nil
	case t.calibration != "":
		c, err := calibrate.Read(t.calibration)
		if err != nil {
			return target.CPUModel{}, usagef("--calibration: %v", err)
		}
		m := target.CPUModel{Period: c.Period(), Share: c.Share, Source: fmt.Sprintf("%s (%s, %s)", t.calibration, c.Target, c.Started.Format("2006-01-02"))}
		if m.Period == 0 {
			m.Period = locallambda.DefaultCPUPeriod // no size was throttled: nothing measured to replace it
		}
		return m, nil
	}
	return target.CPUModel{Period: locallambda.DefaultCPUPeriod}, nil
}

// check validates the target flags that name things before anything
// starts: --endpoint-url, --binary, --cpu-period and --calibration (bad
// usage: exit 2).
func (t *targetFlags) check() error {
	if err := t.checkEndpoint(); err != nil {
		return err
	}
	if _, err := t.cpuModel(); err != nil {
		return err
	}
	return t.checkBinary()
}

// checkEndpoint validates --endpoint-url: an http or https URL with a host.
func (t *targetFlags) checkEndpoint() error {
	if t.endpointURL == "" {
		return nil
	}
	u, err := url.Parse(t.endpointURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--endpoint-url %q: want an http:// or https:// URL, such as http://127.0.0.1:9001", t.endpointURL)
	}
	return nil
}

// checkBinary validates --binary: a Linux executable of this machine's
// architecture, the only one the local Lambda runs.
func (t *targetFlags) checkBinary() error {
	if t.binary == "" {
		return nil
	}
	arch, err := tune.BinaryArch(t.binary)
	if err != nil {
		return usageError{err.Error()}
	}
	if arch != target.HostArch() {
		return usagef("--binary %s is linux/%s code; this %s machine runs only its own architecture: build it for linux/%s",
			t.binary, tune.GOARCH(arch), target.HostArch(), tune.GOARCH(target.HostArch()))
	}
	return nil
}

// aws opens the aws target: the outputs of stack (--outputs-file or
// CloudFormation) and a Lambda client.
func (t *targetFlags) aws(ctx context.Context, stack string) (*target.AWSTarget, error) {
	return target.OpenAWS(ctx, target.AWSOptions{Region: t.region, Profile: t.profile, Stack: stack, OutputsFile: t.outputsFile, Endpoint: t.endpointURL})
}

// kind validates --target.
func (t *targetFlags) kind() (target.Kind, error) {
	k, err := target.ParseKind(t.target)
	if err != nil {
		return "", usageError{err.Error()}
	}
	return k, nil
}

// lambdaClient is a Lambda client for the aws target: the default
// credential chain, --region, --profile, and --endpoint-url when set (with
// placeholder credentials when the chain has none, as a local endpoint
// does not check them).
func (t *targetFlags) lambdaClient(ctx context.Context) (*lambda.Client, error) {
	if t.endpointURL != "" && t.region == "" && t.profile == "" {
		return target.LocalLambdaClient(t.endpointURL), nil
	}
	cfg, err := target.LoadAWSConfig(ctx, t.region, t.profile)
	if err != nil {
		return nil, err
	}
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if t.endpointURL != "" {
			o.BaseEndpoint = aws.String(t.endpointURL)
		}
	}), nil
}

// envVarName is Lambda's rule for environment variable names.
var envVarName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)

// parseEnv reads repeated KEY=VALUE flags into a map (bad usage: exit 2).
func parseEnv(kvs []string) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--env %q: want KEY=VALUE", kv)
		}
		if !envVarName.MatchString(k) {
			return nil, usagef("--env %q: %q is not a Lambda environment variable name (a letter, then letters, digits or _)", kv, k)
		}
		env[k] = v
	}
	return env, nil
}
