package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
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
alias: --cold forced cold starts, then --runs warm invocations. At the end (also
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
	target                      targetFlags
	function                    string
	source, handler             string
	env                         listFlag
	timeout                     time.Duration
	memories, archs             string
	cold, runs, parallel        int
	sleep                       time.Duration
	onlyCold                    bool
	payload, payloadFile, pList string
	allowedErrors               int
	strategy                    string
	weight, trim, coldShare     float64
	prices                      string
	thresholds                  listFlag
	out                         string
	dryRun                      bool
	cleanup                     string
}

func runTune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f tuneFlags
	fs := newFlagSet("tune", "tune [flags]", tuneDescription, stdout, stderr)
	f.target.register(fs, "aws", targetTune)
	fs.StringVar(&f.function, "function", "", "aws: the function to tune (name or ARN); local: its name (default tune-<folder>)")
	fs.StringVar(&f.source, "source", "", "a Go main package `folder` of a Lambda function: built for each architecture like 'make function'")
	fs.StringVar(&f.handler, "handler", "bootstrap", "local: the function's handler (_HANDLER)")
	fs.Var(&f.env, "env", "local: an environment variable KEY=VALUE of the function (repeatable)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "local: the function's timeout (1s..15m)")
	fs.StringVar(&f.memories, "memory", defaultTuneMemories, "memory sizes in MB, comma-separated (128..10240), or 'all' (every 64 MB)")
	fs.StringVar(&f.archs, "arch", "", "architectures, comma-separated (arm64,x86_64); default the function's own")
	fs.IntVar(&f.cold, "cold", 1, "forced cold starts per configuration (each publishes a version)")
	fs.IntVar(&f.runs, "runs", 20, "warm invocations per configuration")
	fs.IntVar(&f.parallel, "parallel-invocations", 1, "warm invocations in flight at once per configuration (1..100)")
	fs.DurationVar(&f.sleep, "sleep-between", 0, "pause after each warm invocation")
	fs.BoolVar(&f.onlyCold, "only-cold", false, "measure cold starts only: --runs forced cold starts, no warm invocations")
	fs.StringVar(&f.payload, "payload", "", "request payload (JSON; default {})")
	fs.StringVar(&f.payloadFile, "payload-file", "", "read the request payload from this JSON `file`")
	fs.StringVar(&f.pList, "payloads", "", "weighted payloads `file`: [{\"payload\": …, \"weight\": N}, …]; invocations split by weight")
	fs.IntVar(&f.allowedErrors, "allowed-errors", 0, "failed invocations a configuration may have and still take part in the verdict")
	fs.StringVar(&f.strategy, "strategy", "balanced", "verdict: cost, speed or balanced")
	fs.Float64Var(&f.weight, "balanced-weight", cost.DefaultBalancedWeight, "balanced verdict: weight of cost (0..1); duration gets 1-weight")
	fs.Float64Var(&f.trim, "trim", stats.DefaultTrim, "share of warm samples dropped at each end for the trimmed mean the verdict uses (0..0.49)")
	fs.Float64Var(&f.coldShare, "cold-share", -1, "share of invocations priced as cold starts (billed init included) in the cost (0..1; default: the share measured)")
	fs.StringVar(&f.prices, "prices", "", "JSON price table overriding the built-in prices (see matrix --print-prices)")
	fs.Var(&f.thresholds, "threshold", "fail (exit 99) when a configuration's warm duration crosses this, e.g. 'p95<500ms', 'error_rate<1%' (repeatable)")
	fs.StringVar(&f.out, "out", "", "results folder (default bench-results/<timestamp>-tune)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and every change it would make; change and invoke nothing")
	fs.StringVar(&f.cleanup, "cleanup", "", "undo what an interrupted or crashed run left: read the journal in this results `folder`")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if f.cleanup != "" {
		return tuneCleanup(ctx, f, stdout, stderr)
	}
	plan, err := f.validate()
	if err != nil {
		return err
	}
	return tuneRun(ctx, f, plan, stdout, stderr)
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
}

func (f *tuneFlags) validate() (tunePlan, error) {
	var p tunePlan
	var err error
	if p.kind, err = f.target.kind(); err != nil {
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
	case target.Local:
		if (f.source == "") == (f.target.binary == "") {
			return p, usagef("tune --target local: pass --source DIR or --binary PATH (one of them)")
		}
		if f.function == "" {
			base := f.source
			if base == "" {
				base = filepath.Dir(f.target.binary)
			}
			abs, _ := filepath.Abs(base)
			f.function = "tune-" + filepath.Base(abs)
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
	if f.onlyCold && f.runs == 0 {
		return p, usagef("--only-cold takes its number of cold starts from --runs, which is 0")
	}
	if f.parallel < 1 || f.parallel > 100 {
		return p, usagef("--parallel-invocations must be between 1 and 100")
	}
	if f.sleep < 0 {
		return p, usagef("--sleep-between must not be negative")
	}
	if f.allowedErrors < 0 {
		return p, usagef("--allowed-errors must not be negative")
	}
	if _, err := cost.ParseStrategy(f.strategy); err != nil {
		return p, usageError{err.Error()}
	}
	if f.weight < 0 || f.weight > 1 {
		return p, usagef("--balanced-weight must be between 0 and 1")
	}
	if f.trim < 0 || f.trim >= 0.5 {
		return p, usagef("--trim must be at least 0 and below 0.5")
	}
	if f.coldShare != -1 && (f.coldShare < 0 || f.coldShare > 1) {
		return p, usagef("--cold-share must be between 0 and 1")
	}
	if p.payloads, err = tune.Payloads(f.payload, f.payloadFile, f.pList); err != nil {
		return p, usageError{err.Error()}
	}
	p.env = map[string]string{}
	for _, kv := range f.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return p, usagef("--env %q: want KEY=VALUE", kv)
		}
		p.env[k] = v
	}
	if p.thresholds, err = threshold.ParseAll(f.thresholds); err != nil {
		return p, usageError{err.Error()}
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
		if err := checkWritableDir(f.out); err != nil {
			return p, usagef("--out %s: %v", f.out, err)
		}
	}
	return p, nil
}

// checkWritableDir creates dir if needed and proves a file can be written in it.
func checkWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	probe, err := os.CreateTemp(dir, ".write-test-")
	if err != nil {
		return err
	}
	name := probe.Name()
	probe.Close()
	return os.Remove(name)
}

func tuneRun(ctx context.Context, f tuneFlags, p tunePlan, stdout, stderr io.Writer) (err error) {
	var (
		api        tune.API
		hostCores  int
		localArch  string
		confine    string
		source     = f.source
		code       = map[string][]byte{}
		skip       = map[string]string{}
		buildDir   string
		localBuilt string
	)
	if source == "" {
		source = f.target.binary
	}
	if f.source != "" {
		buildDir = filepath.Join(f.out, "build")
		if f.dryRun {
			tmp, err := os.MkdirTemp("", "bench-tune-build-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			buildDir = tmp
		}
	}

	switch p.kind {
	case target.Local:
		localArch = target.HostArch()
		bin := f.target.binary
		if f.source != "" {
			fmt.Fprintf(stderr, "Building %s for linux/%s …\n", f.source, tune.GOARCH(localArch))
			if bin, err = tune.BuildSource(ctx, f.source, localArch, buildDir); err != nil {
				return asUsage(err)
			}
			localBuilt = bin
		}
		for _, a := range p.archs {
			if a == localArch {
				continue
			}
			why := fmt.Sprintf("this %s machine cannot run linux/%s code (it was built, not run); measure %s on AWS with --target aws --source", localArch, tune.GOARCH(a), a)
			if f.source != "" {
				fmt.Fprintf(stderr, "Building %s for linux/%s (to prove it builds; it cannot run here) …\n", f.source, tune.GOARCH(a))
				if _, err := tune.BuildSource(ctx, f.source, a, buildDir); err != nil {
					return asUsage(err)
				}
			} else {
				why = fmt.Sprintf("no code for %s: --binary is linux/%s (and this machine runs only its own architecture)", a, tune.GOARCH(localArch))
			}
			skip[a] = why
		}
		if f.dryRun {
			break
		}
		spec := locallambda.FunctionSpec{Name: f.function, Binary: bin, Handler: f.handler, MemoryMB: p.memories[0],
			Timeout: f.timeout, Env: p.env, Architecture: localArch, ReservedConcurrency: max(10, f.parallel)}
		lt, err := target.StartLocal(ctx, target.LocalOptions{Functions: []locallambda.FunctionSpec{spec}, NoCPUControl: f.target.noCPULimits})
		if err != nil {
			return asUsage(err)
		}
		defer lt.Close()
		api = lt.Lambda
		hostCores, confine = lt.Server.HostCores(), lt.Server.Confinement()
		fmt.Fprintf(stderr, "Local Lambda: %s; %d host cores cap each environment's vCPUs.\n", confine, hostCores)
	case target.AWS:
		client, err := f.target.lambdaClient(ctx)
		if err != nil {
			return err
		}
		api = client
	}

	var orig tune.Original
	if api != nil {
		if orig, err = tune.Inspect(ctx, api, f.function); err != nil {
			return asUsage(err)
		}
	} else {
		orig = tune.Original{FunctionName: f.function, Arch: localArch, MemoryMB: int32(p.memories[0])}
	}
	archs := p.archs
	if len(archs) == 0 {
		archs = []string{orig.Arch}
	}
	if p.kind == target.AWS {
		for _, a := range archs {
			if f.source != "" {
				fmt.Fprintf(stderr, "Building %s for linux/%s …\n", f.source, tune.GOARCH(a))
				bin, err := tune.BuildSource(ctx, f.source, a, buildDir)
				if err != nil {
					return asUsage(err)
				}
				if code[a], err = tune.Zip(bin); err != nil {
					return err
				}
			} else if a != orig.Arch {
				return usagef("tune: %s is %s; measuring %s needs code built for it: pass --source DIR (a Go main package) and bench cross-compiles it", orig.FunctionName, orig.Arch, a)
			}
		}
		if f.source != "" && orig.PackageType == "Image" {
			return usagef("tune: %s is a container image function; --source uploads a zip, which an image function cannot take", orig.FunctionName)
		}
	}

	var cfgs []matrix.Config
	for _, a := range archs {
		for _, m := range p.memories {
			c := matrix.Config{Function: orig.FunctionName, Arch: a, MemoryMB: m, VCPUs: matrix.VCPUsFor(m, float64(hostCores)), Skip: skip[a]}
			cfgs = append(cfgs, c)
		}
	}
	runID := strconv.FormatInt(time.Now().Unix(), 36)
	cold, runs := f.cold, f.runs
	if f.onlyCold {
		cold, runs = f.runs, 0
	}
	if f.dryRun {
		printTunePlan(stdout, f, orig, cfgs, code, runID, cold, runs, p)
		return nil
	}

	// From here on the function is changed: the journal comes first.
	j := &tune.Journal{RunID: runID, Function: f.function, Target: string(p.kind), Region: f.target.region,
		Profile: f.target.profile, Endpoint: f.target.endpointURL, Original: orig}
	if err := tune.Create(f.out, j); err != nil {
		return err
	}
	var originalCode []byte
	if len(code) > 0 {
		if originalCode, err = tune.DownloadCode(ctx, api, orig.FunctionName); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(f.out, tune.OriginalCodeFile), originalCode, 0o600); err != nil {
			return fmt.Errorf("keep the original code: %w", err)
		}
	}
	sess := &tune.Session{API: api, Journal: j, Code: code, Log: stderr}
	defer func() {
		fmt.Fprintf(stderr, "Cleaning up: deleting the aliases and versions of run %s, restoring $LATEST …\n", runID)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
		defer cancel()
		if cerr := sess.Cleanup(cctx, originalCode); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cleanup incomplete (run 'go run ./bench tune --cleanup %s' to finish it): %w", f.out, cerr))
			return
		}
		fmt.Fprintf(stderr, "Cleanup done: %s is as it was found.\n", orig.FunctionName)
	}()

	csvFile, err := os.Create(filepath.Join(f.out, "samples.csv"))
	if err != nil {
		return fmt.Errorf("samples.csv: %w", err)
	}
	defer csvFile.Close()
	w, err := matrix.NewCSVWriter(csvFile)
	if err != nil {
		return err
	}
	measured := 0
	for _, c := range cfgs {
		if c.Skip == "" {
			measured++
		}
	}
	fmt.Fprintf(stderr, "Tuning %s: %d configuration(s), %d cold + %d warm invocation(s) each\n", orig.FunctionName, measured, cold, runs)
	var samples []matrix.Sample
	prog := newProgress(ctx, stderr)
	opts := matrix.Options{Cold: cold, Runs: runs, Payloads: p.payloads, Parallel: f.parallel, SleepBetween: f.sleep, LogTail: true,
		AnyResponse: true, Prepare: sess.Prepare,
		OnSample: func(s matrix.Sample) error {
			samples = append(samples, s)
			return w.Write(s)
		},
		OnProgress: func(c matrix.Config, done, total int) {
			last := samples[len(samples)-1]
			note := "ok"
			if !last.OK {
				note = "error: " + truncate(last.Error, 60)
			} else if !isNaN(last.Duration()) {
				note = fmt.Sprintf("%s %.1f ms", last.Kind, last.Duration())
			}
			prog.Step(c.Label(), done, total, note)
		},
	}
	runErr := matrix.Run(ctx, api, cfgs, opts)
	prog.Wait()
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		fmt.Fprintf(stderr, "tune stopped: %v\n", runErr)
	}

	share := f.coldShare
	if share < 0 {
		share = float64(cold) / float64(cold+runs)
	}
	allowed := f.allowedErrors
	names := make([]string, 0, len(p.payloads))
	for _, pl := range p.payloads {
		if pl.Name != "" {
			names = append(names, pl.Name)
		}
	}
	meta := matrix.Meta{Kind: "tune", Target: string(p.kind), Started: time.Now(), Payload: payloadLabel(f), Cold: cold, Runs: runs,
		Parallel: f.parallel, Trim: f.trim, Strategy: f.strategy, Weight: f.weight, PricesSource: f.prices,
		HostCores: hostCores, Confinement: confine, ColdShare: share, AllowedErrors: &allowed,
		Tune: &matrix.TuneMeta{Function: orig.FunctionName, Endpoint: f.target.endpointURL, Source: source, Handler: orig.Handler,
			Archs: archs, Payloads: names, OnlyCold: f.onlyCold}}
	sum, err := matrix.Build(samples, meta, p.prices, runErr != nil)
	if err != nil {
		return errors.Join(runErr, err)
	}
	if err := sum.WriteFiles(f.out); err != nil {
		return errors.Join(runErr, err)
	}
	if err := sum.WriteCharts(f.out); err != nil {
		fmt.Fprintf(stderr, "charts: %v\n", err)
	}
	if localBuilt != "" {
		fmt.Fprintf(stderr, "Built bootstrap: %s\n", localBuilt)
	}
	printTuneTable(stdout, sum)
	fmt.Fprintf(stdout, "\nResults: %s\n", f.out)
	if runErr != nil {
		return runErr
	}
	if sum.Verdict == nil {
		return fmt.Errorf("no configuration was measured successfully (see %s)", filepath.Join(f.out, "summary.md"))
	}
	return checkMatrixThresholds(p.thresholds, sum)
}

func payloadLabel(f tuneFlags) string {
	switch {
	case f.payload != "":
		return f.payload
	case f.payloadFile != "":
		return "@" + f.payloadFile
	case f.pList != "":
		return "weighted list " + f.pList
	}
	return "{}"
}

// asUsage turns the errors that mean "bad input" into usage errors (exit 2).
func asUsage(err error) error {
	var (
		nf  *tune.NotFoundError
		un  *tune.UnsupportedError
		be  *tune.BuildError
		bin *tune.BinaryError
	)
	if errors.As(err, &nf) || errors.As(err, &un) || errors.As(err, &be) || errors.As(err, &bin) {
		return usageError{err.Error()}
	}
	return err
}

func printTunePlan(w io.Writer, f tuneFlags, o tune.Original, cfgs []matrix.Config, code map[string][]byte, runID string, cold, runs int, p tunePlan) {
	fmt.Fprintf(w, "Dry run: nothing is changed or invoked.\n\nFunction %s (%s, %d MB, %s)\n", o.FunctionName, o.Arch, o.MemoryMB, orDash(o.Runtime))
	fmt.Fprintf(w, "Per configuration: %d forced cold start(s) and %d warm invocation(s), %d payload(s).\n\n", cold, runs, len(p.payloads))
	steps := max(cold, 1)
	cur := o.Arch
	for _, c := range cfgs {
		if c.Skip != "" {
			fmt.Fprintf(w, "%s %d MB: not measured — %s\n", c.Arch, c.MemoryMB, c.Skip)
			continue
		}
		fmt.Fprintf(w, "%s %d MB:\n", c.Arch, c.MemoryMB)
		if c.Arch != cur || (code[c.Arch] != nil && cur == o.Arch && c.Arch == o.Arch && c == cfgs[0]) {
			fmt.Fprintf(w, "  UpdateFunctionCode ZipFile (%d bytes) Architectures=[%s]; wait for LastUpdateStatus Successful\n", len(code[c.Arch]), c.Arch)
			cur = c.Arch
		}
		alias := tune.AliasName(runID, c.Arch, c.MemoryMB)
		for i := range steps {
			fmt.Fprintf(w, "  UpdateFunctionConfiguration MemorySize=%d %s=…; wait; PublishVersion; ", c.MemoryMB, tune.ColdStartVariable)
			if i == 0 {
				fmt.Fprintf(w, "CreateAlias %s\n", alias)
			} else {
				fmt.Fprintf(w, "UpdateAlias %s\n", alias)
			}
		}
		fmt.Fprintf(w, "  Invoke %s × %d\n", alias, cold+runs+boolInt(cold == 0))
	}
	fmt.Fprintf(w, "\nCleanup: DeleteAlias and DeleteFunction (each version) for everything above; ")
	if len(code) > 0 {
		fmt.Fprintf(w, "UpdateFunctionCode with the original code (%s); ", o.Arch)
	}
	fmt.Fprintf(w, "UpdateFunctionConfiguration MemorySize=%d with the original environment.\n", o.MemoryMB)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// printTuneTable prints one line per configuration and the verdict.
func printTuneTable(w io.Writer, s matrix.Summary) {
	fmt.Fprintf(w, "\n%-7s %8s %5s %-14s %8s %8s %8s %8s %9s %10s\n", "arch", "memory", "vCPU", "status", "p50 ms", "p95 ms", "p99 ms", "trim ms", "init ms", "$ per 1M")
	said := map[string]bool{}
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
		fmt.Fprintf(w, "%-7s %5d MB %5.2f %-14s %8.1f %8.1f %8.1f %8.1f %9s %10.4f\n", r.Arch, r.MemoryMB, r.VCPUs, r.Status(),
			r.Warm.P50, r.Warm.P95, r.Warm.P99, r.Duration(), init, r.CostPerMillion)
	}
	if v := s.Verdict; v != nil {
		fmt.Fprintf(w, "\nVerdict (%s): %s %d MB — %s; trimmed mean %.1f ms, $%.4f per 1M invocations (%.0f%% priced as cold starts)\n",
			v.Strategy, v.Choice.Arch, v.Choice.MemoryMB, v.Why, v.Choice.DurationMs, v.Choice.CostPerMillion, s.Meta.ColdShare*100)
	}
}

// tuneCleanup finishes the cleanup of a run from its journal.
func tuneCleanup(ctx context.Context, f tuneFlags, stdout, stderr io.Writer) error {
	j, err := tune.Open(f.cleanup)
	if err != nil {
		return usageError{err.Error()}
	}
	if j.CleanedUp {
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
	if j.CodeChanged {
		if code, err = os.ReadFile(filepath.Join(f.cleanup, tune.OriginalCodeFile)); err != nil {
			code = nil
		}
	}
	fmt.Fprintf(stderr, "Cleaning up run %s on %s (%d version(s), %d alias(es) in the journal) …\n", j.RunID, j.Original.FunctionName, len(j.Versions), len(j.Aliases))
	sess := &tune.Session{API: client, Journal: j, Log: stderr}
	if err := sess.Cleanup(ctx, code); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Cleanup done: %s is as it was found (%d MB, %s).\n", j.Original.FunctionName, j.Original.MemoryMB, j.Original.Arch)
	return nil
}

var _ tune.API = (*lambda.Client)(nil)
