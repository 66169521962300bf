package load

import (
	"math"
	"strings"
	"testing"
	"time"
)

func mustStages(t *testing.T, s string, integer bool) Stages {
	t.Helper()
	ss, err := ParseStages(s, integer)
	if err != nil {
		t.Fatalf("ParseStages(%q): %v", s, err)
	}
	return ss
}

func TestParseStages(t *testing.T) {
	tests := []struct {
		in      string
		integer bool
		want    Stages
		wantErr string
	}{
		{in: "30s:8,1m:8,30s:16", integer: true, want: Stages{{30 * time.Second, 8}, {time.Minute, 8}, {30 * time.Second, 16}}},
		{in: " 3m:64 , 6m:64 ,3m:128 ", integer: true, want: Stages{{3 * time.Minute, 64}, {6 * time.Minute, 64}, {3 * time.Minute, 128}}},
		{in: "0s:50,10s:50", want: Stages{{0, 50}, {10 * time.Second, 50}}},
		{in: "500ms:2.5", want: Stages{{500 * time.Millisecond, 2.5}}},
		{in: "", wantErr: "empty stages"},
		{in: "30s", wantErr: "want duration:target"},
		{in: "30:8", wantErr: "bad duration"},
		{in: "30s:x", wantErr: "bad target"},
		{in: "30s:-1", wantErr: "must not be negative"},
		{in: "-5s:1", wantErr: "between 0s"},
		{in: "30s:2.5", integer: true, wantErr: "whole number"},
		{in: "0s:5", wantErr: "last 0s"},
		{in: "10s:8,,10s:8", wantErr: "stage 2"},
		{in: "10s:NaN", wantErr: "bad target"},
		{in: "48h:1", wantErr: "between 0s"},
	}
	for _, tt := range tests {
		got, err := ParseStages(tt.in, tt.integer)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseStages(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseStages(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseStages(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseStages(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
		// String gives back what ParseStages reads.
		again := mustStages(t, got.String(), false)
		if again.String() != got.String() {
			t.Errorf("round trip of %q: %q then %q", tt.in, got.String(), again.String())
		}
	}
}

func TestStagesString(t *testing.T) {
	ss := mustStages(t, "180s:64,6m:64,90m:128,0s:3", true)
	if got, want := ss.String(), "3m:64,6m:64,1h30m:128,0s:3"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := ss.Label(0), "ramp 0→64 over 3m"; got != want {
		t.Errorf("Label(0) = %q, want %q", got, want)
	}
	if got, want := ss.Label(1), "hold 64 for 6m"; got != want {
		t.Errorf("Label(1) = %q, want %q", got, want)
	}
}

func TestVUsAt(t *testing.T) {
	s := time.Second
	ms := time.Millisecond
	ramp := mustStages(t, "10s:10", true)
	profile := mustStages(t, "30s:8,1m:8,30s:16,20s:0", true)
	tests := []struct {
		ss   Stages
		at   time.Duration
		want int
	}{
		// 10s:10 — one more VU each second, reached exactly when the line gets there.
		{ramp, -1, 0},
		{ramp, 0, 0},
		{ramp, 999 * ms, 0},
		{ramp, 1 * s, 1},
		{ramp, 5500 * ms, 5},
		{ramp, 9999 * ms, 9},
		{ramp, 10 * s, 0}, // the profile is over
		// 30s:8: 8 VUs over 30 s, one every 3.75 s.
		{profile, 3749 * ms, 0},
		{profile, 3750 * ms, 1},
		{profile, 15 * s, 4},
		{profile, 29999 * ms, 7},
		{profile, 30 * s, 8}, // hold
		{profile, 89 * s, 8},
		{profile, 90 * s, 8},     // ramp 8→16 starts at 8
		{profile, 93750 * ms, 9}, // +1 every 3.75 s
		{profile, 105 * s, 12},   // halfway
		{profile, 119999 * ms, 15},
		{profile, 120 * s, 16},        // ramp down 16→0 over 20 s
		{profile, 121 * s, 16},        // 16 - 0.8 → still 16 (rounded toward the start)
		{profile, 1250 * ms * 97, 15}, // 121.25 s: 16 - 1 = 15
		{profile, 139999 * ms, 1},
		{profile, 140 * s, 0},
	}
	for _, tt := range tests {
		if got := tt.ss.VUsAt(tt.at); got != tt.want {
			t.Errorf("%s: VUsAt(%v) = %d, want %d", tt.ss, tt.at, got, tt.want)
		}
	}
}

func TestNextActive(t *testing.T) {
	s := time.Second
	profile := mustStages(t, "10s:10,10s:10,10s:0,5s:0,5s:3", true)
	// Checked by brute force rather than by hand: NextActive must agree with
	// scanning VUsAt millisecond by millisecond.
	for n := 1; n <= 10; n++ {
		for at := time.Duration(0); at < profile.Total(); at += 700 * time.Millisecond {
			want, wantOK := time.Duration(0), false
			for x := at; x < profile.Total(); x += time.Millisecond {
				if profile.VUsAt(x) >= n {
					want, wantOK = x, true
					break
				}
			}
			got, ok := profile.NextActive(n, at)
			if ok != wantOK || (ok && (got > want || want-got >= time.Millisecond)) {
				t.Fatalf("NextActive(%d, %v) = %v, %v; scanning gives %v, %v", n, at, got, ok, want, wantOK)
			}
			if ok && profile.VUsAt(got) < n {
				t.Fatalf("NextActive(%d, %v) = %v but VUsAt there is %d", n, at, got, profile.VUsAt(got))
			}
		}
	}
	// By hand: VU 1 of a 10s:10 ramp starts at 1 s, VU 10 never in that
	// stage (it reaches 10 only at the end) but at 10 s in the hold.
	if got, ok := profile.NextActive(1, 0); !ok || got != s {
		t.Errorf("NextActive(1, 0) = %v, %v; want 1s", got, ok)
	}
	if got, ok := profile.NextActive(10, 0); !ok || got != 10*s {
		t.Errorf("NextActive(10, 0) = %v, %v; want 10s", got, ok)
	}
	// In the last stage (0→3 over 5 s from 35 s) VU 1 starts at 35 s + 5/3 s.
	if got, ok := profile.NextActive(1, 31*s); !ok || absDur(got-(35*s+5*s/3)) > 1 {
		t.Errorf("NextActive(1, 31s) = %v, %v; want ~36.667s", got, ok)
	}
	if _, ok := profile.NextActive(4, 31*s); ok {
		t.Errorf("NextActive(4, 31s) = true; VU 4 never runs again")
	}
}

func TestArrivalsAndDueTime(t *testing.T) {
	s := time.Second
	// 0s:10 jumps to 10/s; 10s:10 holds it: 100 requests, one every 100 ms.
	hold := mustStages(t, "0s:10,10s:10", false)
	// 10s:10 ramps 0→10/s: arrivals(t) = t²/2, 50 in all; the k-th at sqrt(2k).
	ramp := mustStages(t, "10s:10", false)
	tests := []struct {
		ss     Stages
		k      float64
		want   time.Duration
		wantOK bool
	}{
		{hold, 1, 100 * time.Millisecond, true},
		{hold, 50, 5 * s, true},
		{hold, 100, 10*s - 1, true}, // exactly at the end: kept in the profile
		{hold, 101, 0, false},
		{ramp, 2, 2 * s, true},  // sqrt(4)
		{ramp, 8, 4 * s, true},  // sqrt(16)
		{ramp, 32, 8 * s, true}, // sqrt(64)
		{ramp, 51, 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.ss.DueTime(tt.k)
		if ok != tt.wantOK || (ok && absDur(got-tt.want) > time.Microsecond) {
			t.Errorf("%s: DueTime(%v) = %v, %v; want %v, %v", tt.ss, tt.k, got, ok, tt.want, tt.wantOK)
		}
	}
	if got := ramp.Arrivals(4 * s); math.Abs(got-8) > 1e-9 {
		t.Errorf("ramp Arrivals(4s) = %v, want 8", got)
	}
	if got := ramp.Arrivals(time.Hour); math.Abs(got-50) > 1e-9 {
		t.Errorf("ramp Arrivals(1h) = %v, want 50", got)
	}
	if got := ramp.RateAt(2500 * time.Millisecond); got != 2.5 {
		t.Errorf("ramp RateAt(2.5s) = %v, want 2.5", got)
	}
	// DueTime inverts Arrivals across stage boundaries.
	mixed := mustStages(t, "5s:20,5s:20,5s:4,0s:50,2s:50", false)
	total := mixed.Arrivals(mixed.Total())
	for k := 1.0; k <= total; k++ {
		due, ok := mixed.DueTime(k)
		if !ok {
			t.Fatalf("DueTime(%v) not in the profile of %v arrivals", k, total)
		}
		if got := mixed.Arrivals(due); math.Abs(got-k) > 1e-3 {
			t.Fatalf("Arrivals(DueTime(%v) = %v) = %v", k, due, got)
		}
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
