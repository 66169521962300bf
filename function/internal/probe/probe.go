// Package probe measures how an execution environment is throttled: it
// spins on one locked thread for a stretch of wall time, recording every
// pause longer than a millisecond (the moments the thread did not run) with
// monotonic timestamps, and the CPU time the process was given. Throttled
// by a CFS quota, an environment runs its quota and then waits for the next
// period: the pauses' spacing gives the period, CPU time ÷ wall time the
// share. 'bench calibrate' invokes it as _HANDLER=probe.
package probe

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Limits of a request.
const (
	MaxWall = 60 * time.Second
	// MaxPauses bounds the pauses recorded (a 60 s probe at a 1 ms period
	// would have 60,000); later ones are counted, not kept.
	MaxPauses = 20000
	// MinPause is the shortest gap recorded as a pause.
	MinPause = time.Millisecond
)

// Request is the probe's event: {"wall_ms": N}, how long to spin.
type Request struct {
	WallMs float64 `json:"wall_ms"`
}

// Response is what the probe measured. Pauses are [start_ms, length_ms]
// pairs from the start of the spin, in order.
type Response struct {
	WallMs        float64      `json:"wall_ms"`
	CPUMs         float64      `json:"cpu_ms"`
	Pauses        [][2]float64 `json:"pauses"`
	PausesDropped int          `json:"pauses_dropped"`
	GOMAXPROCS    int          `json:"gomaxprocs"`
	NumCPU        int          `json:"num_cpu"`
}

// Decode reads and checks a request.
func Decode(payload []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(payload, &r); err != nil {
		return r, fmt.Errorf("probe: want {\"wall_ms\": N}: %w", err)
	}
	if !(r.WallMs > 0) || time.Duration(r.WallMs*float64(time.Millisecond)) > MaxWall {
		return r, fmt.Errorf("probe: wall_ms must be greater than 0 and at most %d", MaxWall.Milliseconds())
	}
	return r, nil
}

// Run spins for the request's wall time. cpuTime reads the process's CPU
// time (user + system).
func Run(r Request, cpuTime func() (time.Duration, error)) (Response, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wall := time.Duration(r.WallMs * float64(time.Millisecond))
	cpu0, err := cpuTime()
	if err != nil {
		return Response{}, err
	}
	start := time.Now()
	last := start
	out := Response{Pauses: [][2]float64{}, GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU()}
	for {
		now := time.Now() // monotonic
		if gap := now.Sub(last); gap > MinPause {
			if len(out.Pauses) < MaxPauses {
				out.Pauses = append(out.Pauses, [2]float64{ms(last.Sub(start)), ms(gap)})
			} else {
				out.PausesDropped++
			}
		}
		last = now
		if now.Sub(start) >= wall {
			break
		}
	}
	cpu1, err := cpuTime()
	if err != nil {
		return Response{}, err
	}
	out.WallMs = ms(last.Sub(start))
	out.CPUMs = ms(cpu1 - cpu0)
	if out.CPUMs <= 0 {
		return out, errors.New("probe: no CPU time measured")
	}
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
