package matrix

import (
	"fmt"
	"math"
	"sort"

	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/stats"
)

// Result is everything measured about one configuration.
type Result struct {
	Config
	Invocations int    `json:"invocations"` // cold + warm, failed included
	Failures    int    `json:"failures"`
	FirstError  string `json:"first_error,omitempty"`

	Warm      stats.Summary `json:"warm_duration"`    // REPORT Duration (or handler duration) of warm invocations
	Handler   stats.Summary `json:"handler_duration"` // the handler's own duration_ms
	RoundTrip stats.Summary `json:"round_trip"`       // client round trip of warm invocations
	Billed    stats.Summary `json:"billed_duration"`
	ColdInit  stats.Summary `json:"cold_init"`       // Init Duration of forced cold starts
	ColdTotal stats.Summary `json:"cold_round_trip"` // client round trip of forced cold starts
	ColdSeen  int           `json:"cold_starts_observed"`

	DetectedCPUs float64 `json:"detected_cpus"`   // as the handler saw them (median)
	Gomaxprocs   float64 `json:"gomaxprocs"`      // median
	ThreadsUsed  float64 `json:"threads_used"`    // median
	Parallelism  float64 `json:"parallelism"`     // median CPU time ÷ wall time of the batch
	MaxMemoryMB  float64 `json:"max_memory_mb"`   // largest Max Memory Used
	HandlerWork  float64 `json:"handler_workers"` // median workers the handler used

	Speedup      float64 `json:"speedup"`       // mean warm duration of the 1-worker config ÷ this one's
	IdealSpeedup float64 `json:"ideal_speedup"` // vCPUs of this config ÷ vCPUs of the baseline
	Efficiency   float64 `json:"efficiency"`    // Speedup ÷ IdealSpeedup
	// ArchDelta is how much slower (+) or faster (−) this configuration is
	// than the other architecture at the same memory, as a fraction.
	ArchDelta float64 `json:"arch_delta"`

	CostPerMillion float64 `json:"cost_per_million_usd"` // billed GB-s + requests, per 1M invocations

	// Saturation is how busy this machine was while the configuration ran
	// (local target): host_cpu_saturated and the share of time saturated.
	*hostload.Saturation
}

// Measured reports whether any warm invocation succeeded.
func (r Result) Measured() bool { return r.Skip == "" && r.Warm.N > 0 }

// CostFunc prices a million invocations like the given ones: arch, memory
// and the billed duration of each measured invocation.
type CostFunc func(arch string, memoryMB int, billedMs []float64) float64

// Summarize groups samples by configuration and computes every statistic.
// trim is the trimmed-mean share at each end.
func Summarize(samples []Sample, trim float64, price CostFunc) []Result {
	type acc struct {
		r                                       Result
		warm, handler, rt, billed, init, coldRT []float64
		cpus, procs, threads, par, work         []float64
	}
	byKey := map[string]*acc{}
	var order []string
	for _, s := range samples {
		key := s.Arch + "/" + fmt.Sprint(s.MemoryMB) + "/" + s.Function
		a := byKey[key]
		if a == nil {
			a = &acc{r: Result{Config: Config{Function: s.Function, Arch: s.Arch, MemoryMB: s.MemoryMB, Workers: s.Workers, VCPUs: s.VCPUs}}}
			byKey[key] = a
			order = append(order, key)
		}
		if s.Kind == KindSkipped {
			a.r.Skip = s.Error
			continue
		}
		a.r.Invocations++
		if !s.OK {
			a.r.Failures++
			if a.r.FirstError == "" {
				a.r.FirstError = s.Error
			}
			continue
		}
		switch s.Kind {
		case KindCold:
			a.coldRT = append(a.coldRT, s.RoundTripMs)
			if !math.IsNaN(s.InitMs) {
				a.init = append(a.init, s.InitMs)
				a.r.ColdSeen++
			}
		case KindWarm:
			a.warm = append(a.warm, s.Duration())
			a.billed = append(a.billed, s.Billed())
			a.rt = append(a.rt, s.RoundTripMs)
			appendNum(&a.handler, s.HandlerMs)
			appendNum(&a.cpus, s.DetectedCPUs)
			appendNum(&a.procs, s.Gomaxprocs)
			appendNum(&a.threads, s.ThreadsUsed)
			appendNum(&a.par, s.Parallelism)
			appendNum(&a.work, s.HandlerWork)
		}
		if !math.IsNaN(s.MaxMemoryMB) {
			a.r.MaxMemoryMB = math.Max(a.r.MaxMemoryMB, s.MaxMemoryMB)
		}
	}
	results := make([]Result, 0, len(order))
	for _, k := range order {
		a := byKey[k]
		r := a.r
		r.Warm = stats.Summarize(a.warm, trim)
		r.Handler = stats.Summarize(a.handler, trim)
		r.RoundTrip = stats.Summarize(a.rt, trim)
		r.Billed = stats.Summarize(a.billed, trim)
		r.ColdInit = stats.Summarize(a.init, trim)
		r.ColdTotal = stats.Summarize(a.coldRT, trim)
		r.DetectedCPUs = median(a.cpus)
		r.Gomaxprocs = median(a.procs)
		r.ThreadsUsed = median(a.threads)
		r.Parallelism = median(a.par)
		r.HandlerWork = median(a.work)
		if r.Measured() && price != nil {
			r.CostPerMillion = price(r.Arch, r.MemoryMB, a.billed)
		}
		results = append(results, r)
	}
	sort.SliceStable(results, func(i, j int) bool {
		if results[i].Arch != results[j].Arch {
			return results[i].Arch < results[j].Arch
		}
		return results[i].MemoryMB < results[j].MemoryMB
	})
	derive(results)
	return results
}

// derive fills speedup, efficiency and the architecture comparison.
func derive(results []Result) {
	base := map[string]*Result{} // per arch: the 1-worker (else smallest) measured config
	for i := range results {
		r := &results[i]
		if !r.Measured() {
			continue
		}
		b := base[r.Arch]
		if b == nil || (r.Workers == 1 && b.Workers != 1) || (r.Workers == b.Workers && r.MemoryMB < b.MemoryMB) {
			base[r.Arch] = r
		}
	}
	for i := range results {
		r := &results[i]
		b := base[r.Arch]
		if !r.Measured() || b == nil || r.Warm.Mean <= 0 {
			continue
		}
		r.Speedup = b.Warm.Mean / r.Warm.Mean
		if b.VCPUs > 0 {
			r.IdealSpeedup = r.VCPUs / b.VCPUs
			r.Efficiency = r.Speedup / r.IdealSpeedup
		}
		for _, o := range results {
			if o.Arch != r.Arch && o.MemoryMB == r.MemoryMB && o.Measured() && o.Warm.Mean > 0 {
				r.ArchDelta = r.Warm.Mean/o.Warm.Mean - 1
			}
		}
	}
}

func appendNum(dst *[]float64, v float64) {
	if !math.IsNaN(v) {
		*dst = append(*dst, v)
	}
}

// median is the nearest-rank median, or 0 (JSON has no NaN) for no values.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return stats.NearestRank(sortedCopy(v), 50)
}

func sortedCopy(v []float64) []float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	return c
}
