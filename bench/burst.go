package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"lambdabench/bench/internal/contract"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/stats"
	"lambdabench/bench/internal/target"
)

const burstDescription = `Demonstrates the worker pool on one configuration: the same batch (100 items by
default) hashed sequentially and in parallel, a few times each, interleaved.
Prints the handler's durations, the speedup (sequential ÷ parallel), the
efficiency (speedup ÷ workers) and how many OS threads really hashed.`

func runBurst(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("burst", "burst [flags]", burstDescription, stdout, stderr)
	var tf targetFlags
	tf.register(fs, "local", targetStack|targetOutputs|targetLocal|targetEndpoint, target.MatrixStack)
	arch := fs.String("arch", "", "architecture of the configuration (default: this machine's locally, arm64 on aws)")
	memory := fs.Int("memory", 10240, "memory size of the configuration in MB")
	count := fs.Int("count", 100, "items per batch (1..1000)")
	runs := fs.Int("runs", 3, "batches per mode")
	bcryptCost := fs.Int("cost", 10, "bcrypt cost (4..14)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	kind, err := tf.kind()
	if err != nil {
		return err
	}
	if *count < 1 || *count > 1000 || *runs < 1 || *runs > 100 || *bcryptCost < 4 || *bcryptCost > 14 {
		return usagef("--count must be 1..1000, --runs 1..100, --cost 4..14")
	}
	if err := tf.check(); err != nil {
		return err
	}
	var (
		api     matrix.Lambda
		outputs map[string]string
		cores   float64
	)
	if kind == target.Local {
		cpu, _ := tf.cpuModel() // checked above
		lt, err := target.StartLocal(ctx, target.LocalOptions{Binary: tf.binary, Matrix: true, BuildLog: stderr, NoCPUControl: tf.noCPULimits, CPU: cpu})
		if err != nil {
			return err
		}
		defer lt.Close()
		api, outputs, cores = lt.Lambda, lt.Outputs, float64(lt.Server.HostCores())
		if *arch == "" {
			*arch = lt.Arch
		}
	} else {
		at, err := tf.aws(ctx, tf.stack)
		if err != nil {
			return err
		}
		api, outputs = at.Lambda, at.Outputs
		if *arch == "" {
			*arch = "arm64"
		}
	}
	cfgs, err := matrix.Discover(ctx, api, outputs, nil, "", cores)
	if err != nil {
		return err
	}
	var cfg *matrix.Config
	for i := range cfgs {
		if cfgs[i].Arch == *arch && cfgs[i].MemoryMB == *memory {
			cfg = &cfgs[i]
		}
	}
	if cfg == nil {
		return usagef("no %s %d MB function on this target", *arch, *memory)
	}
	fmt.Fprintf(stdout, "%s (%s): %d items at bcrypt cost %d, %d batch(es) per mode, %.2f vCPUs, WORKER_COUNT=%d\n",
		cfg.Label(), cfg.Function, *count, *bcryptCost, *runs, cfg.VCPUs, cfg.Workers)
	// One warm-up so that no batch pays the cold start.
	if _, err := burstInvoke(ctx, api, cfg.Function, *count, "parallel", 4); err != nil {
		return err
	}
	durs := map[string][]float64{}
	threads := map[string]int{}
	for i := 0; i < *runs; i++ {
		for _, mode := range []string{"sequential", "parallel"} {
			r, err := burstInvoke(ctx, api, cfg.Function, *count, mode, *bcryptCost)
			if err != nil {
				return err
			}
			durs[mode] = append(durs[mode], r.DurationMs)
			threads[mode] = max(threads[mode], r.ThreadsUsed)
			fmt.Fprintf(stdout, "  %-10s #%d  %8.1f ms  workers %d  threads %d  parallelism %.2f\n", mode, i+1, r.DurationMs, r.Workers, r.ThreadsUsed, r.Parallelism)
		}
	}
	seq, par := stats.Summarize(durs["sequential"], 0), stats.Summarize(durs["parallel"], 0)
	speedup := seq.Mean / par.Mean
	fmt.Fprintf(stdout, "\nsequential mean %.1f ms · parallel mean %.1f ms · speedup %.2f× · efficiency %.0f%% of %d workers",
		seq.Mean, par.Mean, speedup, 100*speedup/float64(max(cfg.Workers, 1)), cfg.Workers)
	if ideal := math.Min(float64(cfg.Workers), cfg.VCPUs); ideal > 0 {
		fmt.Fprintf(stdout, " (%.0f%% of the %.2f vCPUs the environment has)", 100*speedup/ideal, ideal)
	}
	fmt.Fprintf(stdout, " · threads used: %d sequential, %d parallel\n", threads["sequential"], threads["parallel"])
	return nil
}

type burstResponse struct {
	DurationMs  float64
	Workers     int
	ThreadsUsed int
	Parallelism float64
}

func burstInvoke(ctx context.Context, api matrix.Lambda, fn string, count int, mode string, bcryptCost int) (burstResponse, error) {
	var r burstResponse
	payload := fmt.Sprintf(`{"count":%d,"mode":%q,"cost":%d}`, count, mode, bcryptCost)
	ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	out, err := api.Invoke(ictx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(payload)}, target.NoRetry)
	if err != nil {
		return r, fmt.Errorf("invoke %s: %w", fn, err)
	}
	if out.FunctionError != nil {
		return r, fmt.Errorf("invoke %s: function error: %s", fn, out.Payload)
	}
	resp, _, err := contract.DecodeBcrypt(out.Payload, false)
	if err != nil {
		return r, fmt.Errorf("invoke %s: %w", fn, err)
	}
	r.DurationMs, r.Parallelism = orZero(resp.DurationMs), orZero(resp.Parallelism)
	r.Workers, r.ThreadsUsed = int(orZero(resp.Workers)), int(orZero(resp.ThreadsUsed))
	return r, nil
}

func orZero(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
