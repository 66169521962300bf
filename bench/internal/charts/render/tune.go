package render

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"lambdabench/bench/internal/charts"
)

// TunePowerView draws the AWS Lambda Power Tuning view of a tune run on one
// picture: warm p50, p95 and p99 duration against memory (top) and the cost
// per 1M invocations against memory (bottom), one colour per architecture,
// the same memory axis on both. Unmeasured rows are left out and named.
func TunePowerView(path, title string, rows []charts.MatrixRow) error {
	groups, unmeasured := groupByArch(rows, func(r charts.MatrixRow) bool { return r.Summary.N > 0 })
	dur := newPlot("", "Memory (MB)", "Warm duration (ms)")
	cst := newPlot("", "Memory (MB)", "Cost per 1M invocations (USD)")
	title += unmeasuredNote(unmeasured)
	if len(groups) == 0 {
		noData(dur, "no measured configuration")
		noData(cst, "no measured configuration")
	}
	for _, g := range groups {
		if err := addPercentileLines(dur, g); err != nil {
			return fmt.Errorf("power view: %w", err)
		}
		xys := make(plotter.XYs, 0, len(g.rows))
		for _, r := range g.rows {
			if r.CostPerMillion > 0 {
				xys = append(xys, plotter.XY{X: float64(r.MemoryMB), Y: r.CostPerMillion})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("power view cost %s: %w", g.arch, err)
		}
		l.LineStyle = lineStyle(g.color, 2)
		s.GlyphStyle = draw.GlyphStyle{Color: g.color, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
		cst.Add(l, s)
		cst.Legend.Add(g.arch+" $ per 1M", l, s)
	}
	if len(groups) > 0 {
		ticks := memoryTicks(groups)
		for _, p := range []*plot.Plot{dur, cst} {
			p.Legend.Top = true
			p.X.Tick.Marker = ticks
			p.Y.Min = 0
			if wideRange(ticks[0].Value, ticks[len(ticks)-1].Value) {
				p.X.Scale = plot.LogScale{}
			}
		}
	}
	return save(path, stackW, stackH, func(dc draw.Canvas) {
		tiles := draw.Tiles{
			Rows: 2, Cols: 1,
			PadTop: vg.Points(40), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12),
			PadY: vg.Points(16),
		}
		canvases := plot.Align([][]*plot.Plot{{dur}, {cst}}, tiles, dc)
		dur.Draw(canvases[0][0])
		cst.Draw(canvases[1][0])
		sty := draw.TextStyle{
			Color: color.Black, Font: font.From(sans, 14), Handler: plot.DefaultTextHandler,
			XAlign: draw.XCenter, YAlign: draw.YTop,
		}
		dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - vg.Points(8)}, title)
	})
}
