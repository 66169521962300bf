// Package matrix is the table of benchmark configurations (architecture ×
// memory size × worker count) that drives the matrix stack's functions, their
// physical names and the stack output keys bench looks them up by.
package matrix

import (
	"fmt"
	"regexp"
	"strings"
)

// Arch is a Lambda instruction set architecture, spelt as Lambda spells it.
type Arch string

// The architectures Lambda offers.
const (
	Arm64 Arch = "arm64"
	X8664 Arch = "x86_64"
)

// Lambda's memory limits, in MB.
const (
	MinMemoryMB = 128
	MaxMemoryMB = 10240
)

// MaxWorkers is the largest WORKER_COUNT the function honours (it clamps to 1..6).
const MaxWorkers = 6

// MBPerVCPU is the memory that buys one full vCPU on standard Lambda.
const MBPerVCPU = 1769

// DefaultPrefix starts every physical function name unless context overrides it.
const DefaultPrefix = "go-bench"

// DefaultArchitectures and DefaultMemorySizes span the published matrix.
var (
	DefaultArchitectures = []Arch{Arm64, X8664}
	DefaultMemorySizes   = []int{1536, 2048, 4096, 6144, 8192, 10240}
)

// ParseArch accepts a Lambda architecture name, or the Go name of the same thing.
func ParseArch(s string) (Arch, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "arm64", "aarch64":
		return Arm64, nil
	case "x86_64", "amd64", "x86":
		return X8664, nil
	}
	return "", fmt.Errorf("unknown architecture %q (want arm64 or x86_64)", s)
}

// GOARCH is the Go toolchain's name for the architecture.
func (a Arch) GOARCH() string {
	if a == X8664 {
		return "amd64"
	}
	return "arm64"
}

// nameToken is the architecture as it appears in function names (go-bench-x86-...).
func (a Arch) nameToken() string {
	if a == X8664 {
		return "x86"
	}
	return "arm64"
}

// OutputToken is the architecture as it appears in stack output keys (X8664Mem2048...).
func (a Arch) OutputToken() string {
	if a == X8664 {
		return "X8664"
	}
	return "Arm64"
}

// Config is one function of the matrix.
type Config struct {
	Arch     Arch
	MemoryMB int
	// Workers is the function's WORKER_COUNT.
	Workers int
}

// VCPUs is the vCPU count standard Lambda gives this memory size (1 to 6).
func VCPUs(memoryMB int) int {
	n := (memoryMB + MBPerVCPU - 1) / MBPerVCPU
	return min(max(n, 1), MaxWorkers)
}

// FunctionName is the physical function name, e.g. go-bench-arm64-2vcpu-2048mb.
func (c Config) FunctionName(prefix string) string {
	return fmt.Sprintf("%s-%s-%dvcpu-%dmb", prefix, c.Arch.nameToken(), VCPUs(c.MemoryMB), c.MemoryMB)
}

// Key identifies the configuration in construct ids and output keys, e.g. Arm64Mem2048.
func (c Config) Key() string {
	return fmt.Sprintf("%sMem%d", c.Arch.OutputToken(), c.MemoryMB)
}

// FunctionNameOutput is the stack output key holding the function name.
func (c Config) FunctionNameOutput() string { return c.Key() + "FunctionName" }

// FunctionArnOutput is the stack output key holding the function ARN.
func (c Config) FunctionArnOutput() string { return c.Key() + "FunctionArn" }

// Build crosses architectures with memory sizes. workers is either empty (each
// memory size gets as many workers as it buys vCPUs), one value for every
// memory size, or one value per memory size, in the same order.
func Build(archs []Arch, memorySizes, workers []int) ([]Config, error) {
	if len(archs) == 0 {
		return nil, fmt.Errorf("no architectures")
	}
	if len(memorySizes) == 0 {
		return nil, fmt.Errorf("no memory sizes")
	}
	if len(workers) > 1 && len(workers) != len(memorySizes) {
		return nil, fmt.Errorf("%d worker counts for %d memory sizes: give one count, or one per memory size", len(workers), len(memorySizes))
	}
	var cfgs []Config
	for _, a := range archs {
		for i, mb := range memorySizes {
			w := VCPUs(mb)
			switch len(workers) {
			case 1:
				w = workers[0]
			case len(memorySizes):
				w = workers[i]
			}
			cfgs = append(cfgs, Config{Arch: a, MemoryMB: mb, Workers: w})
		}
	}
	if err := Validate(cfgs); err != nil {
		return nil, err
	}
	return cfgs, nil
}

// Default is the published 12-function matrix: arm64 and x86_64 × 1536..10240 MB, 1..6 workers.
func Default() []Config {
	cfgs, err := Build(DefaultArchitectures, DefaultMemorySizes, nil)
	if err != nil {
		panic(err) // the defaults are constants; a failure here is a programming error
	}
	return cfgs
}

// Validate checks every configuration and that no two share an architecture and memory size.
func Validate(cfgs []Config) error {
	if len(cfgs) == 0 {
		return fmt.Errorf("the matrix is empty")
	}
	seen := make(map[string]bool)
	for _, c := range cfgs {
		if c.Arch != Arm64 && c.Arch != X8664 {
			return fmt.Errorf("unknown architecture %q (want arm64 or x86_64)", c.Arch)
		}
		if err := ValidateMemory(c.MemoryMB); err != nil {
			return err
		}
		if c.Workers < 1 || c.Workers > MaxWorkers {
			return fmt.Errorf("%s: worker count %d outside 1-%d", c.Key(), c.Workers, MaxWorkers)
		}
		if seen[c.Key()] {
			return fmt.Errorf("%s appears twice in the matrix", c.Key())
		}
		seen[c.Key()] = true
	}
	return nil
}

// ValidateMemory checks a Lambda memory size in MB.
func ValidateMemory(mb int) error {
	if mb < MinMemoryMB || mb > MaxMemoryMB {
		return fmt.Errorf("memory size %d MB outside %d-%d MB", mb, MinMemoryMB, MaxMemoryMB)
	}
	return nil
}

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

// ValidatePrefix checks a function name prefix: letters, digits, '-' and '_', at most
// 32 characters, so that every derived name fits Lambda's 64-character limit.
func ValidatePrefix(p string) error {
	if !prefixPattern.MatchString(p) {
		return fmt.Errorf("function name prefix %q: want 1-32 letters, digits, '-' or '_', starting with a letter or digit", p)
	}
	return nil
}
