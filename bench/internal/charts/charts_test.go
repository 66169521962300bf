package charts

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lambdabench/bench/internal/stats"
)

// TestDraw runs the real renderer (go run ./cmd/charts) from a working
// directory outside the checkout, with a relative output path.
func TestDraw(t *testing.T) {
	scenario := LoadScenario{
		Name:      "s",
		Points:    []LoadPoint{{T: 0.1, Endpoint: "api", LatencyMs: 2, OK: true}, {T: 1.2, Endpoint: "api", LatencyMs: 3}},
		Summaries: map[string]stats.Summary{"api": stats.Summarize([]float64{2, 3}, 0)},
		Dist:      map[string][]float64{"api": {2, 3}},
	}
	tests := []struct {
		name     string
		renderer string // RendererEnv; empty = go run
		draw     func(path string) error
		wantW    int
		wantErr  string
	}{
		{name: "load panel", draw: func(p string) error { return LoadPanel(p, scenario) }, wantW: 16 * 120},
		{name: "comparison", draw: func(p string) error {
			return Compare(p, "t", "ms", "old", "new", []CompareRow{{Name: "a", Old: []float64{1, 2}, New: []float64{2, 3}}})
		}, wantW: 10 * 120},
		{name: "unknown kind", draw: func(p string) error { return draw(Request{Kind: "pie", Path: p}) }, wantErr: `unknown chart kind "pie"`},
		{name: "missing renderer", renderer: "/nonexistent/bench-charts", draw: func(p string) error { return LoadPanel(p, scenario) }, wantErr: "/nonexistent/bench-charts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RendererEnv, tt.renderer)
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

func TestBenchModuleAbove(t *testing.T) {
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	module := filepath.Dir(filepath.Dir(here)) // bench/internal/charts → bench
	tests := []struct {
		name, dir, want string
	}{
		{"inside the module", here, module},
		{"the module", module, module},
		{"the project's root", filepath.Dir(module), module},
		{"outside", t.TempDir(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := benchModuleAbove(tt.dir)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), RendererEnv) {
					t.Fatalf("got %q, %v; want an error naming %s", got, err, RendererEnv)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
