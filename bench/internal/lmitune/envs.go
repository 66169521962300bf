package lmitune

import (
	"sync"
	"time"

	"lambdabench/bench/internal/target"
)

// envCounter follows a version's execution environments on the local
// Lambda while a step runs: the most it had at once, and the CPU time they
// used between the first reading (before the step's load starts) and the
// last (after it ends).
type envCounter struct {
	mu          sync.Mutex
	most        int
	cpu0, cpu1  time.Duration
	start, end  time.Time
	lt          *target.LocalTarget
	fn, version string
}

func newEnvCounter(lt *target.LocalTarget, fn, version string) *envCounter {
	e := &envCounter{lt: lt, fn: fn, version: version}
	e.most, e.cpu0 = lt.Server.VersionUsage(fn, version)
	e.start = time.Now()
	return e
}

// watch reads the environments every 100 ms until stop, then once more.
func (e *envCounter) watch(stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			n, cpu := e.lt.Server.VersionUsage(e.fn, e.version)
			e.mu.Lock()
			e.most, e.cpu1, e.end = max(e.most, n), cpu, time.Now()
			e.mu.Unlock()
			return
		case <-t.C:
			n, _ := e.lt.Server.VersionUsage(e.fn, e.version)
			e.mu.Lock()
			e.most = max(e.most, n)
			e.mu.Unlock()
		}
	}
}

func (e *envCounter) max() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.most
}

// cpu is the mean vCPUs the environments used between the first and the
// last reading (-1 when it cannot tell: an environment went, taking its
// CPU time with it).
func (e *envCounter) cpu() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.end.Sub(e.start)
	if d <= 0 || e.cpu1 < e.cpu0 {
		return -1
	}
	return float64(e.cpu1-e.cpu0) / float64(d)
}
