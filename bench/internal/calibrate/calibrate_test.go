package calibrate

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// throttled is a probe answer of an environment held to quota ms of CPU in
// every period ms, for wall ms, starting phase ms into a period.
func throttled(t *testing.T, period, quota, wall, phase float64) []byte {
	t.Helper()
	pauses := [][2]float64{}
	if quota >= period { // never throttled
		b, _ := json.Marshal(probeResponse{WallMs: wall, CPUMs: wall, Pauses: pauses})
		return b
	}
	cpu := 0.0
	now := 0.0
	left := quota - phase // the first period's quota, partly used before the probe began
	for now < wall {
		run := math.Min(math.Max(left, 0), wall-now)
		cpu += run
		now += run
		if now >= wall {
			break
		}
		next := (math.Floor((now+phase)/period) + 1) * period // the next refill
		p := next - phase - now
		pauses = append(pauses, [2]float64{now, p})
		now += p
		left = quota
	}
	b, err := json.Marshal(probeResponse{WallMs: wall, CPUMs: cpu, Pauses: pauses, GOMAXPROCS: 2, NumCPU: 2})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name                  string
		period, quota, phase  float64
		wantShare, wantPeriod float64
	}{
		{"128 MB at 20 ms", 20, 1.447, 0.3, 0.0724, 20},
		{"512 MB at 20 ms", 20, 5.79, 2, 0.289, 20},
		{"1024 MB at 100 ms", 100, 57.9, 10, 0.579, 100},
		{"not throttled", 20, 20, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Analyze(throttled(t, tt.period, tt.quota, 1000, tt.phase))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.Share-tt.wantShare) > 0.05*tt.wantShare {
				t.Errorf("share %.4f, want %.4f", r.Share, tt.wantShare)
			}
			if math.Abs(r.PeriodMs-tt.wantPeriod) > 0.01 {
				t.Errorf("period %.3f ms, want %v", r.PeriodMs, tt.wantPeriod)
			}
			if tt.wantPeriod > 0 && math.Abs(r.RunP50Ms-tt.quota) > 0.01 {
				t.Errorf("run p50 %.3f ms, want the quota %v", r.RunP50Ms, tt.quota)
			}
		})
	}
	for _, bad := range []string{`nope`, `{"wall_ms":0,"cpu_ms":1}`, `{"count":3}`} {
		if _, err := Analyze([]byte(bad)); err == nil {
			t.Errorf("Analyze(%s) accepted", bad)
		}
	}
}

// TestAnalyzeOnABusyHost: pauses made by other processes split some
// periods into two spacings at random; the period found is still the
// throttling's.
func TestAnalyzeOnABusyHost(t *testing.T) {
	var pauses [][2]float64
	now := 0.0
	// 100 ms period, 58 ms quota; every other period another process
	// takes the core for 3–9 ms in the middle of the run.
	for k := 0; k < 10; k++ {
		run := 58.0
		if k%2 == 1 {
			pre := 20.0 + float64(k)
			pauses = append(pauses, [2]float64{now + pre, 3 + float64(k%4)*2})
			now += pre + 3 + float64(k%4)*2
			run -= pre
		}
		now += run
		next := float64(k+1) * 100
		pauses = append(pauses, [2]float64{now, next - now})
		now = next
	}
	b, _ := json.Marshal(probeResponse{WallMs: now, CPUMs: 580, Pauses: pauses})
	r, err := Analyze(b)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.PeriodMs-100) > 1 {
		t.Errorf("period %.1f ms on a busy host, want 100", r.PeriodMs)
	}
}

func TestShare(t *testing.T) {
	f := &File{Kind: Kind, Sizes: []Size{{MemoryMB: 128, Share: 0.1}, {MemoryMB: 1024, Share: 0.6}}}
	tests := []struct {
		mb   int
		want float64
	}{
		{64 + 64, 0.1},
		{64, 0.05},     // below: in proportion to the smallest
		{576, 0.35},    // halfway between
		{2048, 1.2},    // above: in proportion to the largest
		{10240 * 4, 6}, // at most 6
		{10240, 6},
	}
	for _, tt := range tests {
		if got := f.Share(tt.mb); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Share(%d) = %v, want %v", tt.mb, got, tt.want)
		}
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"kind":"calibration","target":"aws","period_ms":20.1,"sizes":[{"memory_mb":128,"share":0.07},{"memory_mb":512,"share":0.29}]}`)
	f, err := Read(good)
	if err != nil || f.Period().Milliseconds() != 20 || len(f.Sizes) != 2 {
		t.Fatalf("Read(good) = %+v, %v", f, err)
	}
	for name, body := range map[string]string{
		"cut.json":      `{"kind":"calibration","sizes":[{"memory_mb":128,`,
		"kind.json":     `{"kind":"matrix","sizes":[{"memory_mb":128,"share":0.07}]}`,
		"share.json":    `{"kind":"calibration","sizes":[{"memory_mb":128,"share":0}]}`,
		"order.json":    `{"kind":"calibration","sizes":[{"memory_mb":512,"share":0.3},{"memory_mb":128,"share":0.07}]}`,
		"period.json":   `{"kind":"calibration","period_ms":5000,"sizes":[{"memory_mb":128,"share":0.07}]}`,
		"no-sizes.json": `{"kind":"calibration","sizes":[]}`,
	} {
		if _, err := Read(write(name, body)); !errors.Is(err, ErrDamaged) {
			t.Errorf("Read(%s) = %v, want ErrDamaged", name, err)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing.json")); err == nil || errors.Is(err, ErrDamaged) {
		t.Errorf("Read(missing) = %v", err)
	}
}
