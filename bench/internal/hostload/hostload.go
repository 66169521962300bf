// Package hostload measures how busy this machine is during a local run, once a second: the
// host's CPU utilisation (from /proc/stat) and the CPU the local Lambda's busy execution
// environments were entitled to (the sum of their quotas). A second in which the host was nearly
// full while environments were running invocations is saturated: the environments then competed
// for this machine's cores — with each other (when their quotas add up to more than its cores) or
// with the machine's other processes — and latencies measured in it say more about the machine
// than about Lambda. Results covering such seconds are marked host-bound.
package hostload

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultInterval = time.Second
	// DefaultThreshold is the share of all cores busy at which the host counts as full.
	DefaultThreshold = 0.9
	// SaturatedShare is the share of a window's seconds that must be saturated for the window
	// (a load stage, a matrix configuration) to be marked host-bound.
	SaturatedShare = 0.1
)

// HostBoundNote is the warning reports print next to host-bound results.
const HostBoundNote = "host-bound: these latencies measure this machine, not Lambda"

// Sample is one interval of the host.
type Sample struct {
	Time      time.Time // end of the interval
	HostCPU   float64   // share of all cores busy, 0..1 (/proc/stat: everything but idle and iowait)
	BusyVCPUs float64   // sum of the vCPU quotas of the environments busy during the interval
	Saturated bool      // HostCPU >= threshold while environments were busy (BusyVCPUs > 0)
}

// Source reads the host's cumulative CPU time: busy and total, in any one unit.
type Source interface {
	CPUTimes() (busy, total uint64, err error)
}

// ProcStat reads the aggregate "cpu" line of /proc/stat (Path; "" = /proc/stat).
type ProcStat struct{ Path string }

// CPUTimes returns busy (all but idle and iowait) and total jiffies since boot.
func (p ProcStat) CPUTimes() (busy, total uint64, err error) {
	path := p.Path
	if path == "" {
		path = "/proc/stat"
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("host CPU: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, fmt.Errorf("host CPU: %w", err)
	}
	return ParseCPULine(line)
}

// ParseCPULine parses the aggregate line of /proc/stat: "cpu user nice system idle iowait irq
// softirq steal guest guest_nice". Guest time is already counted in user and nice.
func ParseCPULine(line string) (busy, total uint64, err error) {
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("host CPU: not the cpu line of /proc/stat: %q", line)
	}
	var v [8]uint64
	for i := 1; i < len(f) && i <= len(v); i++ {
		if v[i-1], err = strconv.ParseUint(f[i], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("host CPU: field %d of %q: %w", i, line, err)
		}
	}
	for _, x := range v {
		total += x
	}
	idle := v[3] + v[4]
	return total - idle, total, nil
}

// Options configures a Monitor.
type Options struct {
	Cores     int           // the host's cores (runtime.NumCPU()), for the record
	Interval  time.Duration // 0 = DefaultInterval
	Threshold float64       // 0 = DefaultThreshold
	Source    Source        // nil = ProcStat{}
	// Demand returns the vCPUs of the environments busy since its previous call
	// (locallambda.Server.BusyVCPUs); nil = none known.
	Demand func() float64
}

// Monitor records a Sample per interval.
type Monitor struct {
	o         Options
	lastBusy  uint64
	lastTotal uint64

	mu      sync.Mutex
	samples []Sample

	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a monitor with its first reading taken; call Observe, or Start and Stop.
func New(o Options) (*Monitor, error) {
	if o.Cores < 1 {
		return nil, errors.New("host monitor: no cores")
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Threshold <= 0 {
		o.Threshold = DefaultThreshold
	}
	if o.Source == nil {
		o.Source = ProcStat{}
	}
	m := &Monitor{o: o}
	var err error
	if m.lastBusy, m.lastTotal, err = o.Source.CPUTimes(); err != nil {
		return nil, err
	}
	if o.Demand != nil {
		o.Demand() // start a fresh interval
	}
	return m, nil
}

// Observe ends an interval at now and records its sample.
func (m *Monitor) Observe(now time.Time) (Sample, error) {
	busy, total, err := m.o.Source.CPUTimes()
	if err != nil {
		return Sample{}, err
	}
	s := Sample{Time: now}
	if dt := total - m.lastTotal; total > m.lastTotal {
		s.HostCPU = float64(busy-min(busy, m.lastBusy)) / float64(dt)
	}
	m.lastBusy, m.lastTotal = busy, total
	if m.o.Demand != nil {
		s.BusyVCPUs = m.o.Demand()
	}
	s.Saturated = s.HostCPU >= m.o.Threshold && s.BusyVCPUs > 0
	m.mu.Lock()
	m.samples = append(m.samples, s)
	m.mu.Unlock()
	return s, nil
}

// Start observes every interval until Stop.
func (m *Monitor) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	go func() {
		defer close(m.done)
		t := time.NewTicker(m.o.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				_, _ = m.Observe(now) // a failed read leaves a gap
			}
		}
	}()
}

// Stop ends Start's observations and returns every sample.
func (m *Monitor) Stop() []Sample {
	if m.cancel != nil {
		m.cancel()
		<-m.done
		m.cancel = nil
	}
	return m.Samples()
}

// Samples returns the samples so far.
func (m *Monitor) Samples() []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Sample(nil), m.samples...)
}

// Saturation is how busy the host was over a window of a run: what summary.json records per load
// stage and matrix configuration.
type Saturation struct {
	// HostCPUSaturated is set when at least SaturatedShare of the window's seconds were saturated.
	HostCPUSaturated bool `json:"host_cpu_saturated"`
	// SaturatedShare is the share of the window's seconds that were saturated (0..1).
	SaturatedShare float64 `json:"host_saturated_share"`
	// HostCPUMean is the mean share of all cores busy (0..1); BusyVCPUsMax the most vCPUs the busy
	// environments were entitled to in one second; Seconds the samples in the window.
	HostCPUMean  float64 `json:"host_cpu_mean"`
	BusyVCPUsMax float64 `json:"host_busy_vcpus_max"`
	Seconds      int     `json:"host_seconds"`
}

// Window summarizes the samples whose interval's middle lies in [start, end]; nil when none does.
func Window(samples []Sample, interval time.Duration, start, end time.Time) *Saturation {
	if interval <= 0 {
		interval = DefaultInterval
	}
	var w Saturation
	sat := 0
	for _, s := range samples {
		mid := s.Time.Add(-interval / 2)
		if mid.Before(start) || mid.After(end) {
			continue
		}
		w.Seconds++
		w.HostCPUMean += s.HostCPU
		w.BusyVCPUsMax = max(w.BusyVCPUsMax, s.BusyVCPUs)
		if s.Saturated {
			sat++
		}
	}
	if w.Seconds == 0 {
		return nil
	}
	w.HostCPUMean /= float64(w.Seconds)
	w.SaturatedShare = float64(sat) / float64(w.Seconds)
	w.HostCPUSaturated = w.SaturatedShare >= SaturatedShare
	return &w
}

// Mark is how tables mark a window: "" when not host-bound, else "host-bound (63% of the time)".
func (s *Saturation) Mark() string {
	if s == nil || !s.HostCPUSaturated {
		return ""
	}
	return fmt.Sprintf("host-bound (%.0f%% of the time)", 100*s.SaturatedShare)
}

// csvHeader names the columns of host.csv.
var csvHeader = []string{"time", "host_cpu", "busy_vcpus", "saturated"}

// File is the name of the per-second host record in a results folder.
const File = "host.csv"

// WriteCSV writes samples as host.csv.
func WriteCSV(w io.Writer, samples []Sample) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	for _, s := range samples {
		_ = cw.Write([]string{
			s.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			strconv.FormatFloat(s.HostCPU, 'f', 4, 64),
			strconv.FormatFloat(s.BusyVCPUs, 'f', 3, 64),
			strconv.FormatBool(s.Saturated),
		})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write %s: %w", File, err)
	}
	return nil
}

// WriteFile writes samples to path as host.csv.
func WriteFile(path string, samples []Sample) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", File, err)
	}
	if err := WriteCSV(f, samples); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", File, err)
	}
	return nil
}

// ReadFile reads a host.csv; a missing file is no samples and no error.
func ReadFile(path string) ([]Sample, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", File, err)
	}
	defer f.Close()
	return ReadCSV(f)
}

// ReadCSV reads samples written by WriteCSV.
func ReadCSV(r io.Reader) ([]Sample, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", File, err)
	}
	var out []Sample
	for i, rec := range recs {
		if i == 0 {
			if strings.Join(rec, ",") != strings.Join(csvHeader, ",") {
				return nil, fmt.Errorf("read %s: header %q, want %q", File, rec, csvHeader)
			}
			continue
		}
		if len(rec) != len(csvHeader) {
			return nil, fmt.Errorf("read %s line %d: %d fields, want %d", File, i+1, len(rec), len(csvHeader))
		}
		var s Sample
		var e1, e2, e3, e4 error
		s.Time, e1 = time.Parse(time.RFC3339Nano, rec[0])
		s.HostCPU, e2 = strconv.ParseFloat(rec[1], 64)
		s.BusyVCPUs, e3 = strconv.ParseFloat(rec[2], 64)
		s.Saturated, e4 = strconv.ParseBool(rec[3])
		if err := errors.Join(e1, e2, e3, e4); err != nil {
			return nil, fmt.Errorf("read %s line %d: %w", File, i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}
