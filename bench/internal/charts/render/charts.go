// Package render draws the benchmark's PNG charts with gonum/plot: duration
// percentiles, speedup, cost and cold starts of the architecture × memory
// matrix, the 2×2 panel of a load scenario, execution environments over
// time, old-vs-new comparisons, and an LMI tune's latency and cost against
// load. Linking it in installs it as package charts' renderer.
package render

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution of every chart.
const DPI = 120

// dpi is the resolution save renders at: DPI, lowered by tests that only
// check that a chart draws, to keep them fast.
var dpi = DPI

// Chart sizes: a single chart, the 2×2 load panel, the two-panel
// concurrency chart.
const (
	singleW, singleH = 10 * vg.Inch, 6 * vg.Inch
	panelW, panelH   = 16 * vg.Inch, 10 * vg.Inch
	stackW, stackH   = 10 * vg.Inch, 8 * vg.Inch
)

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// palette is a set of distinct colours (Tableau 10) for endpoints and
// functions, in order.
var palette = []color.RGBA{
	rgb(0x1f77b4), rgb(0xff7f0e), rgb(0x2ca02c), rgb(0xd62728), rgb(0x9467bd),
	rgb(0x8c564b), rgb(0xe377c2), rgb(0x7f7f7f), rgb(0xbcbd22), rgb(0x17becf),
}

func rgb(hex uint32) color.RGBA {
	return color.RGBA{R: uint8(hex >> 16), G: uint8(hex >> 8), B: uint8(hex), A: 0xff}
}

func colorAt(i int) color.RGBA { return palette[i%len(palette)] }

// withAlpha returns c at opacity a (0–1), premultiplied as image/color wants.
func withAlpha(c color.RGBA, a float64) color.RGBA {
	return color.RGBA{
		R: uint8(float64(c.R) * a), G: uint8(float64(c.G) * a), B: uint8(float64(c.B) * a), A: uint8(255 * a),
	}
}

// newPlot returns a plot with the package's fonts, a light grid and the
// given title and axis labels.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 14)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 12)
		a.Tick.Label.Font = font.From(sans, 10)
		a.Tick.Marker = niceTicks{}
	}
	p.Legend.TextStyle.Font = font.From(sans, 10)
	p.Legend.Padding = vg.Points(4)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	p.Add(g)
	return p
}

// save renders draw onto a w×h PNG canvas and writes it to path. gonum/plot
// panics on some degenerate inputs; that becomes an error here.
func save(path string, w, h vg.Length, render func(dc draw.Canvas)) (err error) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("draw %s: %v", path, r)
			}
		}()
		render(draw.New(c))
	}()
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write chart %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write chart %s: %w", path, err)
	}
	return nil
}

// saveOne writes a single plot as a standard-size PNG.
func saveOne(path string, p *plot.Plot) error {
	return save(path, singleW, singleH, func(dc draw.Canvas) { p.Draw(dc) })
}

// lineStyle returns a line of colour c, width w points, with dashes
// (lengths in points; none for a solid line).
func lineStyle(c color.Color, w float64, dashes ...float64) draw.LineStyle {
	ls := draw.LineStyle{Color: c, Width: vg.Points(w)}
	for _, d := range dashes {
		ls.Dashes = append(ls.Dashes, vg.Points(d))
	}
	return ls
}

// useLogY switches p's y axis to a log scale with readable ticks.
func useLogY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
}

// latencyAxis sets a latency y axis: a log scale padded around lo..hi,
// or linear from zero.
func latencyAxis(p *plot.Plot, logY bool, lo, hi float64) {
	if !logY {
		p.Y.Min = 0
		return
	}
	useLogY(p)
	p.Y.Min, p.Y.Max = lo*0.9, hi*1.1
}

// wideRange reports whether positive values lo..hi span enough to need a
// log axis.
func wideRange(lo, hi float64) bool { return lo > 0 && hi/lo > 50 }

// logTicks marks 1, 2 and 5 × 10^k on a log axis (every integer multiple
// when the range is too narrow to show three of those, linear ticks when
// it is narrower still).
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: formatTick(lo)}}
	}
	var ticks []plot.Tick
	labelled := 0
	for k := math.Floor(math.Log10(lo)); k <= math.Ceil(math.Log10(hi)); k++ {
		for m := 1.0; m < 10; m++ {
			v := m * math.Pow(10, k)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = formatTick(v)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if len(ticks) < 2 { // less than a decade between two integer multiples
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	if labelled < 3 {
		for i := range ticks {
			ticks[i].Label = formatTick(ticks[i].Value)
		}
	}
	return ticks
}

func formatTick(v float64) string {
	if math.Abs(v) >= 1 {
		return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// vLines draws vertical lines across the whole data area at x positions
// (stage boundaries). It has no data range of its own.
type vLines struct {
	xs    []float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (v vLines) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, x := range v.xs {
		px := trX(x)
		if c.ContainsX(px) {
			c.StrokeLine2(v.style, px, c.Min.Y, px, c.Max.Y)
		}
	}
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (v vLines) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(v.style, x, c.Min.Y, x, c.Max.Y)
}

// nominalX labels positions 0..n-1 of p's x axis with names and keeps
// every position inside the axis, even for a single name.
func nominalX(p *plot.Plot, names []string) {
	if len(names) == 0 {
		return
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
}

// noData marks an empty plot so that it reads as such rather than broken.
func noData(p *plot.Plot, what string) {
	p.Title.Text += "\n(" + what + ")"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
}

// niceTicks labels a linear axis at about seven round values (1, 2, 2.5 or
// 5 × 10^k apart), with an unlabelled minor tick between labels.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return []plot.Tick{{Value: lo, Label: formatTick(lo)}}
	}
	raw := (hi - lo) / 7
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{2, 2.5, 5, 10} {
		if math.Abs(m*mag-raw) < math.Abs(step-raw) {
			step = m * mag
		}
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / step * 2); i/2*step <= hi*(1+1e-12); i++ {
		v := i / 2 * step
		t := plot.Tick{Value: v}
		if math.Mod(i, 2) == 0 {
			t.Label = formatTick(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
