package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

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

// validateGenerators checks --generators and what it combines with.
func (f *loadFlags) validateGenerators() error {
	if !f.set["generators"] {
		if f.set["generator-samples"] {
			return usagef("--generator-samples applies to --generators, which is not given")
		}
		return nil
	}
	switch {
	case f.generators < 2 || f.generators > maxGenerators:
		return usagef("--generators %d: give 2 to %d (without it, this machine sends the load)", f.generators, maxGenerators)
	case f.generic == nil:
		return usagef("--generators sends --url or --targets load: give one of them")
	case len(f.functions) > 0:
		return usagef("--generators: --function endpoints are loaded from this machine only; use --url or --targets")
	}
	model, stages, err := f.loadProfile()
	if err != nil {
		return err
	}
	scs, err := f.scenarios()
	if err != nil {
		return err
	}
	plan := load.GenPlan{Version: load.GenPlanVersion, Generator: 1, Generators: f.generators, StartAt: time.Now().Add(time.Hour),
		Endpoints: f.generic, Scenarios: scs, Model: model, Stages: stages, Timeout: f.timeout, MaxInFlight: f.maxInFlight}
	if err := plan.Validate(); err != nil {
		return usageError{err.Error()}
	}
	// One invocation runs the whole profile: it must end, with the margin
	// to answer, within the generator's timeout.
	if need := plan.End().Sub(plan.StartAt) + generatorLead[target.AWS] + 10*time.Second; target.Kind(f.target) == target.AWS && need > target.LoadGenTimeout {
		return usagef("--generators: the profile (%s, plus the request timeout and start) needs %s, over one generator invocation's %s; shorten the stages",
			stages.Total(), need.Round(time.Second), target.LoadGenTimeout)
	}
	return nil
}

// loadDistributed runs --url/--targets load from f.generators load-generator
// functions: local ones on this machine (--target local) or the deployed
// generator stack's (--target aws).
func loadDistributed(ctx context.Context, f loadFlags, cfg load.RunConfig, info load.RunInfo, stdout, stderr io.Writer) (loadResult, error) {
	res := loadResult{dir: f.outDir()}
	dc := load.DistributeConfig{
		Dir: res.dir, Generators: f.generators, Lead: generatorLead[target.Kind(f.target)], Progress: stderr,
		Plan: load.GenPlan{Endpoints: cfg.Endpoints, Scenarios: cfg.Scenarios, Model: cfg.Model, Stages: cfg.Stages,
			Timeout: cfg.Timeout, MaxInFlight: f.maxInFlight, Samples: f.generatorSamples},
		NoCharts: f.noCharts,
	}
	switch target.Kind(f.target) {
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
		gens, err := target.StartLocalGenerators(ctx, bin, f.generators, !f.noCPULimits, nil)
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
		stack := target.LoadGenStack
		if f.set["stack"] {
			stack = f.stack
		}
		at, err := target.OpenAWS(ctx, target.AWSOptions{Region: f.region, Profile: f.profile, Stack: stack, OutputsFile: f.outputsFile})
		if err != nil {
			return loadResult{}, err
		}
		fn := at.Outputs[target.LoadGenFunctionOutput]
		if fn == "" {
			return loadResult{}, usagef("--generators: stack %s has no output %s: deploy the generator stack (see the README, \"Beyond one machine\")", stack, target.LoadGenFunctionOutput)
		}
		dc.Functions = []string{fn}
		dc.Invoker = lambda.NewFromConfig(at.Config)
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
	fmt.Fprintf(stderr, "Load: %s, %s model, stages %s (%s per endpoint, all generators together), %d generators, writing %s\n",
		strings.Join(endpointNames(cfg.Endpoints), ", "), cfg.Model, cfg.Stages, unit, f.generators, res.dir)
	rep, err := load.Distribute(ctx, dc)
	res.report = rep
	if rep != nil {
		if b, rerr := os.ReadFile(filepath.Join(res.dir, load.SummaryMDFile)); rerr == nil {
			fmt.Fprintf(stdout, "\n%s", b)
		}
	}
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
