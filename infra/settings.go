package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"lambdabench/infra/internal/matrix"
	"lambdabench/infra/internal/stacks"
)

// Context keys the app reads (cdk synth -c key=value, or "context" in cdk.json).
const (
	ctxPrefix            = "prefix"
	ctxMatrixStackName   = "matrixStackName"
	ctxLmiStackName      = "lmiStackName"
	ctxLoadGenStackName  = "loadGenStackName"
	ctxArchitectures     = "architectures"
	ctxMemorySizes       = "memorySizes"
	ctxWorkers           = "workers"
	ctxLogRetentionDays  = "logRetentionDays"
	ctxLmiArchitecture   = "lmiArchitecture"
	ctxLmiInstanceType   = "lmiInstanceType"
	ctxLmiMaxVCpus       = "lmiMaxVCpus"
	ctxLmiTargetCPU      = "lmiTargetCpu"
	ctxLmiMemory         = "lmiMemory"
	ctxLmiMemoryPerVCpu  = "lmiMemoryPerVCpu"
	ctxLmiMaxConcurrency = "lmiMaxConcurrency"
	ctxLmiMinEnvs        = "lmiMinEnvironments"
	ctxLmiMaxEnvs        = "lmiMaxEnvironments"
	ctxLmiSubnetIDs      = "lmiSubnetIds"
	ctxLmiSecurityGroup  = "lmiSecurityGroupId"
	ctxLmiNatGateway     = "lmiNatGateway"
	ctxAPIThrottleRate   = "apiThrottleRate"
	ctxAPIThrottleBurst  = "apiThrottleBurst"
	ctxAPIGatewayLogRole = "apiGatewayLogRole"
	ctxFunctionDir       = "functionDir"
)

// settings is everything the app takes from context, ready for the stacks.
type settings struct {
	MatrixStackName  string
	LmiStackName     string
	LoadGenStackName string
	FunctionDir      string
	Matrix           stacks.MatrixStackProps
	Lmi              stacks.LmiStackProps
}

// contextReader reads typed values from CDK context, collecting every error so
// that one synth reports all bad keys at once. Values come as strings from
// `-c key=value` and as JSON values from cdk.json.
type contextReader struct {
	get  func(key string) any
	errs []error
}

func (r *contextReader) fail(key string, v any, format string, a ...any) {
	r.errs = append(r.errs, fmt.Errorf("context %s=%v: %s", key, v, fmt.Sprintf(format, a...)))
}

func (r *contextReader) str(key, def string) string {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case string:
		if s := strings.TrimSpace(v); s != "" {
			return s
		}
		return def
	default:
		r.fail(key, v, "want a string")
		return def
	}
}

// list splits a comma-separated string (or takes a JSON array); nil when unset.
func (r *contextReader) list(key string) []string {
	var items []string
	switch v := r.get(key).(type) {
	case nil:
		return nil
	case string:
		if strings.TrimSpace(v) == "" {
			return nil
		}
		items = strings.Split(v, ",")
	case float64:
		items = []string{strconv.FormatFloat(v, 'f', -1, 64)}
	case []any:
		for _, e := range v {
			items = append(items, fmt.Sprint(e))
		}
	default:
		r.fail(key, v, "want a comma-separated list")
		return nil
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			r.fail(key, r.get(key), "empty item in the list")
			return nil
		}
		out = append(out, it)
	}
	return out
}

func (r *contextReader) ints(key string) []int {
	var out []int
	for _, s := range r.list(key) {
		n, err := strconv.Atoi(s)
		if err != nil {
			r.fail(key, r.get(key), "%q is not a whole number", s)
			return nil
		}
		out = append(out, n)
	}
	return out
}

func (r *contextReader) number(key string, def float64) float64 {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case float64:
		return v
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			r.fail(key, v, "want a number")
			return def
		}
		return f
	default:
		r.fail(key, v, "want a number")
		return def
	}
}

func (r *contextReader) integer(key string, def int) int {
	f := r.number(key, float64(def))
	if f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		r.fail(key, r.get(key), "want a whole number")
		return def
	}
	return int(f)
}

// positive is number for settings where zero or less is never valid (zero
// would otherwise silently mean "the default" to the stack props).
func (r *contextReader) positive(key string, def float64) float64 {
	f := r.number(key, def)
	if f <= 0 {
		r.fail(key, r.get(key), "want a positive number")
		return def
	}
	return f
}

// positiveInt is positive for whole numbers.
func (r *contextReader) positiveInt(key string, def int) int {
	n := r.integer(key, def)
	if n <= 0 {
		r.fail(key, r.get(key), "want a positive whole number")
		return def
	}
	return n
}

func (r *contextReader) boolean(key string, def bool) bool {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case bool:
		return v
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			r.fail(key, v, "want true or false")
			return def
		}
		return b
	default:
		r.fail(key, v, "want true or false")
		return def
	}
}

func (r *contextReader) arch(key string, def matrix.Arch) matrix.Arch {
	s := r.str(key, "")
	if s == "" {
		return def
	}
	a, err := matrix.ParseArch(s)
	if err != nil {
		r.fail(key, s, "%v", err)
		return def
	}
	return a
}

// readSettings turns context into stack props. It checks the syntax of every
// value and builds the matrix; the stacks validate the values themselves.
func readSettings(get func(key string) any) (settings, error) {
	r := &contextReader{get: get}
	var s settings
	s.MatrixStackName = r.str(ctxMatrixStackName, stacks.DefaultMatrixStackName)
	s.LmiStackName = r.str(ctxLmiStackName, stacks.DefaultLmiStackName)
	s.LoadGenStackName = r.str(ctxLoadGenStackName, stacks.DefaultLoadGenStackName)
	s.FunctionDir = r.str(ctxFunctionDir, "")
	prefix := r.str(ctxPrefix, matrix.DefaultPrefix)
	retention := r.positiveInt(ctxLogRetentionDays, stacks.DefaultLogRetentionDays)

	before := len(r.errs)
	archs := matrix.DefaultArchitectures
	if names := r.list(ctxArchitectures); names != nil {
		archs = nil
		for _, n := range names {
			a, err := matrix.ParseArch(n)
			if err != nil {
				r.fail(ctxArchitectures, r.get(ctxArchitectures), "%v", err)
				continue
			}
			archs = append(archs, a)
		}
	}
	memorySizes := matrix.DefaultMemorySizes
	if mbs := r.ints(ctxMemorySizes); mbs != nil {
		memorySizes = mbs
	}
	workers := r.ints(ctxWorkers)
	if len(r.errs) == before {
		cfgs, err := matrix.Build(archs, memorySizes, workers)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("matrix (context %s, %s, %s): %w", ctxArchitectures, ctxMemorySizes, ctxWorkers, err))
		}
		s.Matrix.Configs = cfgs
	}
	s.Matrix.Prefix = prefix
	s.Matrix.LogRetentionDays = retention

	minSet := get(ctxLmiMinEnvs) != nil
	s.Lmi = stacks.LmiStackProps{
		Prefix:                prefix,
		Arch:                  r.arch(ctxLmiArchitecture, matrix.Arm64),
		InstanceType:          r.str(ctxLmiInstanceType, stacks.DefaultLmiInstanceType),
		MaxVCpuCount:          r.positiveInt(ctxLmiMaxVCpus, stacks.DefaultLmiMaxVCpuCount),
		TargetCPUPercent:      r.positive(ctxLmiTargetCPU, stacks.DefaultLmiTargetCPUPercent),
		LmiMemoryMB:           r.positiveInt(ctxLmiMemory, stacks.DefaultLmiMemoryMB),
		MemoryGiBPerVCpu:      r.positive(ctxLmiMemoryPerVCpu, stacks.DefaultLmiMemoryGiBPerVCpu),
		MaxConcurrency:        r.positiveInt(ctxLmiMaxConcurrency, stacks.DefaultLmiMaxConcurrency),
		MinEnvironments:       r.integer(ctxLmiMinEnvs, stacks.DefaultLmiMinEnvironments),
		MinEnvironmentsSet:    minSet,
		MaxEnvironments:       r.positiveInt(ctxLmiMaxEnvs, stacks.DefaultLmiMaxEnvironments),
		SubnetIDs:             r.list(ctxLmiSubnetIDs),
		SecurityGroupID:       r.str(ctxLmiSecurityGroup, ""),
		NatGateway:            r.boolean(ctxLmiNatGateway, false),
		ThrottleRate:          r.positive(ctxAPIThrottleRate, stacks.DefaultApiThrottleRate),
		ThrottleBurst:         r.positiveInt(ctxAPIThrottleBurst, stacks.DefaultApiThrottleBurst),
		SkipAPIGatewayLogRole: !r.boolean(ctxAPIGatewayLogRole, true),
		LogRetentionDays:      retention,
	}
	// Let the stacks judge the values too, so that one run reports every problem.
	if s.Matrix.Configs != nil {
		r.errs = append(r.errs, s.Matrix.Validate())
	}
	r.errs = append(r.errs, s.Lmi.Validate())
	if err := errors.Join(r.errs...); err != nil {
		return s, fmt.Errorf("invalid context: %w", err)
	}
	return s, nil
}
