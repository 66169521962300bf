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
	Timeouts    int    `json:"timeouts,omitempty"`      // failures that were timeouts
	OOMs        int    `json:"out_of_memory,omitempty"` // failures that ran out of memory
	Throttles   int    `json:"throttles,omitempty"`
	// Excluded says why the verdict left this configuration out (more
	// failures than --allowed-errors).
	Excluded string `json:"excluded,omitempty"`

	Warm      stats.Summary `json:"warm_duration"`    // REPORT Duration (or handler duration) of warm invocations
	Handler   stats.Summary `json:"handler_duration"` // the handler's own duration_ms
	RoundTrip stats.Summary `json:"round_trip"`       // client round trip of warm invocations
	Billed    stats.Summary `json:"billed_duration"`
	ColdInit  stats.Summary `json:"cold_init"`            // Init Duration of forced cold starts
	ColdTotal stats.Summary `json:"cold_round_trip"`      // client round trip of forced cold starts
	ColdBill  stats.Summary `json:"cold_billed_duration"` // Billed Duration of forced cold starts (init included)
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

	// CostPerMillion is what the verdict weighs: per 1M invocations, billed
	// GB-s and the request fee, with the cold share (Meta.ColdShare) of
	// invocations priced as cold starts (their billed init included).
	CostPerMillion     float64 `json:"cost_per_million_usd"`
	WarmCostPerMillion float64 `json:"warm_cost_per_million_usd"` // 1M warm invocations
	ColdCostPerMillion float64 `json:"cold_cost_per_million_usd"` // 1M cold starts (0 = none measured)

	// Saturation is how busy this machine was while the configuration ran
	// (local target): host_cpu_saturated and the share of time saturated.
	*hostload.Saturation
}

// Status labels the configuration's outcome: "ok", "timeout", "out of
// memory", or "n/N failed".
func (r Result) Status() string {
	switch {
	case r.Skip != "":
		return "not measured"
	case r.Failures == 0:
		return "ok"
	case r.Timeouts == r.Failures:
		return fmt.Sprintf("timeout %d/%d", r.Timeouts, r.Invocations)
	case r.OOMs == r.Failures:
		return fmt.Sprintf("out of memory %d/%d", r.OOMs, r.Invocations)
	}
	return fmt.Sprintf("%d/%d failed", r.Failures, r.Invocations)
}

// Duration is the representative warm duration the verdict, speedup and
// cost charts use: the trimmed mean (Power Tuning's statistic), or the
// mean when trimming leaves nothing.
func (r Result) Duration() float64 {
	if r.Warm.TrimmedMean > 0 {
		return r.Warm.TrimmedMean
	}
	return r.Warm.Mean
}

// Throttled reports whether the configuration's durations look shaped by
// CPU throttling: less than one vCPU, and a p95 above 3× the p50 (the runs
// that used up their share of a period and waited for the next one). The
// trimmed mean drops those runs and hides it; the mean does not.
func (r Result) Throttled() bool {
	return r.Measured() && r.VCPUs < 1 && r.Warm.P95 > 3*r.Warm.P50
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
		coldBilled                              []float64
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
		if !s.derived {
			a.r.Invocations++
		}
		if !s.OK {
			a.r.Failures++
			if a.r.FirstError == "" {
				a.r.FirstError = s.Error
			}
			switch s.ErrorKind {
			case ErrorTimeout:
				a.r.Timeouts++
			case ErrorOOM:
				a.r.OOMs++
			case ErrorThrottle:
				a.r.Throttles++
			}
			continue
		}
		switch s.Kind {
		case KindCold:
			a.coldRT = append(a.coldRT, s.RoundTripMs)
			a.coldBilled = append(a.coldBilled, s.Billed())
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
		r.ColdBill = stats.Summarize(a.coldBilled, trim)
		r.DetectedCPUs = median(a.cpus)
		r.Gomaxprocs = median(a.procs)
		r.ThreadsUsed = median(a.threads)
		r.Parallelism = median(a.par)
		r.HandlerWork = median(a.work)
		if r.Measured() && price != nil {
			r.WarmCostPerMillion = price(r.Arch, r.MemoryMB, a.billed)
			r.CostPerMillion = r.WarmCostPerMillion
			if len(a.coldBilled) > 0 {
				r.ColdCostPerMillion = price(r.Arch, r.MemoryMB, a.coldBilled)
			}
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
		if !r.Measured() || b == nil || r.Duration() <= 0 {
			continue
		}
		r.Speedup = b.Duration() / r.Duration()
		if b.VCPUs > 0 {
			r.IdealSpeedup = r.VCPUs / b.VCPUs
			r.Efficiency = r.Speedup / r.IdealSpeedup
		}
		for _, o := range results {
			if o.Arch != r.Arch && o.MemoryMB == r.MemoryMB && o.Measured() && o.Duration() > 0 {
				r.ArchDelta = r.Duration()/o.Duration() - 1
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
