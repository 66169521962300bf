package lmitune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/threshold"
	"lambdabench/bench/internal/tune"
)

// Options is an LMI tune.
type Options struct {
	Target   target.Kind
	Function string // aws: name or ARN; local: the name to serve it under
	Source   string // local: a Go main package to build ("" = Binary)
	Binary   string // local: a prebuilt bootstrap

	// Local function settings.
	Handler     string
	Env         map[string]string
	Timeout     time.Duration
	NoCPULimits bool
	CPU         target.CPUModel
	Credentials locallambda.Credentials

	// Client opens the Lambda API of the aws target; Endpoint, Region and
	// Profile are kept in the journal for --cleanup.
	Client                    func(ctx context.Context) (tune.LMIAPI, error)
	Endpoint, Region, Profile string

	Memories      []int
	Ratios        []float64
	Concurrencies []int
	Environments  int

	// Model is the ramp's load model; Ramp its levels (virtual users or
	// requests per second; nil with the closed model: doubling from 1 to
	// twice the environments' invocation slots). Step is each level's
	// duration.
	Model load.Model
	Ramp  []float64
	Step  time.Duration

	SLO          []threshold.Threshold
	MaxErrorRate float64 // 0–1
	Payload      json.RawMessage

	Rates        []float64
	InstanceType string // "" = the capacity provider's (or the cheapest that fits)
	Prices       cost.PriceTable
	PricesSource string

	// Standard is the standard Lambda figure to price against (from
	// --standard-from); StandardMemory measures one in this run instead
	// (local target: the same binary as a standard function).
	Standard       *Standard
	StandardMemory int

	Out    string
	DryRun bool
	Plan   io.Writer
	Log    io.Writer

	// OnStep is told about every step once it is measured.
	OnStep func(r Result, s Step)
}

// Configs is the sweep in the order it is measured.
func (o Options) Configs() []Config {
	var out []Config
	for _, m := range o.Memories {
		for _, g := range o.Ratios {
			for _, c := range o.Concurrencies {
				out = append(out, Config{MemoryMB: m, GiBPerVCPU: g, PerEnvConcurrency: c})
			}
		}
	}
	return out
}

// RampFor is the ramp a configuration gets: Ramp, or doubling virtual
// users from 1 up to twice its invocation slots (concurrency ×
// environments), the last level beyond what it can take at once.
func (o Options) RampFor(c Config) []float64 {
	if len(o.Ramp) > 0 {
		return o.Ramp
	}
	slots := c.PerEnvConcurrency * max(o.Environments, 1)
	var out []float64
	for v := 1; v < 2*slots; v *= 2 {
		out = append(out, float64(v))
	}
	return append(out, float64(2*slots))
}

func (o Options) logf(format string, a ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", a...)
	}
}

// Run tunes the function: it resolves the target, publishes and measures
// every configuration, restores the function (also on an error or
// cancellation, from the journal in Out) and writes the results into Out.
// The summary is returned whenever one could be written, also with an
// error.
func Run(ctx context.Context, o Options) (sum Summary, err error) {
	started := time.Now()
	var (
		api       tune.LMIAPI
		hostCores int
		lt        *target.LocalTarget
		arch      string
	)
	cfgs := o.Configs()
	if len(cfgs) == 0 {
		return sum, &tune.UsageError{Msg: "no configuration to measure"}
	}
	buildDir := filepath.Join(o.Out, "build")
	if o.DryRun || o.Out == "" {
		tmp, err := os.MkdirTemp("", "bench-tune-lmi-build-")
		if err != nil {
			return sum, err
		}
		defer os.RemoveAll(tmp)
		buildDir = tmp
	}
	standardName := ""
	switch o.Target {
	case target.Local:
		arch = target.HostArch()
		bin := o.Binary
		if o.Source != "" {
			o.logf("Building %s for linux/%s …", o.Source, tune.GOARCH(arch))
			if bin, err = tune.BuildSource(ctx, o.Source, arch, buildDir); err != nil {
				return sum, err
			}
		}
		if o.DryRun {
			break
		}
		first := cfgs[0]
		specs := []locallambda.FunctionSpec{{Name: o.Function, Binary: bin, Handler: o.Handler, MemoryMB: first.MemoryMB,
			Timeout: o.Timeout, Env: o.Env, Architecture: arch, Mode: locallambda.LMI, GiBPerVCPU: first.GiBPerVCPU,
			MaxConcurrency: first.PerEnvConcurrency, MinEnvironments: 0, MaxEnvironments: max(o.Environments, 1)}}
		if o.StandardMemory > 0 {
			standardName = o.Function + "-standard"
			if len(standardName) > 64 {
				standardName = standardName[:64]
			}
			specs = append(specs, locallambda.FunctionSpec{Name: standardName, Binary: bin, Handler: o.Handler, MemoryMB: o.StandardMemory,
				Timeout: o.Timeout, Env: o.Env, Architecture: arch, ReservedConcurrency: 1})
		}
		lt, err = target.StartLocal(ctx, target.LocalOptions{Functions: specs, NoCPUControl: o.NoCPULimits, CPU: o.CPU, Credentials: o.Credentials})
		if err != nil {
			return sum, err
		}
		defer lt.Close()
		api = lt.Lambda
		hostCores = lt.Server.HostCores()
		o.logf("Local Lambda: %s; %d host cores.", lt.Server.Confinement(), hostCores)
	case target.AWS:
		if api, err = o.Client(ctx); err != nil {
			return sum, err
		}
	}

	var orig tune.Original
	if api != nil {
		if orig, err = tune.InspectLMI(ctx, api, o.Function); err != nil {
			return sum, err
		}
		arch = orig.Arch
	} else {
		orig = tune.Original{FunctionName: o.Function, Arch: arch, MemoryMB: int32(cfgs[0].MemoryMB), Handler: o.Handler,
			LMI: &tune.LMIConfig{CapacityProviderArn: locallambda.CapacityProviderARN(), GiBPerVCPU: cfgs[0].GiBPerVCPU, PerEnvConcurrency: int32(cfgs[0].PerEnvConcurrency)}}
	}

	// The instance type the costs assume: --instance-type, or the
	// capacity provider's allowed types (on AWS).
	var allowed []string
	instNote := ""
	switch {
	case o.InstanceType != "":
		allowed = []string{o.InstanceType}
		instNote = "--instance-type"
	case o.Target == target.AWS && api != nil:
		a, parch, err := tune.InstanceTypes(ctx, api, orig.LMI.CapacityProviderArn)
		if err != nil {
			o.logf("Could not read the capacity provider (%v): the costs assume the cheapest %s instance type that fits.", err, arch)
		}
		allowed = a
		if parch != "" {
			arch = parch
		}
	}
	runID := strconv.FormatInt(time.Now().Unix(), 36)
	sum = Summary{Kind: Kind, Meta: Meta{
		Function: orig.FunctionName, Target: string(o.Target), Started: started.UTC(), Model: o.Model, StepS: o.Step.Seconds(),
		MaxErrorRate: o.MaxErrorRate, Environments: o.Environments, Arch: arch, CapacityProv: orig.LMI.CapacityProviderArn,
		Prices: pricesLabel(o), HostCores: hostCores, Payload: payloadLabel(o.Payload),
	}}
	for _, t := range o.SLO {
		sum.Meta.SLO = append(sum.Meta.SLO, t.Raw)
	}
	if lt != nil {
		sum.Meta.Confinement = lt.Server.Confinement()
		sum.Meta.CPUPeriod = o.CPU.Period.String()
	}
	sum.Meta.AllowedTypes = allowed
	sum.Meta.InstanceNote = instNote
	if o.DryRun {
		writePlan(o, orig, cfgs, runID)
		return Summary{}, nil
	}

	// From here on the function is changed: the journal comes first.
	j := &tune.Journal{RunID: runID, Function: o.Function, Target: string(o.Target), Region: o.Region,
		Profile: o.Profile, Endpoint: o.Endpoint, Original: orig}
	if err := tune.Create(o.Out, j); err != nil {
		return sum, err
	}
	sess := &tune.Session{API: api, Journal: j, Log: o.Log}
	defer func() {
		o.logf("Cleaning up: deleting the versions of run %s, restoring $LATEST …", runID)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
		defer cancel()
		if cerr := sess.Cleanup(cctx, nil); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cleanup incomplete (run 'bench tune --cleanup %s' to finish it): %w", o.Out, cerr))
			return
		}
		o.logf("Cleanup done: %s is as it was found.", orig.FunctionName)
	}()

	samples, err := newSampleWriter(filepath.Join(o.Out, "samples.csv"))
	if err != nil {
		return sum, err
	}
	defer samples.close()
	var mon *hostload.Monitor
	if lt != nil {
		if mon, err = hostload.New(hostload.Options{Cores: runtime.NumCPU(), Demand: lt.Server.BusyVCPUs}); err == nil {
			mon.Start()
		} else {
			o.logf("Host load not measured: %v", err)
			mon = nil
		}
	}

	// A request may take as long as the function may run: locally the
	// --timeout it was given, on AWS its own.
	timeout := max(o.Timeout, time.Second)
	if o.Target == target.AWS && orig.TimeoutSec > 0 {
		timeout = time.Duration(orig.TimeoutSec) * time.Second
	}
	var runErr error
	for i, c := range cfgs {
		if ctx.Err() != nil {
			break
		}
		res := Result{Config: c, Label: c.Label(), Environments: o.Environments, Status: "ok"}
		res.VCPUsPerEnv = c.VCPUs()
		if lt != nil {
			res.HostLimit = hostLimit(c, o.Environments, hostCores)
		}
		o.logf("[%d/%d] %s: publishing …", i+1, len(cfgs), res.Label)
		version, perr := sess.PublishLMI(ctx, c.MemoryMB, tune.LMIConfig{CapacityProviderArn: orig.LMI.CapacityProviderArn,
			GiBPerVCPU: c.GiBPerVCPU, PerEnvConcurrency: int32(c.PerEnvConcurrency)}, o.Environments)
		res.Version = version
		if perr != nil {
			if ctx.Err() != nil {
				res.Status = "interrupted"
				sum.Results = append(sum.Results, res)
				break
			}
			res.Status = "failed: " + perr.Error()
			sum.Results = append(sum.Results, res)
			runErr = perr
			break
		}
		m := &measurer{o: o, api: api, lt: lt, mon: mon, samples: samples, function: orig.FunctionName, version: version,
			checkpoint: func(r Result) { checkpoint(o.Out, sum, r, samples) }, timeout: timeout}
		werr := m.waitEnvironments(ctx, o.Environments, 10*time.Minute)
		if werr == nil {
			werr = m.warmUp(ctx)
		}
		if werr != nil {
			if ctx.Err() == nil {
				// The function failed on its own: this configuration
				// is reported as failed and the sweep goes on (a larger
				// one may not run out of memory, say). Anything else
				// (access denied, throttled, unreachable) ends it.
				res.Status = "failed: " + werr.Error()
				var fe *functionError
				if !errors.As(werr, &fe) {
					runErr = werr
				}
			} else {
				res.Status = "interrupted"
			}
		} else if serr := m.ramp(ctx, &res); serr != nil && ctx.Err() == nil {
			res.Status = "failed: " + serr.Error()
			runErr = serr
		}
		if ctx.Err() != nil && res.Status == "ok" {
			res.Status = "interrupted"
		} else if res.Status == "ok" && !res.Held() {
			res.Status = "no step held"
		}
		sum.Results = append(sum.Results, res)
		// A configuration's environments end with its version.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		if _, derr := api.DeleteFunction(dctx, deleteInput(orig.FunctionName, version)); derr == nil {
			o.logf("  DeleteFunction %s:%s (measured)", orig.FunctionName, version)
		} // else the cleanup deletes it, from the journal
		cancel()
		if runErr != nil {
			break
		}
	}
	if ctx.Err() != nil {
		sum.Meta.Interrupted = true
	}
	if runErr == nil && ctx.Err() == nil && !anyMeasured(sum.Results) && len(sum.Results) > 0 {
		runErr = fmt.Errorf("no configuration was measured: %s", strings.TrimPrefix(sum.Results[0].Status, "failed: "))
	}
	// The standard Lambda figure.
	switch {
	case o.Standard != nil:
		sum.Standard = o.Standard
	case standardName != "" && ctx.Err() == nil && runErr == nil:
		st, serr := measureStandard(ctx, api, standardName, o, arch)
		if serr != nil {
			sum.Meta.Notes = append(sum.Meta.Notes, "standard Lambda not measured: "+serr.Error())
		} else {
			sum.Standard = st
		}
	}
	if mon != nil {
		_ = hostload.WriteFile(filepath.Join(o.Out, "host.csv"), mon.Stop())
	}
	sum.Meta.Finished = time.Now().UTC()
	if cerr := Price(&sum, o.Rates, allowed, o.Prices); cerr != nil {
		sum.Meta.Notes = append(sum.Meta.Notes, "costs: "+cerr.Error())
	}
	if werr := samples.close(); werr != nil {
		runErr = errors.Join(runErr, werr)
	}
	if werr := Write(o.Out, sum); werr != nil {
		runErr = errors.Join(runErr, werr)
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	return sum, runErr
}

func pricesLabel(o Options) string {
	if o.PricesSource != "" {
		return o.PricesSource
	}
	return fmt.Sprintf("built-in (%s, %s)", o.Prices.Region, o.Prices.Date)
}

// checkpoint writes summary.json as it stands after a step, marked
// interrupted, with the samples flushed: a run killed before its end
// (kill -9, a crash) keeps what it measured, which 'bench report DIR'
// rebuilds. The run's last write replaces it.
func checkpoint(dir string, sum Summary, cur Result, samples *sampleWriter) {
	sum.Results = append(append([]Result(nil), sum.Results...), cur)
	sum.Meta.Interrupted = true
	sum.Meta.Finished = time.Now().UTC()
	sum.BreakEven = "not priced: the run did not finish (bench report DIR prices what it measured)"
	samples.flush()
	_ = writeJSON(filepath.Join(dir, "summary.json"), sum)
}

// anyMeasured reports whether any configuration has a measured step.
func anyMeasured(rs []Result) bool {
	for _, r := range rs {
		if len(r.Steps) > 0 {
			return true
		}
	}
	return false
}

// hostLimit says when this machine has fewer cores than a configuration's
// environments need together ("" when it has enough): they then shared
// the cores, which the result must say.
func hostLimit(c Config, environments, hostCores int) string {
	need := c.VCPUs() * float64(max(environments, 1))
	if need <= float64(hostCores) {
		return ""
	}
	return fmt.Sprintf("needs %.2f vCPUs; this machine has %d cores, which its environments shared", need, hostCores)
}

// round3 rounds to 3 decimals for tables and JSON.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// payloadLabel describes the payload in the summary: itself when short,
// else its size and start.
func payloadLabel(p []byte) string {
	const most = 120
	if len(p) == 0 {
		return "{}"
	}
	if len(p) <= most {
		return string(p)
	}
	return fmt.Sprintf("%d bytes: %s…", len(p), p[:most])
}
