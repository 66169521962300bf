package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/tune"
)

const serveDescription = `Runs the local Lambda until interrupted (Ctrl+C), as 'sam local start-lambda' and
'sam local start-api' do: the Lambda Invoke API on --invoke-addr (for the AWS CLI's --endpoint-url
and the SDKs' endpoint setting; any credentials, signatures are not checked) and the API Gateway
routes on --api-addr (with or without the /prod stage prefix). Every execution environment is a
process of the real function binary, confined to the CPU share and memory its size buys where
cgroups allow. It prints the functions and routes it serves, then what happens: environments
starting and stopping, and (unless --quiet) every log line of the functions with START, END and
REPORT, as CloudWatch would show them. Your function (--function) gets your AWS credentials, from
your default chain or --profile (none: placeholders), and the Lambda metadata endpoint.`

// runServe is the serve verb.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]", serveDescription, stdout, stderr)
	invokeAddr := fs.String("invoke-addr", locallambda.DefaultInvokeAddr, "`address` of the Lambda Invoke API (127.0.0.1 only)")
	apiAddr := fs.String("api-addr", locallambda.DefaultAPIAddr, "`address` of the API Gateway routes (127.0.0.1 only)")
	var tf targetFlags
	tf.registerLocal(fs)
	binary := &tf.binary
	presets := fs.String("functions", "matrix,hello", "which `presets` to serve: matrix, hello, or both (comma-separated)")
	noCPU := &tf.noCPULimits
	quiet := fs.Bool("quiet", false, "do not print the functions' log lines (START, END, REPORT and their output)")
	outputsFile := fs.String("outputs-file", "", "also write the stack outputs to this `file`, shaped like 'cdk deploy --outputs-file'")
	var own ownFunction
	own.register(fs)
	tf.registerProfile(fs, "with --function: whose AWS credentials your function gets, or 'none' for placeholders that reach no account (default: your default chain, as 'sam local' does)")
	azID := fs.String("az-id", "", "the Availability Zone `ID` the functions' metadata endpoint (AWS_LAMBDA_METADATA_API) answers (default: a local one, use1-local-az1 in us-east-1)")
	var ll localLambdaFlags
	ll.register(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := ll.validate(); err != nil {
		return err
	}
	for _, a := range []struct{ flag, addr string }{{"--invoke-addr", *invokeAddr}, {"--api-addr", *apiAddr}} {
		if err := locallambda.CheckLoopback(a.addr); err != nil {
			return usagef("serve: %s: %v", a.flag, err)
		}
	}
	if own.name == "" {
		if err := tf.check(); err != nil {
			return err
		}
	}
	var matrix, hello bool
	var custom []locallambda.FunctionSpec
	if own.name != "" {
		spec, err := own.spec(*binary)
		if err != nil {
			return err
		}
		custom = append(custom, spec)
		*presets = ""
	} else if own.set() {
		return usagef("serve: --handler, --memory, --env and --timeout describe your function: name it with --function (and give --binary)")
	} else if tf.profile != "" {
		return usagef("serve: --profile picks your function's credentials: name it with --function (and give --binary); the project's functions get placeholders")
	}
	if *azID != "" {
		if err := locallambda.CheckAZID(*azID); err != nil {
			return usagef("serve: --az-id: %v", err)
		}
	}
	for p := range strings.SplitSeq(*presets, ",") {
		if len(custom) > 0 {
			break
		}
		switch strings.TrimSpace(p) {
		case "matrix":
			matrix = true
		case "hello":
			hello = true
		default:
			return usagef("serve: --functions %q: want matrix, hello or matrix,hello", *presets)
		}
	}

	cpu, err := tf.cpuModel()
	if err != nil {
		return err
	}
	var creds locallambda.Credentials
	if len(custom) > 0 {
		if creds, err = tf.localCredentials(ctx, stdout); err != nil {
			return err
		}
	}
	if *binary == "" && len(custom) == 0 {
		fmt.Fprintf(stderr, "building the function for linux/%s ...\n", runtime.GOARCH)
	}
	out := &lockedWriter{w: stdout}
	opts := target.LocalOptions{
		Binary: *binary, Matrix: matrix, Hello: hello, BuildLog: stderr, Functions: custom,
		InvokeAddr: *invokeAddr, APIAddr: *apiAddr, NoCPUControl: *noCPU, CPU: cpu, Credentials: creds, AZID: *azID,
		Logf: func(format string, a ...any) {
			out.printf("%s local: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
		},
	}
	ll.apply(&opts)
	if !*quiet {
		opts.FunctionLog = func(function, line string) {
			out.printf("%s %s: %s\n", time.Now().Format("15:04:05.000"), function, line)
		}
	}
	lt, err := target.StartLocal(ctx, opts)
	if err != nil {
		if strings.Contains(err.Error(), "--binary") {
			return usagef("serve: %v", err)
		}
		return fmt.Errorf("serve: %w", err)
	}
	srv, bin := lt.Server, lt.Binary
	defer srv.Close()

	if *outputsFile != "" {
		if err := writeOutputsFile(*outputsFile, srv.StackOutputs()); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	out.printf("%s", describeServer(srv, bin, ll))
	<-ctx.Done()
	out.printf("stopping: killing every environment and removing the cgroups ...\n")
	if err := srv.Close(); err != nil {
		return fmt.Errorf("serve: stop: %w", err)
	}
	out.printf("stopped\n")
	return nil
}

// describeServer is what serve prints once it is up: endpoints, functions, routes, examples.
func describeServer(srv *locallambda.Server, bin string, ll localLambdaFlags) string {
	var b strings.Builder
	fmt.Fprintf(&b, "local Lambda running %s\n", bin)
	fmt.Fprintf(&b, "  Invoke API   %s\n", srv.InvokeEndpoint())
	if base := srv.APIBaseURL(); base != "" {
		fmt.Fprintf(&b, "  API Gateway  %s (stage prefix %s/ optional)\n", base, locallambda.Stage)
	}
	fmt.Fprintf(&b, "  confinement  %s; %d host cores\n", srv.Confinement(), srv.HostCores())
	fmt.Fprintf(&b, "  credentials  %s; metadata endpoint answers AZ ID %s\n\n", srv.Credentials(), srv.AZID())
	fmt.Fprintf(&b, "  %-30s %-7s %8s %5s  %s\n", "FUNCTION", "HANDLER", "MEMORY", "vCPU", "SCALING")
	var example string
	idle := "idle ones stop after " + ll.idleTimeout.String()
	if ll.idleTimeout == 0 {
		idle = "idle ones kept warm"
	}
	lmi := false
	for _, f := range srv.Functions() {
		scaling := fmt.Sprintf("standard, up to %d environments, %s", f.ReservedConcurrency, idle)
		if f.Mode == locallambda.LMI {
			lmi = true
			scaling = fmt.Sprintf("LMI, %d per environment, %d-%d environments (%g GiB/vCPU), target CPU %g%%",
				f.MaxConcurrency, f.MinEnvironments, f.MaxEnvironments, f.GiBPerVCPU, f.TargetCPUPercent)
		}
		fmt.Fprintf(&b, "  %-30s %-7s %5d MB %5.2f  %s\n", f.Name, f.Handler, f.MemoryMB,
			srv.VCPUsOf(f), scaling)
		if example == "" && f.Handler == "bcrypt" {
			example = f.Name
		}
	}
	if lmi {
		fmt.Fprintf(&b, "\n  LMI scaling: a decision every %s on the environments' CPU utilisation (used or waited\n"+
			"    for, from %s and schedstat);\n"+
			"    out when the average stays above the target for %s or every slot is taken (new\n"+
			"    environments after %s); in by one when one fewer would stay under the target for %s;\n"+
			"    beyond the ready environments' slots: 429\n",
			ll.scaleInterval, srv.CPUSource(), locallambda.DefaultScaleOutAfter, ll.startDelay, ll.scaleInAfter)
	}
	if routes := srv.Routes(); len(routes) > 0 {
		b.WriteString("\n")
		for _, r := range routes {
			fmt.Fprintf(&b, "  %-4s %s%s%s -> %s\n", r.Method, srv.APIBaseURL(), locallambda.Stage, r.Path, r.Function)
		}
	}
	b.WriteString("\ntry:\n")
	if fns := srv.Functions(); example == "" && len(fns) == 1 {
		fmt.Fprintf(&b, "  aws lambda invoke --endpoint-url %s --region %s --function-name %s \\\n"+
			"    --cli-binary-format raw-in-base64-out --payload '{}' --log-type Tail --query LogResult --output text /dev/stderr | base64 -d\n"+
			"  go run ./bench tune --endpoint-url %s --function %s\n",
			srv.InvokeEndpoint(), locallambda.Region, fns[0].Name, srv.InvokeEndpoint(), fns[0].Name)
	}
	if example != "" {
		fmt.Fprintf(&b, "  aws lambda invoke --endpoint-url %s --region %s --function-name %s \\\n"+
			"    --cli-binary-format raw-in-base64-out --payload '{\"count\":4,\"mode\":\"parallel\",\"cost\":4}' \\\n"+
			"    --log-type Tail --query LogResult --output text /dev/stderr | base64 -d\n",
			srv.InvokeEndpoint(), locallambda.Region, example)
	}
	if routes := srv.Routes(); len(routes) > 0 {
		fmt.Fprintf(&b, "  curl '%s%s%s?delay_ms=10&hash_loops=1000'\n", srv.APIBaseURL(), locallambda.Stage, routes[0].Path)
	}
	b.WriteString("Ctrl+C stops everything.\n\n")
	return b.String()
}

// writeOutputsFile writes the stack outputs as `cdk deploy --outputs-file` does: one object per
// stack (the matrix's keys under GoLambdaBenchMatrix, the rest under GoLambdaBenchLmi).
func writeOutputsFile(path string, outputs map[string]string) error {
	stacks := map[string]map[string]string{}
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		stack := "GoLambdaBenchLmi"
		if strings.HasPrefix(k, "Arm64Mem") || strings.HasPrefix(k, "X8664Mem") {
			stack = "GoLambdaBenchMatrix"
		}
		if stacks[stack] == nil {
			stacks[stack] = map[string]string{}
		}
		stacks[stack][k] = outputs[k]
	}
	b, err := json.MarshalIndent(stacks, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stack outputs: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write stack outputs: %w", err)
	}
	return nil
}

// lockedWriter serializes writes from the server's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, a...)
}

// ownFunction is a user's function for serve: --function with --binary.
type ownFunction struct {
	name, handler string
	memory        int
	timeout       time.Duration
	env           listFlag
}

func (o *ownFunction) register(fs *flag.FlagSet) {
	fs.StringVar(&o.name, "function", "", "serve your own function under this `name` (with --binary) instead of the presets")
	fs.StringVar(&o.handler, "handler", "bootstrap", "with --function: the handler (_HANDLER)")
	fs.IntVar(&o.memory, "memory", 128, "with --function: memory in MB (128..10240)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "with --function: timeout (1s..15m)")
	fs.Var(&o.env, "env", "with --function: an environment variable KEY=VALUE (repeatable)")
}

// set reports whether any of the function's settings was changed from its default.
func (o *ownFunction) set() bool {
	return o.handler != "bootstrap" || o.memory != 128 || o.timeout != 30*time.Second || len(o.env) > 0
}

// spec checks the settings and the binary (a Linux executable of this
// machine's architecture) and returns the function to serve.
func (o *ownFunction) spec(binary string) (locallambda.FunctionSpec, error) {
	if binary == "" {
		return locallambda.FunctionSpec{}, usagef("serve --function %s: which code? pass --binary PATH (a provided.al2023 bootstrap)", o.name)
	}
	arch, err := tune.BinaryArch(binary)
	if err != nil {
		return locallambda.FunctionSpec{}, usageError{err.Error()}
	}
	if arch != target.HostArch() {
		return locallambda.FunctionSpec{}, usagef("--binary %s is linux/%s code; this %s machine runs only its own architecture", binary, tune.GOARCH(arch), target.HostArch())
	}
	if o.memory < 128 || o.memory > 10240 {
		return locallambda.FunctionSpec{}, usagef("--memory %d out of 128..10240 MB", o.memory)
	}
	if o.timeout < time.Second || o.timeout > 15*time.Minute {
		return locallambda.FunctionSpec{}, usagef("--timeout %s out of 1s..15m", o.timeout)
	}
	env, err := parseEnv(o.env)
	if err != nil {
		return locallambda.FunctionSpec{}, err
	}
	return locallambda.FunctionSpec{Name: o.name, Binary: binary, Handler: o.handler, MemoryMB: o.memory, Timeout: o.timeout,
		Env: env, Architecture: arch}, nil
}
