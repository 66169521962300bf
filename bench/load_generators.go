package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/target"
)

// maxGenerators bounds --generators: far beyond it, a run needs an account
// concurrency limit raised and a plan of its own.
const maxGenerators = 1000

// generatorLead is how far ahead of the invocations the common start time
// is set: long enough for every generator's cold start.
var generatorLead = map[target.Kind]time.Duration{target.Local: 3 * time.Second, target.AWS: 10 * time.Second}

// maxGeneratorWindows bounds how many windows a run is chained over: with
// the default window, about 46 hours of load.
const maxGeneratorWindows = 200

// minGeneratorWindow is the shortest --generator-window: each window costs
// every generator an invocation and its start lead.
const minGeneratorWindow = time.Second

// generatorWindowLength is the longest stretch of the run one generator
// invocation sends: --generator-window, or as long as fits one invocation.
func (f *loadFlags) generatorWindowLength() time.Duration {
	if f.generatorWindow > 0 {
		return f.generatorWindow
	}
	return load.MaxWindow(target.LoadGenTimeout, generatorLead[target.Kind(f.generatorsOn)], f.timeout)
}

// generatorPlan is the run's plan as validate checked it (no start time:
// the windows do not depend on it).
func (f *loadFlags) generatorPlan() (load.GenPlan, error) {
	model, stages, err := f.loadProfile()
	if err != nil {
		return load.GenPlan{}, err
	}
	return load.GenPlan{Version: load.GenPlanVersion, Generator: 1, Generators: f.generators, StartAt: time.Now().Add(time.Hour),
		Endpoints: f.generic, Scenarios: f.scenarios(), Model: model, Stages: stages, Timeout: f.timeout, MaxInFlight: f.maxInFlight}, nil
}

// generatorOverlap is how many invocations of one generator run at once
// at most: each window's is made a lead ahead and ends after its last
// answers.
func (f *loadFlags) generatorOverlap() int {
	plan, err := f.generatorPlan()
	if err != nil {
		return 1
	}
	return load.MaxOverlap(plan.SplitWindows(f.generatorWindowLength()), generatorLead[target.Kind(f.generatorsOn)], f.timeout)
}

// validateGenerators checks --generators and what it combines with.
func (f *loadFlags) validateGenerators() error {
	if !f.set["generators"] {
		for _, n := range []string{"generators-on", "generator-stack", "outputs-file", "generator-samples", "generator-window"} {
			if f.set[n] {
				return usagef("--%s applies to --generators, which is not given", n)
			}
		}
		return nil
	}
	kind, err := target.ParseKind(f.generatorsOn)
	if err != nil {
		return usagef("--generators-on %q: want local or aws", f.generatorsOn)
	}
	switch {
	case f.generators < 2 || f.generators > maxGenerators:
		return usagef("--generators %d: give 2 to %d (without it, this machine sends the load)", f.generators, maxGenerators)
	case len(f.functions) > 0:
		return usagef("--generators: --function endpoints are loaded from this machine only; use --url or --targets")
	case kind == target.Local && (f.set["generator-stack"] || f.set["outputs-file"] || f.set["endpoint-url"] || f.set["region"] || f.set["profile"]):
		return usagef("--generator-stack, --outputs-file, --endpoint-url, --region and --profile say where the generators are invoked on AWS: give --generators-on aws")
	}
	plan, err := f.generatorPlan()
	if err != nil {
		return err
	}
	// Each invocation sends one window of the run: invoked a lead ahead,
	// it must then answer its window's last requests (within --timeout)
	// and return, all within the generator's timeout.
	lead := generatorLead[target.Kind(f.generatorsOn)]
	longest := load.MaxWindow(target.LoadGenTimeout, lead, f.timeout)
	switch {
	case longest < minGeneratorWindow:
		return usagef("--generators: --timeout %s leaves no time to send load in one %s generator invocation (with the %s start lead and a %s margin); give a shorter --timeout",
			f.timeout, target.LoadGenTimeout, lead, load.WindowMargin)
	case f.set["generator-window"] && (f.generatorWindow < minGeneratorWindow || f.generatorWindow > longest):
		return usagef("--generator-window %s: give %s to %s (one %s invocation less the %s start lead, --timeout %s and a %s margin)",
			f.generatorWindow, minGeneratorWindow, longest, target.LoadGenTimeout, lead, f.timeout, load.WindowMargin)
	}
	windows := plan.SplitWindows(f.generatorWindowLength())
	if len(windows) > maxGeneratorWindows {
		return usagef("--generators: the run (%s of load per scenario, %d scenarios) needs %d windows of %s, over %d; shorten the stages or run it in parts",
			plan.Stages.Total(), len(plan.Scenarios), len(windows), f.generatorWindowLength(), maxGeneratorWindows)
	}
	plan.Window, plan.WindowIndex, plan.Windows = windows[0], 1, len(windows)
	if err := plan.Validate(); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// loadDistributed runs the load of cfg, --url and --targets endpoints, from
// f.generators load-generator functions: local ones on this machine
// (--generators-on local) or the deployed generator stack's (aws).
func loadDistributed(ctx context.Context, f *loadFlags, cfg load.RunConfig, info load.RunInfo, stdout, stderr io.Writer) (loadResult, error) {
	res := loadResult{dir: f.outDir()}
	dc := load.DistributeConfig{
		Dir: res.dir, Generators: f.generators, Lead: generatorLead[target.Kind(f.generatorsOn)], Window: f.generatorWindowLength(), Progress: stderr,
		Plan: load.GenPlan{Endpoints: cfg.Endpoints, Scenarios: cfg.Scenarios, Model: cfg.Model, Stages: cfg.Stages,
			Timeout: cfg.Timeout, MaxInFlight: f.maxInFlight, Samples: f.generatorSamples},
		NoCharts: f.noCharts,
	}
	switch target.Kind(f.generatorsOn) {
	case target.Local:
		root, err := findRoot()
		if err != nil {
			return loadResult{}, err
		}
		fmt.Fprintf(stderr, "Building the load generator for this machine and starting %d local generator functions…\n", f.generators)
		bin, err := target.BuildLoadGen(ctx, root, runtime.GOARCH, stderr)
		if err != nil {
			return loadResult{}, err
		}
		// Each generator's function takes as many invocations at once as
		// the chained windows overlap.
		gens, err := target.StartLocalGenerators(ctx, bin, f.generators, f.generatorOverlap(), true, nil)
		if err != nil {
			return loadResult{}, err
		}
		defer gens.Close()
		dc.Functions = gens.Functions
		dc.Invoker = target.LocalLambdaClient(gens.Server.InvokeEndpoint())
		arch, _ := cost.NormalizeArch(target.HostArch())
		dc.Cost = load.GeneratorCost{MemoryMB: target.LoadGenMemoryMB, Arch: arch}
		info.Generator = fmt.Sprintf("%d generators: local Lambda functions of %d MB on this machine (%s/%s, %d cores)",
			f.generators, target.LoadGenMemoryMB, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
		info.Notes = append(info.Notes, "generators ran as local Lambda functions on this machine: their cost is priced as if they ran on AWS")
	case target.AWS:
		stack := f.generatorStack
		at, err := target.OpenAWS(ctx, target.AWSOptions{Region: f.region, Profile: f.profile, Stack: stack, OutputsFile: f.outputsFile,
			Endpoint: f.endpointURL})
		if err != nil {
			return loadResult{}, err
		}
		fn := at.Outputs[target.LoadGenFunctionOutput]
		if fn == "" {
			return loadResult{}, usagef("--generators: stack %s has no output %s: deploy the generator stack (see the README, \"Beyond one machine\")", stack, target.LoadGenFunctionOutput)
		}
		dc.Functions = []string{fn}
		dc.Invoker = at.Lambda
		if f.endpointURL != "" {
			info.Notes = append(info.Notes, "generators invoked through "+f.endpointURL+": their cost is priced as if they ran on AWS (arm64)")
		}
		dc.Cost = load.GeneratorCost{MemoryMB: target.LoadGenMemoryMB, Arch: cost.ArchARM64}
		info.Generator = fmt.Sprintf("%d invocations of %s (%d MB, arm64) in %s", f.generators, fn, target.LoadGenMemoryMB, at.Config.Region)
		info.Region = at.Config.Region
	}
	info.Target = "given"
	dc.Info = info
	unit := "VUs"
	if cfg.Model == load.Open {
		unit = "requests/s"
	}
	fmt.Fprintf(stderr, "Load: %d scenario(s) × %s, %s model, stages %s (%s per endpoint, all generators together), %d generators, writing %s\n",
		len(cfg.Scenarios), strings.Join(endpointNames(cfg.Endpoints), ", "), cfg.Model, cfg.Stages, unit, f.generators, res.dir)
	rep, err := load.Distribute(ctx, dc)
	res.report = rep
	printSummary(rep, res.dir, stdout)
	return res, err
}

// findRoot is the project root above the working directory.
func findRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find project root: %w", err)
	}
	return target.FindRepoRoot(wd)
}
