package main

import (
	"fmt"
	"time"

	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
)

// localLambdaFlags are the local Lambda's scaling settings, shared by serve, load and the suite.
type localLambdaFlags struct {
	idleTimeout   time.Duration
	keepWarm      bool
	targetCPU     float64
	scaleInterval time.Duration
	startDelay    time.Duration
	scaleInAfter  time.Duration
	minEnvs       int
	maxEnvs       int
}

func (l *localLambdaFlags) register(fs interface {
	BoolVar(*bool, string, bool, string)
	IntVar(*int, string, int, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	Float64Var(*float64, string, float64, string)
}) {
	fs.DurationVar(&l.idleTimeout, "idle-timeout", locallambda.DefaultIdleTimeout, "local: stop a standard environment idle this long; its next invocation is a cold start (Lambda reclaims idle environments and does not document when)")
	fs.BoolVar(&l.keepWarm, "keep-warm", false, "local: never stop idle standard environments (overrides --idle-timeout)")
	fs.Float64Var(&l.targetCPU, "lmi-target-cpu", locallambda.DefaultTargetCPUPercent, "local: target average CPU utilisation (%) LMI environments scale on, as the capacity provider's (1..100)")
	fs.DurationVar(&l.scaleInterval, "lmi-scale-interval", locallambda.DefaultScalingInterval, "local: how often LMI scaling decides")
	fs.DurationVar(&l.startDelay, "lmi-start-delay", locallambda.DefaultStartDelay, "local: how long a new LMI environment takes to come up after a scale-out decision (before its init)")
	fs.DurationVar(&l.scaleInAfter, "lmi-scale-in-after", locallambda.DefaultScaleInAfter, "local: how long LMI utilisation must stay low before one environment is removed")
	fs.IntVar(&l.minEnvs, "lmi-min-environments", helloLMI.MinEnvironments, "local: the LMI function's MinExecutionEnvironments, started when it is published (the stack's)")
	fs.IntVar(&l.maxEnvs, "lmi-max-environments", helloLMI.MaxEnvironments, "local: the LMI function's MaxExecutionEnvironments (the stack's)")
}

// helloLMI is the hello preset's LMI function: its settings are the flags' defaults.
var helloLMI = func() locallambda.FunctionSpec {
	fns, _ := locallambda.HelloPreset("bootstrap")
	for _, f := range fns {
		if f.Mode == locallambda.LMI {
			return f
		}
	}
	return locallambda.FunctionSpec{}
}()

// validate checks the settings (bad usage: exit 2).
func (l *localLambdaFlags) validate() error {
	switch {
	case l.idleTimeout <= 0:
		return usagef("--idle-timeout %s: must be positive (--keep-warm never stops idle environments)", l.idleTimeout)
	case l.targetCPU < 1 || l.targetCPU > 100:
		return usagef("--lmi-target-cpu %v: want a percentage in 1..100", l.targetCPU)
	case l.scaleInterval <= 0:
		return usagef("--lmi-scale-interval %s: must be positive", l.scaleInterval)
	case l.startDelay < 0:
		return usagef("--lmi-start-delay %s: must not be negative", l.startDelay)
	case l.scaleInAfter < 0:
		return usagef("--lmi-scale-in-after %s: must not be negative", l.scaleInAfter)
	case l.maxEnvs < 1 || l.maxEnvs > 15000:
		return usagef("--lmi-max-environments %d: want 1..15000", l.maxEnvs)
	case l.minEnvs < 0 || l.minEnvs > l.maxEnvs:
		return usagef("--lmi-min-environments %d: want 0..--lmi-max-environments (%d)", l.minEnvs, l.maxEnvs)
	}
	return nil
}

// apply sets the local target's options from the flags.
func (l *localLambdaFlags) apply(o *target.LocalOptions) {
	o.IdleTimeout = l.idleTimeout
	if l.keepWarm {
		o.IdleTimeout = -1
	}
	o.LMITargetCPU = l.targetCPU
	o.LMIMinEnvironments, o.LMIMaxEnvironments = l.minEnvs, l.maxEnvs
	o.Scaling = locallambda.Scaling{Interval: l.scaleInterval, StartDelay: negativeIfZero(l.startDelay), ScaleInAfter: negativeIfZero(l.scaleInAfter)}
}

// negativeIfZero maps an explicit 0 to locallambda's "none" (negative); zero there means default.
func negativeIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// describe is the settings in one line, for progress output.
func (l *localLambdaFlags) describe() string {
	idle := "idle standard environments stopped after " + l.idleTimeout.String()
	if l.keepWarm {
		idle = "idle standard environments kept warm"
	}
	return fmt.Sprintf("%s; LMI %d-%d environments, scales on %g%% CPU, decisions every %s, new environments after %s",
		idle, l.minEnvs, l.maxEnvs, l.targetCPU, l.scaleInterval, l.startDelay)
}
