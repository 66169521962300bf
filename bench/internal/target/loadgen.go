package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"lambdabench/bench/internal/locallambda"
)

// The load-generator function: its stack, the stack output that names it,
// and the memory and timeout it is deployed with (1,769 MB buys one full
// vCPU; 15 minutes is Lambda's longest invocation).
const (
	LoadGenStack          = "GoLambdaBenchLoadGen"
	LoadGenFunctionOutput = "LoadGenFunctionName"
	LoadGenMemoryMB       = 1769
	LoadGenTimeout        = 15 * time.Minute
)

// BuildLoadGen builds the load-generator function (bench/cmd/loadgen) for
// linux/goarch into dist/loadgen/linux-<goarch>/bootstrap under root, as
// `make loadgen` does, and returns its path.
func BuildLoadGen(ctx context.Context, root, goarch string, log io.Writer) (string, error) {
	out := filepath.Join(root, "dist", "loadgen", "linux-"+goarch, "bootstrap")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("build loadgen: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/loadgen")
	cmd.Dir = filepath.Join(root, "bench")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOWORK=off")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("build loadgen for linux/%s failed (see the compiler output above): %w", goarch, err)
		}
		return "", fmt.Errorf("build loadgen: %w (is Go installed and on PATH?)", err)
	}
	return out, nil
}

// LocalGenerators is a local Lambda serving n copies of the load-generator
// function, one per generator.
type LocalGenerators struct {
	Server    *locallambda.Server
	Functions []string
}

// StartLocalGenerators starts a local Lambda on 127.0.0.1 with n
// load-generator functions running bin, each of LoadGenMemoryMB and
// LoadGenTimeout as deployed.
func StartLocalGenerators(ctx context.Context, bin string, n int, cpuControl bool, logf func(string, ...any)) (*LocalGenerators, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("loadgen binary: %w", err)
	}
	cfg := locallambda.Config{InvokeAddr: "127.0.0.1:0", APIAddr: "-", CPUControl: cpuControl, Logf: logf}
	var names []string
	for i := range n {
		name := fmt.Sprintf("%s-loadgen-%d", locallambda.FunctionPrefix, i+1)
		names = append(names, name)
		cfg.Functions = append(cfg.Functions, locallambda.FunctionSpec{Name: name, Binary: bin, MemoryMB: LoadGenMemoryMB,
			Timeout: LoadGenTimeout, Architecture: HostArch(), ReservedConcurrency: 1})
	}
	srv, err := locallambda.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start the local Lambda for the generators: %w", err)
	}
	return &LocalGenerators{Server: srv, Functions: names}, nil
}

// Close stops the local Lambda and its generators.
func (g *LocalGenerators) Close() error { return g.Server.Close() }
