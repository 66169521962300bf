package render

import (
	"path/filepath"
	"testing"

	"lambdabench/bench/internal/charts"
)

func TestCompare(t *testing.T) {
	lowDPI(t)
	wide := make([]float64, 1000) // more samples than dots, a wide range: log axis
	for i := range wide {
		wide[i] = 1 + float64(i*i)
	}
	tests := []struct {
		name string
		rows []charts.CompareRow
	}{
		{"two rows", []charts.CompareRow{{Name: "x86_64 1536 MB", Old: []float64{130, 131, 135, 128}, New: []float64{262, 260, 270}}, {Name: "x86_64 2048 MB", Old: []float64{98, 99}, New: []float64{197, 199}}}},
		{"one side empty", []charts.CompareRow{{Name: "a", Old: nil, New: []float64{1, 2, 3}}}},
		{"one sample each, all equal", []charts.CompareRow{{Name: "a", Old: []float64{5}, New: []float64{5}}}},
		{"zeros", []charts.CompareRow{{Name: "errors", Old: []float64{0, 0, 0}, New: []float64{0, 0}}}},
		{"wide range", []charts.CompareRow{{Name: "latency", Old: wide, New: wide[:10]}}},
		{"no rows", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.png")
			if err := Compare(path, "title", "ms", "old", "new", tt.rows); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, path, 10, 6)
		})
	}
}
