package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/target"
	"lambdabench/bench/internal/tune"
)

// fromPowerTuning fills tune's settings from an AWS Lambda Power Tuning
// execution input (--power-tuning-input); a flag given on the command line
// (set) wins over the input's key. Where Power Tuning's defaults differ
// from bench's (strategy cost, powerValues, discardTopBottom 0 with
// onlyColdStarts), an absent key takes Power Tuning's, and a line on
// stderr says so.
func (f *tuneFlags) fromPowerTuning(set map[string]bool, stderr io.Writer) error {
	in, err := tune.ReadPowerTuningInput(f.ptInput, tuneStdin)
	if err != nil {
		return usageError{err.Error()}
	}
	name := "--power-tuning-input " + f.ptInput
	var notes []string
	if in.LambdaARN != "" && !set["function"] {
		f.function = in.LambdaARN
		if f.target.target == string(target.Local) {
			f.function = tune.FunctionName(in.LambdaARN)
		}
	}
	if !set["memory"] {
		powers := in.PowerValues
		if powers == nil {
			powers = tune.PowerTuningDefaultPowers
			notes = append(notes, "powerValues: Power Tuning's default "+joinInts(powers))
		}
		f.memories = joinInts(powers)
	}
	onlyCold := in.OnlyColdStarts != nil && *in.OnlyColdStarts
	if in.Num != nil {
		if *in.Num < 1 {
			return usagef("%s: num %d: want at least 1 invocation per power value", name, *in.Num)
		}
		if onlyCold {
			if !set["cold"] {
				f.cold = *in.Num
			}
		} else if !set["runs"] {
			f.runs = *in.Num
		}
	}
	if onlyCold && !set["runs"] {
		f.runs = 0
	}
	if !onlyCold && in.Num != nil && !set["cold"] {
		notes = append(notes, fmt.Sprintf("num %d: %d warm invocations per configuration, after %d forced cold start(s) measured apart (Power Tuning counts its first, cold, invocation among num)", *in.Num, f.runs, f.cold))
	}
	if in.ParallelInvocation != nil && *in.ParallelInvocation && !set["parallel-invocations"] && f.runs > 0 {
		f.parallel = min(f.runs, 100)
	}
	if !set["strategy"] {
		st := "cost"
		if in.Strategy != nil {
			st = *in.Strategy
		} else {
			notes = append(notes, "strategy: cost, Power Tuning's default (bench's own is balanced)")
		}
		if in.BalancedWeight != nil && strings.EqualFold(st, "balanced") {
			st += ":" + strconv.FormatFloat(*in.BalancedWeight, 'g', -1, 64)
		}
		if _, _, err := cost.ParseStrategySpec(st); err != nil {
			return usagef("%s: strategy %q with balancedWeight: want cost, speed or balanced, and a weight between 0 and 1", name, st)
		}
		f.strategy = st
	}
	if !set["trim"] {
		switch {
		case in.DiscardTopBottom != nil:
			// Power Tuning clamps it to 0..0.4.
			f.trim = min(max(*in.DiscardTopBottom, 0), 0.4)
		case onlyCold:
			f.trim = 0 // Power Tuning's default with onlyColdStarts
		}
	}
	if in.SleepBetweenRunsMs != nil && !set["sleep-between"] {
		if *in.SleepBetweenRunsMs < 0 {
			return usagef("%s: sleepBetweenRunsMs %v must not be negative", name, *in.SleepBetweenRunsMs)
		}
		f.sleep = time.Duration(*in.SleepBetweenRunsMs * float64(time.Millisecond))
	}
	if in.AllowedErrors != nil && !set["allowed-errors"] {
		if *in.AllowedErrors < 0 {
			return usagef("%s: allowedExceptions %d must not be negative", name, *in.AllowedErrors)
		}
		f.allowedErrors, f.allowedErrorsSet = *in.AllowedErrors, true
	}
	f.allowedTypes = in.AllowedExceptions
	if in.DryRun != nil && *in.DryRun && !set["dry-run"] {
		f.dryRun = true
		notes = append(notes, "dryRun: bench prints the plan and invokes nothing (Power Tuning invokes once per power value)")
	}
	f.hidePayload = in.DisablePayloadLogs != nil && *in.DisablePayloadLogs
	f.ptStats = in.IncludeOutputResults != nil && *in.IncludeOutputResults
	if in.Payload != nil && !set["payload"] {
		if f.ptPayloads, err = tune.PowerTuningPayloads(in.Payload, name+": payload"); err != nil {
			return usageError{err.Error()}
		}
	}
	if in.AutoOptimize != nil && *in.AutoOptimize && !set["apply"] {
		f.apply = "latest"
		if in.AutoOptimizeAlias != nil && *in.AutoOptimizeAlias != "" {
			f.apply = "alias:" + *in.AutoOptimizeAlias
		}
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "%s: %s\n", name, n)
	}
	return nil
}
