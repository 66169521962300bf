package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"lambdabench/bench/internal/calibrate"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
)

const calibrateDescription = `Measures how execution environments are throttled: the CPU throttling
interval (the period in which an environment gets its share of a vCPU and
then waits for the next one) and the share each memory size actually gets.
AWS documents the share (1,769 MB = 1 vCPU) but not the interval, and the
interval decides how short work is throttled below one vCPU.

It invokes the function's probe handler (_HANDLER=probe) at each --memory
size, --runs times after one warm-up: each probe spins on one thread for
--duration and reports its CPU time and every pause longer than 1 ms. The
spacing of the pauses' ends gives the period, CPU time ÷ wall time the
share. It writes calibration.json, which serve, tune, matrix, hello and the
suite take with --calibration to throttle as measured.

Targets:
  local (default)  the local Lambda, throttled with --cpu-period: how the
                   method is checked (it must recover the period it set).
  aws              your account: functions named <--function-prefix>-<MB>
                   that run the function binary with the probe handler,
                   as the matrix stack deploys them at 128, 512 and 1024
                   MB. Nothing is changed on them.

Examples:
  bench calibrate
  bench calibrate --cpu-period 100ms --memory 128,512,1024
  bench calibrate --target aws --function-prefix go-bench-probe --region us-east-1`

// Defaults of calibrate.
var (
	defaultCalibrateMemories = []int{128, 512, 1024}
)

type calibrateFlags struct {
	targetFlags
	memories string
	prefix   string
	runs     int
	duration time.Duration
	out      string
	force    bool
}

func newCalibrateFlagSet(stdout, stderr io.Writer) (*flag.FlagSet, *calibrateFlags) {
	f := &calibrateFlags{}
	fs := newFlagSet("calibrate", "calibrate [flags]", calibrateDescription, stdout, stderr)
	f.targetFlags.register(fs, "local", targetLocal|targetEndpoint)
	fs.StringVar(&f.memories, "memory", joinInts(defaultCalibrateMemories), "memory sizes in MB to measure, comma-separated (128..10240)")
	fs.StringVar(&f.prefix, "function-prefix", "go-bench-probe", "aws: the probe functions are named PREFIX-<MB>")
	fs.IntVar(&f.runs, "runs", 3, "probes per memory size after one warm-up (1..100); the share and period are their medians")
	fs.DurationVar(&f.duration, "duration", time.Second, "how long each probe spins (100ms..60s): long enough for several periods")
	fs.StringVar(&f.out, "out", "", "results folder (default bench-results/<timestamp>-calibrate)")
	registerForce(fs, &f.force)
	return fs, f
}

func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newCalibrateFlagSet(stdout, stderr)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	mems, err := f.validate()
	if err != nil {
		return err
	}
	cal, err := calibrateRun(ctx, f, mems, stderr)
	if cal != nil {
		path := filepath.Join(f.out, calibrate.FileName)
		if werr := cal.Write(path); werr != nil {
			return errors.Join(err, werr)
		}
		printCalibration(stdout, cal)
		fmt.Fprintf(stdout, "\nWrote %s: use it with --calibration %s\n", path, path)
	}
	return err
}

// validate checks every flag before anything starts.
func (f *calibrateFlags) validate() ([]int, error) {
	kind, err := f.kind()
	if err != nil {
		return nil, err
	}
	if err := f.targetFlags.check(); err != nil {
		return nil, err
	}
	mems, err := parseMemories(f.memories)
	if err != nil {
		return nil, err
	}
	if len(mems) == 0 {
		return nil, usagef("--memory: no memory size")
	}
	slices.Sort(mems)
	switch {
	case f.runs < 1 || f.runs > 100:
		return nil, usagef("--runs %d: give 1 to 100", f.runs)
	case f.duration < 100*time.Millisecond || f.duration > 60*time.Second:
		return nil, usagef("--duration %s: give 100ms to 1m0s", f.duration)
	case kind == target.AWS && (f.binary != "" || f.noCPULimits || f.cpuPeriod.set || f.calibration != ""):
		return nil, usagef("--binary, --no-cpu-limits, --cpu-period and --calibration set up the local Lambda: not with --target aws")
	case kind == target.AWS && f.prefix == "":
		return nil, usagef("--function-prefix: empty")
	}
	if f.out == "" {
		f.out = filepath.Join("bench-results", time.Now().Format("20060102-150405")+"-calibrate")
	}
	return mems, prepareOut(f.out, f.force)
}

// probeInvoker is the Lambda API calibrate needs.
type probeInvoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// calibrateRun probes every memory size and returns what it measured (also
// on an interruption, the sizes finished so far).
func calibrateRun(ctx context.Context, f *calibrateFlags, mems []int, stderr io.Writer) (*calibrate.File, error) {
	cal := &calibrate.File{Kind: calibrate.Kind, Target: f.target, Started: time.Now().UTC().Truncate(time.Second),
		ProbeWallMs: float64(f.duration) / float64(time.Millisecond)}
	var (
		client probeInvoker
		names  = map[int]string{}
	)
	switch target.Kind(f.target) {
	case target.Local:
		cpu, _ := f.cpuModel() // checked by validate
		bin := f.binary
		if bin == "" {
			root, err := findRoot()
			if err != nil {
				return nil, usagef("calibrate: %v (or give --binary, built with make function)", err)
			}
			fmt.Fprintln(stderr, "Building the function for this machine…")
			if bin, err = target.BuildFunction(ctx, root, runtime.GOARCH, stderr); err != nil {
				return nil, err
			}
		}
		var specs []locallambda.FunctionSpec
		for _, m := range mems {
			name := fmt.Sprintf("%s-%d", f.prefix, m)
			names[m] = name
			specs = append(specs, locallambda.FunctionSpec{Name: name, Binary: bin, Handler: "probe", MemoryMB: m,
				Timeout: f.duration + 30*time.Second, Architecture: target.HostArch(), ReservedConcurrency: 1})
		}
		lt, err := target.StartLocal(ctx, target.LocalOptions{Functions: specs, NoCPUControl: f.noCPULimits, CPU: cpu})
		if err != nil {
			return nil, err
		}
		defer lt.Close()
		fmt.Fprintf(stderr, "Local Lambda: %s.\n", lt.Server.Confinement())
		cal.LocalPeriodMs = float64(cpu.Period) / float64(time.Millisecond)
		client = lt.Lambda
		cal.Notes = append(cal.Notes, "measured on the local Lambda: it recovers the emulation's own throttling, not Lambda's")
	case target.AWS:
		c, err := f.lambdaClient(ctx)
		if err != nil {
			return nil, err
		}
		client = c
		for _, m := range mems {
			names[m] = fmt.Sprintf("%s-%d", f.prefix, m)
		}
	}
	for _, m := range mems {
		size := calibrate.Size{MemoryMB: m, Function: names[m]}
		fmt.Fprintf(stderr, "Probing %s (%d MB): 1 warm-up and %d probes of %s…\n", names[m], m, f.runs, f.duration)
		for i := 0; i <= f.runs; i++ {
			run, err := probeOnce(ctx, client, names[m], f.duration)
			if err != nil {
				if ctx.Err() != nil {
					cal.Notes = append(cal.Notes, fmt.Sprintf("interrupted: %d of %d memory sizes measured", len(cal.Sizes), len(mems)))
					cal.Finish()
					return cal, fmt.Errorf("calibrate interrupted: %w", ctx.Err())
				}
				return nil, err
			}
			if i > 0 { // the first probe warms the environment up
				size.Runs = append(size.Runs, run)
			}
		}
		size.Summarize()
		cal.Sizes = append(cal.Sizes, size)
	}
	cal.Finish()
	return cal, nil
}

// probeOnce invokes the probe once and analyses its answer.
func probeOnce(ctx context.Context, client probeInvoker, fn string, d time.Duration) (calibrate.Run, error) {
	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: calibrate.ProbeRequest(d)})
	if err != nil {
		var nf *lambdatypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return calibrate.Run{}, usagef("calibrate: no function %s: deploy the probe functions (docs/calibrate.md) or give --function-prefix", fn)
		}
		return calibrate.Run{}, fmt.Errorf("probe %s: %w", fn, err)
	}
	if out.FunctionError != nil {
		return calibrate.Run{}, fmt.Errorf("probe %s: function error %s: %s (is its handler probe?)", fn, aws.ToString(out.FunctionError), out.Payload)
	}
	run, err := calibrate.Analyze(out.Payload)
	if err != nil {
		return calibrate.Run{}, fmt.Errorf("probe %s: %w", fn, err)
	}
	return run, nil
}

// printCalibration prints one line per memory size and the period.
func printCalibration(w io.Writer, c *calibrate.File) {
	fmt.Fprintf(w, "\n%8s %11s %9s %10s %7s %11s %13s\n", "memory", "documented", "measured", "period ms", "pauses", "run p50 ms", "pause p50 ms")
	for _, s := range c.Sizes {
		period, pauses, run, pause := "—", 0, "—", "—"
		if s.PeriodMs > 0 {
			period = fmt.Sprintf("%.1f", s.PeriodMs)
		}
		if n := len(s.Runs); n > 0 {
			r := s.Runs[n/2]
			pauses = r.Pauses
			if r.PeriodMs > 0 {
				run, pause = fmt.Sprintf("%.2f", r.RunP50Ms), fmt.Sprintf("%.2f", r.PauseP50Ms)
			}
		}
		fmt.Fprintf(w, "%5d MB %7.3f vCPU %9.3f %10s %7d %11s %13s\n", s.MemoryMB, s.DocumentedShare, s.Share, period, pauses, run, pause)
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "Note: %s.\n", n)
	}
	switch {
	case c.PeriodMs > 0 && c.LocalPeriodMs > 0:
		fmt.Fprintf(w, "\nThrottling period: %.1f ms (the local Lambda was set to %g ms).\n", c.PeriodMs, c.LocalPeriodMs)
	case c.PeriodMs > 0:
		fmt.Fprintf(w, "\nThrottling period: %.1f ms.\n", c.PeriodMs)
	default:
		fmt.Fprintln(w, "\nNo size was throttled: no period to measure (probe smaller sizes, below one vCPU).")
	}
}
