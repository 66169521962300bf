package lmitune

import (
	"sync"
	"time"

	"lambdabench/bench/internal/target"
)

// envCounter follows a version's execution environments on the local
// Lambda while a step runs: the most it had at once, and the CPU time they
// used.
type envCounter struct {
	mu       sync.Mutex
	most     int
	cpuStart time.Duration
	cpuEnd   time.Duration
	ok       bool
}

func (e *envCounter) watch(lt *target.LocalTarget, fn, version string, stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	read := func() {
		n, cpu := lt.Server.VersionUsage(fn, version)
		e.mu.Lock()
		defer e.mu.Unlock()
		e.most = max(e.most, n)
		if !e.ok {
			e.cpuStart, e.ok = cpu, true
		}
		e.cpuEnd = cpu
	}
	read()
	for {
		select {
		case <-stop:
			read()
			return
		case <-t.C:
			read()
		}
	}
}

func (e *envCounter) max() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.most
}

// cpu is the mean vCPUs the environments used over d.
func (e *envCounter) cpu(d time.Duration) float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.ok || d <= 0 {
		return -1
	}
	return float64(e.cpuEnd-e.cpuStart) / float64(d)
}
