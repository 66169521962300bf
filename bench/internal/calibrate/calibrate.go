// Package calibrate infers how execution environments are throttled from
// the function's probe handler (_HANDLER=probe): each probe spins for a
// stretch of wall time and reports its CPU time and every pause longer than
// a millisecond. An environment held to a CFS quota runs its quota, then
// waits for the next period: the spacing of the pauses' ends (the moments
// the quota is refilled) gives the period, CPU time ÷ wall time the share
// of a vCPU. calibration.json, written by 'bench calibrate', carries both
// per memory size; the local Lambda can then throttle as measured.
package calibrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"lambdabench/bench/internal/stats"
)

// FileName is the calibration's name in its results folder.
const FileName = "calibration.json"

// Kind marks a calibration file.
const Kind = "calibration"

// MBPerVCPU is Lambda's documented CPU allocation: 1,769 MB buys one vCPU.
const MBPerVCPU = 1769.0

// MaxVCPUs is the most vCPUs a standard function gets (10,240 MB).
const MaxVCPUs = 6.0

// File is calibration.json.
type File struct {
	Kind    string    `json:"kind"`
	Target  string    `json:"target"` // local or aws
	Started time.Time `json:"started"`
	// LocalPeriodMs is the local Lambda's --cpu-period when the calibration
	// measured it (target local): what the measurement should recover.
	LocalPeriodMs float64 `json:"local_cpu_period_ms,omitempty"`
	// PeriodMs is the throttling period inferred over every size (the
	// median of theirs); 0 when no size was throttled.
	PeriodMs    float64  `json:"period_ms"`
	ProbeWallMs float64  `json:"probe_wall_ms"`
	Sizes       []Size   `json:"sizes"`
	Notes       []string `json:"notes,omitempty"`
}

// Size is one memory size's measurement.
type Size struct {
	MemoryMB int    `json:"memory_mb"`
	Function string `json:"function"`
	// DocumentedShare is memory ÷ 1,769 MB (at most 6): what Lambda says
	// the size buys.
	DocumentedShare float64 `json:"documented_share"`
	// Share is the CPU time received ÷ wall time, the median over the runs.
	Share float64 `json:"share"`
	// PeriodMs is the median period of the runs that were throttled (0:
	// none was).
	PeriodMs float64 `json:"period_ms"`
	Runs     []Run   `json:"runs"`
}

// Run is one probe invocation, analysed.
type Run struct {
	WallMs float64 `json:"wall_ms"`
	CPUMs  float64 `json:"cpu_ms"`
	Share  float64 `json:"share"`
	Pauses int     `json:"pauses"`
	// PeriodMs is the median spacing of the pauses' ends (0 with fewer
	// than 3 pauses: not throttled).
	PeriodMs float64 `json:"period_ms"`
	// PauseP50Ms and RunP50Ms are the median pause and the median
	// stretch run between two pauses: quota and period minus quota when
	// throttled.
	PauseP50Ms float64 `json:"pause_p50_ms"`
	RunP50Ms   float64 `json:"run_p50_ms"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	NumCPU     int     `json:"num_cpu"`
}

// probeResponse is the probe handler's answer (function/internal/probe),
// decoded here and nowhere else.
type probeResponse struct {
	WallMs        float64      `json:"wall_ms"`
	CPUMs         float64      `json:"cpu_ms"`
	Pauses        [][2]float64 `json:"pauses"`
	PausesDropped int          `json:"pauses_dropped"`
	GOMAXPROCS    int          `json:"gomaxprocs"`
	NumCPU        int          `json:"num_cpu"`
}

// ProbeRequest is the probe's event for a spin of d.
func ProbeRequest(d time.Duration) []byte {
	return fmt.Appendf(nil, `{"wall_ms":%g}`, float64(d)/float64(time.Millisecond))
}

// Analyze decodes a probe's answer and infers its share and period.
func Analyze(payload []byte) (Run, error) {
	var p probeResponse
	if err := json.Unmarshal(payload, &p); err != nil {
		return Run{}, fmt.Errorf("probe answer: %w (is the function's handler probe?)", err)
	}
	if !(p.WallMs > 0) || p.CPUMs < 0 {
		return Run{}, fmt.Errorf("probe answer: wall %v ms, CPU %v ms: not a probe's answer (is the function's handler probe?)", p.WallMs, p.CPUMs)
	}
	r := Run{WallMs: p.WallMs, CPUMs: p.CPUMs, Share: p.CPUMs / p.WallMs, Pauses: len(p.Pauses) + p.PausesDropped,
		GOMAXPROCS: p.GOMAXPROCS, NumCPU: p.NumCPU}
	if len(p.Pauses) < 3 {
		return r, nil
	}
	var spacing, pauses, runs []float64
	for i, ps := range p.Pauses {
		pauses = append(pauses, ps[1])
		if i > 0 {
			runs = append(runs, ps[0]-(p.Pauses[i-1][0]+p.Pauses[i-1][1]))
		}
	}
	// The throttling pauses are the long ones (the rest of each period);
	// other processes taking the core away make shorter ones, at random.
	// Only the long ones' ends, where the quota is refilled, are spaced
	// by the period.
	sorted := slices.Clone(pauses)
	slices.Sort(sorted)
	long := 0.5 * stats.NearestRank(sorted, 90)
	prevEnd := math.NaN()
	for _, ps := range p.Pauses {
		if ps[1] < long {
			continue
		}
		if end := ps[0] + ps[1]; !math.IsNaN(prevEnd) {
			spacing = append(spacing, end-prevEnd)
			prevEnd = end
		} else {
			prevEnd = end
		}
	}
	r.PeriodMs = mode(spacing, 0.05)
	r.PauseP50Ms = median(pauses)
	r.RunP50Ms = median(runs)
	return r, nil
}

// Summarize fills a size's share and period from its runs.
func (s *Size) Summarize() {
	var shares, periods []float64
	for _, r := range s.Runs {
		shares = append(shares, r.Share)
		if r.PeriodMs > 0 {
			periods = append(periods, r.PeriodMs)
		}
	}
	s.Share = median(shares)
	s.PeriodMs = median(periods)
	s.DocumentedShare = DocumentedShare(s.MemoryMB)
}

// Finish sorts the sizes and infers the period over all of them.
func (f *File) Finish() {
	f.Kind = Kind
	slices.SortFunc(f.Sizes, func(a, b Size) int { return a.MemoryMB - b.MemoryMB })
	var periods []float64
	for _, s := range f.Sizes {
		if s.PeriodMs > 0 {
			periods = append(periods, s.PeriodMs)
		}
	}
	f.PeriodMs = median(periods)
}

// DocumentedShare is the vCPUs Lambda documents for a memory size.
func DocumentedShare(memoryMB int) float64 {
	return math.Min(float64(memoryMB)/MBPerVCPU, MaxVCPUs)
}

// Period is the calibration's period, or 0 when it saw none.
func (f *File) Period() time.Duration {
	return time.Duration(f.PeriodMs * float64(time.Millisecond))
}

// Share is the vCPUs a memory size gets by the calibration: measured at
// the calibrated sizes, interpolated linearly between them, and beyond
// them in proportion to memory as the nearest size measured (at most 6).
func (f *File) Share(memoryMB int) float64 {
	pts := f.Sizes
	m := float64(memoryMB)
	switch {
	case len(pts) == 0:
		return DocumentedShare(memoryMB)
	case memoryMB <= pts[0].MemoryMB:
		return m * pts[0].Share / float64(pts[0].MemoryMB)
	}
	for i := 1; i < len(pts); i++ {
		if memoryMB <= pts[i].MemoryMB {
			a, b := pts[i-1], pts[i]
			t := (m - float64(a.MemoryMB)) / float64(b.MemoryMB-a.MemoryMB)
			return a.Share + t*(b.Share-a.Share)
		}
	}
	last := pts[len(pts)-1]
	return math.Min(m*last.Share/float64(last.MemoryMB), MaxVCPUs)
}

// Write writes the calibration to path.
func (f *File) Write(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("write calibration: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write calibration: %w", err)
	}
	return nil
}

// ErrDamaged is Read's error for a file that is not a usable calibration.
var ErrDamaged = errors.New("not a usable calibration")

// Read reads a calibration.json (or the folder holding one) and checks
// that it can be used: every size measured with a share above 0.
func Read(path string) (*File, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = path + string(os.PathSeparator) + FileName
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, path, err)
	}
	if f.Kind != Kind || len(f.Sizes) == 0 {
		return nil, fmt.Errorf("%w: %s: no kind %q or no sizes (write one with 'bench calibrate')", ErrDamaged, path, Kind)
	}
	for i, s := range f.Sizes {
		if s.MemoryMB < 128 || s.MemoryMB > 10240 || !(s.Share > 0) || s.Share > MaxVCPUs ||
			(i > 0 && s.MemoryMB <= f.Sizes[i-1].MemoryMB) {
			return nil, fmt.Errorf("%w: %s: size %d: %d MB with share %v (sizes 128–10240 MB in increasing order, shares above 0 and at most 6)",
				ErrDamaged, path, i+1, s.MemoryMB, s.Share)
		}
	}
	if f.PeriodMs < 0 || (f.PeriodMs > 0 && (f.Period() < time.Millisecond || f.Period() > time.Second)) {
		return nil, fmt.Errorf("%w: %s: period %v ms (1 to 1000 ms, or 0 for none seen)", ErrDamaged, path, f.PeriodMs)
	}
	return &f, nil
}

// mode is the value most others lie within tol (relative) of: the period
// when most spacings are whole periods. On a busy host other processes
// also pause the probe; those pauses split a period into two spacings at
// random, which a median would average in, but which rarely agree with
// each other. Ties go to the larger value (a whole period rather than a
// split one); the result is the median of the cluster found.
func mode(v []float64, tol float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	best, bestN := 0, 0
	for i, x := range s {
		n := 0
		for _, y := range s {
			if math.Abs(y-x) <= tol*x {
				n++
			}
		}
		if n >= bestN {
			best, bestN = i, n
		}
	}
	var cluster []float64
	for _, y := range s {
		if math.Abs(y-s[best]) <= tol*s[best] {
			cluster = append(cluster, y)
		}
	}
	return stats.NearestRank(cluster, 50)
}

// median is the nearest-rank median (0 for none).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return stats.NearestRank(s, 50)
}
