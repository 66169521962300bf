package render

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lambdabench/bench/internal/charts"
	"lambdabench/bench/internal/stats"
)

// TestDraw draws through package charts, as the engines do: linking render
// installs it, and a relative path is drawn in the working directory.
func TestDraw(t *testing.T) {
	lowDPI(t)
	scenario := charts.LoadScenario{
		Name:      "s",
		Points:    []charts.LoadPoint{{T: 0.1, Endpoint: "api", LatencyMs: 2, OK: true}, {T: 1.2, Endpoint: "api", LatencyMs: 3}},
		Summaries: map[string]stats.Summary{"api": stats.Summarize([]float64{2, 3}, 0)},
		Dist:      map[string][]float64{"api": {2, 3}},
	}
	tests := []struct {
		name    string
		draw    func(path string) error
		wantW   int
		wantErr string
	}{
		{name: "load panel", draw: func(p string) error { return charts.LoadPanel(p, scenario) }, wantW: 16 * dpi},
		{name: "comparison", draw: func(p string) error {
			return charts.Compare(p, "t", "ms", "old", "new", []charts.CompareRow{{Name: "a", Old: []float64{1, 2}, New: []float64{2, 3}}})
		}, wantW: 10 * dpi},
		{name: "unknown kind", draw: func(p string) error { return Draw(charts.Request{Kind: "pie", Path: p}) }, wantErr: `unknown chart kind "pie"`},
		{name: "unwritable path", draw: func(string) error { return charts.LoadPanel(filepath.Join("missing", "chart.png"), scenario) }, wantErr: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			err := tt.draw("chart.png")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join(dir, "chart.png"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			if w := img.Bounds().Dx(); w != tt.wantW {
				t.Errorf("width %d, want %d", w, tt.wantW)
			}
		})
	}
}
