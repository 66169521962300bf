package render

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"lambdabench/bench/internal/charts"
)

// The LMI charts are wider than a single chart: their legend (up to a
// dozen configurations) sits to the right of the data, never over it.
const lmiW, lmiH = 12 * vg.Inch, 7 * vg.Inch

// lmiPalette continues the palette with Tableau 20's light tones, so that
// a sweep of up to 20 configurations keeps distinct colours; the light
// ones are drawn with square points to tell them from their dark twins.
var lmiPalette = []color.RGBA{
	rgb(0xaec7e8), rgb(0xffbb78), rgb(0x98df8a), rgb(0xff9896), rgb(0xc5b0d5),
	rgb(0xc49c94), rgb(0xf7b6d2), rgb(0xc7c7c7), rgb(0xdbdb8d), rgb(0x9edae5),
}

// lmiStyle is configuration i's colour and point shape.
func lmiStyle(i int) (color.RGBA, draw.GlyphDrawer) {
	n := len(palette) + len(lmiPalette)
	i %= n
	if i < len(palette) {
		return palette[i], draw.CircleGlyph{}
	}
	return lmiPalette[i-len(palette)], draw.BoxGlyph{}
}

// errNoData is wrapped when a chart is asked with nothing to draw.
var errNoData = errors.New("nothing to draw")

// TuneLMILatency charts an LMI tune's latency against the offered load:
// per configuration (one colour each) the p99 (solid) and p50 (dashed) of
// the successful requests at every step, a cross on the steps that broke
// an objective, a ring and a label on the knee, and each p99 objective as
// a horizontal line. The offered load is on a log axis when it spans two
// decades or more; latency when it spans more than 50×.
func TuneLMILatency(path, title string, c charts.LMILatency) error {
	lo, hi := math.Inf(1), math.Inf(-1) // offered
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, cfg := range c.Configs {
		for _, pt := range cfg.Points {
			if !finite(pt.Offered) || !finite(pt.P50) || !finite(pt.P99) {
				continue
			}
			lo, hi = min(lo, pt.Offered), max(hi, pt.Offered)
			ylo, yhi = min(ylo, pt.P50, pt.P99), max(yhi, pt.P50, pt.P99)
		}
	}
	if len(c.Configs) == 0 || math.IsInf(lo, 0) {
		return fmt.Errorf("LMI latency chart %s: %w: no configuration has a step with successful requests", path, errNoData)
	}
	for _, s := range c.SLOs {
		if s.Ms > 0 && finite(s.Ms) {
			ylo, yhi = min(ylo, s.Ms), max(yhi, s.Ms)
		}
	}
	logX := lo > 0 && hi/lo >= 100
	ylo = positiveFloor(c, ylo)
	logY := wideRange(ylo, yhi)
	unit := c.OfferedUnit
	if unit == "" {
		unit = "virtual users"
	}
	if title == "" {
		title = "Latency against offered load"
	}
	p := newPlot(title+"\nsuccessful requests: p99 solid, p50 dashed; ring: the knee; ×: a step that broke an objective",
		"Offered load ("+unit+")", "Latency of successful requests (ms)")
	legend := lmiLegend()
	labels := pointLabels{style: draw.TextStyle{Font: font.From(sans, 9), Handler: plot.DefaultTextHandler}}
	keep := func(pt charts.LMIPoint) bool {
		return finite(pt.Offered) && finite(pt.P50) && finite(pt.P99) &&
			(!logX || pt.Offered > 0) && (!logY || (pt.P50 > 0 && pt.P99 > 0))
	}
	for i, cfg := range c.Configs {
		col, glyph := lmiStyle(i)
		var p50, p99, broke, knee plotter.XYs
		for _, pt := range cfg.Points {
			if !keep(pt) {
				continue
			}
			p50 = append(p50, plotter.XY{X: pt.Offered, Y: pt.P50})
			p99 = append(p99, plotter.XY{X: pt.Offered, Y: pt.P99})
			if !pt.Held {
				broke = append(broke, plotter.XY{X: pt.Offered, Y: pt.P99})
			}
			if pt.Knee {
				knee = append(knee, plotter.XY{X: pt.Offered, Y: pt.P99})
				if cfg.KneeLabel != "" {
					labels.points = append(labels.points, labelPoint{X: pt.Offered, Y: pt.P99, Text: cfg.KneeLabel, Color: col})
				}
			}
		}
		if len(p99) == 0 {
			continue
		}
		l50, err := plotter.NewLine(p50)
		if err != nil {
			return fmt.Errorf("LMI latency chart %s p50: %w", cfg.Label, err)
		}
		l50.LineStyle = lineStyle(col, 1.5, 5, 3)
		l99, s99, err := plotter.NewLinePoints(p99)
		if err != nil {
			return fmt.Errorf("LMI latency chart %s p99: %w", cfg.Label, err)
		}
		l99.LineStyle = lineStyle(col, 2)
		s99.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.5), Shape: glyph}
		p.Add(l50, l99, s99)
		if err := addGlyphs(p, broke, draw.GlyphStyle{Color: col, Radius: vg.Points(5), Shape: boldCross{}}); err != nil {
			return fmt.Errorf("LMI latency chart %s: %w", cfg.Label, err)
		}
		if err := addGlyphs(p, knee, draw.GlyphStyle{Color: col, Radius: vg.Points(8), Shape: boldRing{}}); err != nil {
			return fmt.Errorf("LMI latency chart %s: %w", cfg.Label, err)
		}
		legend.Add(cfg.Label, l99, s99)
	}
	p.Add(labels)
	grey := color.Gray{Y: 90}
	for _, s := range c.SLOs {
		if !(s.Ms > 0) || !finite(s.Ms) {
			continue
		}
		h := hLine{y: s.Ms, style: lineStyle(rgb(0xb22222), 1.5, 2, 3)}
		p.Add(h)
		legend.Add("objective "+s.Label, h)
	}
	legend.Add("p99", glyphLine{line: lineStyle(grey, 2)})
	legend.Add("p50", glyphLine{line: lineStyle(grey, 1.5, 5, 3)})
	legend.Add("knee", glyphThumb(draw.GlyphStyle{Color: grey, Radius: vg.Points(6), Shape: boldRing{}}))
	legend.Add("broke an objective", glyphThumb(draw.GlyphStyle{Color: grey, Radius: vg.Points(4.5), Shape: boldCross{}}))

	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.X.Min, p.X.Max = lo/1.2, hi*1.2
	} else {
		p.X.Min, p.X.Max = 0, max(hi*1.05, 1)
	}
	if logY {
		latencyAxis(p, true, ylo, yhi)
	} else {
		p.Y.Min, p.Y.Max = 0, max(yhi*1.08, 1)
	}
	return saveWithLegend(path, p, legend)
}

// positiveFloor is the smallest positive latency of c at or above lo
// (lo itself when positive): a log axis cannot show zero.
func positiveFloor(c charts.LMILatency, lo float64) float64 {
	if lo > 0 {
		return lo
	}
	best := math.Inf(1)
	for _, cfg := range c.Configs {
		for _, pt := range cfg.Points {
			for _, v := range []float64{pt.P50, pt.P99} {
				if v > 0 && finite(v) {
					best = min(best, v)
				}
			}
		}
	}
	if math.IsInf(best, 0) {
		return lo
	}
	return best
}

// TuneLMICost charts cost per hour against the request rate, both on log
// axes: one line per LMI configuration (the tune's colours) through the
// rates priced — between them the cost steps up as instances are added —,
// standard Lambda in black, and the break-even as a labelled vertical line.
// Points that a log axis cannot show (zero or negative) are left out.
func TuneLMICost(path, title string, c charts.LMICost) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	valid := func(pt charts.LMICostPoint) bool {
		return pt.RPS > 0 && pt.USDPerHour > 0 && finite(pt.RPS) && finite(pt.USDPerHour)
	}
	see := func(pts []charts.LMICostPoint) {
		for _, pt := range pts {
			if valid(pt) {
				lo, hi = min(lo, pt.RPS), max(hi, pt.RPS)
				ylo, yhi = min(ylo, pt.USDPerHour), max(yhi, pt.USDPerHour)
			}
		}
	}
	for _, s := range c.Series {
		see(s.Points)
	}
	see(c.Standard)
	if math.IsInf(lo, 0) {
		return fmt.Errorf("LMI cost chart %s: %w: no configuration and no standard Lambda figure has a cost", path, errNoData)
	}
	breakEven := c.BreakEvenRPS > 0 && finite(c.BreakEvenRPS)
	if breakEven {
		lo, hi = min(lo, c.BreakEvenRPS), max(hi, c.BreakEvenRPS)
	}
	if title == "" {
		title = "Cost per hour against request rate"
	}
	title += "\npoints: the rates priced; between them LMI's cost steps up as instances are added"
	if c.Note != "" {
		title += "\n" + c.Note
	}
	p := newPlot(title, "Request rate (req/s)", "Cost per hour (USD)")
	legend := lmiLegend()
	line := func(pts []charts.LMICostPoint, col color.Color, width float64, glyph draw.GlyphDrawer, name string) error {
		var xys plotter.XYs
		for _, pt := range pts {
			if valid(pt) {
				xys = append(xys, plotter.XY{X: pt.RPS, Y: pt.USDPerHour})
			}
		}
		if len(xys) == 0 {
			return nil
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("LMI cost chart %s: %w", name, err)
		}
		l.LineStyle = lineStyle(col, width)
		s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: glyph}
		p.Add(l, s)
		legend.Add(name, l, s)
		return nil
	}
	for i, s := range c.Series {
		col, glyph := lmiStyle(i)
		if err := line(s.Points, col, 1.8, glyph, s.Label); err != nil {
			return err
		}
	}
	if err := line(c.Standard, color.Black, 2.5, draw.BoxGlyph{}, "standard Lambda"); err != nil {
		return err
	}
	if breakEven {
		label := c.BreakEvenLabel
		if label == "" {
			label = "break-even " + formatTick(c.BreakEvenRPS) + " req/s"
		}
		m := markLine{x: c.BreakEvenRPS, label: label, style: lineStyle(color.Gray{Y: 60}, 1.5, 6, 3),
			text: draw.TextStyle{Color: color.Gray{Y: 40}, Font: font.From(sans, 10), Handler: plot.DefaultTextHandler}}
		p.Add(m)
		legend.Add(label, m)
	}
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
	p.X.Min, p.X.Max = lo/1.25, hi*1.25
	p.Y.Min, p.Y.Max = ylo/1.3, yhi*1.3
	return saveWithLegend(path, p, legend)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// lmiLegend is a legend in the package's font, drawn beside a plot.
func lmiLegend() *plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = font.From(sans, 10)
	l.Padding = vg.Points(4)
	l.Top, l.Left = true, true
	return &l
}

// saveWithLegend writes p with legend to its right, at the LMI charts'
// size; the legend's top is level with the data area's.
func saveWithLegend(path string, p *plot.Plot, legend *plot.Legend) error {
	// gonum/plot centres the y axis label on the middle of the data range,
	// which on a log axis is not the middle of the axis, and pads the top
	// of the plot for the label's overhang: the label is drawn here,
	// centred on the axis.
	yLabel, ySty := p.Y.Label.Text, p.Y.Label.TextStyle
	p.Y.Label.Text = ""
	return save(path, lmiW, lmiH, func(dc draw.Canvas) {
		pad := vg.Points(12)
		w := legend.Rectangle(dc).Size().X
		// At most 40% of the width for the legend: very long labels are
		// cut by the edge rather than squeeze the data to nothing.
		w = min(w, dc.Size().X*0.4)
		plotC := draw.Crop(dc, 0, -(w + 2*pad), 0, 0)
		if yLabel != "" {
			h := ySty.Height(yLabel)
			sty := ySty
			sty.Rotation += math.Pi / 2
			data := p.DataCanvas(draw.Crop(plotC, h+p.Y.Label.Padding, 0, 0, 0))
			dc.FillText(sty, vg.Point{X: plotC.Min.X + h - ySty.FontExtents().Descent, Y: data.Center().Y}, yLabel)
			plotC = draw.Crop(plotC, h+p.Y.Label.Padding, 0, 0, 0)
		}
		p.Draw(plotC)
		top := p.DataCanvas(plotC).Max.Y
		lc := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: dc.Max.X - w - pad, Y: dc.Min.Y},
			Max: vg.Point{X: dc.Max.X - pad, Y: top},
		}}
		legend.Draw(lc)
	})
}

// addGlyphs adds xys to p as points in sty (nothing when empty).
func addGlyphs(p *plot.Plot, xys plotter.XYs, sty draw.GlyphStyle) error {
	if len(xys) == 0 {
		return nil
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	s.GlyphStyle = sty
	p.Add(s)
	return nil
}

// boldRing is a ring drawn with a 2-point line (draw.RingGlyph's is thin).
type boldRing struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (boldRing) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(2)})
	var path vg.Path
	path.Move(vg.Point{X: pt.X + sty.Radius, Y: pt.Y})
	path.Arc(pt, sty.Radius, 0, 2*math.Pi)
	path.Close()
	c.Stroke(path)
}

// boldCross is an × drawn with a 1.8-point line.
type boldCross struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (boldCross) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	ls := draw.LineStyle{Color: sty.Color, Width: vg.Points(1.8)}
	r := sty.Radius * 0.7071
	c.StrokeLine2(ls, pt.X-r, pt.Y-r, pt.X+r, pt.Y+r)
	c.StrokeLine2(ls, pt.X-r, pt.Y+r, pt.X+r, pt.Y-r)
}

// glyphLine is a legend entry for a line style alone.
type glyphLine struct{ line draw.LineStyle }

// Thumbnail implements plot.Thumbnailer.
func (g glyphLine) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(g.line, c.Min.X, y, c.Max.X, y)
}

// hLine draws a horizontal line across the data area at y (an objective).
// It has no data range of its own: the caller makes the axis include y.
type hLine struct {
	y     float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (h hLine) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	if py := trY(h.y); c.ContainsY(py) {
		c.StrokeLine2(h.style, c.Min.X, py, c.Max.X, py)
	}
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (h hLine) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// markLine is a vertical line across the data area at x with a label at
// its top, on its right (on its left when the right has no room).
type markLine struct {
	x     float64
	label string
	style draw.LineStyle
	text  draw.TextStyle
}

// Plot implements plot.Plotter.
func (m markLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	px := trX(m.x)
	if !c.ContainsX(px) {
		return
	}
	c.StrokeLine2(m.style, px, c.Min.Y, px, c.Max.Y)
	sty := m.text
	gap := vg.Points(4)
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	at := vg.Point{X: px + gap, Y: c.Max.Y - gap}
	if px+gap+sty.Width(m.label) > c.Max.X {
		sty.XAlign = draw.XRight
		at.X = px - gap
	}
	c.FillText(sty, at, m.label)
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (m markLine) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(m.style, x, c.Min.Y, x, c.Max.Y)
}
