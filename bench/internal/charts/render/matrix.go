package render

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"lambdabench/bench/internal/charts"
	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/stats"
)

func rowLabel(r charts.MatrixRow) string {
	if r.Name != "" {
		return r.Name
	}
	return fmt.Sprintf("%s %d MB", r.Arch, r.MemoryMB)
}

func costDuration(r charts.MatrixRow) float64 {
	if r.DurationMs > 0 {
		return r.DurationMs
	}
	return r.Summary.TrimmedMean
}

// archGroup is the measured rows of one architecture, by memory.
type archGroup struct {
	arch  string
	color color.RGBA
	rows  []charts.MatrixRow
}

// archOrder puts arm64 first, x86_64 second, anything else after by name.
func archOrder(a, b string) int {
	rank := func(s string) int {
		switch s {
		case cost.ArchARM64:
			return 0
		case cost.ArchX86_64:
			return 1
		}
		return 2
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
}

// groupByArch splits the measured rows that keep accepts by architecture,
// sorted by memory, and lists the architectures with no measured row.
func groupByArch(rows []charts.MatrixRow, keep func(charts.MatrixRow) bool) (groups []archGroup, unmeasured []string) {
	var archs []string
	for _, r := range rows {
		if !slices.Contains(archs, r.Arch) {
			archs = append(archs, r.Arch)
		}
	}
	slices.SortFunc(archs, archOrder)
	for i, arch := range archs {
		g := archGroup{arch: arch, color: colorAt(i)}
		for _, r := range rows {
			if r.Arch == arch && r.Measured && keep(r) {
				g.rows = append(g.rows, r)
			}
		}
		if len(g.rows) == 0 {
			if !slices.ContainsFunc(rows, func(r charts.MatrixRow) bool { return r.Arch == arch && r.Measured }) {
				unmeasured = append(unmeasured, arch)
			}
			continue
		}
		slices.SortFunc(g.rows, func(a, b charts.MatrixRow) int { return cmp.Compare(a.MemoryMB, b.MemoryMB) })
		groups = append(groups, g)
	}
	return groups, unmeasured
}

// unmeasuredNote is the title line that says which architectures have no
// data, or "".
func unmeasuredNote(unmeasured []string) string {
	if len(unmeasured) == 0 {
		return ""
	}
	return "\n" + strings.Join(unmeasured, ", ") + ": not measured on this target"
}

// memoryTicks marks exactly the memory sizes present.
func memoryTicks(groups []archGroup) plot.ConstantTicks {
	var mems []int
	for _, g := range groups {
		for _, r := range g.rows {
			mems = append(mems, r.MemoryMB)
		}
	}
	slices.Sort(mems)
	mems = slices.Compact(mems)
	ticks := make(plot.ConstantTicks, len(mems))
	for i, m := range mems {
		ticks[i] = plot.Tick{Value: float64(m), Label: fmt.Sprint(m)}
	}
	return ticks
}

// MatrixDurations charts warm p50, p95 and p99 duration against memory, one
// colour per architecture, one line style per percentile. Unmeasured rows
// are left out and named in the title; so is the sample size below which
// p95 or p99 is simply the maximum.
func MatrixDurations(path string, rows []charts.MatrixRow) error {
	groups, unmeasured := groupByArch(rows, func(r charts.MatrixRow) bool { return r.Summary.N > 0 })
	title := "Warm duration by memory (p50 solid, p95 dashed, p99 dotted)"
	minN := math.MaxInt
	for _, g := range groups {
		for _, r := range g.rows {
			minN = min(minN, r.Summary.N)
		}
	}
	switch {
	case len(groups) == 0:
	case !stats.DistinctFromMax(minN, 95):
		title += fmt.Sprintf("\nn = %d warm runs: p95 and p99 are the maximum", minN)
	case !stats.DistinctFromMax(minN, 99):
		title += fmt.Sprintf("\nn = %d warm runs: p99 is the maximum (needs n ≥ 100)", minN)
	default:
		title += fmt.Sprintf("\nn ≥ %d warm runs per configuration", minN)
	}
	title += unmeasuredNote(unmeasured)
	p := newPlot(title, "Memory (MB)", "Duration (ms)")
	if len(groups) == 0 {
		noData(p, "no measured configuration")
		return saveOne(path, p)
	}
	p.Legend.Top = true
	for _, g := range groups {
		if err := addPercentileLines(p, g); err != nil {
			return fmt.Errorf("matrix durations: %w", err)
		}
	}
	p.X.Tick.Marker = memoryTicks(groups)
	p.Y.Min = 0
	return saveOne(path, p)
}

// MatrixSpeedup charts the speedup over the 1-worker configuration against
// the vCPUs the memory buys, per architecture, with the ideal speedup as a
// dashed line: vCPUs ÷ the baseline's vCPUs (y = x when the 1-worker
// baseline has exactly one vCPU). Rows without a speedup are left out.
func MatrixSpeedup(path string, rows []charts.MatrixRow) error {
	groups, unmeasured := groupByArch(rows, func(r charts.MatrixRow) bool { return r.Speedup > 0 })
	p := newPlot("Speedup over 1 worker vs vCPUs"+unmeasuredNote(unmeasured),
		"vCPUs (memory ÷ 1,769 MB)", "Speedup (×)")
	if len(groups) == 0 {
		noData(p, "no speedup measured")
		return saveOne(path, p)
	}
	p.Legend.Top, p.Legend.Left = true, true
	maxX := 1.0
	for _, g := range groups {
		xys := make(plotter.XYs, len(g.rows))
		for i, r := range g.rows {
			x := r.VCPUs
			if x <= 0 {
				x = float64(r.Workers)
			}
			xys[i] = plotter.XY{X: x, Y: r.Speedup}
			maxX = max(maxX, x, r.Speedup)
		}
		slices.SortFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("matrix speedup %s: %w", g.arch, err)
		}
		l.LineStyle = lineStyle(g.color, 2)
		s.GlyphStyle = draw.GlyphStyle{Color: g.color, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
		p.Add(l, s)
		p.Legend.Add(g.arch, l, s)
	}
	// Ideal scaling is proportional to the CPU share of the baseline (the
	// row with speedup 1): 1536 MB buys 0.87 vCPU, so 6 vCPUs ideally give
	// 6.9×, not 6×.
	base := baselineVCPUs(groups)
	ideal, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: math.Ceil(maxX), Y: math.Ceil(maxX) / base}})
	if err != nil {
		return fmt.Errorf("matrix speedup ideal line: %w", err)
	}
	ideal.LineStyle = lineStyle(color.Gray{Y: 90}, 1.5, 6, 4)
	p.Add(ideal)
	name := "ideal (speedup = vCPUs)"
	if math.Abs(base-1) > 0.005 {
		name = fmt.Sprintf("ideal (speedup = vCPUs ÷ %.2f, the 1-worker baseline's share)", base)
	}
	p.Legend.Add(name, ideal)
	p.Y.Max = math.Ceil(maxX) / base
	p.X.Min, p.Y.Min = 0, 0
	return saveOne(path, p)
}

// baselineVCPUs is the CPU share of the first architecture's speedup-1
// row (the 1-worker baseline), or 1 when there is none.
func baselineVCPUs(groups []archGroup) float64 {
	for _, g := range groups {
		for _, r := range g.rows {
			if math.Abs(r.Speedup-1) < 1e-9 && r.VCPUs > 0 {
				return r.VCPUs
			}
		}
	}
	return 1
}

// MatrixCost charts cost per million invocations against duration, one
// labelled point per configuration, with the Pareto front (the
// configurations nothing beats on both) as a line and the verdict's choice
// ringed. The duration is each row's DurationMs (the one the verdict used).
// The cost axis is zoomed to the points: it does not start at zero.
func MatrixCost(path string, rows []charts.MatrixRow, front []cost.Candidate) error {
	groups, unmeasured := groupByArch(rows, func(r charts.MatrixRow) bool {
		return costDuration(r) > 0 && r.CostPerMillion > 0
	})
	p := newPlot("Cost per 1M invocations vs duration (lower left is better)"+unmeasuredNote(unmeasured),
		"Duration (ms)", "Cost per 1M invocations (USD)")
	if len(groups) == 0 {
		noData(p, "no measured configuration")
		return saveOne(path, p)
	}
	p.Legend.Top = true
	if len(front) > 0 {
		xys := make(plotter.XYs, len(front))
		for i, c := range front {
			xys[i] = plotter.XY{X: c.DurationMs, Y: c.CostPerMillion}
		}
		slices.SortFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("matrix cost pareto front: %w", err)
		}
		l.LineStyle = lineStyle(color.Gray{Y: 60}, 1.5, 5, 3)
		p.Add(l)
		p.Legend.Add("Pareto front", l)
	}
	var chosen []charts.MatrixRow
	// Each point is labelled with its memory size; the colour gives the
	// architecture.
	labels := pointLabels{style: draw.TextStyle{Font: font.From(sans, 9), Handler: plot.DefaultTextHandler}}
	loY, hiY := math.Inf(1), math.Inf(-1)
	hiX := 0.0
	for _, g := range groups {
		xys := make(plotter.XYs, len(g.rows))
		for i, r := range g.rows {
			xys[i] = plotter.XY{X: costDuration(r), Y: r.CostPerMillion}
			loY, hiY, hiX = min(loY, r.CostPerMillion), max(hiY, r.CostPerMillion), max(hiX, costDuration(r))
			if r.Verdict {
				chosen = append(chosen, r)
			}
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return fmt.Errorf("matrix cost %s: %w", g.arch, err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: g.color, Radius: vg.Points(4.5), Shape: draw.CircleGlyph{}}
		p.Add(s)
		p.Legend.Add(g.arch, s)
		for i, r := range g.rows {
			labels.points = append(labels.points, labelPoint{X: xys[i].X, Y: xys[i].Y, Text: fmt.Sprintf("%d MB", r.MemoryMB), Color: g.color})
		}
	}
	p.Add(labels)
	for _, r := range chosen {
		ring, err := plotter.NewScatter(plotter.XYs{{X: costDuration(r), Y: r.CostPerMillion}})
		if err != nil {
			return fmt.Errorf("matrix cost verdict: %w", err)
		}
		ring.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(9), Shape: draw.RingGlyph{}}
		p.Add(ring)
		p.Legend.Add("verdict: "+rowLabel(r), ring)
	}
	// Duration from zero; cost zoomed to the points (differences of a few
	// percent decide), with headroom for the legend.
	span := hiY - loY
	if span == 0 {
		span = max(hiY*0.2, 1)
	}
	p.X.Min, p.X.Max = 0, hiX*1.12
	p.Y.Min, p.Y.Max = max(0, loY-0.1*span), hiY+0.35*span
	return saveOne(path, p)
}

// MatrixColdInit charts cold-start init duration per configuration: the
// median as a point with whiskers from the minimum to the maximum, one
// colour per architecture side by side at each memory size.
func MatrixColdInit(path string, rows []charts.MatrixRow) error {
	groups, unmeasured := groupByArch(rows, func(r charts.MatrixRow) bool { return r.ColdInit.N > 0 })
	title := "Cold start init duration (point p50, whiskers min–max)"
	maxN := 0
	for _, g := range groups {
		for _, r := range g.rows {
			maxN = max(maxN, r.ColdInit.N)
		}
	}
	if maxN > 0 {
		title += fmt.Sprintf(", up to %d cold starts per configuration", maxN)
	}
	p := newPlot(title+unmeasuredNote(unmeasured), "Memory (MB)", "Init duration (ms)")
	if len(groups) == 0 {
		noData(p, "no cold start measured")
		return saveOne(path, p)
	}
	p.Legend.Top = true
	var mems []int
	for _, g := range groups {
		for _, r := range g.rows {
			mems = append(mems, r.MemoryMB)
		}
	}
	slices.Sort(mems)
	mems = slices.Compact(mems)
	names := make([]string, len(mems))
	for i, m := range mems {
		names[i] = fmt.Sprint(m)
	}
	step := 0.5 / float64(len(groups)+1)
	for gi, g := range groups {
		offset := step * (float64(gi) - float64(len(groups)-1)/2) * 2
		pts := errPoints{}
		for _, r := range g.rows {
			x := float64(slices.Index(mems, r.MemoryMB)) + offset
			pts.XYs = append(pts.XYs, plotter.XY{X: x, Y: r.ColdInit.P50})
			pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{
				Low: r.ColdInit.P50 - r.ColdInit.Min, High: r.ColdInit.Max - r.ColdInit.P50,
			})
		}
		s, err := plotter.NewScatter(pts.XYs)
		if err != nil {
			return fmt.Errorf("matrix cold init %s: %w", g.arch, err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: g.color, Radius: vg.Points(5), Shape: draw.CircleGlyph{}}
		eb, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return fmt.Errorf("matrix cold init %s whiskers: %w", g.arch, err)
		}
		eb.LineStyle = lineStyle(g.color, 2)
		eb.CapWidth = vg.Points(10)
		p.Add(eb, s)
		p.Legend.Add(g.arch, s)
	}
	nominalX(p, names)
	p.Y.Min = 0
	maxY := 0.0
	for _, g := range groups {
		for _, r := range g.rows {
			maxY = max(maxY, r.ColdInit.Max)
		}
	}
	p.Y.Max = maxY * 1.25 // headroom for the legend
	return saveOne(path, p)
}

// errPoints are points with asymmetric y whiskers.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// labelPoint is a data point with a text label.
type labelPoint struct {
	X, Y  float64
	Text  string
	Color color.Color
}

// pointLabels writes each point's label beside it, trying a few positions
// around the point and taking the first that overlaps neither an earlier
// label nor a point.
type pointLabels struct {
	points []labelPoint
	style  draw.TextStyle
}

// Plot implements plot.Plotter.
func (l pointLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	gap, dot := vg.Points(5), vg.Points(5)
	var taken []vg.Rectangle
	at := make([]vg.Point, len(l.points))
	for i, pt := range l.points {
		at[i] = vg.Point{X: trX(pt.X), Y: trY(pt.Y)}
		taken = append(taken, vg.Rectangle{Min: at[i].Sub(vg.Point{X: dot, Y: dot}), Max: at[i].Add(vg.Point{X: dot, Y: dot})})
	}
	order := make([]int, len(l.points))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(at[a].X, at[b].X) })
	for _, i := range order {
		pt := l.points[i]
		w, h := l.style.Width(pt.Text), l.style.Height(pt.Text)
		// Lower-left corners: right above, right below, left above, left
		// below, centred above, centred below.
		corners := []vg.Point{
			{X: gap, Y: gap / 2}, {X: gap, Y: -h - gap/2}, {X: -w - gap, Y: gap / 2},
			{X: -w - gap, Y: -h - gap/2}, {X: -w / 2, Y: gap + dot/2}, {X: -w / 2, Y: -h - gap - dot/2},
		}
		best := vg.Rectangle{Min: at[i].Add(corners[0]), Max: at[i].Add(corners[0]).Add(vg.Point{X: w, Y: h})}
		for _, off := range corners {
			r := vg.Rectangle{Min: at[i].Add(off), Max: at[i].Add(off).Add(vg.Point{X: w, Y: h})}
			inside := r.Min.X >= c.Min.X && r.Max.X <= c.Max.X && r.Min.Y >= c.Min.Y && r.Max.Y <= c.Max.Y
			if inside && !slices.ContainsFunc(taken, func(o vg.Rectangle) bool { return overlaps(r, o) }) {
				best = r
				break
			}
		}
		taken = append(taken, best)
		sty := l.style
		sty.Color = pt.Color
		sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
		c.FillText(sty, best.Min, pt.Text)
	}
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}

// addPercentileLines draws one architecture's p50, p95 and p99 against memory: one colour per
// architecture, one dash and glyph per percentile.
func addPercentileLines(p *plot.Plot, g archGroup) error {
	percentiles := []struct {
		name   string
		value  func(stats.Summary) float64
		dashes []float64
		glyph  draw.GlyphDrawer
	}{
		{"p50", func(s stats.Summary) float64 { return s.P50 }, nil, draw.CircleGlyph{}},
		{"p95", func(s stats.Summary) float64 { return s.P95 }, []float64{6, 3}, draw.TriangleGlyph{}},
		{"p99", func(s stats.Summary) float64 { return s.P99 }, []float64{1.5, 2.5}, draw.SquareGlyph{}},
	}
	for _, pc := range percentiles {
		xys := make(plotter.XYs, len(g.rows))
		for i, r := range g.rows {
			xys[i] = plotter.XY{X: float64(r.MemoryMB), Y: pc.value(r.Summary)}
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("%s %s: %w", g.arch, pc.name, err)
		}
		l.LineStyle = lineStyle(g.color, 2, pc.dashes...)
		s.GlyphStyle = draw.GlyphStyle{Color: g.color, Radius: vg.Points(3), Shape: pc.glyph}
		p.Add(l, s)
		p.Legend.Add(g.arch+" "+pc.name, l, s)
	}
	return nil
}
