package render

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"image/color"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"lambdabench/bench/internal/charts"
	"lambdabench/bench/internal/stats"
)

// MaxScatterPoints is the most samples per endpoint the latency scatter
// draws; larger sets are sampled at random (with a fixed seed, so a chart
// rebuilt from the same samples is the same). The averages, distribution
// and bars use every sample they are given.
const MaxScatterPoints = 5000

// scenarioEndpoints returns the scenario's endpoints in display order.
func scenarioEndpoints(sc charts.LoadScenario) []string {
	if len(sc.Endpoints) > 0 {
		return sc.Endpoints
	}
	seen := map[string]bool{}
	for _, p := range sc.Points {
		seen[p.Endpoint] = true
	}
	for e := range sc.Summaries {
		seen[e] = true
	}
	for e := range sc.Dist {
		seen[e] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// LoadPanel writes the 2×2 chart of a load scenario: latency of every
// request over time with the stage boundaries (at most MaxScatterPoints per
// endpoint; failed requests as crosses), the 1-second average latency per
// endpoint, the latency distribution per endpoint (box p25–p75, line at the
// median, whiskers p1–p99), and avg/p50/p95/p99 bars per endpoint.
// Latency axes turn logarithmic when the values span more than 50×.
func LoadPanel(path string, sc charts.LoadScenario) error {
	eps := scenarioEndpoints(sc)
	colors := map[string]color.RGBA{}
	for i, e := range eps {
		colors[e] = colorAt(i)
	}
	byEndpoint := map[string][]charts.LoadPoint{}
	failed := 0
	for _, p := range sc.Points {
		byEndpoint[p.Endpoint] = append(byEndpoint[p.Endpoint], p)
		if !p.OK {
			failed++
		}
	}
	scatter, err := latencyScatter(sc, eps, colors, byEndpoint)
	if err != nil {
		return fmt.Errorf("load panel %s: %w", sc.Name, err)
	}
	avg, err := averageLines(sc, eps, colors, byEndpoint)
	if err != nil {
		return fmt.Errorf("load panel %s: %w", sc.Name, err)
	}
	dist, err := distribution(sc, eps, colors)
	if err != nil {
		return fmt.Errorf("load panel %s: %w", sc.Name, err)
	}
	bars, err := percentileBars(sc, eps)
	if err != nil {
		return fmt.Errorf("load panel %s: %w", sc.Name, err)
	}
	title := fmt.Sprintf("Load scenario %q: %d endpoints, %d requests", sc.Name, len(eps), len(sc.Points))
	if len(sc.Points) > 0 {
		title += fmt.Sprintf(", %d failed (%.2f%%)", failed, 100*float64(failed)/float64(len(sc.Points)))
	}
	padTop := vg.Points(34)
	if sc.Note != "" {
		padTop = vg.Points(58)
	}
	return save(path, panelW, panelH, func(dc draw.Canvas) {
		tiles := draw.Tiles{
			Rows: 2, Cols: 2,
			PadTop: padTop, PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(12),
			PadX: vg.Points(24), PadY: vg.Points(20),
		}
		plots := [][]*plot.Plot{{scatter, avg}, {dist, bars}}
		canvases := plot.Align(plots, tiles, dc)
		for r := range plots {
			for c := range plots[r] {
				plots[r][c].Draw(canvases[r][c])
			}
		}
		sty := draw.TextStyle{
			Color: color.Black, Font: font.From(sans, 17), Handler: plot.DefaultTextHandler,
			XAlign: draw.XCenter, YAlign: draw.YTop,
		}
		dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - vg.Points(8)}, title)
		if sc.Note != "" {
			sty.Color, sty.Font = noteColor, font.From(sans, 14)
			dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - vg.Points(32)}, sc.Note)
		}
	})
}

// noteColor is the colour of a warning in a chart's title.
var noteColor = color.RGBA{R: 0xb0, A: 0xff}

// sampleSeed derives the scatter's shuffle seed from the endpoint name, so
// each endpoint gets its own fixed sample.
func sampleSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// downsample returns at most n of pts, chosen by a seeded shuffle, in the
// shuffled order (which also spreads overdraw evenly).
func downsample(pts []charts.LoadPoint, n int, seed uint64) []charts.LoadPoint {
	out := slices.Clone(pts)
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(n, len(out))]
}

func latencyScatter(sc charts.LoadScenario, eps []string, colors map[string]color.RGBA, byEndpoint map[string][]charts.LoadPoint) (*plot.Plot, error) {
	title := "Latency of each request over time"
	if slices.ContainsFunc(eps, func(e string) bool { return len(byEndpoint[e]) > MaxScatterPoints }) {
		title += fmt.Sprintf(" (random %d per endpoint shown)", MaxScatterPoints)
	}
	p := newPlot(title, "Time since start (s)", "Latency (ms)")
	if len(sc.Points) == 0 {
		noData(p, "no requests")
		return p, nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, pt := range sc.Points {
		if pt.LatencyMs > 0 {
			lo, hi = min(lo, pt.LatencyMs), max(hi, pt.LatencyMs)
		}
	}
	logY := wideRange(lo, hi)
	p.Legend.Top, p.Legend.Left = true, true
	anyFailed := false
	var failures []plot.Plotter
	for _, e := range eps {
		pts := byEndpoint[e]
		if len(pts) == 0 {
			continue
		}
		if len(pts) > MaxScatterPoints {
			pts = downsample(pts, MaxScatterPoints, sampleSeed(e))
		}
		var ok, bad plotter.XYs
		for _, pt := range pts {
			y := pt.LatencyMs
			if logY && !(y > 0) {
				y = lo // a log axis cannot show 0: pin to the floor
			}
			if pt.OK {
				ok = append(ok, plotter.XY{X: pt.T, Y: y})
			} else {
				bad = append(bad, plotter.XY{X: pt.T, Y: y})
			}
		}
		c := colors[e]
		if len(ok) > 0 {
			s, err := plotter.NewScatter(ok)
			if err != nil {
				return nil, fmt.Errorf("scatter %s: %w", e, err)
			}
			s.GlyphStyle = draw.GlyphStyle{Color: withAlpha(c, 0.35), Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}
			p.Add(s)
			thumb := *s
			thumb.GlyphStyle.Color, thumb.GlyphStyle.Radius = c, vg.Points(3)
			p.Legend.Add(e, &thumb)
		}
		if len(bad) > 0 {
			anyFailed = true
			s, err := plotter.NewScatter(bad)
			if err != nil {
				return nil, fmt.Errorf("scatter %s failures: %w", e, err)
			}
			// Black so that failures stand out from every endpoint's cloud;
			// the summary table gives the failures per endpoint.
			s.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(3.5), Shape: draw.CrossGlyph{}}
			failures = append(failures, s)
		}
	}
	for _, s := range failures { // on top of every endpoint's successes
		p.Add(s)
	}
	if anyFailed {
		legend := draw.GlyphStyle{Color: color.Black, Radius: vg.Points(3), Shape: draw.CrossGlyph{}}
		p.Legend.Add("failed request", glyphThumb(legend))
	}
	addStages(p, sc.StageBoundaries)
	latencyAxis(p, logY, lo, hi)
	return p, nil
}

// glyphThumb is a legend entry showing one glyph.
type glyphThumb draw.GlyphStyle

// Thumbnail implements plot.Thumbnailer.
func (g glyphThumb) Thumbnail(c *draw.Canvas) {
	c.DrawGlyph(draw.GlyphStyle(g), c.Center())
}

// addStages draws the stage boundaries and keeps them inside the x axis.
func addStages(p *plot.Plot, boundaries []float64) {
	if len(boundaries) == 0 {
		return
	}
	v := vLines{xs: boundaries, style: lineStyle(color.Gray{Y: 70}, 1.2, 6, 4)}
	p.Add(v)
	p.Legend.Add("stage boundary", v)
	p.X.Min = min(p.X.Min, slices.Min(boundaries))
	p.X.Max = max(p.X.Max, slices.Max(boundaries))
}

func averageLines(sc charts.LoadScenario, eps []string, colors map[string]color.RGBA, byEndpoint map[string][]charts.LoadPoint) (*plot.Plot, error) {
	p := newPlot("Average latency per second (successful requests)", "Time since start (s)", "Latency (ms)")
	type bucket struct {
		sum float64
		n   int
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var lines []struct {
		endpoint string
		xys      plotter.XYs
	}
	for _, e := range eps {
		buckets := map[int]*bucket{}
		for _, pt := range byEndpoint[e] {
			if !pt.OK {
				continue
			}
			k := int(math.Floor(pt.T))
			b := buckets[k]
			if b == nil {
				b = &bucket{}
				buckets[k] = b
			}
			b.sum += pt.LatencyMs
			b.n++
		}
		if len(buckets) == 0 {
			continue
		}
		var xys plotter.XYs
		for _, k := range slices.Sorted(maps.Keys(buckets)) {
			b := buckets[k]
			y := b.sum / float64(b.n)
			xys = append(xys, plotter.XY{X: float64(k) + 0.5, Y: y})
			if y > 0 {
				lo, hi = min(lo, y), max(hi, y)
			}
		}
		lines = append(lines, struct {
			endpoint string
			xys      plotter.XYs
		}{e, xys})
	}
	if len(lines) == 0 {
		noData(p, "no successful requests")
		return p, nil
	}
	logY := wideRange(lo, hi)
	p.Legend.Top, p.Legend.Left = true, true
	for _, ln := range lines {
		if logY {
			for i := range ln.xys {
				ln.xys[i].Y = max(ln.xys[i].Y, lo)
			}
		}
		l, err := plotter.NewLine(ln.xys)
		if err != nil {
			return nil, fmt.Errorf("average %s: %w", ln.endpoint, err)
		}
		l.LineStyle = lineStyle(colors[ln.endpoint], 1.8)
		p.Add(l)
		p.Legend.Add(ln.endpoint, l)
	}
	addStages(p, sc.StageBoundaries)
	latencyAxis(p, logY, lo, hi)
	return p, nil
}

func distribution(sc charts.LoadScenario, eps []string, colors map[string]color.RGBA) (*plot.Plot, error) {
	p := newPlot("Latency distribution (box p25–p75, line p50, whiskers p1–p99)", "", "Latency (ms)")
	lo, hi := math.Inf(1), math.Inf(-1)
	type box struct {
		i                          int
		p1, p25, p50, p75, p99, mx float64
		n                          int
	}
	var boxes []box
	for i, e := range eps {
		vals := slices.Clone(sc.Dist[e])
		if len(vals) == 0 {
			continue
		}
		slices.Sort(vals)
		b := box{
			i: i, n: len(vals),
			p1: stats.NearestRank(vals, 1), p25: stats.NearestRank(vals, 25), p50: stats.NearestRank(vals, 50),
			p75: stats.NearestRank(vals, 75), p99: stats.NearestRank(vals, 99), mx: vals[len(vals)-1],
		}
		boxes = append(boxes, b)
		if b.p1 > 0 {
			lo = min(lo, b.p1)
		}
		hi = max(hi, b.p99)
	}
	names := make([]string, len(eps))
	for i, e := range eps {
		names[i] = e
		if n := len(sc.Dist[e]); n > 0 {
			names[i] = fmt.Sprintf("%s\n(n=%d)", e, n)
		}
	}
	nominalX(p, names)
	if len(boxes) == 0 {
		noData(p, "no latency samples")
		return p, nil
	}
	logY := wideRange(lo, hi)
	for _, b := range boxes {
		// NewBoxPlot needs values; the five numbers are then replaced by
		// nearest-rank percentiles so the box agrees with the summaries.
		bp, err := plotter.NewBoxPlot(vg.Points(46), float64(b.i), plotter.Values{b.p1, b.p50, b.p99})
		if err != nil {
			return nil, fmt.Errorf("distribution %s: %w", eps[b.i], err)
		}
		fix := func(v float64) float64 {
			if logY {
				return max(v, lo)
			}
			return v
		}
		bp.Median, bp.Quartile1, bp.Quartile3 = fix(b.p50), fix(b.p25), fix(b.p75)
		bp.AdjLow, bp.AdjHigh = fix(b.p1), fix(b.p99)
		bp.Min, bp.Max = bp.AdjLow, bp.AdjHigh
		bp.Outside = nil
		c := colors[eps[b.i]]
		bp.FillColor = withAlpha(c, 0.3)
		bp.BoxStyle = lineStyle(c, 1.5)
		bp.WhiskerStyle = lineStyle(c, 1.5)
		bp.MedianStyle = lineStyle(color.Black, 2.2)
		bp.CapWidth = vg.Points(20)
		p.Add(bp)
	}
	latencyAxis(p, logY, lo, hi)
	return p, nil
}

func percentileBars(sc charts.LoadScenario, eps []string) (*plot.Plot, error) {
	p := newPlot("Latency summary per endpoint", "", "Latency (ms)")
	nominalX(p, eps)
	if !slices.ContainsFunc(eps, func(e string) bool { return sc.Summaries[e].N > 0 }) {
		noData(p, "no summaries")
		return p, nil
	}
	metrics := []struct {
		name  string
		value func(stats.Summary) float64
		color color.RGBA
	}{
		{"avg", func(s stats.Summary) float64 { return s.Mean }, rgb(0xa6a6a6)},
		{"p50", func(s stats.Summary) float64 { return s.P50 }, rgb(0x9ecae1)},
		{"p95", func(s stats.Summary) float64 { return s.P95 }, rgb(0x3182bd)},
		{"p99", func(s stats.Summary) float64 { return s.P99 }, rgb(0x08306b)},
	}
	width := vg.Points(22)
	if len(eps) > 4 {
		width = vg.Points(12)
	}
	p.Legend.Top = true
	maxY := 0.0
	for mi, m := range metrics {
		vals := make(plotter.Values, len(eps))
		xys := make(plotter.XYs, len(eps))
		labels := make([]string, len(eps))
		for i, e := range eps {
			s := sc.Summaries[e]
			vals[i] = m.value(s)
			xys[i] = plotter.XY{X: float64(i), Y: vals[i]}
			if s.N > 0 {
				labels[i] = formatMs(vals[i])
			}
			maxY = max(maxY, vals[i])
		}
		bc, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("bars %s: %w", m.name, err)
		}
		bc.Color = m.color
		bc.LineStyle.Width = 0
		bc.Offset = width * vg.Length(float64(mi)-1.5)
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return nil, fmt.Errorf("bar labels %s: %w", m.name, err)
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font = font.From(sans, 8)
			lb.TextStyle[i].XAlign = draw.XCenter
		}
		lb.Offset = vg.Point{X: bc.Offset, Y: vg.Points(2)}
		p.Add(bc, lb)
		p.Legend.Add(m.name, bc)
	}
	p.Y.Min = 0
	p.Y.Max = maxY * 1.3 // room for the value labels and the legend
	return p, nil
}

// Concurrency writes two stacked panels sharing the time axis: execution
// environments (top) and in-flight invocations (bottom) per function, as
// steps (a value holds until the next sample).
func Concurrency(path, title string, series []charts.ConcurrencySeries) error {
	hasCPU := false
	for _, s := range series {
		if len(s.Environments) != len(s.T) || len(s.InFlight) != len(s.T) {
			return fmt.Errorf("concurrency %s: %d times, %d environment and %d in-flight values: want the same number",
				s.Name, len(s.T), len(s.Environments), len(s.InFlight))
		}
		if len(s.CPU) > 0 && len(s.CPU) != len(s.T) {
			return fmt.Errorf("concurrency %s: %d times, %d CPU values: want the same number", s.Name, len(s.T), len(s.CPU))
		}
		hasCPU = hasCPU || len(s.CPU) > 0
	}
	envs := newPlot("Execution environments (triangles: scaling decisions)", "", "Environments")
	inflight := newPlot("In-flight invocations", "Time since start (s)", "Invocations in flight")
	var cpu *plot.Plot
	panels := []*plot.Plot{envs, inflight}
	if hasCPU {
		inflight.X.Label.Text = ""
		cpu = newPlot("Mean CPU utilisation of the environments (used or waited for, % of their vCPUs)", "Time since start (s)", "CPU %")
		panels = append(panels, cpu)
	}
	hasData := false
	tMin, tMax := math.Inf(1), math.Inf(-1)
	for i, s := range series {
		if len(s.T) == 0 {
			continue
		}
		hasData = true
		tMin, tMax = min(tMin, slices.Min(s.T)), max(tMax, slices.Max(s.T))
		lines := []struct {
			p      *plot.Plot
			values []float64
		}{{envs, s.Environments}, {inflight, s.InFlight}}
		if len(s.CPU) > 0 {
			lines = append(lines, struct {
				p      *plot.Plot
				values []float64
			}{cpu, s.CPU})
		}
		for _, panel := range lines {
			xys := make(plotter.XYs, 0, len(s.T))
			for j := range s.T {
				if !math.IsNaN(panel.values[j]) {
					xys = append(xys, plotter.XY{X: s.T[j], Y: panel.values[j]})
				}
			}
			if len(xys) == 0 {
				continue
			}
			slices.SortStableFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
			l, err := plotter.NewLine(xys)
			if err != nil {
				return fmt.Errorf("concurrency %s: %w", s.Name, err)
			}
			l.StepStyle = plotter.PostStep
			l.LineStyle = lineStyle(colorAt(i), 2)
			panel.p.Add(l)
			panel.p.Legend.Add(s.Name, l)
		}
		if len(s.Events) > 0 {
			xys := make(plotter.XYs, len(s.Events))
			for j, t := range s.Events {
				xys[j] = plotter.XY{X: t, Y: valueAt(s.T, s.Environments, t)}
			}
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return fmt.Errorf("concurrency %s: %w", s.Name, err)
			}
			sc.GlyphStyle.Shape = draw.TriangleGlyph{}
			sc.GlyphStyle.Color = colorAt(i)
			sc.GlyphStyle.Radius = vg.Points(5)
			envs.Add(sc)
		}
	}
	for _, p := range panels {
		if !hasData {
			noData(p, "no samples")
			continue
		}
		p.Legend.Top, p.Legend.Left = true, true
		p.Y.Min = 0
		p.X.Min, p.X.Max = tMin, tMax // the same time axis on every panel
	}
	return save(path, stackW, stackH, func(dc draw.Canvas) {
		tiles := draw.Tiles{
			Rows: len(panels), Cols: 1,
			PadTop: vg.Points(40), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12),
			PadY: vg.Points(16),
		}
		plots := make([][]*plot.Plot, len(panels))
		for i, p := range panels {
			plots[i] = []*plot.Plot{p}
		}
		canvases := plot.Align(plots, tiles, dc)
		for i, p := range panels {
			p.Draw(canvases[i][0])
		}
		sty := draw.TextStyle{
			Color: color.Black, Font: font.From(sans, 16), Handler: plot.DefaultTextHandler,
			XAlign: draw.XCenter, YAlign: draw.YTop,
		}
		if strings.Contains(title, "host-bound") {
			sty.Color = noteColor
		}
		dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - vg.Points(8)}, title)
	})
}

// valueAt is the step function (ts, vs) at t: the value of the last time at or before t.
func valueAt(ts, vs []float64, t float64) float64 {
	v := 0.0
	best := math.Inf(-1)
	for i, x := range ts {
		if x <= t && x > best {
			best, v = x, vs[i]
		}
	}
	return v
}

// formatMs writes a latency with the precision that matters at its size.
func formatMs(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
