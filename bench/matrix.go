package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"lambdabench/bench/internal/contract"
	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/stats"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/threshold"
)

const matrixDescription = `Benchmarks the bcrypt function on every architecture × memory configuration:
forced cold starts, then warm invocations, through the Lambda Invoke API with the
log tail (REPORT line). Writes samples.csv (as it goes), summary.json, summary.md
and PNG charts, and picks a configuration by --strategy.

--target local (default) starts a local Lambda with this machine's architecture;
the other architecture's rows are reported as not measured. --target aws reads
the function names from the matrix stack's outputs.`

// matrixFlags are the matrix verb's settings.
type matrixFlags struct {
	targetFlags
	noLogTail            bool
	cold, runs, parallel int
	payload              string
	sleep                time.Duration
	archs, memories      string
	strategy             string
	weight, trim         float64
	prices               string
	printPrices          bool
	thresholds           listFlag
	junit                string
	out                  string
	force                bool

	// local, when set, is an already running local target to use (the suite
	// shares one between its verbs); matrixRun does not close it.
	local *target.LocalTarget
}

func (f *matrixFlags) register(fs *flag.FlagSet) {
	f.targetFlags.register(fs, "local", targetStack|targetOutputs|targetLocal|targetEndpoint, target.MatrixStack)
	fs.IntVar(&f.cold, "cold", 1, "forced cold starts per configuration (UpdateFunctionConfiguration, then invoke)")
	fs.IntVar(&f.runs, "runs", 20, "warm invocations per configuration")
	fs.IntVar(&f.parallel, "parallel-invocations", 1, "warm invocations in flight at once per configuration")
	fs.StringVar(&f.payload, "payload", matrix.DefaultPayload, "request payload (JSON); \"cost\":4..14 sets the bcrypt cost")
	fs.DurationVar(&f.sleep, "sleep-between", 0, "pause after each warm invocation")
	fs.StringVar(&f.archs, "arch", "", "only these architectures, comma-separated (arm64,x86_64)")
	fs.StringVar(&f.memories, "memory", "", "only these memory sizes in MB, comma-separated (e.g. 1536,10240)")
	fs.BoolVar(&f.noLogTail, "no-log-tail", false, "do not ask for the log tail (no REPORT line: durations come from the handler)")
	fs.StringVar(&f.strategy, "strategy", "balanced", "verdict: cost, speed, balanced, or balanced:WEIGHT with the weight of cost (0..1, default 0.5; duration gets 1-weight)")
	f.weight = cost.DefaultBalancedWeight
	fs.Float64Var(&f.trim, "trim", stats.DefaultTrim, "share of samples dropped at each end for the trimmed mean (0..0.5)")
	fs.StringVar(&f.prices, "prices", "", "JSON price table overriding the built-in prices (see --print-prices)")
	fs.BoolVar(&f.printPrices, "print-prices", false, "print the built-in price table as JSON and exit")
	fs.StringVar(&f.out, "out", "", "results folder (default bench-results/<timestamp>-matrix)")
	registerForce(fs, &f.force)
}

func (f *matrixFlags) validate() error {
	if _, err := target.ParseKind(f.target); err != nil {
		return usageError{err.Error()}
	}
	if f.runs < 0 || f.cold < 0 || f.runs+f.cold == 0 {
		return usagef("--runs and --cold must be ≥ 0 and not both 0")
	}
	if f.parallel < 1 || f.parallel > 100 {
		return usagef("--parallel-invocations must be between 1 and 100")
	}
	if _, err := contract.ParseBcryptRequest([]byte(f.payload)); err != nil {
		return usagef("--payload %s: %v", f.payload, err)
	}
	if f.sleep < 0 {
		return usagef("--sleep-between must not be negative")
	}
	st, weight, err := cost.ParseStrategySpec(f.strategy)
	if err != nil {
		return usageError{err.Error()}
	}
	f.strategy, f.weight = string(st), weight
	if f.trim < 0 || f.trim >= 0.5 {
		return usagef("--trim must be at least 0 and below 0.5")
	}
	mems, err := parseMemories(f.memories)
	if err != nil {
		return err
	}
	if strings.TrimSpace(f.memories) != "" && len(mems) == 0 {
		return usagef("--memory %q names no memory size", f.memories)
	}
	if f.target == string(target.Local) {
		for _, m := range mems {
			if !contains(locallambda.MatrixSizes, m) {
				return usagef("--memory %d: the matrix has %s MB", m, joinInts(locallambda.MatrixSizes))
			}
		}
	}
	archs, err := parseArchs(f.archs)
	if err != nil {
		return err
	}
	if err := f.targetFlags.check(); err != nil {
		return err
	}
	if f.prices != "" {
		if _, err := cost.Load(f.prices); err != nil {
			return usageError{err.Error()}
		}
	}
	ts, err := threshold.ParseAll(f.thresholds)
	if err != nil {
		return usageError{err.Error()}
	}
	if err := checkJUnit(f.junit, len(ts), "--threshold checks"); err != nil {
		return err
	}
	// The local target measures this machine's architecture at the matrix's
	// sizes: a threshold for anything else is a mistake, refused now.
	if f.target == string(target.Local) {
		if len(mems) == 0 {
			mems = locallambda.MatrixSizes
		}
		var names []string
		for _, m := range mems {
			if len(archs) == 0 || contains(archs, target.HostArch()) {
				names = append(names, matrix.Config{Arch: target.HostArch(), MemoryMB: m}.Label())
			}
		}
		if err := threshold.CheckScopes(ts, names); err != nil {
			return usageError{err.Error()}
		}
	}
	// Last: with --force this removes the earlier run.
	if f.out != "" {
		return prepareOut(f.out, f.force)
	}
	return nil
}

func parseMemories(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		m, err := strconv.Atoi(p)
		if err != nil || m < 128 || m > 10240 {
			return nil, usagef("--memory: %q is not a memory size between 128 and 10240 MB", p)
		}
		if slices.Contains(out, m) {
			return nil, usagef("--memory: %d MB is given twice: each configuration is measured once", m)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseArchs(s string) ([]string, error) {
	var out []string
	for _, p := range splitList(s) {
		a, err := cost.NormalizeArch(p)
		if err != nil {
			return nil, usagef("--arch: %v", err)
		}
		out = append(out, a)
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runMatrix(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f matrixFlags
	fs := newFlagSet("matrix", "matrix [flags]", matrixDescription, stdout, stderr)
	f.register(fs)
	fs.Var(&f.thresholds, "threshold", "fail (exit 99) when a configuration's warm duration crosses this, e.g. 'p95<500ms', 'x86_64 10240:avg<300ms', 'error_rate<1%', or k6's 'p(95)<500' (repeatable)")
	registerJUnit(fs, &f.junit, "the --threshold checks (per threshold and configuration)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if f.printPrices {
		return cost.Default().WriteJSON(stdout)
	}
	if f.out == "" {
		f.out = filepath.Join("bench-results", time.Now().Format("20060102-150405")+"-matrix")
	}
	if err := f.validate(); err != nil {
		return err
	}
	res, err := matrixRun(ctx, f, stdout, stderr)
	if res.dir != "" {
		fmt.Fprintf(stdout, "\nResults: %s\n", res.dir)
	}
	return summarizeRun(res.dir, err)
}

// matrixResult is what a matrix run leaves behind.
type matrixResult struct {
	dir     string
	summary matrix.Summary
}

// matrixRun runs the matrix with settings f and writes its report. On an
// interruption it still writes a partial summary of everything measured.
func matrixRun(ctx context.Context, f matrixFlags, stdout, stderr io.Writer) (matrixResult, error) {
	var res matrixResult
	cpu, err := f.cpuModel()
	if err != nil {
		return res, err
	}
	thresholds, err := threshold.ParseAll(f.thresholds)
	if err != nil {
		return res, usageError{err.Error()}
	}
	wantArchs, _ := parseArchs(f.archs)
	wantMems, _ := parseMemories(f.memories)
	r, err := matrix.Execute(ctx, matrix.ExecOptions{
		Target: f.target, Stack: f.stack, Binary: f.binary, NoCPULimits: f.noCPULimits, CPU: cpu, Local: f.local,
		AWS: func(ctx context.Context) (matrix.Lambda, map[string]string, error) {
			at, err := f.aws(ctx, f.stack)
			if err != nil {
				return nil, nil, err
			}
			return at.Lambda, at.Outputs, nil
		},
		Archs: wantArchs, Memories: wantMems, Cold: f.cold, Runs: f.runs, Parallel: f.parallel,
		Payload: f.payload, Sleep: f.sleep, NoLogTail: f.noLogTail, Strategy: f.strategy, Weight: f.weight,
		Trim: f.trim, Prices: f.prices, Thresholds: thresholds, Out: f.out,
		Log: stderr, NewProgress: func() matrix.Progress { return newProgress(ctx, stderr) },
	})
	res.dir, res.summary = r.Dir, r.Summary
	if r.Written {
		printMatrixHeadline(stdout, r.Summary)
	}
	var ue *matrix.UsageError
	if errors.As(err, &ue) {
		return res, usageError{ue.Error()}
	}
	if err != nil {
		return res, err
	}
	if r.Summary.Verdict == nil {
		return res, fmt.Errorf("no configuration was measured: every invocation failed or was skipped (see %s)", filepath.Join(res.dir, "summary.md"))
	}
	outcomes, err := checkMatrixThresholds(thresholds, r.Summary)
	if f.junit != "" && !errors.As(err, new(usageError)) {
		err = writeJUnit(f.junit, "bench matrix "+res.dir, thresholdCases("matrix", outcomes), err)
	}
	return res, err
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// checkMatrixThresholds checks the thresholds against every measured
// configuration's warm durations and error rate. It returns every outcome
// (for --junit) and an error wrapping threshold.ErrCrossed when one was
// crossed.
func checkMatrixThresholds(ts []threshold.Threshold, s matrix.Summary) ([]threshold.Outcome, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	var subjects []threshold.Subject
	for _, r := range s.Results {
		if r.Skip != "" {
			continue
		}
		rate := 0.0
		if r.Invocations > 0 {
			rate = float64(r.Failures) / float64(r.Invocations)
		}
		subjects = append(subjects, threshold.Subject{Name: r.Label(), Summary: r.Warm, ErrorRate: rate})
	}
	outcomes, err := threshold.Evaluate(ts, subjects)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	var msgs []string
	for _, o := range outcomes {
		if !o.Passed {
			msgs = append(msgs, o.Failure().String())
		}
	}
	if len(msgs) == 0 {
		return outcomes, nil
	}
	return outcomes, fmt.Errorf("%w:\n  %s", threshold.ErrCrossed, strings.Join(msgs, "\n  "))
}

// printMatrixHeadline prints the warm-processing table and the verdict.
func printMatrixHeadline(w io.Writer, s matrix.Summary) {
	fmt.Fprintf(w, "\n%-8s %8s %5s %7s %9s %9s %9s %8s %10s %10s\n", "arch", "memory", "vCPU", "workers", "mean ms", "p50 ms", "p95 ms", "speedup", "efficiency", "$ per 1M")
	said := map[string]bool{}
	hostBound := false
	for _, r := range s.Results {
		if why, all := matrix.AllSkipped(s.Results, r.Arch); all {
			if !said[r.Arch] {
				fmt.Fprintf(w, "%-8s not measured: %s\n", r.Arch, why)
				said[r.Arch] = true
			}
			continue
		}
		if !r.Measured() {
			reason := r.Skip
			if reason == "" {
				reason = "failed: " + truncate(r.FirstError, 60)
			}
			fmt.Fprintf(w, "%-8s %6d MB %5.2f %7d   %s\n", r.Arch, r.MemoryMB, r.VCPUs, r.Workers, truncate("not measured — "+reason, 70))
			continue
		}
		host := ""
		if r.Saturation != nil && r.HostCPUSaturated {
			host = fmt.Sprintf("  HOST-BOUND (saturated %.0f%%)", 100*r.SaturatedShare)
			hostBound = true
		}
		fmt.Fprintf(w, "%-8s %6d MB %5.2f %7d %9.1f %9.1f %9.1f %7.2f× %9.0f%% %10.2f%s\n", r.Arch, r.MemoryMB, r.VCPUs, r.Workers,
			r.Warm.Mean, r.Warm.P50, r.Warm.P95, r.Speedup, r.Efficiency*100, r.CostPerMillion, host)
	}
	if hostBound {
		fmt.Fprintf(w, "HOST-BOUND: %s (its CPU was over %.0f%% busy while the environments ran).\n", strings.TrimPrefix(hostload.HostBoundNote, "host-bound: "), 100*hostload.DefaultThreshold)
	}
	if v := s.Verdict; v != nil {
		fmt.Fprintf(w, "\nVerdict (%s): %s %d MB — %s; trimmed mean %.1f ms, $%.2f per 1M invocations\n", v.Strategy, v.Choice.Arch, v.Choice.MemoryMB, v.Why, v.Choice.DurationMs, v.Choice.CostPerMillion)
	}
}

func truncate(s string, n int) string { return matrix.Truncate(s, n) }

func isNaN(f float64) bool { return f != f }
