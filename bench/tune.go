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
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/stats"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/threshold"
	"lambdabench/bench/internal/tune"
)

const tuneDescription = `Tunes any Lambda function over memory × architecture, as AWS Lambda Power Tuning
does but with percentiles, forced cold starts, the request fee and billed init in the
cost, and both architectures in one run. Per configuration it sets the memory (and
the architecture, with code built for it) on $LATEST, waits until the update is
done, publishes a version, points an alias bench-tune-… at it, and invokes the
alias: --cold forced cold starts, then --runs warm invocations. On AWS every
configuration's versions and alias are published first and the configurations
are measured at once (--parallel-configs); locally one at a time. At the end (also
on Ctrl-C and on errors) it deletes every alias and version it made and restores
$LATEST's memory, environment, architecture and code; a journal in the results
folder lets 'tune --cleanup DIR' finish that after a crash.

--target aws (the default) tunes --function NAME|ARN in your account (or at
--endpoint-url). --target local tunes a function before it is deployed: --source
DIR (a Go main package, built like 'make function') or --binary PATH, run by the
local Lambda, which gives each memory size the CPU share it buys. This machine
runs code of its own architecture only: the other architecture is reported as
not measured, never invented.`

// defaultTuneMemories is a Power-Tuning-like spread from 128 to 10240 MB.
const defaultTuneMemories = "128,256,512,1024,1536,2048,3008,4096,6144,8192,10240"

// tuneFlags are the tune verb's settings.
type tuneFlags struct {
	target                  targetFlags
	function                string
	source                  string
	env                     listFlag
	timeout                 time.Duration
	memories, archs         string
	createdOut              string // what validate created of --out's path (firstMissing)
	cold, runs, parallel    int
	sleep                   time.Duration
	payload                 string
	allowedErrors           int
	strategy                string
	weight, trim, coldShare float64
	prices                  string
	thresholds              listFlag
	junit                   string
	out                     string
	force                   bool
	dryRun                  bool
	cleanup                 string
	ptInput                 string
	apply                   string
	allowedErrorsSet        bool
	parallelConfigs         int

	// From --power-tuning-input only.
	allowedTypes []string
	hidePayload  bool
	ptStats      bool
	ptPayloads   []matrix.Payload
}

// tuneStdin is what --power-tuning-input - reads (tests replace it).
var tuneStdin io.Reader = os.Stdin

func runTune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsLMI(args) {
		return runTuneLMI(ctx, args, stdout, stderr)
	}
	var f tuneFlags
	fs := newFlagSet("tune", "tune [flags]", tuneDescription, stdout, stderr)
	f.target.register(fs, "aws", targetTune)
	fs.StringVar(&f.function, "function", "", "aws: the function to tune (name or ARN); local: its name (default tune-<folder>)")
	fs.StringVar(&f.source, "source", "", "a Go main package `folder` of a Lambda function: built for each architecture like 'make function'")
	fs.Var(&f.env, "env", "local: an environment variable KEY=VALUE of the function (repeatable); _HANDLER=NAME sets its handler (default bootstrap)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "local: the function's timeout (1s..15m)")
	fs.StringVar(&f.memories, "memory", defaultTuneMemories, "memory sizes in MB, comma-separated (128..10240), or 'all' (every 64 MB)")
	fs.StringVar(&f.archs, "arch", "", "architectures, comma-separated (arm64,x86_64); default the function's own")
	fs.IntVar(&f.cold, "cold", 1, "forced cold starts per configuration (each publishes a version)")
	fs.IntVar(&f.runs, "runs", 20, "warm invocations per configuration; 0 measures the --cold forced cold starts only (their Duration + Init Duration, Power Tuning's onlyColdStarts)")
	fs.IntVar(&f.parallel, "parallel-invocations", 1, "warm invocations in flight at once per configuration (1..100)")
	fs.IntVar(&f.parallelConfigs, "parallel-configs", 0, "configurations measured at once, every version and alias published first (default: all of them on AWS; 1 with --target local, where they would compete for this machine's cores)")
	fs.DurationVar(&f.sleep, "sleep-between", 0, "pause after each warm invocation")
	fs.StringVar(&f.payload, "payload", "", "request payload: JSON, or @FILE to read it from a file; a list [{\"payload\": …, \"weight\": N}, …] is Power Tuning's weighted list, invocations split by weight (default {})")
	fs.IntVar(&f.allowedErrors, "allowed-errors", 0, "failed invocations a configuration may have and still take part in the verdict")
	fs.StringVar(&f.strategy, "strategy", "balanced", "verdict: cost, speed, balanced, or balanced:WEIGHT with the weight of cost (0..1, default 0.5; duration gets 1-weight)")
	fs.Float64Var(&f.trim, "trim", stats.DefaultTrim, "share of warm samples dropped at each end for the trimmed mean the verdict uses (0..0.49)")
	fs.Float64Var(&f.coldShare, "cold-share", -1, "share of invocations priced as cold starts (billed init included) in the cost (0..1; default: the share measured)")
	fs.StringVar(&f.prices, "prices", "", "JSON price table overriding the built-in prices (see matrix --print-prices)")
	fs.Var(&f.thresholds, "threshold", "fail (exit 99) when a configuration's warm duration crosses this, e.g. 'p95<500ms', 'error_rate<1%', or k6's 'p(95)<500' (repeatable)")
	registerJUnit(fs, &f.junit, "the --threshold checks (per threshold and configuration)")
	fs.StringVar(&f.out, "out", "", "results folder (default bench-results/<timestamp>-tune)")
	registerForce(fs, &f.force)
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and every change it would make; change and invoke nothing")
	fs.StringVar(&f.cleanup, "cleanup", "", "undo what an interrupted or crashed run left: read the journal in this results `folder`")
	fs.StringVar(&f.apply, "apply", "", "after the verdict, apply it (Power Tuning's autoOptimize): 'latest' sets the winning memory (with --source, also the winner's architecture and code) on $LATEST; 'alias:NAME' also publishes a version with it and points alias NAME there. Undone by --cleanup DIR")
	fs.Bool("lmi", false, "tune a function on Lambda Managed Instances instead: memory × GiB per vCPU × invocations per environment, each one's knee under load, its cost against standard Lambda (see 'tune --lmi --help')")
	fs.StringVar(&f.ptInput, "power-tuning-input", "", "read the settings from an AWS Lambda Power Tuning execution input (JSON `file`, or - for stdin); flags given beside it override it")
	if err := parseFlags(fs, args, stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		if fn, ok := lmiOnlyFlags(ctx, args); ok {
			fmt.Fprintf(stderr, "%s runs on Lambda Managed Instances: tuning it as 'tune --lmi' does.\n", fn)
			return runTuneLMI(ctx, append(slices.Clone(args), "--lmi"), stdout, stderr)
		}
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	f.allowedErrorsSet = set["allowed-errors"]
	if f.ptInput != "" {
		if err := f.fromPowerTuning(set, stderr); err != nil {
			return err
		}
	}
	if f.cleanup != "" {
		return tuneCleanup(ctx, f, stdout, stderr)
	}
	if lmi, err := f.onLMI(ctx, fs); err != nil {
		return err
	} else if lmi {
		fmt.Fprintf(stderr, "%s runs on Lambda Managed Instances: tuning it as 'tune --lmi' does.\n", f.function)
		return runTuneLMI(ctx, append(slices.Clone(args), "--lmi"), stdout, stderr)
	}
	plan, err := f.validate()
	if err != nil {
		return err
	}
	err = tuneRun(ctx, f, plan, stdout, stderr)
	if !f.dryRun {
		err = summarizeRun(f.out, err)
	}
	undoOut(err, f.out, f.createdOut)
	return err
}

// onLMI reports whether tune's --function, on AWS, runs on Lambda Managed
// Instances, so that tune sweeps it as tune --lmi does; a flag of tune's
// that tune --lmi does not have is then bad usage. Any trouble reading the
// function is left to the standard path, which reports it.
func (f *tuneFlags) onLMI(ctx context.Context, fs *flag.FlagSet) (bool, error) {
	if !isLMIFunction(ctx, f.target, f.function) {
		return false, nil
	}
	var lf tuneLMIFlags
	lfs := newTuneLMIFlagSet(&lf, io.Discard, io.Discard)
	var only []string
	fs.Visit(func(fl *flag.Flag) {
		if lfs.Lookup(fl.Name) == nil {
			only = append(only, "--"+fl.Name)
		}
	})
	if len(only) > 0 {
		return false, usagef("%s runs on Lambda Managed Instances, which tune sweeps as 'tune --lmi' does; that has no %s (see 'bench tune --lmi --help')", f.function, strings.Join(only, ", "))
	}
	return true, nil
}

// lmiOnlyFlags reports whether args, which tune's flags do not parse, are
// tune --lmi's flags for a function on AWS that runs on Lambda Managed
// Instances (tune --function F --gib-per-vcpu 4 without --lmi).
func lmiOnlyFlags(ctx context.Context, args []string) (string, bool) {
	var lf tuneLMIFlags
	lfs := newTuneLMIFlagSet(&lf, io.Discard, io.Discard)
	if lfs.Parse(args) != nil || lfs.NArg() > 0 || lf.cleanup != "" {
		return "", false
	}
	return lf.function, isLMIFunction(ctx, lf.target, lf.function)
}

// isLMIFunction reports whether function, on the aws target, runs on Lambda
// Managed Instances (false when it cannot tell).
func isLMIFunction(ctx context.Context, t targetFlags, function string) bool {
	if kind, err := t.kind(); err != nil || kind != target.AWS || function == "" || t.checkEndpoint() != nil {
		return false
	}
	client, err := t.lambdaClient(ctx)
	if err != nil {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	yes, err := tune.IsLMI(cctx, client, function)
	return err == nil && yes
}

// tunePlan is what validation resolved.
type tunePlan struct {
	kind       target.Kind
	memories   []int
	archs      []string // as asked ("" = the function's own)
	payloads   []matrix.Payload
	env        map[string]string
	thresholds []threshold.Threshold
	prices     cost.PriceTable
	binaryArch string // local --binary: its architecture
	apply      *tune.Apply
	// parallelConfigs is --parallel-configs resolved: all configurations
	// on AWS, one at a time locally, unless given.
	parallelConfigs int
	handler         string // local: _HANDLER (--env _HANDLER=NAME)
}

func (f *tuneFlags) validate() (tunePlan, error) {
	var p tunePlan
	var err error
	if p.kind, err = f.target.kind(); err != nil {
		return p, err
	}
	if err := f.target.checkEndpoint(); err != nil {
		return p, err
	}
	if _, err := f.target.cpuModel(); err != nil {
		return p, err
	}
	switch p.kind {
	case target.AWS:
		if f.function == "" {
			return p, usagef("tune: --function NAME|ARN is required with --target aws (or tune a function on this machine: --target local --source DIR)")
		}
		if f.target.binary != "" {
			return p, usagef("tune: --binary is for --target local; on AWS pass --source to upload code built for each architecture")
		}
		if f.target.profile == target.NoCredentials {
			return p, usagef("tune: --profile none (placeholder credentials) is for --target local; on AWS name a profile, or leave it out for your default chain")
		}
	case target.Local:
		if (f.source == "") == (f.target.binary == "") {
			return p, usagef("tune --target local: pass --source DIR or --binary PATH (one of them)")
		}
		if err := checkSource(f.source); err != nil {
			return p, err
		}
		if f.function == "" {
			f.function = localFunctionName(f.source, f.target.binary)
		}
		if f.timeout < time.Second || f.timeout > 15*time.Minute {
			return p, usagef("tune: --timeout %s out of 1s..15m", f.timeout)
		}
	}
	if strings.TrimSpace(f.memories) == "all" {
		for m := 128; m <= 10240; m += 64 {
			p.memories = append(p.memories, m)
		}
	} else if p.memories, err = parseMemories(f.memories); err != nil {
		return p, err
	} else if len(p.memories) == 0 {
		return p, usagef("--memory: no memory size given")
	}
	if p.archs, err = parseArchs(f.archs); err != nil {
		return p, err
	}
	if f.cold < 0 || f.runs < 0 || f.cold+f.runs == 0 {
		return p, usagef("--runs and --cold must be ≥ 0 and not both 0")
	}
	if f.runs == 0 && f.parallel > 1 {
		return p, usagef("--parallel-invocations: with --runs 0 there are no warm invocations to run at once (cold starts are one at a time)")
	}
	if f.parallel < 1 || f.parallel > 100 {
		return p, usagef("--parallel-invocations must be between 1 and 100")
	}
	if f.parallelConfigs < 0 {
		return p, usagef("--parallel-configs must not be negative (0: all configurations on AWS, one at a time locally)")
	}
	if f.sleep < 0 {
		return p, usagef("--sleep-between must not be negative")
	}
	if f.allowedErrors < 0 {
		return p, usagef("--allowed-errors must not be negative")
	}
	st, weight, err := cost.ParseStrategySpec(f.strategy)
	if err != nil {
		return p, usageError{err.Error()}
	}
	f.strategy, f.weight = string(st), weight
	if f.trim < 0 || f.trim >= 0.5 {
		return p, usagef("--trim must be at least 0 and below 0.5")
	}
	if f.coldShare != -1 && (f.coldShare < 0 || f.coldShare > 1) {
		return p, usagef("--cold-share must be between 0 and 1")
	}
	if p.payloads = f.ptPayloads; p.payloads == nil {
		if p.payloads, err = tune.Payloads(f.payload); err != nil {
			return p, usageError{err.Error()}
		}
	}
	if p.handler, p.env, err = handlerAndEnv(f.env); err != nil {
		return p, err
	}
	if p.apply, err = tune.ParseApply(f.apply); err != nil {
		return p, usageError{err.Error()}
	}
	if p.apply != nil && p.kind == target.Local {
		return p, usagef("--apply changes a deployed function; with --target local the function ends with the run: tune it on AWS (or against 'bench serve' with --endpoint-url)")
	}
	if p.thresholds, err = threshold.ParseAll(f.thresholds); err != nil {
		return p, usageError{err.Error()}
	}
	if err := checkJUnit(f.junit, len(p.thresholds), "--threshold checks"); err != nil {
		return p, err
	}
	// What will be measured: the memory sizes on the architectures asked
	// (or either, when the function's own is not known yet).
	archs := p.archs
	if len(archs) == 0 {
		archs = []string{"arm64", "x86_64"}
	}
	var names []string
	for _, a := range archs {
		for _, m := range p.memories {
			names = append(names, matrix.Config{Arch: a, MemoryMB: m}.Label())
		}
	}
	if err := threshold.CheckScopes(p.thresholds, names); err != nil {
		return p, usageError{err.Error()}
	}
	switch p.parallelConfigs = f.parallelConfigs; {
	case p.parallelConfigs > 0:
	case p.kind == target.Local:
		p.parallelConfigs = 1
	default:
		p.parallelConfigs = len(p.memories) * max(len(p.archs), 1)
	}
	p.prices = cost.Default()
	if f.prices != "" {
		if p.prices, err = cost.Load(f.prices); err != nil {
			return p, usageError{err.Error()}
		}
	}
	if p.kind == target.Local && f.target.binary != "" {
		if p.binaryArch, err = tune.BinaryArch(f.target.binary); err != nil {
			return p, usageError{err.Error()}
		}
		if p.binaryArch != target.HostArch() {
			return p, usagef("--binary %s is linux/%s code; this %s machine runs only its own architecture: build it for linux/%s, or tune it on AWS",
				f.target.binary, tune.GOARCH(p.binaryArch), target.HostArch(), tune.GOARCH(target.HostArch()))
		}
	}
	if !f.dryRun {
		if f.out == "" {
			f.out = filepath.Join("bench-results", time.Now().Format("20060102-150405")+"-tune")
		}
		if f.createdOut, err = prepareTuneOut(f.out, f.force); err != nil {
			return p, err
		}
	}
	return p, nil
}

// prepareTuneOut checks and prepares the results folder of a tune run
// (bad usage: exit 2): a folder whose run has not restored its function
// yet, or whose journal cannot be read, is kept for 'tune --cleanup'. It
// returns the outermost folder it created ("" none: see firstMissing).
func prepareTuneOut(out string, force bool) (string, error) {
	// A run whose function is not restored yet keeps its journal, and
	// so does one whose journal cannot be read: it may be the only
	// record of what that run left on a function.
	j, err := tune.Open(out)
	switch {
	case errors.Is(err, tune.ErrDamaged):
		return "", usagef("--out %s: %v; restore the function with 'tune --cleanup %s' once the journal is repaired, or choose another --out (the journal is left as it is)",
			out, err, out)
	case err == nil && !j.CleanedUp && j.Target != string(target.Local):
		return "", usagef("--out %s holds run %s, which has not restored %s yet: run 'tune --cleanup %s' first, or choose another --out",
			out, j.RunID, j.Original.FunctionName, out)
	case err == nil && j.Applied != nil && !j.Applied.Undone:
		return "", usagef("--out %s holds run %s, whose --apply is still on %s (its journal is what undoes it): choose another --out, or undo it with 'tune --cleanup %s' first",
			out, j.RunID, j.Original.FunctionName, out)
	}
	created := firstMissing(out)
	if err := prepareOut(out, force); err != nil {
		return "", err
	}
	return created, nil
}

// checkSource refuses a --source that is not a folder, before anything
// starts ("" passes: no source).
func checkSource(dir string) error {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("--source %s: not a folder (a Go main package of a Lambda function)", dir)
	}
	return nil
}

// localFunctionName is the name a function tuned on the local Lambda
// gets when --function does not give one: tune-<folder of its source or
// binary>.
func localFunctionName(source, binary string) string {
	base := source
	if base == "" {
		base = filepath.Dir(binary)
	}
	abs, _ := filepath.Abs(base)
	return "tune-" + filepath.Base(abs)
}

// handlerAndEnv reads tune's --env flags: _HANDLER=NAME names the handler
// (default bootstrap), the rest are the function's variables.
func handlerAndEnv(kvs []string) (string, map[string]string, error) {
	handler := "bootstrap"
	var env []string
	for _, kv := range kvs {
		if h, ok := strings.CutPrefix(kv, "_HANDLER="); ok {
			if h == "" {
				return "", nil, usagef("--env _HANDLER=: the handler needs a name")
			}
			handler = h
			continue
		}
		env = append(env, kv)
	}
	m, err := parseEnv(env)
	return handler, m, err
}

func tuneRun(ctx context.Context, f tuneFlags, p tunePlan, stdout, stderr io.Writer) error {
	var creds locallambda.Credentials
	if p.kind == target.Local && !f.dryRun {
		var err error
		if creds, err = f.target.localCredentials(ctx, stderr); err != nil {
			return err
		}
	}
	if p.kind == target.Local && p.parallelConfigs > 1 {
		fmt.Fprintf(stderr, "--parallel-configs %d with --target local: the configurations compete for this machine's %d cores, so their durations may measure the machine, not Lambda (locally tune measures one at a time by default).\n",
			p.parallelConfigs, runtime.NumCPU())
	}
	prog := newProgress(ctx, stderr)
	cpu, _ := f.target.cpuModel() // checked by validate
	sum, err := tune.Run(ctx, tune.Options{
		Target: p.kind, Function: f.function, Source: f.source, Binary: f.target.binary,
		Handler: p.handler, Env: p.env, Timeout: f.timeout, NoCPULimits: f.target.noCPULimits, CPU: cpu, Credentials: creds,
		Client:   func(ctx context.Context) (tune.API, error) { return f.target.lambdaClient(ctx) },
		Endpoint: f.target.endpointURL, Region: f.target.region, Profile: f.target.profile,
		Memories: p.memories, Archs: p.archs, Cold: f.cold, Runs: f.runs, OnlyCold: f.runs == 0,
		Parallel: f.parallel, ParallelConfigs: p.parallelConfigs, Sleep: f.sleep, Payloads: p.payloads, PayloadLabel: payloadLabel(f),
		Apply: p.apply, AllowedErrorsSet: f.allowedErrorsSet || len(f.allowedTypes) > 0,
		ApplyGate: func(s matrix.Summary) string {
			if _, err := checkMatrixThresholds(p.thresholds, s); err != nil {
				return "a --threshold was crossed"
			}
			return ""
		},
		AllowedErrors: f.allowedErrors, AllowedErrorTypes: f.allowedTypes, PowerTuningStats: f.ptStats, Strategy: f.strategy, Weight: f.weight, Trim: f.trim, ColdShare: f.coldShare,
		Prices: p.prices, PricesSource: f.prices, Out: f.out, DryRun: f.dryRun, Plan: stdout, Log: stderr,
		OnSample: func(c matrix.Config, done, total int, last matrix.Sample) {
			note := "ok"
			if !last.OK {
				note = "error: " + truncate(last.Error, 60)
			} else if !isNaN(last.Duration()) {
				note = fmt.Sprintf("%s %.1f ms", last.Kind, last.Duration())
			}
			prog.Step(c.Label(), done, total, note)
		},
	})
	prog.Wait()
	if sum.Kind != "" {
		printTuneTable(stdout, sum)
		if j, jerr := tune.Open(f.out); jerr == nil && j.Applied != nil && !j.Applied.Undone && err == nil {
			a := j.Applied
			where := "$LATEST"
			if a.Alias != "" {
				where = fmt.Sprintf("$LATEST and version %s behind alias %s", a.Version, a.Alias)
			}
			fmt.Fprintf(stdout, "\nApplied: %s %d MB on %s of %s (undo: bench tune --cleanup %s)\n", a.Arch, a.MemoryMB, where, j.Original.FunctionName, f.out)
		}
		fmt.Fprintf(stdout, "\nResults: %s\n", f.out)
	}
	if err != nil {
		return asUsage(err)
	}
	if f.dryRun {
		return nil
	}
	outcomes, err := checkMatrixThresholds(p.thresholds, sum)
	if f.junit != "" && !errors.As(err, new(usageError)) {
		err = writeJUnit(f.junit, "bench tune "+f.function, thresholdCases("tune", outcomes), err)
	}
	return err
}

// payloadLabel describes the payload in the summary: as given, unless
// the Power Tuning input asked for no payload in logs (disablePayloadLogs).
func payloadLabel(f tuneFlags) string {
	switch {
	case f.hidePayload:
		return "(not shown: disablePayloadLogs)"
	case f.ptPayloads != nil:
		return "the payload of " + f.ptInput
	case f.payload != "":
		return f.payload
	}
	return "{}"
}

// asUsage turns the errors that mean "bad input" into usage errors (exit 2).
func asUsage(err error) error {
	var (
		nf  *tune.NotFoundError
		un  *tune.UnsupportedError
		ue  *tune.UsageError
		be  *tune.BuildError
		bin *tune.BinaryError
	)
	if errors.As(err, &nf) || errors.As(err, &un) || errors.As(err, &be) || errors.As(err, &bin) || errors.As(err, &ue) {
		return usageError{err.Error()}
	}
	return err
}

// printTuneTable prints one line per configuration and the verdict.
func printTuneTable(w io.Writer, s matrix.Summary) {
	fmt.Fprintf(w, "\n%-7s %8s %5s %-14s %8s %8s %8s %8s %8s %9s %10s\n", "arch", "memory", "vCPU", "status", "p50 ms", "p95 ms", "p99 ms", "mean ms", "trim ms", "init ms", "$ per 1M")
	said := map[string]bool{}
	throttled := false
	for _, r := range s.Results {
		if why, all := matrix.AllSkipped(s.Results, r.Arch); all {
			if !said[r.Arch] {
				fmt.Fprintf(w, "%-7s not measured: %s\n", r.Arch, why)
				said[r.Arch] = true
			}
			continue
		}
		if !r.Measured() {
			fmt.Fprintf(w, "%-7s %5d MB %5.2f %-14s %s\n", r.Arch, r.MemoryMB, r.VCPUs, r.Status(), truncate(r.FirstError, 60))
			continue
		}
		init := "—"
		if r.ColdInit.N > 0 {
			init = fmt.Sprintf("%.1f", r.ColdInit.P50)
		}
		status := r.Status()
		if r.Throttled() {
			status += " THROTTLED"
			throttled = true
		}
		fmt.Fprintf(w, "%-7s %5d MB %5.2f %-14s %8.1f %8.1f %8.1f %8.1f %8.1f %9s %10.4f\n", r.Arch, r.MemoryMB, r.VCPUs, status,
			r.Warm.P50, r.Warm.P95, r.Warm.P99, r.Warm.Mean, r.Duration(), init, r.CostPerMillion)
	}
	if throttled {
		fmt.Fprintln(w, "THROTTLED: below one vCPU with p95 over 3× p50: runs that used up their share of a throttling period waited for the next; the trimmed mean drops them, the mean does not.")
	}
	if v := s.Verdict; v != nil {
		fmt.Fprintf(w, "\nVerdict (%s): %s %d MB — %s; trimmed mean %.1f ms, $%.4f per 1M invocations (%.0f%% priced as cold starts)\n",
			v.Strategy, v.Choice.Arch, v.Choice.MemoryMB, v.Why, v.Choice.DurationMs, v.Choice.CostPerMillion, s.Meta.ColdShare*100)
	}
	shown := map[string]bool{}
	for _, r := range s.Results {
		pt := s.PowerTuning[r.Arch]
		if pt == nil || shown[r.Arch] {
			continue
		}
		if len(shown) == 0 {
			fmt.Fprintln(w)
		}
		shown[r.Arch] = true
		fmt.Fprintf(w, "Power Tuning view (%s; its pick %d MB): %s\n", r.Arch, pt.Power, pt.StateMachine.Visualization)
	}
}

// tuneCleanup finishes the cleanup of a run from its journal.
func tuneCleanup(ctx context.Context, f tuneFlags, stdout, stderr io.Writer) error {
	j, err := tune.Open(f.cleanup)
	if err != nil {
		return usageError{err.Error()}
	}
	applied := j.Applied != nil && !j.Applied.Undone
	if j.CleanedUp && !applied {
		fmt.Fprintf(stdout, "Run %s on %s was already cleaned up.\n", j.RunID, j.Original.FunctionName)
		return nil
	}
	if j.Target == string(target.Local) {
		fmt.Fprintf(stdout, "Run %s ran on the local Lambda, which ended with it: nothing is left to clean up.\n", j.RunID)
		return nil
	}
	tf := f.target
	if tf.region == "" {
		tf.region = j.Region
	}
	if tf.profile == "" {
		tf.profile = j.Profile
	}
	if tf.endpointURL == "" {
		tf.endpointURL = j.Endpoint
	}
	client, err := tf.lambdaClient(ctx)
	if err != nil {
		return err
	}
	var code []byte
	if j.CodeChanged || applied {
		if code, err = os.ReadFile(filepath.Join(f.cleanup, tune.OriginalCodeFile)); err != nil {
			code = nil
		}
	}
	sess := &tune.Session{API: client, Journal: j, Log: stderr}
	if !j.CleanedUp {
		fmt.Fprintf(stderr, "Cleaning up run %s on %s (%d version(s), %d alias(es) in the journal) …\n", j.RunID, j.Original.FunctionName, len(j.Versions), len(j.Aliases))
		if err := sess.Cleanup(ctx, code); err != nil {
			return err
		}
	}
	if applied {
		fmt.Fprintf(stderr, "Undoing --apply of run %s on %s (%s %d MB) …\n", j.RunID, j.Original.FunctionName, j.Applied.Arch, j.Applied.MemoryMB)
		if err := sess.UndoApply(ctx, code); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Cleanup done: %s is as it was found (%d MB, %s).\n", j.Original.FunctionName, j.Original.MemoryMB, j.Original.Arch)
	return nil
}

var _ tune.API = (*lambda.Client)(nil)
