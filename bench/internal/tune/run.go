package tune

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/target"
)

// UsageError is a setting that cannot work with the function as found (for
// example another architecture without code for it).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Options is a tune run.
type Options struct {
	Target   target.Kind
	Function string // aws: name or ARN; local: the name to serve it under
	Source   string // a Go main package to build ("" = none)
	Binary   string // local: a prebuilt bootstrap of this machine's architecture

	// Local function settings.
	Handler     string
	Env         map[string]string
	Timeout     time.Duration
	NoCPULimits bool
	// CPU is how the local Lambda throttles environments (--cpu-period, --calibration).
	CPU target.CPUModel
	// Credentials are the AWS credentials and region the local function gets
	// (zero: placeholders; see target.ResolveCredentials).
	Credentials locallambda.Credentials

	// Client opens the Lambda API of the aws target; Endpoint, Region and
	// Profile are kept in the journal for --cleanup.
	Client                    func(ctx context.Context) (API, error)
	Endpoint, Region, Profile string

	Memories []int
	Archs    []string // nil = the function's own
	Cold     int
	Runs     int
	OnlyCold bool // Cold forced cold starts and no warm invocations (Runs is 0)
	Parallel int
	// ParallelConfigs is how many configurations are measured at once
	// (≤ 1: one after another). Above 1 every configuration's versions
	// and alias are published first, as Power Tuning's initializer does.
	ParallelConfigs int
	Sleep           time.Duration
	Payloads        []matrix.Payload
	// PayloadLabel describes the payloads in the summary.
	PayloadLabel string

	AllowedErrors int
	// AllowedErrorTypes are function error types whose failures never
	// count against AllowedErrors (Power Tuning's allowedExceptions).
	AllowedErrorTypes []string
	// PowerTuningStats adds every configuration to the Power Tuning
	// result objects (Power Tuning's includeOutputResults).
	PowerTuningStats bool
	Strategy         string
	Weight, Trim     float64
	ColdShare        float64 // < 0 = the share of cold starts measured
	Prices           cost.PriceTable
	PricesSource     string

	// Apply, when set, applies the verdict once the function is restored
	// (--apply): not after an interruption, nor when ApplyGate gives a
	// reason (a crossed threshold), nor when the verdict left
	// configurations out for errors unless AllowedErrorsSet (the user set
	// --allowed-errors).
	Apply            *Apply
	ApplyGate        func(matrix.Summary) string
	AllowedErrorsSet bool

	Out    string    // results folder (exists and is writable)
	DryRun bool      // print the plan to Plan and change nothing
	Plan   io.Writer // where the dry run's plan goes
	Log    io.Writer // progress lines: builds, changes, cleanup

	// OnSample is told about every sample after it is written.
	OnSample func(c matrix.Config, done, total int, last matrix.Sample)
}

// Run tunes the function: it resolves the target, builds code, sweeps every
// configuration through the engine with a Session, cleans up (also on an
// error or cancellation) and writes the report into Out. The summary is
// returned whenever one could be written, also with an error.
func Run(ctx context.Context, o Options) (sum matrix.Summary, err error) {
	logf := func(format string, a ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", a...)
		}
	}
	started := time.Now()
	var (
		api       API
		hostCores int
		localArch string
		confine   string
		code      = map[string][]byte{}
		skip      = map[string]string{}
		buildDir  = filepath.Join(o.Out, "build")
	)
	if o.DryRun || o.Out == "" {
		tmp, err := os.MkdirTemp("", "bench-tune-build-")
		if err != nil {
			return sum, err
		}
		defer os.RemoveAll(tmp)
		buildDir = tmp
	}

	switch o.Target {
	case target.Local:
		localArch = target.HostArch()
		bin := o.Binary
		if o.Source != "" {
			logf("Building %s for linux/%s …", o.Source, GOARCH(localArch))
			if bin, err = BuildSource(ctx, o.Source, localArch, buildDir); err != nil {
				return sum, err
			}
		}
		for _, a := range o.Archs {
			if a == localArch {
				continue
			}
			why := fmt.Sprintf("this %s machine cannot run linux/%s code (it was built, not run); measure %s on AWS with --target aws --source", localArch, GOARCH(a), a)
			if o.Source != "" {
				logf("Building %s for linux/%s (to prove it builds; it cannot run here) …", o.Source, GOARCH(a))
				if _, err := BuildSource(ctx, o.Source, a, buildDir); err != nil {
					return sum, err
				}
			} else {
				return sum, &UsageError{fmt.Sprintf("--arch %s: no code for %s (--binary is linux/%s); pass --source to build it — this machine still runs only %s", a, a, GOARCH(localArch), localArch)}
			}
			skip[a] = why
		}
		if o.DryRun {
			break
		}
		spec := locallambda.FunctionSpec{Name: o.Function, Binary: bin, Handler: o.Handler, MemoryMB: o.Memories[0],
			Timeout: o.Timeout, Env: o.Env, Architecture: localArch, ReservedConcurrency: max(10, o.Parallel*max(o.ParallelConfigs, 1))}
		lt, err := target.StartLocal(ctx, target.LocalOptions{Functions: []locallambda.FunctionSpec{spec}, NoCPUControl: o.NoCPULimits, CPU: o.CPU, Credentials: o.Credentials})
		if err != nil {
			return sum, err
		}
		defer lt.Close()
		api = lt.Lambda
		hostCores, confine = lt.Server.HostCores(), lt.Server.Confinement()
		logf("Local Lambda: %s; %d host cores cap each environment's vCPUs.", confine, hostCores)
	case target.AWS:
		if api, err = o.Client(ctx); err != nil {
			return sum, err
		}
	}

	var orig Original
	if api != nil {
		if orig, err = Inspect(ctx, api, o.Function); err != nil {
			return sum, err
		}
	} else {
		orig = Original{FunctionName: o.Function, Arch: localArch, MemoryMB: int32(o.Memories[0]), Handler: o.Handler}
	}
	archs := o.Archs
	if len(archs) == 0 {
		archs = []string{orig.Arch}
	}
	if o.Target == target.AWS {
		if o.Source != "" && orig.PackageType == "Image" {
			return sum, &UsageError{fmt.Sprintf("%s is a container image function; --source uploads a zip, which an image function cannot take", orig.FunctionName)}
		}
		for _, a := range archs {
			if o.Source == "" {
				if a != orig.Arch {
					return sum, &UsageError{fmt.Sprintf("%s is %s; measuring %s needs code built for it: pass --source DIR (a Go main package) and bench cross-compiles it", orig.FunctionName, orig.Arch, a)}
				}
				continue
			}
			logf("Building %s for linux/%s …", o.Source, GOARCH(a))
			bin, err := BuildSource(ctx, o.Source, a, buildDir)
			if err != nil {
				return sum, err
			}
			if code[a], err = Zip(bin); err != nil {
				return sum, err
			}
		}
	}

	var cfgs []matrix.Config
	measured := 0
	for _, a := range archs {
		for _, m := range o.Memories {
			cfgs = append(cfgs, matrix.Config{Function: orig.FunctionName, Arch: a, MemoryMB: m, VCPUs: matrix.VCPUsFor(m, float64(hostCores)), Skip: skip[a]})
			if skip[a] == "" {
				measured++
			}
		}
	}
	runID := strconv.FormatInt(time.Now().Unix(), 36)
	cold, runs := o.Cold, o.Runs
	if o.OnlyCold {
		runs = 0
	}
	if o.DryRun {
		writePlan(o.Plan, orig, cfgs, code, runID, cold, runs, len(o.Payloads))
		if o.ParallelConfigs > 1 && measured > 1 && o.Plan != nil {
			fmt.Fprintf(o.Plan, "\nWith --parallel-configs %d every version and alias above is published first (in this order), then up to %d configurations are invoked at once.\n", o.ParallelConfigs, o.ParallelConfigs)
		}
		describeApply(o.Plan, o.Apply, orig, len(code) > 0)
		return sum, nil
	}

	// From here on the function is changed: the journal comes first.
	j := &Journal{RunID: runID, Function: o.Function, Target: string(o.Target), Region: o.Region,
		Profile: o.Profile, Endpoint: o.Endpoint, Original: orig}
	if err := Create(o.Out, j); err != nil {
		return sum, err
	}
	var originalCode []byte
	if len(code) > 0 {
		if originalCode, err = DownloadCode(ctx, api, orig.FunctionName); err != nil {
			return sum, err
		}
		if err := os.WriteFile(filepath.Join(o.Out, OriginalCodeFile), originalCode, 0o600); err != nil {
			return sum, fmt.Errorf("keep the original code: %w", err)
		}
	}
	sess := &Session{API: api, Journal: j, Code: code, Log: o.Log}
	var applyTo *cost.Candidate // the verdict, when --apply may apply it
	defer func() {
		logf("Cleaning up: deleting the aliases and versions of run %s, restoring $LATEST …", runID)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
		defer cancel()
		if cerr := sess.Cleanup(cctx, originalCode); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cleanup incomplete (run 'go run ./bench tune --cleanup %s' to finish it): %w", o.Out, cerr))
			return
		}
		logf("Cleanup done: %s is as it was found.", orig.FunctionName)
		if applyTo == nil || err != nil || ctx.Err() != nil {
			return
		}
		logf("Applying the verdict: %s %d MB …", applyTo.Arch, applyTo.MemoryMB)
		if aerr := sess.ApplyVerdict(cctx, *o.Apply, applyTo.Arch, applyTo.MemoryMB); aerr != nil {
			err = fmt.Errorf("--apply failed (undo what it changed with 'go run ./bench tune --cleanup %s'): %w", o.Out, aerr)
		}
	}()

	csvFile, err := os.Create(filepath.Join(o.Out, "samples.csv"))
	if err != nil {
		return sum, fmt.Errorf("samples.csv: %w", err)
	}
	defer csvFile.Close()
	w, err := matrix.NewCSVWriter(csvFile)
	if err != nil {
		return sum, err
	}
	logf("Tuning %s: %d configuration(s), %d cold + %d warm invocation(s) each", orig.FunctionName, measured, cold, runs)
	var (
		mu      sync.Mutex // configurations measured at once share the samples
		samples []matrix.Sample
		last    = map[string]matrix.Sample{}
	)
	mo := matrix.Options{Cold: cold, Runs: runs, Payloads: o.Payloads, Parallel: o.Parallel,
		SleepBetween: o.Sleep, LogTail: true, AnyResponse: true, Prepare: sess.Prepare,
		OnSample: func(s matrix.Sample) error {
			mu.Lock()
			defer mu.Unlock()
			samples = append(samples, s)
			last[matrix.Config{Arch: s.Arch, MemoryMB: s.MemoryMB}.Label()] = s
			return w.Write(s)
		},
		OnProgress: func(c matrix.Config, done, total int) {
			mu.Lock()
			defer mu.Unlock()
			if o.OnSample != nil {
				o.OnSample(c, done, total, last[c.Label()])
			}
		},
	}
	var runErr error
	if o.ParallelConfigs > 1 && measured > 1 {
		n := max(cold, 1)
		logf("Publishing every configuration's version(s) and alias first (%d per configuration), then measuring up to %d configurations at once …", n, o.ParallelConfigs)
		var quals map[string][]string
		if quals, runErr = sess.PublishAll(ctx, cfgs, n); runErr == nil {
			mo.Prepare = func(_ context.Context, c matrix.Config, i int) (matrix.Config, error) {
				qs := quals[c.Label()]
				if i >= len(qs) {
					return c, fmt.Errorf("%s: no version published for cold start %d", c.Label(), i+1)
				}
				c.Qualifier = qs[i]
				return c, nil
			}
			runErr = runConcurrently(ctx, api, cfgs, mo, o.ParallelConfigs)
		}
	} else {
		runErr = matrix.Run(ctx, api, cfgs, mo)
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		logf("tune stopped: %v", runErr)
	}

	share := o.ColdShare
	if share < 0 {
		share = float64(cold) / float64(cold+runs)
	}
	allowed := o.AllowedErrors
	var names []string
	for _, pl := range o.Payloads {
		if pl.Name != "" {
			names = append(names, pl.Name)
		}
	}
	source := o.Source
	if source == "" {
		source = o.Binary
	}
	meta := matrix.Meta{Kind: "tune", Target: string(o.Target), Started: started, Payload: o.PayloadLabel, Cold: cold, Runs: runs,
		Parallel: o.Parallel, Trim: o.Trim, Strategy: o.Strategy, Weight: o.Weight, PricesSource: o.PricesSource,
		HostCores: hostCores, Confinement: confine, ColdShare: share, AllowedErrors: &allowed, AllowedErrorTypes: o.AllowedErrorTypes,
		Tune: &matrix.TuneMeta{Function: orig.FunctionName, Endpoint: o.Endpoint, Source: source, Handler: orig.Handler,
			Archs: archs, Payloads: names, OnlyCold: o.OnlyCold, PowerTuningStats: o.PowerTuningStats, ParallelConfigs: o.ParallelConfigs}}
	sum, err = matrix.Build(samples, meta, o.Prices, runErr != nil)
	if err != nil {
		return sum, errors.Join(runErr, err)
	}
	if err := sum.WriteFiles(o.Out); err != nil {
		return sum, errors.Join(runErr, err)
	}
	if err := sum.WriteCharts(o.Out); err != nil {
		logf("charts: %v", err)
	}
	if runErr != nil {
		return sum, runErr
	}
	if sum.Verdict == nil {
		return sum, fmt.Errorf("no configuration was measured successfully (see %s)", filepath.Join(o.Out, "summary.md"))
	}
	if o.Apply != nil {
		if why := applyRefusal(sum, o); why != "" {
			logf("--apply: not applied — %s.", why)
		} else {
			applyTo = &sum.Verdict.Choice
		}
	}
	return sum, nil
}

// runConcurrently measures the configurations, up to n at once, each
// through the engine with o; the first error stops the others.
func runConcurrently(ctx context.Context, api matrix.Lambda, cfgs []matrix.Config, o matrix.Options, n int) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan matrix.Config)
	)
	for range min(n, len(cfgs)) {
		wg.Go(func() {
			for c := range next {
				if err := matrix.Run(runCtx, api, []matrix.Config{c}, o); err != nil {
					once.Do(func() {
						first = err
						cancel()
					})
				}
			}
		})
	}
feed:
	for _, c := range cfgs {
		select {
		case next <- c:
		case <-runCtx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// applyRefusal says why the verdict must not be applied ("" = it may).
func applyRefusal(sum matrix.Summary, o Options) string {
	if o.ApplyGate != nil {
		if why := o.ApplyGate(sum); why != "" {
			return why
		}
	}
	if o.AllowedErrorsSet {
		return ""
	}
	var out []string
	for _, r := range sum.Results {
		if r.Excluded != "" {
			out = append(out, r.Label())
		}
	}
	if len(out) > 0 {
		return fmt.Sprintf("the verdict left out %s for failed invocations; say how many failures you accept with --allowed-errors to apply it anyway", strings.Join(out, ", "))
	}
	return ""
}

// writePlan prints what a run would do, call by call.
func writePlan(w io.Writer, o Original, cfgs []matrix.Config, code map[string][]byte, runID string, cold, runs, payloads int) {
	if w == nil {
		return
	}
	runtime := o.Runtime
	if runtime == "" {
		runtime = "—"
	}
	fmt.Fprintf(w, "Dry run: nothing is changed or invoked.\n\nFunction %s (%s, %d MB, %s)\n", o.FunctionName, o.Arch, o.MemoryMB, runtime)
	fmt.Fprintf(w, "Per configuration: %d forced cold start(s) and %d warm invocation(s), %d payload(s).\n\n", cold, runs, payloads)
	cur, uploaded := o.Arch, false
	invocations := cold + runs
	if cold == 0 {
		invocations++ // the warm-up
	}
	for _, c := range cfgs {
		if c.Skip != "" {
			fmt.Fprintf(w, "%s %d MB: not measured — %s\n", c.Arch, c.MemoryMB, c.Skip)
			continue
		}
		fmt.Fprintf(w, "%s %d MB:\n", c.Arch, c.MemoryMB)
		if code[c.Arch] != nil && (c.Arch != cur || !uploaded) {
			fmt.Fprintf(w, "  UpdateFunctionCode ZipFile (%d bytes) Architectures=[%s]; wait for LastUpdateStatus Successful\n", len(code[c.Arch]), c.Arch)
			cur, uploaded = c.Arch, true
		}
		alias := AliasName(runID, c.Arch, c.MemoryMB)
		for i := range max(cold, 1) {
			fmt.Fprintf(w, "  UpdateFunctionConfiguration MemorySize=%d %s=…; wait; PublishVersion; ", c.MemoryMB, ColdStartVariable)
			if i == 0 {
				fmt.Fprintf(w, "CreateAlias %s\n", alias)
			} else {
				fmt.Fprintf(w, "UpdateAlias %s\n", alias)
			}
		}
		fmt.Fprintf(w, "  Invoke %s × %d\n", alias, invocations)
	}
	fmt.Fprintf(w, "\nCleanup: DeleteAlias and DeleteFunction (each version) for everything above; ")
	if len(code) > 0 {
		fmt.Fprintf(w, "UpdateFunctionCode with the original code (%s); ", o.Arch)
	}
	fmt.Fprintf(w, "UpdateFunctionConfiguration MemorySize=%d with the original environment.\n", o.MemoryMB)
}
