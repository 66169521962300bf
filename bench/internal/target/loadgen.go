package target

import (
	"context"
	"fmt"
	"io"
	"os"
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
	if err := buildBootstrap(ctx, "loadgen", filepath.Join(root, "bench"), "./cmd/loadgen", out, goarch, log); err != nil {
		return "", err
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
// LoadGenTimeout as deployed, and each allowed concurrency environments: in
// a run chained over several windows, a generator's next window is invoked
// while its current one still runs.
func StartLocalGenerators(ctx context.Context, bin string, n, concurrency int, cpuControl bool, logf func(string, ...any)) (*LocalGenerators, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("loadgen binary: %w", err)
	}
	cfg := locallambda.Config{InvokeAddr: "127.0.0.1:0", APIAddr: "-", CPUControl: cpuControl, Logf: logf}
	var names []string
	for i := range n {
		name := fmt.Sprintf("%s-loadgen-%d", locallambda.FunctionPrefix, i+1)
		names = append(names, name)
		cfg.Functions = append(cfg.Functions, locallambda.FunctionSpec{Name: name, Binary: bin, MemoryMB: LoadGenMemoryMB,
			Timeout: LoadGenTimeout, Architecture: HostArch(), ReservedConcurrency: max(1, concurrency)})
	}
	srv, err := locallambda.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start the local Lambda for the generators: %w", err)
	}
	return &LocalGenerators{Server: srv, Functions: names}, nil
}

// Close stops the local Lambda and its generators.
func (g *LocalGenerators) Close() error { return g.Server.Close() }
