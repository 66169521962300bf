package hostload

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// fakeSource replays cumulative (busy, total) readings.
type fakeSource struct {
	readings [][2]uint64
	i        int
}

func (f *fakeSource) CPUTimes() (uint64, uint64, error) {
	r := f.readings[min(f.i, len(f.readings)-1)]
	f.i++
	return r[0], r[1], nil
}

func TestParseCPULine(t *testing.T) {
	tests := []struct {
		line        string
		busy, total uint64
		ok          bool
	}{
		{"cpu  100 5 50 800 40 3 2 0 0 0\n", 160, 1000, true},
		{"cpu 10 0 10 80 0", 20, 100, true},
		{"cpu0 10 0 10 80 0", 0, 0, false},
		{"cpu 10 x 10 80 0", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		busy, total, err := ParseCPULine(tt.line)
		if (err == nil) != tt.ok || busy != tt.busy || total != tt.total {
			t.Errorf("ParseCPULine(%q) = %d, %d, %v; want %d, %d (ok %v)", tt.line, busy, total, err, tt.busy, tt.total, tt.ok)
		}
	}
}

func TestProcStatReadsThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat")
	}
	busy, total, err := ProcStat{}.CPUTimes()
	if err != nil || total == 0 || busy > total {
		t.Errorf("ProcStat = %d, %d, %v", busy, total, err)
	}
}

func TestMonitorMarksSaturatedSeconds(t *testing.T) {
	// Per second (200 jiffies on 2 cores): 95% busy with 3 vCPUs of environments busy (saturated:
	// they compete with each other), 95% busy with no environment busy (the machine's other
	// processes: nothing of ours measured then), 30% busy with 8 vCPUs of I/O-bound environments
	// (not saturated).
	src := &fakeSource{readings: [][2]uint64{{0, 0}, {190, 200}, {380, 400}, {440, 600}}}
	demand := []float64{0, 3, 0, 8}
	d := 0
	m, err := New(Options{Cores: 2, Source: src, Demand: func() float64 { v := demand[d]; d++; return v }})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []bool
	for i := 1; i <= 3; i++ {
		s, err := m.Observe(t0.Add(time.Duration(i) * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s.Saturated)
	}
	if want := []bool{true, false, false}; !reflect.DeepEqual(got, want) {
		t.Errorf("saturated = %v, want %v", got, want)
	}
	samples := m.Samples()
	if samples[0].HostCPU != 0.95 || samples[2].HostCPU != 0.3 || samples[2].BusyVCPUs != 8 {
		t.Errorf("samples %+v", samples)
	}

	tests := []struct {
		name       string
		start, end time.Time
		want       *Saturation
	}{
		{"all", t0, t0.Add(3 * time.Second), &Saturation{HostCPUSaturated: true, SaturatedShare: 1.0 / 3, HostCPUMean: (0.95 + 0.95 + 0.3) / 3, BusyVCPUsMax: 8, Seconds: 3}},
		{"the last two", t0.Add(time.Second), t0.Add(3 * time.Second), &Saturation{HostCPUMean: (0.95 + 0.3) / 2, BusyVCPUsMax: 8, Seconds: 2}},
		{"the first", t0, t0.Add(time.Second), &Saturation{HostCPUSaturated: true, SaturatedShare: 1, HostCPUMean: 0.95, BusyVCPUsMax: 3, Seconds: 1}},
		{"before any sample", t0.Add(-time.Hour), t0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := Window(samples, time.Second, tt.start, tt.end)
			if tt.want == nil || w == nil {
				if w != tt.want {
					t.Errorf("Window = %+v, want %+v", w, tt.want)
				}
				return
			}
			if w.Seconds != tt.want.Seconds || w.HostCPUSaturated != tt.want.HostCPUSaturated ||
				abs(w.SaturatedShare-tt.want.SaturatedShare) > 1e-9 || abs(w.HostCPUMean-tt.want.HostCPUMean) > 1e-9 ||
				w.BusyVCPUsMax != tt.want.BusyVCPUsMax {
				t.Errorf("Window = %+v, want %+v", *w, *tt.want)
			}
		})
	}
	if l := Window(samples, time.Second, t0, t0.Add(3*time.Second)).Mark(); l != "host-bound (33% of the time)" {
		t.Errorf("Mark = %q", l)
	}
	if l := (*Saturation)(nil).Mark(); l != "" {
		t.Errorf("nil Mark = %q", l)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	in := []Sample{{Time: t0, HostCPU: 0.5, BusyVCPUs: 1.16, Saturated: false}, {Time: t0.Add(time.Second), HostCPU: 0.9876, BusyVCPUs: 4, Saturated: true}}
	path := filepath.Join(t.TempDir(), File)
	if err := WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadFile(path)
	if err != nil || !reflect.DeepEqual(in, out) {
		t.Errorf("round trip: %+v, %v; want %+v", out, err, in)
	}
	if s, err := ReadFile(filepath.Join(t.TempDir(), "missing.csv")); s != nil || err != nil {
		t.Errorf("missing file: %v, %v", s, err)
	}
	for _, bad := range []string{"a,b\n", "time,host_cpu,busy_vcpus,saturated\nx,1,1,true\n", "time,host_cpu,busy_vcpus,saturated\n2026-01-01T00:00:00Z,1\n"} {
		if _, err := ReadCSV(bytes.NewBufferString(bad)); err == nil {
			t.Errorf("ReadCSV(%q): want an error", bad)
		}
	}
}

func TestStartStop(t *testing.T) {
	src := &fakeSource{readings: [][2]uint64{{0, 0}, {10, 100}}}
	m, err := New(Options{Cores: 1, Interval: time.Millisecond, Source: src})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	deadline := time.Now().Add(5 * time.Second)
	for len(m.Samples()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	n := len(m.Stop())
	if n == 0 {
		t.Fatal("no sample recorded")
	}
	time.Sleep(5 * time.Millisecond)
	if len(m.Samples()) != n {
		t.Error("samples recorded after Stop")
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
