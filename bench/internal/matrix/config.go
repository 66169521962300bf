// Package matrix runs the architecture × memory benchmark: forced cold
// starts and warm invocations of every configuration through the Lambda
// Invoke API, with percentiles, speedup, efficiency, cost and a verdict.
package matrix

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Lambda is the part of the Lambda API the matrix uses; *lambda.Client
// satisfies it, for AWS and for the local Lambda alike.
type Lambda interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
}

// Config is one configuration of the matrix: one deployed function.
type Config struct {
	Function string  `json:"function"`
	Arch     string  `json:"arch"` // arm64 | x86_64
	MemoryMB int     `json:"memory_mb"`
	Workers  int     `json:"worker_count"`
	VCPUs    float64 `json:"vcpus"` // what the memory buys on Lambda, capped by the target's cores
	// Skip says why the configuration cannot be measured on this target.
	Skip string `json:"skip,omitempty"`
	// Qualifier is the version or alias to invoke ("" = $LATEST).
	Qualifier string `json:"qualifier,omitempty"`
}

// Label names a configuration in tables and charts: "arm64 1536 MB".
func (c Config) Label() string { return fmt.Sprintf("%s %d MB", c.Arch, c.MemoryMB) }

// MBPerVCPU is the memory that buys one vCPU on standard Lambda.
const MBPerVCPU = 1769

// VCPUsFor is the vCPU share memoryMB buys on standard Lambda (at most 6),
// capped at maxCores (0 = no cap beyond Lambda's).
func VCPUsFor(memoryMB int, maxCores float64) float64 {
	v := math.Min(float64(memoryMB)/MBPerVCPU, 6)
	if maxCores > 0 {
		v = math.Min(v, maxCores)
	}
	return v
}

var outputKey = regexp.MustCompile(`^(Arm64|X8664)Mem(\d+)FunctionName$`)

// Discover lists the configurations named by a matrix stack's outputs
// (<Arch>Mem<MB>FunctionName) and reads each function's memory, architecture
// and WORKER_COUNT with GetFunctionConfiguration. Architectures in want that
// the outputs lack are returned as skipped with skipWhy; maxCores caps the
// vCPU share (0 = none).
func Discover(ctx context.Context, api Lambda, outputs map[string]string, want []string, skipWhy string, maxCores float64) ([]Config, error) {
	var cfgs []Config
	have := map[string]bool{}
	memories := map[int]bool{}
	for k, name := range outputs {
		m := outputKey.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		out, err := api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("read configuration of %s: %w", name, err)
		}
		c := Config{Function: name, Arch: archName(m[1]), MemoryMB: int(aws.ToInt32(out.MemorySize))}
		if len(out.Architectures) > 0 {
			c.Arch = string(out.Architectures[0])
		}
		if out.Environment != nil {
			if w, err := strconv.Atoi(out.Environment.Variables["WORKER_COUNT"]); err == nil {
				c.Workers = w
			}
		}
		c.VCPUs = VCPUsFor(c.MemoryMB, maxCores)
		have[c.Arch] = true
		memories[c.MemoryMB] = true
		cfgs = append(cfgs, c)
	}
	if len(cfgs) == 0 {
		return nil, fmt.Errorf("the stack outputs name no matrix functions (keys like Arm64Mem1536FunctionName): is this the matrix stack?")
	}
	for _, a := range want {
		if have[a] {
			continue
		}
		for mem := range memories {
			cfgs = append(cfgs, Config{Arch: a, MemoryMB: mem, Workers: workersFor(cfgs, mem), VCPUs: VCPUsFor(mem, 0), Skip: skipWhy})
		}
	}
	sort.Slice(cfgs, func(i, j int) bool {
		if cfgs[i].Arch != cfgs[j].Arch {
			return cfgs[i].Arch < cfgs[j].Arch
		}
		return cfgs[i].MemoryMB < cfgs[j].MemoryMB
	})
	return cfgs, nil
}

func workersFor(cfgs []Config, mem int) int {
	for _, c := range cfgs {
		if c.MemoryMB == mem {
			return c.Workers
		}
	}
	return 0
}

func archName(outputArch string) string {
	if outputArch == "Arm64" {
		return "arm64"
	}
	return "x86_64"
}
