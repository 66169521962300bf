package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/threshold"
)

// Progress shows how far a run has come.
type Progress interface {
	Step(task string, done, total int, note string)
	Wait()
}

// UsageError is an error in the settings that only shows once the target
// is known (e.g. --arch/--memory select no configuration).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ExecOptions are the settings of one matrix run, as the matrix verb takes
// them.
type ExecOptions struct {
	Target      string // target.Local or target.AWS
	Stack       string // the AWS stack (for the report)
	Binary      string // the local function binary ("" = build it)
	NoCPULimits bool
	// CPU is how the local Lambda throttles environments (--cpu-period, --calibration).
	CPU target.CPUModel
	// Local, when set, is an already running local target to use; Execute
	// does not close it.
	Local *target.LocalTarget
	// AWS resolves the Lambda API and the stack outputs of --target aws.
	AWS func(ctx context.Context) (Lambda, map[string]string, error)

	Archs      []string // only these architectures (none = all)
	Memories   []int    // only these memory sizes (none = all)
	Cold, Runs int
	Parallel   int
	Payload    string
	Sleep      time.Duration
	NoLogTail  bool
	Strategy   string
	Weight     float64
	Trim       float64
	Prices     string // JSON price table file ("" = built-in prices)
	Thresholds []threshold.Threshold
	Out        string // results folder ("" = bench-results/<timestamp>-matrix)

	Log         io.Writer       // what the run does
	NewProgress func() Progress // progress display (nil = none)
}

// ExecResult is what a matrix run leaves behind.
type ExecResult struct {
	Dir     string
	Summary Summary
	// Written is true when the summary files were written.
	Written bool
}

type noProgress struct{}

func (noProgress) Step(string, int, int, string) {}
func (noProgress) Wait()                         {}

// Execute runs the matrix with settings o and writes its report. On an
// interruption it still writes a partial summary of everything measured.
// The returned error is the run's; thresholds are not checked.
func Execute(ctx context.Context, o ExecOptions) (ExecResult, error) {
	var res ExecResult
	stderr := o.Log
	if stderr == nil {
		stderr = io.Discard
	}
	prices, pricesSource := cost.Default(), ""
	if o.Prices != "" {
		var err error
		if prices, err = cost.Load(o.Prices); err != nil {
			return res, err
		}
		pricesSource = o.Prices
	}

	meta := Meta{Target: o.Target, Started: time.Now(), Payload: o.Payload, Cold: o.Cold, Runs: o.Runs,
		Parallel: o.Parallel, Trim: o.Trim, Strategy: o.Strategy, Weight: o.Weight, PricesSource: pricesSource}
	var (
		api      Lambda
		outputs  map[string]string
		skipWhy  string
		maxCores float64
		allArchs = []string{"arm64", "x86_64"}
		mon      *hostload.Monitor
	)
	switch target.Kind(o.Target) {
	case target.Local:
		lt := o.Local
		if lt == nil {
			fmt.Fprintln(stderr, "Starting the local Lambda (building the function for this machine)…")
			var err error
			lt, err = target.StartLocal(ctx, target.LocalOptions{Binary: o.Binary, Matrix: true, BuildLog: stderr, NoCPUControl: o.NoCPULimits, CPU: o.CPU})
			if err != nil {
				return res, err
			}
			defer lt.Close()
			fmt.Fprintf(stderr, "Local Lambda: %s; %d host cores cap each environment's vCPUs.\n", lt.Server.Confinement(), lt.Server.HostCores())
		}
		api, outputs = lt.Lambda, lt.Outputs
		if m, err := hostload.New(hostload.Options{Cores: runtime.NumCPU(), Demand: lt.Server.BusyVCPUs}); err != nil {
			fmt.Fprintf(stderr, "Not measuring this machine's load: %v\n", err)
		} else {
			m.Start()
			defer m.Stop()
			mon = m
		}
		skipWhy = fmt.Sprintf("the local target runs %s only (this machine's architecture); deploy and use --target aws", lt.Arch)
		maxCores = float64(lt.Server.HostCores())
		meta.HostCores, meta.Confinement = lt.Server.HostCores(), lt.Server.Confinement()
	case target.AWS:
		var err error
		if api, outputs, err = o.AWS(ctx); err != nil {
			return res, err
		}
		meta.Stack = o.Stack
		skipWhy = "the stack has no function for this architecture (see the infra context key architectures)"
	}
	cfgs, err := Discover(ctx, api, outputs, allArchs, skipWhy, maxCores)
	if err != nil {
		return res, err
	}
	cfgs = FilterConfigs(cfgs, o.Archs, o.Memories)
	if len(cfgs) == 0 {
		return res, &UsageError{"--arch/--memory select no configuration"}
	}
	var names []string
	for _, c := range cfgs {
		if c.Skip == "" {
			names = append(names, c.Label())
		}
	}
	if err := threshold.CheckScopes(o.Thresholds, names); err != nil {
		return res, &UsageError{err.Error()}
	}

	res.Dir = o.Out
	if res.Dir == "" {
		res.Dir = filepath.Join("bench-results", time.Now().Format("20060102-150405")+"-matrix")
	}
	if err := os.MkdirAll(res.Dir, 0o755); err != nil {
		return res, fmt.Errorf("results folder: %w", err)
	}
	csvFile, err := os.Create(filepath.Join(res.Dir, "samples.csv"))
	if err != nil {
		return res, fmt.Errorf("samples.csv: %w", err)
	}
	defer csvFile.Close()
	w, err := NewCSVWriter(csvFile)
	if err != nil {
		return res, err
	}

	measured := 0
	for _, c := range cfgs {
		if c.Skip == "" {
			measured++
		}
	}
	fmt.Fprintf(stderr, "Measuring %d configuration(s): %d cold + %d warm invocation(s) each, payload %s\n", measured, o.Cold, o.Runs, o.Payload)
	var samples []Sample
	var prog Progress = noProgress{}
	if o.NewProgress != nil {
		prog = o.NewProgress()
	}
	opts := Options{Cold: o.Cold, Runs: o.Runs, Payload: []byte(o.Payload), Parallel: o.Parallel, SleepBetween: o.Sleep, LogTail: !o.NoLogTail,
		OnSample: func(s Sample) error {
			samples = append(samples, s)
			return w.Write(s)
		},
		OnProgress: func(c Config, done, total int) {
			last := samples[len(samples)-1]
			note := "ok"
			if !last.OK {
				note = "error: " + Truncate(last.Error, 60)
			} else if d := last.Duration(); d == d {
				note = fmt.Sprintf("%s %.0f ms", last.Kind, d)
			}
			prog.Step(c.Label(), done, total, note)
		},
	}
	runErr := Run(ctx, api, cfgs, opts)
	prog.Wait()
	partial := runErr != nil
	if partial && !errors.Is(runErr, context.Canceled) {
		fmt.Fprintf(stderr, "matrix stopped: %v\n", runErr)
	}

	sum, err := Build(samples, meta, prices, partial)
	if err != nil {
		return res, errors.Join(runErr, err)
	}
	if mon != nil {
		host := mon.Samples()
		if err := hostload.WriteFile(filepath.Join(res.Dir, hostload.File), host); err != nil {
			return res, errors.Join(runErr, err)
		}
		MarkHost(&sum, samples, host)
	}
	res.Summary = sum
	if err := sum.WriteFiles(res.Dir); err != nil {
		return res, errors.Join(runErr, err)
	}
	if err := sum.WriteCharts(res.Dir); err != nil {
		fmt.Fprintf(stderr, "charts: %v\n", err)
	}
	res.Written = true
	return res, runErr
}

// FilterConfigs keeps the configurations of archs and mems (none = all).
func FilterConfigs(cfgs []Config, archs []string, mems []int) []Config {
	var out []Config
	for _, c := range cfgs {
		if len(archs) > 0 && !contains(archs, c.Arch) {
			continue
		}
		if len(mems) > 0 && !contains(mems, c.MemoryMB) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Truncate shortens s to n bytes, ending in "…" when cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
