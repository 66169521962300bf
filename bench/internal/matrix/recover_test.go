package matrix

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/cost"
)

// writeRun writes a matrix folder of 44 samples (45 lines with the header):
// two configurations, each 2 cold starts and 20 warm invocations, and its
// summary.json unless meta is nil. It returns the lines of samples.csv.
func writeRun(t *testing.T, dir string, meta *Meta) []string {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var samples []Sample
	start := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for c, cfg := range []struct {
		fn  string
		mem int
		ms  float64
	}{{"f1", 1536, 1200}, {"f2", 4096, 400}} {
		for i := range 22 {
			s := blank(Sample{Function: cfg.fn, Arch: "x86_64", MemoryMB: cfg.mem, Workers: 1, VCPUs: VCPUsFor(cfg.mem, 0)})
			s.Time = start.Add(time.Duration(c*22+i) * time.Second)
			s.Kind, s.Seq, s.OK = KindWarm, i-1, true
			if i < 2 {
				s.Kind, s.Seq, s.InitMs = KindCold, i+1, 40
			}
			s.DurationMs, s.BilledMs, s.MaxMemoryMB, s.RoundTripMs = cfg.ms+float64(i), cfg.ms+float64(i), 30, cfg.ms+float64(i)+2
			s.HandlerMs, s.Processed, s.Mode, s.HandlerWork = cfg.ms+float64(i)-1, 20, "parallel", float64(c+1)
			s.DetectedCPUs, s.Gomaxprocs, s.ThreadsUsed, s.CPUMs, s.Parallelism, s.MemoryUsedKB = float64(c+1), float64(c+1), float64(c+1), cfg.ms, float64(c+1), 2048
			samples = append(samples, s)
			if err := w.Write(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "samples.csv"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if meta != nil {
		s, err := Build(samples, *meta, cost.Default(), false)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WriteJSON(filepath.Join(dir, "summary.json")); err != nil {
			t.Fatal(err)
		}
	}
	return strings.SplitAfter(buf.String(), "\n")
}

// snapshot is every file of dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestRebuildRefusesDamageInTheMiddle(t *testing.T) {
	meta := Meta{Target: "local", Trim: 0.2, Strategy: "cost", Weight: 0.5, Cold: 2, Runs: 20}
	tests := []struct {
		name   string
		damage func(line string) string
		want   string
	}{
		{"stray quote", func(l string) string { return strings.Replace(l, ",f1,", `,"f1,`, 1) }, "line 12: extraneous"},
		{"missing fields", func(l string) string { return l[:len(l)/2] + "\n" }, "line 12: wrong number of fields"},
		{"bad number", func(l string) string { return strings.Replace(l, ",1536,", ",lots,", 1) }, "line 12: column memory_mb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			lines := writeRun(t, dir, &meta)
			if n := len(lines) - 1; n != 45 { // SplitAfter leaves an empty last element
				t.Fatalf("%d lines, want 45", n)
			}
			lines[11] = tt.damage(lines[11])
			if err := os.WriteFile(filepath.Join(dir, "samples.csv"), []byte(strings.Join(lines, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			_, _, err := Rebuild(dir, cost.Default(), "")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), filepath.Join(dir, "samples.csv")) {
				t.Fatalf("err = %v, want the file and %q", err, tt.want)
			}
			after := snapshot(t, dir)
			if len(after) != len(before) {
				t.Errorf("folder changed: %d files, was %d", len(after), len(before))
			}
			for name, b := range before {
				if after[name] != b {
					t.Errorf("%s was rewritten", name)
				}
			}
		})
	}
}

func TestRebuildSkipsTornLastLineWithWarning(t *testing.T) {
	dir := t.TempDir()
	meta := Meta{Target: "local", Trim: 0.2, Strategy: "cost", Weight: 0.5, Cold: 2, Runs: 20}
	lines := writeRun(t, dir, &meta)
	// kill -9 while the 45th line was half written.
	whole := strings.Join(lines[:44], "")
	if err := os.WriteFile(filepath.Join(dir, "samples.csv"), []byte(whole+lines[44][:30]), 0o644); err != nil {
		t.Fatal(err)
	}
	s, warnings, err := Rebuild(dir, cost.Default(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "line 45 was cut off (30 bytes)") {
		t.Errorf("warnings = %q, want the torn line 45", warnings)
	}
	n := 0
	for _, r := range s.Results {
		n += r.Warm.N + r.ColdSeen
	}
	if n != 43 {
		t.Errorf("rebuilt from %d samples, want all 43 complete ones", n)
	}
	if s.Meta.Strategy != "cost" {
		t.Errorf("settings lost: %+v", s.Meta)
	}
}

func TestRebuildRecoversSummary(t *testing.T) {
	tests := []struct {
		name    string
		summary string // "" = none
		kept    bool   // the damaged file is kept beside
	}{
		{"missing", "", false},
		{"damaged", `{"kind":"matrix","meta":{"tar`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRun(t, dir, nil)
			if tt.summary != "" {
				if err := os.WriteFile(filepath.Join(dir, "summary.json"), []byte(tt.summary), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, warnings, err := Rebuild(dir, cost.Default(), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 1 {
				t.Fatalf("warnings = %q, want one", warnings)
			}
			for _, want := range []string{"summary.json is " + tt.name, "not recovered: target", "strategy (balanced used)", "trim (0.2 used)", "prices source", "balanced weight"} {
				if !strings.Contains(warnings[0], want) {
					t.Errorf("warning %q lacks %q", warnings[0], want)
				}
			}
			// What the samples tell is recovered, not left zero.
			if want := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC); !s.Meta.Started.Equal(want) {
				t.Errorf("started %v, want the first sample's time %v", s.Meta.Started, want)
			}
			if s.Meta.Cold != 2 || s.Meta.Runs != 20 || s.Meta.Target != "unknown" || s.Kind != "matrix" {
				t.Errorf("recovered meta %+v (kind %s)", s.Meta, s.Kind)
			}
			b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			var back Summary
			if err := json.Unmarshal(b, &back); err != nil || back.Verdict == nil {
				t.Errorf("summary.json not rebuilt: %v", err)
			}
			kept, err := os.ReadFile(filepath.Join(dir, "summary.json.damaged"))
			if tt.kept != (err == nil) || (tt.kept && string(kept) != tt.summary) {
				t.Errorf("damaged summary kept = %v (%q), want %v", err == nil, kept, tt.kept)
			}
		})
	}
}

func TestRecoverMetaTellsTuneFromMatrix(t *testing.T) {
	var samples []Sample
	for i, mem := range []int{128, 256} {
		s := blank(Sample{Function: "my-fn", Arch: "arm64", MemoryMB: mem, Workers: 1})
		s.Time, s.Kind, s.OK = time.Unix(int64(10-i), 0), KindWarm, true
		samples = append(samples, s)
	}
	meta, lost := RecoverMeta(samples)
	if meta.Kind != "tune" || meta.Tune == nil || meta.Tune.Function != "my-fn" || meta.Started.Unix() != 9 {
		t.Errorf("tune meta %+v %+v", meta, meta.Tune)
	}
	if !strings.Contains(strings.Join(lost, ";"), "cold starts only") {
		t.Errorf("lost %q lacks tune settings", lost)
	}
	samples[1].Function = "other"
	if meta, _ := RecoverMeta(samples); meta.Kind != "" || meta.Tune != nil {
		t.Errorf("two functions read as tune: %+v", meta)
	}
	// One configuration: only tune's aliases tell.
	one := samples[:1]
	if meta, _ := RecoverMeta(one); meta.Kind != "" {
		t.Errorf("one matrix configuration read as tune: %+v", meta)
	}
	one[0].Qualifier = "bench-tune-tpaenj-arm-128"
	if meta, _ := RecoverMeta(one); meta.Kind != "tune" {
		t.Errorf("a tune alias not read as tune: %+v", meta)
	}
}
