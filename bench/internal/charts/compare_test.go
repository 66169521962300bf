package charts

import (
	"path/filepath"
	"testing"
)

func TestCompare(t *testing.T) {
	lowDPI(t)
	wide := make([]float64, 1000) // more samples than dots, a wide range: log axis
	for i := range wide {
		wide[i] = 1 + float64(i*i)
	}
	tests := []struct {
		name string
		rows []CompareRow
	}{
		{"two rows", []CompareRow{{"x86_64 1536 MB", []float64{130, 131, 135, 128}, []float64{262, 260, 270}}, {"x86_64 2048 MB", []float64{98, 99}, []float64{197, 199}}}},
		{"one side empty", []CompareRow{{"a", nil, []float64{1, 2, 3}}}},
		{"one sample each, all equal", []CompareRow{{"a", []float64{5}, []float64{5}}}},
		{"zeros", []CompareRow{{"errors", []float64{0, 0, 0}, []float64{0, 0}}}},
		{"wide range", []CompareRow{{"latency", wide, wide[:10]}}},
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
