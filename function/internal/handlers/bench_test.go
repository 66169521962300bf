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
	"lambdabench/function/internal/procstat"
)

// The benchmarks interleave the handler and the reference in every iteration,
// alternating which goes first, so drift on a shared machine (other builds,
// thermal, caches) hits both alike.
// See the function notes for the commands (pin to one core with taskset and
// -cpu 1 for the per-hash figures).

// cost is the wall-clock and process CPU time of one measured step. CPU time
// is what to compare on a busy machine: it does not grow when other processes
// take the core away, wall time does.
type cost struct{ wall, cpu time.Duration }

func (c *cost) add(o cost) { c.wall += o.wall; c.cpu += o.cpu }

func measure(b *testing.B, f func()) cost {
	b.Helper()
	c0, err := procstat.CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	f()
	wall := time.Since(t0)
	c1, _ := procstat.CPUTime()
	return cost{wall, c1 - c0}
}

func invokeBatch(b *testing.B, h Bcrypt, count, cost int, mode string) cost {
	b.Helper()
	payload := fmt.Appendf(nil, `{"count":%d,"mode":%q,"cost":%d}`, count, mode, cost)
	return measure(b, func() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	})
}

func directHashes(b *testing.B, count, cost int) cost {
	b.Helper()
	return measure(b, func() {
		for i := range count {
			if _, err := bcrypt.GenerateFromPassword(bcryptbatch.Password(i), cost); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPerHashCost10 compares the time per cost-10 hash through the
// handler (a sequential batch of 4 items) with x/crypto/bcrypt called
// directly in a loop. Metrics: handler-ms/hash, direct-ms/hash and their ratio.
func BenchmarkPerHashCost10(b *testing.B) {
	const items = 4
	h := Bcrypt{Config: bcryptbatch.Config{Workers: 1, DetectedCPUs: 1}}
	var handler, direct cost
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			handler.add(invokeBatch(b, h, items, 10, "sequential"))
			direct.add(directHashes(b, items, 10))
		} else {
			direct.add(directHashes(b, items, 10))
			handler.add(invokeBatch(b, h, items, 10, "sequential"))
		}
	}
	n := float64(b.N * items)
	b.ReportMetric(float64(handler.wall)/1e6/n, "handler-ms/hash")
	b.ReportMetric(float64(direct.wall)/1e6/n, "direct-ms/hash")
	b.ReportMetric(float64(handler.wall)/float64(direct.wall), "handler/direct")
	b.ReportMetric(float64(handler.cpu)/1e6/n, "handler-cpu-ms/hash")
	b.ReportMetric(float64(direct.cpu)/1e6/n, "direct-cpu-ms/hash")
	b.ReportMetric(float64(handler.cpu)/float64(direct.cpu), "handler/direct(cpu)")
}

// BenchmarkBatch20 runs a batch of 20 cost-10 items sequentially and then in
// parallel with one worker per host core, and reports the parallel
// efficiency: speedup ÷ cores.
func BenchmarkBatch20(b *testing.B) {
	cores := runtime.NumCPU()
	seqH := Bcrypt{Config: bcryptbatch.Config{Workers: 1, DetectedCPUs: cores}}
	parH := Bcrypt{Config: bcryptbatch.Config{Workers: cores, DetectedCPUs: cores}}
	var seq, par cost
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			seq.add(invokeBatch(b, seqH, 20, 10, "sequential"))
			par.add(invokeBatch(b, parH, 20, 10, "parallel"))
		} else {
			par.add(invokeBatch(b, parH, 20, 10, "parallel"))
			seq.add(invokeBatch(b, seqH, 20, 10, "sequential"))
		}
	}
	speedup := float64(seq.wall) / float64(par.wall)
	b.ReportMetric(float64(seq.wall)/1e6/float64(b.N), "sequential-ms")
	b.ReportMetric(float64(par.wall)/1e6/float64(b.N), "parallel-ms")
	b.ReportMetric(speedup, "speedup")
	b.ReportMetric(speedup/float64(cores), "efficiency")
	// CPU time the parallel run got per wall-clock second: below cores, the
	// machine was busy with something else and the efficiency says little.
	b.ReportMetric(float64(par.cpu)/float64(par.wall), "parallel-cpu/wall")
}

// BenchmarkOverheadCost4 measures what the handler adds to one cost-4 hash:
// decoding, the worker goroutine, the process statistics and encoding.
// Metrics: mean handler and direct time per call, and the median of the
// paired differences (overhead).
func BenchmarkOverheadCost4(b *testing.B) {
	h := Bcrypt{Config: bcryptbatch.Config{Workers: 1, DetectedCPUs: 1}}
	var handler, direct cost
	var diffs []float64
	for i := 0; b.Loop(); i++ {
		var hd, dd cost
		if i%2 == 0 {
			hd = invokeBatch(b, h, 1, 4, "sequential")
			dd = directHashes(b, 1, 4)
		} else {
			dd = directHashes(b, 1, 4)
			hd = invokeBatch(b, h, 1, 4, "sequential")
		}
		handler.add(hd)
		direct.add(dd)
		diffs = append(diffs, float64(hd.wall-dd.wall)/1e3)
	}
	slices.Sort(diffs)
	n := float64(b.N)
	b.ReportMetric(float64(handler.wall)/1e3/n, "handler-µs")
	b.ReportMetric(float64(direct.wall)/1e3/n, "direct-µs")
	b.ReportMetric(diffs[len(diffs)/2], "overhead-µs(median)")
	b.ReportMetric(float64(handler.cpu-direct.cpu)/1e3/n, "overhead-cpu-µs(mean)")
}
