package handlers

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lambdabench/function/internal/bcryptbatch"
)

// The benchmarks interleave the handler and the reference in every iteration,
// so drift on a shared machine (other builds, thermal) hits both alike.
// See the function notes for the commands (pin to one core with taskset and
// -cpu 1 for the per-hash figures).

func invokeBatch(b *testing.B, h Bcrypt, count, cost int, mode string) time.Duration {
	b.Helper()
	payload := fmt.Appendf(nil, `{"count":%d,"mode":%q,"cost":%d}`, count, mode, cost)
	t0 := time.Now()
	if _, err := h.Invoke(context.Background(), payload); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

func directHashes(b *testing.B, count, cost int) time.Duration {
	b.Helper()
	t0 := time.Now()
	for i := range count {
		if _, err := bcrypt.GenerateFromPassword(bcryptbatch.Password(i), cost); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(t0)
}

// BenchmarkPerHashCost10 compares the time per cost-10 hash through the
// handler (a sequential batch of 4 items) with x/crypto/bcrypt called
// directly in a loop. Metrics: handler-ms/hash, direct-ms/hash and their ratio.
func BenchmarkPerHashCost10(b *testing.B) {
	const items = 4
	h := Bcrypt{Config: bcryptbatch.Config{Workers: 1, DetectedCPUs: 1}}
	var handler, direct time.Duration
	for b.Loop() {
		handler += invokeBatch(b, h, items, 10, "sequential")
		direct += directHashes(b, items, 10)
	}
	n := float64(b.N * items)
	b.ReportMetric(float64(handler)/1e6/n, "handler-ms/hash")
	b.ReportMetric(float64(direct)/1e6/n, "direct-ms/hash")
	b.ReportMetric(float64(handler)/float64(direct), "handler/direct")
}

// BenchmarkBatch20 runs a batch of 20 cost-10 items sequentially and then in
// parallel with one worker per host core, and reports the parallel
// efficiency: speedup ÷ cores.
func BenchmarkBatch20(b *testing.B) {
	cores := runtime.NumCPU()
	seqH := Bcrypt{Config: bcryptbatch.Config{Workers: 1, DetectedCPUs: cores}}
	parH := Bcrypt{Config: bcryptbatch.Config{Workers: cores, DetectedCPUs: cores}}
	var seq, par time.Duration
	for b.Loop() {
		seq += invokeBatch(b, seqH, 20, 10, "sequential")
		par += invokeBatch(b, parH, 20, 10, "parallel")
	}
	speedup := float64(seq) / float64(par)
	b.ReportMetric(float64(seq)/1e6/float64(b.N), "sequential-ms")
	b.ReportMetric(float64(par)/1e6/float64(b.N), "parallel-ms")
	b.ReportMetric(speedup, "speedup")
	b.ReportMetric(speedup/float64(cores), "efficiency")
}

// BenchmarkOverheadCost4 measures what the handler adds to one cost-4 hash:
// decoding, the worker goroutine, the process statistics and encoding.
// Metrics: mean handler and direct time per call, and the median of the
// paired differences (overhead).
func BenchmarkOverheadCost4(b *testing.B) {
	h := Bcrypt{Config: bcryptbatch.Config{Workers: 1, DetectedCPUs: 1}}
	var handler, direct time.Duration
	var diffs []float64
	for b.Loop() {
		hd := invokeBatch(b, h, 1, 4, "sequential")
		dd := directHashes(b, 1, 4)
		handler += hd
		direct += dd
		diffs = append(diffs, float64(hd-dd)/1e3)
	}
	slices.Sort(diffs)
	n := float64(b.N)
	b.ReportMetric(float64(handler)/1e3/n, "handler-µs")
	b.ReportMetric(float64(direct)/1e3/n, "direct-µs")
	b.ReportMetric(diffs[len(diffs)/2], "overhead-µs(median)")
}
