package probe

import (
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{`{"wall_ms": 250}`, 250, ""},
		{`{"wall_ms": 0}`, 0, "greater than 0"},
		{`{"wall_ms": 60001}`, 0, "at most 60000"},
		{`{"wall_ms": "x"}`, 0, "want"},
		{`nope`, 0, "want"},
	}
	for _, tt := range tests {
		r, err := Decode([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Decode(%s) = %v, %v; want an error about %q", tt.in, r, err, tt.wantErr)
			}
			continue
		}
		if err != nil || r.WallMs != tt.want {
			t.Errorf("Decode(%s) = %v, %v", tt.in, r, err)
		}
	}
}

// TestRunRecordsPauses drives Run with a fake CPU clock and checks what it
// reports: the wall time it spun, the CPU time between the clock's two
// readings, and pauses that are ordered gaps longer than 1 ms. (Pauses made
// by a real CPU quota are checked end to end by bench calibrate's tests.)
func TestRunRecordsPauses(t *testing.T) {
	calls := 0
	cpu := func() (time.Duration, error) {
		calls++
		return time.Duration(calls) * 10 * time.Millisecond, nil
	}
	out, err := Run(Request{WallMs: 30}, cpu)
	if err != nil {
		t.Fatal(err)
	}
	if out.WallMs < 30 || out.WallMs > 1000 {
		t.Errorf("wall %v ms, want about 30", out.WallMs)
	}
	if out.CPUMs != 10 {
		t.Errorf("cpu %v ms, want the 10 ms between the fake clock's readings", out.CPUMs)
	}
	var prevEnd float64
	for _, p := range out.Pauses {
		if p[1] <= 1 || p[0] < prevEnd {
			t.Errorf("pause %v: shorter than 1 ms or overlapping the one before", p)
		}
		prevEnd = p[0] + p[1]
	}
	if out.GOMAXPROCS < 1 || out.NumCPU < 1 {
		t.Errorf("gomaxprocs %d, num_cpu %d", out.GOMAXPROCS, out.NumCPU)
	}
}
