package locallambda

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Mode is how a function's execution environments take invocations.
type Mode int

const (
	// Standard is classic Lambda: one invocation per environment at a time; a new environment
	// (a cold start) when none is idle, up to the function's reserved concurrency.
	Standard Mode = iota
	// LMI is Lambda Managed Instances: up to MaxConcurrency invocations per environment at once,
	// between MinEnvironments and MaxEnvironments environments.
	LMI
)

// String returns "standard" or "lmi".
func (m Mode) String() string {
	if m == LMI {
		return "lmi"
	}
	return "standard"
}

// Defaults applied to zero fields of a FunctionSpec.
const (
	DefaultTimeout             = 3 * time.Second // Lambda's default function timeout
	DefaultReservedConcurrency = 10
	DefaultMemoryMB            = 128
	DefaultGiBPerVCPU          = 2.0
	DefaultMaxConcurrency      = 16 // per environment, LMI
	DefaultMaxEnvironments     = 4  // LMI
	// DefaultTargetCPUPercent is the capacity provider's target CPU utilisation
	// (LambdaCapacityProviderAverageCPUUtilization) an LMI function scales on.
	DefaultTargetCPUPercent = 70
	// MBPerVCPU is how much memory buys one vCPU on standard Lambda.
	MBPerVCPU = 1769
	// MaxStandardVCPUs is the most a standard function gets (at 10,240 MB).
	MaxStandardVCPUs = 6
)

// FunctionSpec declares one function: what runs and how it scales.
type FunctionSpec struct {
	Name     string            // function name (also the name in ARNs and stack outputs)
	Binary   string            // path of the bootstrap executable
	Handler  string            // _HANDLER (bcrypt | hello for the benchmark function)
	MemoryMB int               // 128..10240; buys CPU (see VCPUs) and is the memory limit
	Timeout  time.Duration     // per invocation; 0 = 3 s
	Env      map[string]string // the function's environment variables

	// Architecture is what GetFunctionConfiguration reports: "x86_64" or "arm64". The local Lambda
	// runs Binary whatever this says; it must run on the host.
	Architecture string
	Mode         Mode

	// ReservedConcurrency is, for standard functions, the most environments (so concurrent
	// invocations) the function may have; beyond it invocations are throttled (429).
	// 0 = DefaultReservedConcurrency.
	ReservedConcurrency int

	// LMI settings: memory per vCPU (2..8), invocations per environment, environment bounds.
	GiBPerVCPU                       float64
	MaxConcurrency                   int
	MinEnvironments, MaxEnvironments int
	// TargetCPUPercent is the average CPU utilisation of its environments (each relative to its
	// own vCPUs) the LMI function scales to keep: the capacity provider's target tracking policy.
	// 0 = DefaultTargetCPUPercent.
	TargetCPUPercent float64

	// OutputKey is the prefix of this function's stack outputs: StackOutputs reports
	// "<OutputKey>FunctionName" and "<OutputKey>FunctionArn" (e.g. "X8664Mem1536", "Lmi2048").
	// Empty = no outputs.
	OutputKey string

	// version is the published version this spec is frozen as ("" = $LATEST).
	version string
	// description is a published version's Description.
	description string
}

// Route is an API Gateway REST proxy route: requests to Path (with or without the /prod stage
// prefix) become proxy events for Function.
type Route struct {
	Method   string // "GET", ... or "ANY"/"" for every method
	Path     string // e.g. "/default/128/hello"
	Function string
	// OutputKey is the stack output that holds this route's full URL (e.g. "Default128Url").
	OutputKey string
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// envKeyRE is the Lambda API's pattern for an environment variable's name.
var envKeyRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)

// maxEnvBytes is Lambda's limit on a function's environment variables: their JSON, 4 KB.
const maxEnvBytes = 4096

// reservedEnv are the variables Lambda sets itself; a function configuration may not set them
// (AWS documents them as reserved; TZ, also set by Lambda, may be overridden).
var reservedEnv = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_LAMBDA_METADATA_API", "AWS_LAMBDA_METADATA_TOKEN",
}

// validateEnv refuses what the Lambda API refuses in Environment.Variables: reserved keys,
// names outside its pattern, and more than 4 KB in all.
func validateEnv(env map[string]string) error {
	var reserved []string
	for _, k := range reservedEnv {
		if _, ok := env[k]; ok {
			reserved = append(reserved, k)
		}
	}
	if len(reserved) > 0 {
		return fmt.Errorf("environment variables: reserved keys that Lambda sets itself cannot be set: %s", strings.Join(reserved, ","))
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !envKeyRE.MatchString(k) {
			return fmt.Errorf("environment variable name %q: must match [a-zA-Z]([a-zA-Z0-9_])+", k)
		}
	}
	if len(env) == 0 {
		return nil
	}
	b, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("environment variables: %w", err)
	}
	if len(b) > maxEnvBytes {
		return fmt.Errorf("environment variables: %d bytes exceed Lambda's 4 KB limit", len(b))
	}
	return nil
}

// withDefaults returns the spec with zero fields filled in, or an error for an invalid spec.
func (f FunctionSpec) withDefaults() (FunctionSpec, error) {
	if !nameRE.MatchString(f.Name) {
		return f, fmt.Errorf("function name %q: want 1-64 letters, digits, '-' or '_'", f.Name)
	}
	if f.Binary == "" {
		return f, fmt.Errorf("function %s: no binary", f.Name)
	}
	// The process runs in the binary's directory (LAMBDA_TASK_ROOT): a relative path would not
	// resolve there.
	abs, err := filepath.Abs(f.Binary)
	if err != nil {
		return f, fmt.Errorf("function %s: binary: %w", f.Name, err)
	}
	f.Binary = abs
	if f.MemoryMB == 0 {
		f.MemoryMB = DefaultMemoryMB
	}
	if f.MemoryMB < 128 || f.MemoryMB > 10240 {
		return f, fmt.Errorf("function %s: memory %d MB out of 128..10240", f.Name, f.MemoryMB)
	}
	if f.Timeout == 0 {
		f.Timeout = DefaultTimeout
	}
	if f.Timeout < 0 || f.Timeout > 15*time.Minute {
		return f, fmt.Errorf("function %s: timeout %v out of 1s..15m", f.Name, f.Timeout)
	}
	switch f.Architecture {
	case "":
		f.Architecture = HostArchitecture()
	case "x86_64", "arm64":
	default:
		return f, fmt.Errorf("function %s: architecture %q: want x86_64 or arm64", f.Name, f.Architecture)
	}
	if err := validateEnv(f.Env); err != nil {
		return f, fmt.Errorf("function %s: %w", f.Name, err)
	}
	env := make(map[string]string, len(f.Env))
	for k, v := range f.Env {
		env[k] = v
	}
	f.Env = env
	switch f.Mode {
	case Standard:
		if f.ReservedConcurrency == 0 {
			f.ReservedConcurrency = DefaultReservedConcurrency
		}
		if f.ReservedConcurrency < 0 {
			return f, fmt.Errorf("function %s: negative reserved concurrency", f.Name)
		}
	case LMI:
		if f.GiBPerVCPU == 0 {
			f.GiBPerVCPU = DefaultGiBPerVCPU
		}
		if f.GiBPerVCPU < 2 || f.GiBPerVCPU > 8 {
			return f, fmt.Errorf("function %s: %v GiB per vCPU out of 2..8", f.Name, f.GiBPerVCPU)
		}
		if f.MaxConcurrency == 0 {
			f.MaxConcurrency = DefaultMaxConcurrency
		}
		if f.MaxConcurrency < 1 || f.MaxConcurrency > 1600 {
			return f, fmt.Errorf("function %s: max concurrency %d out of 1..1600", f.Name, f.MaxConcurrency)
		}
		if f.MaxEnvironments == 0 {
			f.MaxEnvironments = max(DefaultMaxEnvironments, f.MinEnvironments)
		}
		if f.MinEnvironments < 0 || f.MinEnvironments > f.MaxEnvironments {
			return f, fmt.Errorf("function %s: environments min %d max %d", f.Name, f.MinEnvironments, f.MaxEnvironments)
		}
		if f.TargetCPUPercent == 0 {
			f.TargetCPUPercent = DefaultTargetCPUPercent
		}
		if f.TargetCPUPercent < 1 || f.TargetCPUPercent > 100 {
			return f, fmt.Errorf("function %s: target CPU utilisation %v%% out of 1..100", f.Name, f.TargetCPUPercent)
		}
	default:
		return f, fmt.Errorf("function %s: unknown mode %d", f.Name, f.Mode)
	}
	return f, nil
}

// maxEnvironments is the most environments the function may run at once.
func (f FunctionSpec) maxEnvironments() int {
	if f.Mode == LMI {
		return f.MaxEnvironments
	}
	return f.ReservedConcurrency
}

// slots is how many invocations one environment takes at once.
func (f FunctionSpec) slots() int {
	if f.Mode == LMI {
		return f.MaxConcurrency
	}
	return 1
}

// VCPUs is the CPU share an environment of spec gets on a host with hostCores cores: standard
// MemoryMB/1769 (at most 6), LMI MemoryMB/1024/GiBPerVCPU; never more than hostCores.
func VCPUs(spec FunctionSpec, hostCores int) float64 {
	var v float64
	if spec.Mode == LMI {
		g := spec.GiBPerVCPU
		if g == 0 {
			g = DefaultGiBPerVCPU
		}
		v = float64(spec.MemoryMB) / 1024 / g
	} else {
		v = math.Min(float64(spec.MemoryMB)/MBPerVCPU, MaxStandardVCPUs)
	}
	return math.Min(v, float64(hostCores))
}

// vcpus is the CPU share an environment of spec gets here: VCPUs, or for a
// standard function the calibrated share when Config.CPUShare is set.
func (s *Server) vcpus(spec FunctionSpec) float64 {
	if s.cfg.CPUShare != nil && spec.Mode != LMI {
		return math.Min(s.cfg.CPUShare(spec.MemoryMB), float64(s.hostCores))
	}
	return VCPUs(spec, s.hostCores)
}

// VCPUsOf is the CPU share an environment of spec gets on this server.
func (s *Server) VCPUsOf(spec FunctionSpec) float64 { return s.vcpus(spec) }

// HostArchitecture is the host's architecture in Lambda's spelling ("x86_64" or "arm64").
func HostArchitecture() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// MatrixSizes are the memory sizes of the benchmark matrix; the i-th size has WORKER_COUNT i+1.
var MatrixSizes = []int{1536, 2048, 4096, 6144, 8192, 10240}

// FunctionPrefix is the default prefix of the benchmark's function names.
const FunctionPrefix = "go-bench"

// MatrixPreset is the benchmark matrix of one architecture ("x86_64" or "arm64"): six bcrypt
// functions go-bench-{x86|arm64}-{N}vcpu-{MB}mb with WORKER_COUNT=N, timeout 30 s and reserved
// concurrency 10, all running binary.
func MatrixPreset(binary, arch string) []FunctionSpec {
	short, key := "x86", "X8664"
	if arch == "arm64" {
		short, key = "arm64", "Arm64"
	}
	specs := make([]FunctionSpec, 0, len(MatrixSizes))
	for i, mb := range MatrixSizes {
		n := i + 1
		specs = append(specs, FunctionSpec{
			Name:                fmt.Sprintf("%s-%s-%dvcpu-%dmb", FunctionPrefix, short, n, mb),
			Binary:              binary,
			Handler:             "bcrypt",
			MemoryMB:            mb,
			Timeout:             30 * time.Second,
			Env:                 map[string]string{"WORKER_COUNT": strconv.Itoa(n)},
			Architecture:        arch,
			Mode:                Standard,
			ReservedConcurrency: 10,
			OutputKey:           fmt.Sprintf("%sMem%d", key, mb),
		})
	}
	return specs
}

// HelloConcurrency is the concurrency limit of the standard hello functions: on AWS they share the
// account's unreserved concurrency (1,000 by default); locally each environment is a process.
const HelloConcurrency = 200

// HelloPreset is the API Gateway scenario: go-bench-hello-128 and go-bench-hello-2048 (standard),
// go-bench-hello-lmi-2048 (LMI, 2 GiB per vCPU, 64 invocations per environment, 1 to 4
// environments, 70% target CPU utilisation: the stack's), all running binary with _HANDLER=hello and a 30 s timeout, and their three routes.
func HelloPreset(binary string) ([]FunctionSpec, []Route) {
	arch := HostArchitecture()
	specs := []FunctionSpec{
		{Name: FunctionPrefix + "-hello-128", Binary: binary, Handler: "hello", MemoryMB: 128,
			Timeout: 30 * time.Second, Architecture: arch, ReservedConcurrency: HelloConcurrency, OutputKey: "Default128"},
		{Name: FunctionPrefix + "-hello-2048", Binary: binary, Handler: "hello", MemoryMB: 2048,
			Timeout: 30 * time.Second, Architecture: arch, ReservedConcurrency: HelloConcurrency, OutputKey: "Default2048"},
		{Name: FunctionPrefix + "-hello-lmi-2048", Binary: binary, Handler: "hello", MemoryMB: 2048,
			Timeout: 30 * time.Second, Architecture: arch, Mode: LMI, GiBPerVCPU: 2, MaxConcurrency: 64,
			MinEnvironments: 1, MaxEnvironments: 4, TargetCPUPercent: DefaultTargetCPUPercent, OutputKey: "Lmi2048"},
	}
	routes := []Route{
		{Method: "GET", Path: "/default/128/hello", Function: specs[0].Name, OutputKey: "Default128Url"},
		{Method: "GET", Path: "/default/2048/hello", Function: specs[1].Name, OutputKey: "Default2048Url"},
		{Method: "GET", Path: "/lmi/2048/hello", Function: specs[2].Name, OutputKey: "Lmi2048Url"},
	}
	return specs, routes
}

var errNoFunctions = errors.New("no functions configured")
