//go:build !linux

package procstat

import (
	"errors"
	"time"
)

var errUnsupported = errors.New("not supported on this operating system")

// ThreadID returns 0: OS thread ids are only read on Linux.
func ThreadID() int { return 0 }

// ResidentKB is only implemented on Linux.
func ResidentKB() (int64, error) { return 0, errUnsupported }

// CPUTime is only implemented on Linux.
func CPUTime() (time.Duration, error) { return 0, errUnsupported }

func cgroupCPUQuota() float64 { return 0 }
