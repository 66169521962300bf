package render

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"lambdabench/bench/internal/charts"
	"lambdabench/bench/internal/stats"
)

// maxComparePoints bounds the dots drawn per box; the box itself always
// covers every sample.
const maxComparePoints = 300

// Compare draws each row's distribution before and after side by side: a
// box (p25–p75, line at p50, whiskers p1–p99, all nearest rank) per side,
// old on the left in blue, new on the right in orange, with the samples as
// dots. oldName and newName label the two sides in the legend.
func Compare(path, title, unit, oldName, newName string, rows []charts.CompareRow) error {
	p := newPlot(title+" (box p25–p75, line p50, whiskers p1–p99; dots: samples)", "", unit)
	names := make([]string, len(rows))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, r := range rows {
		names[i] = fmt.Sprintf("%s\n(n=%d+%d)", r.Name, len(r.Old), len(r.New))
		for _, v := range slices.Concat(r.Old, r.New) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	nominalX(p, names)
	if math.IsInf(lo, 0) {
		noData(p, "no samples")
		return saveOne(path, p)
	}
	logY := wideRange(lo, hi)
	sides := []struct {
		name   string
		offset float64
		c      color.RGBA
		pick   func(charts.CompareRow) []float64
	}{
		{oldName, -0.2, rgb(0x4c72b0), func(r charts.CompareRow) []float64 { return r.Old }},
		{newName, 0.2, rgb(0xdd8452), func(r charts.CompareRow) []float64 { return r.New }},
	}
	for si, s := range sides {
		var legendBox *plotter.BoxPlot
		for i, r := range rows {
			vals := slices.Clone(s.pick(r))
			if len(vals) == 0 {
				continue
			}
			slices.Sort(vals)
			x := float64(i) + s.offset
			// NewBoxPlot needs values; its five numbers are then replaced
			// by nearest-rank percentiles so the box agrees with the
			// tables.
			bp, err := plotter.NewBoxPlot(vg.Points(28), x, plotter.Values(vals))
			if err != nil {
				return fmt.Errorf("compare chart %s: %w", r.Name, err)
			}
			bp.Median = stats.NearestRank(vals, 50)
			bp.Quartile1, bp.Quartile3 = stats.NearestRank(vals, 25), stats.NearestRank(vals, 75)
			bp.AdjLow, bp.AdjHigh = stats.NearestRank(vals, 1), stats.NearestRank(vals, 99)
			bp.Min, bp.Max = bp.AdjLow, bp.AdjHigh
			bp.Outside = nil
			bp.FillColor = withAlpha(s.c, 0.3)
			bp.BoxStyle = lineStyle(s.c, 1.5)
			bp.WhiskerStyle = lineStyle(s.c, 1.5)
			bp.MedianStyle = lineStyle(color.Black, 2)
			bp.CapWidth = vg.Points(14)
			p.Add(bp)
			if legendBox == nil {
				legendBox = bp
			}
			pts := dots(vals, x, uint64(si*1000+i))
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return fmt.Errorf("compare chart %s: %w", r.Name, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: withAlpha(s.c, 0.7), Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}
			p.Add(sc)
		}
		if legendBox != nil {
			p.Legend.Add(s.name, boxThumb{fill: withAlpha(s.c, 0.3), line: lineStyle(s.c, 1.5)})
		}
	}
	p.Legend.Top = true
	if logY {
		useLogY(p)
		p.Y.Min, p.Y.Max = lo*0.9, hi*1.1
	} else {
		pad := (hi - lo) * 0.05
		if pad == 0 {
			pad = math.Max(math.Abs(hi)*0.05, 1)
		}
		p.Y.Min, p.Y.Max = math.Max(0, lo-pad), hi+pad
		if lo < 0 {
			p.Y.Min = lo - pad
		}
	}
	return saveOne(path, p)
}

// dots places up to maxComparePoints samples around x with a small
// deterministic horizontal jitter, so that equal values stay visible.
func dots(sorted []float64, x float64, seed uint64) plotter.XYs {
	step := 1
	if len(sorted) > maxComparePoints {
		step = (len(sorted) + maxComparePoints - 1) / maxComparePoints
	}
	rng := rand.New(rand.NewPCG(seed, 0x636f6d70))
	var pts plotter.XYs
	for i := 0; i < len(sorted); i += step {
		pts = append(pts, plotter.XY{X: x + (rng.Float64()-0.5)*0.12, Y: sorted[i]})
	}
	return pts
}

// boxThumb is a legend entry for a box: a filled, outlined square.
type boxThumb struct {
	fill color.Color
	line draw.LineStyle
}

// Thumbnail implements plot.Thumbnailer.
func (b boxThumb) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(b.fill, pts)
	c.StrokeLines(b.line, append(pts, pts[0]))
}
