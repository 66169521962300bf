package compare

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A folder written in the benchmark format and read back gives the same
// rows and samples (to 9 significant digits).
func TestBenchfmtRoundTrip(t *testing.T) {
	for _, dir := range []string{"../../testdata/report/matrix", "../../testdata/report/suite"} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			runs, err := Read(dir, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := WriteBenchfmt(&b, runs); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "run.txt")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			back, err := Read(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(back) != len(runs) {
				t.Fatalf("%d runs back, want %d", len(back), len(runs))
			}
			for i, r := range runs {
				got := back[i]
				var measured []*Row // rows not measured have no samples to write
				for _, row := range r.Rows {
					if row.Skip == "" {
						measured = append(measured, row)
					}
				}
				if got.Kind != r.Kind || len(got.Rows) != len(measured) {
					t.Fatalf("run %d: kind %s, %d rows; want %s, %d", i, got.Kind, len(got.Rows), r.Kind, len(measured))
				}
				for j, row := range measured {
					g := got.Rows[j]
					if g.Key != row.Key {
						t.Fatalf("row %d: key %q, want %q", j, g.Key, row.Key)
					}
					for _, u := range unitsOf(r.Kind) {
						want, have := row.Samples[u.metric], g.Samples[u.metric]
						if len(want) != len(have) {
							t.Fatalf("%s %s: %d samples back, want %d", row.Key, u.metric, len(have), len(want))
						}
						for k := range want {
							if math.Abs(have[k]-want[k]) > 1e-8*math.Abs(want[k]) {
								t.Fatalf("%s %s sample %d: %v back, want %v", row.Key, u.metric, k, have[k], want[k])
							}
						}
					}
				}
			}
		})
	}
}

func TestReadBenchfmtRefuses(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"go test output", "goos: linux\nBenchmarkEncode/format=json-48 690848 1726 ns/op\n", "not a benchmark file written by 'bench report --format benchfmt'"},
		{"unknown unit", "bench-kind: tune\nBenchmarkTune/arch=arm64/memory=1024 1 0.01 sec/op 5 B/op\n", `unit "B/op"`},
		{"bad name", "bench-kind: tune\nBenchmarkTune/arch=arm64 1 0.01 sec/op\n", "want arch= and memory=MB"},
		{"other kind's name", "bench-kind: load\nBenchmarkTune/arch=arm64/memory=1024 1 0.01 sec/op\n", "want BenchmarkLoad"},
		{"syntax", "bench-kind: tune\nBenchmarkTune/arch=arm64/memory=1024 1 fast sec/op\n", "run.txt:2"},
		{"empty", "bench-kind: tune\n", "no benchmark lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.txt")
			if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path, ReadOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), ErrInput.Error()) {
				t.Fatalf("err = %v, want bad input with %q", err, tt.want)
			}
		})
	}
}

// A name ending in -N (a stage "step-2", a rate "1e-05") is read back as
// written, not as a GOMAXPROCS suffix.
func TestReadBenchfmtTrailingDash(t *testing.T) {
	tests := []struct {
		name, line, wantKey string
	}{
		{"offered", "BenchmarkTuneLMI/config=2048MB-2GiB_vCPU-c1/offered=1e-05 1 0.5 sec/op", lmiRowKey("2048MB-2GiB/vCPU-c1", 1e-05)},
		{"config", "BenchmarkTuneLMI/offered=2/config=2048MB-2GiB_vCPU-c1-2 1 0.5 sec/op", lmiRowKey("2048MB-2GiB/vCPU-c1-2", 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "run.txt")
			if err := os.WriteFile(p, []byte("bench-kind: tune-lmi\n\n"+tt.line+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			runs, err := ReadBenchfmt(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || len(runs[0].Rows) != 1 || runs[0].Rows[0].Key != tt.wantKey {
				t.Fatalf("rows %+v, want key %q", runs[0].Rows, tt.wantKey)
			}
		})
	}
}
