// Package bcryptbatch hashes a batch of generated passwords with bcrypt, on
// one worker or on a pool of workers, and reports how long it took and how
// much of the machine it really used. It knows nothing about Lambda.
package bcryptbatch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lambdabench/function/internal/procstat"
)

// MaxWorkers bounds the worker pool: Lambda gives a function at most 6 vCPUs.
const MaxWorkers = 6

// Config is fixed for the life of the process; it is read-only, so one Config
// serves any number of concurrent batches.
type Config struct {
	// Workers is the size of the pool for parallel batches, 1..MaxWorkers.
	Workers int
	// DetectedCPUs is what procstat.DetectCPUs found, reported as is.
	DetectedCPUs int
}

// Result is the response of a batch. Field names are the JSON contract.
type Result struct {
	Processed    int     `json:"processed"`
	DurationMS   float64 `json:"duration_ms"`
	Mode         Mode    `json:"mode"`
	Workers      int     `json:"workers"`
	DetectedCPUs int     `json:"detected_cpus"`
	AvgMSPerItem float64 `json:"avg_ms_per_item"`
	MemoryUsedKB int64   `json:"memory_used_kb"`
	ThreadsUsed  int     `json:"threads_used"`
	GOMAXPROCS   int     `json:"gomaxprocs"`
	CPUMS        float64 `json:"cpu_ms"`
	Parallelism  float64 `json:"parallelism"`
	GoVersion    string  `json:"go_version"`
	Arch         string  `json:"arch"`
	Cost         int     `json:"cost"`
}

// ClampWorkers brings n into 1..MaxWorkers.
func ClampWorkers(n int) int {
	return min(max(n, 1), MaxWorkers)
}

// Password returns the i-th item of a batch: password_000000, password_000001, ...
func Password(i int) []byte {
	return fmt.Appendf(nil, "password_%06d", i)
}

// Run hashes req.Count items and reports on it. Parallel batches get their own
// pool of min(cfg.Workers, req.Count) workers (the calling goroutine and new
// goroutines), each locked to its own OS thread while the pool fits in
// GOMAXPROCS; sequential batches run on the calling goroutine alone. Nothing is shared with other batches, so
// Run may be called concurrently. When ctx ends, workers stop after their
// current item and Run returns an error saying how far it got.
func Run(ctx context.Context, cfg Config, req Request) (Result, error) {
	mode, workers := req.Mode, 1
	if mode == Auto {
		mode = Sequential
		if cfg.Workers > 1 {
			mode = Parallel
		}
	}
	if mode == Parallel {
		workers = min(ClampWorkers(cfg.Workers), req.Count)
	}

	cpuBefore, err := procstat.CPUTime()
	if err != nil {
		return Result{}, fmt.Errorf("read cpu time: %w", err)
	}
	start := time.Now()
	done, tids, err := hashAll(ctx, req.Count, req.Cost, workers)
	elapsed := time.Since(start)
	if err != nil {
		return Result{}, fmt.Errorf("batch stopped after %d of %d items: %w", done, req.Count, err)
	}
	cpuAfter, err := procstat.CPUTime()
	if err != nil {
		return Result{}, fmt.Errorf("read cpu time: %w", err)
	}
	rss, err := procstat.ResidentKB()
	if err != nil {
		return Result{}, fmt.Errorf("read resident memory: %w", err)
	}

	durMS := ms(elapsed)
	cpuMS := ms(cpuAfter - cpuBefore)
	res := Result{
		Processed:    done,
		DurationMS:   round3(durMS),
		Mode:         mode,
		Workers:      workers,
		DetectedCPUs: cfg.DetectedCPUs,
		AvgMSPerItem: round3(durMS / float64(done)),
		MemoryUsedKB: rss,
		ThreadsUsed:  distinct(tids),
		GOMAXPROCS:   runtime.GOMAXPROCS(0),
		CPUMS:        round3(cpuMS),
		GoVersion:    runtime.Version(),
		Arch:         runtime.GOARCH,
		Cost:         req.Cost,
	}
	if durMS > 0 {
		res.Parallelism = round3(cpuMS / durMS)
	}
	return res, nil
}

// hashAll hashes items 0..count-1 on workers goroutines and returns how many
// were hashed and the ids of the OS threads that hashed them.
func hashAll(ctx context.Context, count, cost, workers int) (int, []int, error) {
	var (
		next atomic.Int64 // index of the next item to take
		done atomic.Int64
		wg   sync.WaitGroup
		tids = make([][]int, workers) // each worker writes only its own slot
		errs = make([]error, workers)
		// Locking each worker to its own OS thread makes threads_used show
		// the pool exactly. With more workers than GOMAXPROCS the runtime
		// must hand the Ps between locked threads, which cost 6–13% of the
		// throughput in measurements (3 workers on 2 CPUs); then the workers
		// run unlocked and threads_used counts the threads they really used.
		lock = workers <= runtime.GOMAXPROCS(0)
	)
	work := func(w int) {
		if lock {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		for {
			if err := ctx.Err(); err != nil {
				errs[w] = err
				return
			}
			i := int(next.Add(1) - 1)
			if i >= count {
				return
			}
			if _, err := bcrypt.GenerateFromPassword(Password(i), cost); err != nil {
				errs[w] = fmt.Errorf("hash item %d: %w", i, err)
				return
			}
			if t := procstat.ThreadID(); len(tids[w]) == 0 || tids[w][len(tids[w])-1] != t {
				tids[w] = append(tids[w], t)
			}
			done.Add(1)
		}
	}
	// Workers 1..n-1 get goroutines; worker 0 is the calling goroutine, so a
	// sequential batch starts no goroutine at all.
	for w := 1; w < workers; w++ {
		wg.Go(func() { work(w) })
	}
	work(0)
	wg.Wait()
	err := errors.Join(errs...)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err() // every worker that stopped early saw this one
	}
	return int(done.Load()), slices.Concat(tids...), err
}

func distinct(tids []int) int {
	seen := make(map[int]struct{}, len(tids))
	for _, t := range tids {
		if t != 0 {
			seen[t] = struct{}{}
		}
	}
	return len(seen)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// round3 keeps microsecond precision in millisecond figures.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
