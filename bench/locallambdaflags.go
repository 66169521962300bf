package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"lambdabench/bench/internal/locallambda"
	"lambdabench/bench/internal/target"
)

// localLambdaFlags are the local Lambda's scaling settings, shared by serve, load and the suite.
type localLambdaFlags struct {
	idleTimeout   time.Duration
	targetCPU     float64
	scaleInterval time.Duration
	startDelay    time.Duration
	scaleInAfter  time.Duration
	minEnvs       int
	maxEnvs       int
}

func (l *localLambdaFlags) register(fs interface {
	Var(flag.Value, string, string)
	BoolVar(*bool, string, bool, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}) {
	fs.DurationVar(&l.idleTimeout, "idle-timeout", locallambda.DefaultIdleTimeout, "local: stop a standard environment idle this long; its next invocation is a cold start (Lambda reclaims idle environments and does not document when); 0 keeps them warm")
	l.targetCPU, l.scaleInterval, l.startDelay, l.scaleInAfter = locallambda.DefaultTargetCPUPercent, locallambda.DefaultScalingInterval, locallambda.DefaultStartDelay, locallambda.DefaultScaleInAfter
	l.minEnvs, l.maxEnvs = helloLMI.MinEnvironments, helloLMI.MaxEnvironments
	fs.Var(lmiScalingValue{l}, "lmi-scaling", "local: how LMI environments scale, comma-separated KEY=VALUE: target-cpu (average CPU % they scale on, 1..100, the capacity provider's), interval (how often scaling decides), start-delay (a new environment's start after a scale-out decision, before its init), scale-in-after (how long utilisation stays low before one is removed), min and max (Min/MaxExecutionEnvironments, the stack's)")
}

// lmiScalingValue is --lmi-scaling: the local LMI scaling model's settings
// as KEY=VALUE pairs; keys not given keep their defaults.
type lmiScalingValue struct{ l *localLambdaFlags }

func (v lmiScalingValue) String() string {
	if v.l == nil {
		return ""
	}
	return fmt.Sprintf("target-cpu=%g,interval=%s,start-delay=%s,scale-in-after=%s,min=%d,max=%d",
		v.l.targetCPU, v.l.scaleInterval, v.l.startDelay, v.l.scaleInAfter, v.l.minEnvs, v.l.maxEnvs)
}

func (v lmiScalingValue) Set(s string) error {
	for _, kv := range strings.Split(s, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return fmt.Errorf("%q: want KEY=VALUE, such as target-cpu=70", kv)
		}
		var err error
		switch key {
		case "target-cpu":
			v.l.targetCPU, err = strconv.ParseFloat(val, 64)
		case "interval":
			v.l.scaleInterval, err = time.ParseDuration(val)
		case "start-delay":
			v.l.startDelay, err = time.ParseDuration(val)
		case "scale-in-after":
			v.l.scaleInAfter, err = time.ParseDuration(val)
		case "min":
			v.l.minEnvs, err = strconv.Atoi(val)
		case "max":
			v.l.maxEnvs, err = strconv.Atoi(val)
		default:
			return fmt.Errorf("%q: unknown key %q: use target-cpu, interval, start-delay, scale-in-after, min or max", kv, key)
		}
		if err != nil {
			return fmt.Errorf("%q: %v", kv, err)
		}
	}
	return nil
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
	case l.idleTimeout < 0:
		return usagef("--idle-timeout %s: must not be negative (0 keeps idle environments warm)", l.idleTimeout)
	case l.targetCPU < 1 || l.targetCPU > 100:
		return usagef("--lmi-scaling target-cpu=%v: want a percentage in 1..100", l.targetCPU)
	case l.scaleInterval <= 0:
		return usagef("--lmi-scaling interval=%s: must be positive", l.scaleInterval)
	case l.startDelay < 0:
		return usagef("--lmi-scaling start-delay=%s: must not be negative", l.startDelay)
	case l.scaleInAfter < 0:
		return usagef("--lmi-scaling scale-in-after=%s: must not be negative", l.scaleInAfter)
	case l.maxEnvs < 1 || l.maxEnvs > 15000:
		return usagef("--lmi-scaling max=%d: want 1..15000", l.maxEnvs)
	case l.minEnvs < 0 || l.minEnvs > l.maxEnvs:
		return usagef("--lmi-scaling min=%d: want 0..max (%d)", l.minEnvs, l.maxEnvs)
	}
	return nil
}

// apply sets the local target's options from the flags.
func (l *localLambdaFlags) apply(o *target.LocalOptions) {
	o.IdleTimeout = l.idleTimeout
	if l.idleTimeout == 0 {
		o.IdleTimeout = -1 // never stopped
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
	if l.idleTimeout == 0 {
		idle = "idle standard environments kept warm"
	}
	return fmt.Sprintf("%s; LMI %d-%d environments, scales on %g%% CPU, decisions every %s, new environments after %s",
		idle, l.minEnvs, l.maxEnvs, l.targetCPU, l.scaleInterval, l.startDelay)
}
