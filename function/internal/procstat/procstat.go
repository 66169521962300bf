// Package procstat reports what this process may use and has used: the CPUs it
// may run on, its resident memory, its CPU time and the id of the OS thread a
// goroutine runs on. It reads Linux interfaces (/proc, cgroups, getrusage,
// gettid); on other systems it degrades to what the Go runtime knows.
package procstat

import (
	"math"
	"runtime"
)

// CPUs describes how many CPUs the process may use and where that number comes from.
type CPUs struct {
	// Affinity is the number of CPUs in the process's scheduling affinity mask
	// (runtime.NumCPU, which calls sched_getaffinity on Linux).
	Affinity int
	// Quota is the CPU bandwidth limit of the process's cgroup (quota ÷ period,
	// the smallest along the path to the root), or 0 when there is none.
	Quota float64
	// Usable is min(Affinity, ceil(Quota)), at least 1: the number of CPUs whose
	// time the process can actually consume at once.
	Usable int
}

// DetectCPUs returns the CPUs this process may use. Unlike the Go runtime's
// default GOMAXPROCS, which rounds a cgroup limit below 2 up to 2, Usable is
// the plain ceiling of the quota, so a 0.6-vCPU environment reports 1.
func DetectCPUs() CPUs {
	c := CPUs{Affinity: runtime.NumCPU(), Quota: cgroupCPUQuota()}
	c.Usable = c.Affinity
	if c.Quota > 0 {
		if q := int(math.Ceil(c.Quota)); q < c.Usable {
			c.Usable = q
		}
	}
	if c.Usable < 1 {
		c.Usable = 1
	}
	return c
}
