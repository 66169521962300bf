package render

import (
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"lambdabench/bench/internal/charts"
	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/stats"
)

// lowDPI renders at a low resolution for the rest of the test: the edge
// cases only need to draw without error, and full-size rendering under the
// race detector is slow.
func lowDPI(t *testing.T) {
	dpi = 24
	t.Cleanup(func() { dpi = DPI })
}

// checkPNG asserts that path holds a decodable PNG of the given size in
// inches at DPI.
func checkPNG(t *testing.T, path string, wIn, hIn int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != wIn*dpi || b.Dy() != hIn*dpi {
		t.Errorf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), wIn*dpi, hIn*dpi)
	}
}

// publishedMatrix is the bcrypt matrix as published (20 warm runs) with invented
// spreads and cold starts, priced by the cost package.
func publishedMatrix(t testing.TB, measureX86 bool) ([]charts.MatrixRow, []cost.Candidate) {
	prices := cost.Default()
	warm := map[string][]float64{
		"arm64":  {1885, 1334, 685, 463, 338, 280},
		"x86_64": {1671, 1253, 892, 429, 330, 292},
	}
	mems := []int{1536, 2048, 4096, 6144, 8192, 10240}
	var rows []charts.MatrixRow
	var cands []cost.Candidate
	for _, arch := range []string{"arm64", "x86_64"} {
		for i, mb := range mems {
			d := warm[arch][i]
			samples := make([]float64, 20)
			for j := range samples {
				samples[j] = d * (0.97 + 0.003*float64(j)) // up to ~+3% tail
			}
			sum := stats.Summarize(samples, stats.DefaultTrim)
			c, err := prices.PerMillion(arch, mb, sum.TrimmedMean)
			if err != nil {
				t.Fatal(err)
			}
			row := charts.MatrixRow{
				Name:     fmt.Sprintf("%s-%dvcpu-%dmb", map[string]string{"arm64": "arm64", "x86_64": "x86"}[arch], i+1, mb),
				Arch:     arch,
				MemoryMB: mb, VCPUs: math.Min(6, float64(mb)/1769), Workers: i + 1,
				Summary: sum, DurationMs: sum.TrimmedMean,
				Speedup:        warm[arch][0] / d,
				CostPerMillion: c,
				ColdInit:       stats.Summarize([]float64{45 + float64(i), 48 + float64(i), 60 + 2*float64(i)}, 0),
				Measured:       arch == "arm64" || measureX86,
			}
			rows = append(rows, row)
			if row.Measured {
				cands = append(cands, cost.Candidate{Name: row.Name, Arch: arch, MemoryMB: mb, DurationMs: row.DurationMs, CostPerMillion: c})
			}
		}
	}
	best, err := cost.Choose(cands, cost.StrategyBalanced, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].Verdict = rows[i].Name == best.Name
	}
	return rows, cost.ParetoFront(cands)
}

func TestMatrixCharts(t *testing.T) {
	full, front := publishedMatrix(t, true)
	armOnly, armFront := publishedMatrix(t, false)
	one := []charts.MatrixRow{{Arch: "arm64", MemoryMB: 2048, VCPUs: 1.16, Workers: 1,
		Summary: stats.Summarize([]float64{100}, 0), Speedup: 1, CostPerMillion: 3.5,
		ColdInit: stats.Summarize([]float64{50}, 0), Measured: true}}
	unmeasured := []charts.MatrixRow{{Arch: "x86_64", MemoryMB: 2048}}
	cases := map[string]struct {
		rows  []charts.MatrixRow
		front []cost.Candidate
	}{
		"full":       {full, front},
		"arm-only":   {armOnly, armFront},
		"n1":         {one, nil},
		"unmeasured": {unmeasured, nil},
		"empty":      {nil, nil},
	}
	dir := t.TempDir()
	for _, name := range []string{"full", "arm-only", "n1", "unmeasured", "empty"} {
		c := cases[name]
		if name != "full" {
			lowDPI(t)
		}
		for kind, draw := range map[string]func(string) error{
			"durations": func(p string) error { return MatrixDurations(p, c.rows) },
			"speedup":   func(p string) error { return MatrixSpeedup(p, c.rows) },
			"cost":      func(p string) error { return MatrixCost(p, c.rows, c.front) },
			"coldinit":  func(p string) error { return MatrixColdInit(p, c.rows) },
		} {
			path := filepath.Join(dir, name+"-"+kind+".png")
			if err := draw(path); err != nil {
				t.Fatalf("%s %s: %v", name, kind, err)
			}
			checkPNG(t, path, 10, 6)
		}
	}
}

// syntheticScenario is a 3-endpoint, 3-stage scenario of n requests per
// endpoint, the way the hello experiment's high-cpu run looks: 128 MB slow and
// saturated, 2048 MB fast, LMI slow at first then faster, a few 5xx.
func syntheticScenario(n int) charts.LoadScenario {
	r := rand.New(rand.NewPCG(1, 2))
	eps := []string{"/default/128/hello", "/default/2048/hello", "/lmi/2048/hello"}
	sc := charts.LoadScenario{
		Name: "high-cpu", Endpoints: eps, StageBoundaries: []float64{180, 540},
		Summaries: map[string]stats.Summary{}, Dist: map[string][]float64{},
	}
	const total = 720.0
	for ei, e := range eps {
		var lat []float64
		for i := range n {
			tt := total * float64(i) / float64(n)
			var ms float64
			switch ei {
			case 0:
				ms = 900 + 300*r.NormFloat64()*0.3 + tt*0.5
			case 1:
				ms = 60 + 10*r.ExpFloat64()
			case 2:
				ms = 40 + 600*math.Exp(-tt/150)*r.ExpFloat64()
			}
			ms = math.Max(ms, 1)
			ok := !(ei == 2 && r.Float64() < 0.004)
			sc.Points = append(sc.Points, charts.LoadPoint{T: tt, Endpoint: e, LatencyMs: ms, OK: ok})
			lat = append(lat, ms)
		}
		sc.Summaries[e] = stats.Summarize(lat, stats.DefaultTrim)
		sc.Dist[e] = lat
	}
	return sc
}

// oneEndpointOf keeps only endpoint e of sc.
func oneEndpointOf(sc charts.LoadScenario, e string) charts.LoadScenario {
	out := charts.LoadScenario{Name: sc.Name, Endpoints: []string{e}, StageBoundaries: sc.StageBoundaries,
		Summaries: map[string]stats.Summary{e: sc.Summaries[e]}, Dist: map[string][]float64{e: sc.Dist[e]}}
	for _, p := range sc.Points {
		if p.Endpoint == e {
			out.Points = append(out.Points, p)
		}
	}
	return out
}

func TestLoadPanel(t *testing.T) {
	dir := t.TempDir()
	oneEndpoint := charts.LoadScenario{
		Name:      "fast-io",
		Points:    []charts.LoadPoint{{T: 0.2, Endpoint: "/e", LatencyMs: 101, OK: true}},
		Summaries: map[string]stats.Summary{"/e": stats.Summarize([]float64{101}, 0)},
		Dist:      map[string][]float64{"/e": {101}},
	}
	allFailed := charts.LoadScenario{
		Name:   "broken",
		Points: []charts.LoadPoint{{T: 0, Endpoint: "/a", LatencyMs: 0, OK: false}, {T: 1, Endpoint: "/a", LatencyMs: 3, OK: false}},
	}
	cases := map[string]charts.LoadScenario{
		"full":         syntheticScenario(400),
		"downsampled":  oneEndpointOf(syntheticScenario(MaxScatterPoints+500), "/lmi/2048/hello"),
		"one-endpoint": oneEndpoint,
		"no-points":    {Name: "empty", Endpoints: []string{"/a", "/b"}, StageBoundaries: []float64{10}},
		"nothing":      {Name: "nothing"},
		"all-failed":   allFailed,
	}
	for _, name := range []string{"full", "downsampled", "one-endpoint", "no-points", "nothing", "all-failed"} {
		sc := cases[name]
		if name != "full" {
			lowDPI(t)
		}
		path := filepath.Join(dir, name+".png")
		if err := LoadPanel(path, sc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkPNG(t, path, 16, 10)
	}
}

func TestDownsample(t *testing.T) {
	pts := make([]charts.LoadPoint, 12000)
	for i := range pts {
		pts[i] = charts.LoadPoint{T: float64(i)}
	}
	a := downsample(pts, MaxScatterPoints, sampleSeed("/x"))
	b := downsample(pts, MaxScatterPoints, sampleSeed("/x"))
	if len(a) != MaxScatterPoints {
		t.Fatalf("len = %d", len(a))
	}
	seen := map[float64]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the same seed should give the same sample")
		}
		if seen[a[i].T] {
			t.Fatal("a point was sampled twice")
		}
		seen[a[i].T] = true
	}
	if pts[0].T != 0 || pts[11999].T != 11999 {
		t.Error("downsample modified its input")
	}
	if got := downsample(pts[:10], MaxScatterPoints, 1); len(got) != 10 {
		t.Errorf("small input: len %d", len(got))
	}
}

func TestConcurrency(t *testing.T) {
	dir := t.TempDir()
	good := []charts.ConcurrencySeries{
		{Name: "go-bench-hello-lmi-2048", T: []float64{0, 10, 20, 30}, Environments: []float64{3, 3, 4, 4}, InFlight: []float64{0, 40, 120, 90}},
		{Name: "go-bench-hello-2048", T: []float64{0, 10, 20, 30}, Environments: []float64{0, 40, 120, 90}, InFlight: []float64{0, 40, 120, 90}},
	}
	cases := map[string][]charts.ConcurrencySeries{
		"two":   good,
		"n1":    {{Name: "f", T: []float64{5}, Environments: []float64{1}, InFlight: []float64{1}}},
		"empty": nil,
		"blank": {{Name: "f"}},
	}
	for _, name := range []string{"two", "n1", "empty", "blank"} {
		s := cases[name]
		if name != "two" {
			lowDPI(t)
		}
		path := filepath.Join(dir, name+".png")
		if err := Concurrency(path, "Concurrency: "+name, s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkPNG(t, path, 10, 8)
	}
	bad := []charts.ConcurrencySeries{{Name: "f", T: []float64{1, 2}, Environments: []float64{1}, InFlight: []float64{1, 2}}}
	if err := Concurrency(filepath.Join(dir, "bad.png"), "bad", bad); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestWriteErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "x.png")
	if err := MatrixDurations(path, nil); err == nil {
		t.Error("writing into a missing directory should fail")
	}
}

func TestLogTicks(t *testing.T) {
	ticks := logTicks{}.Ticks(30, 2000)
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	want := []string{"50", "100", "200", "500", "1000", "2000"}
	if fmt.Sprint(labels) != fmt.Sprint(want) {
		t.Errorf("labels = %v, want %v", labels, want)
	}
	// A narrow range labels every tick.
	narrow := logTicks{}.Ticks(110, 180)
	if len(narrow) == 0 || narrow[0].Label == "" {
		t.Errorf("narrow range ticks = %v", narrow)
	}
}

// TestWriteExamples draws one chart of each kind from realistic data and
// checks that each is a PNG of the chart's size. They go to a temporary
// folder, or to $CHARTS_EXAMPLES_DIR to be looked at.
func TestWriteExamples(t *testing.T) {
	dir := os.Getenv("CHARTS_EXAMPLES_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	rows, front := publishedMatrix(t, true)
	armRows, armFront := publishedMatrix(t, false)
	sc := syntheticScenario(20000)
	var conc []charts.ConcurrencySeries
	for i, name := range []string{"go-bench-hello-128", "go-bench-hello-2048", "go-bench-hello-lmi-2048"} {
		s := charts.ConcurrencySeries{Name: name}
		for tt := 0.0; tt <= 720; tt += 5 {
			load := math.Min(64, tt/180*64)
			if tt > 540 {
				load = 64 + (tt-540)/180*64
			}
			s.T = append(s.T, tt)
			if i == 2 {
				s.Environments = append(s.Environments, math.Min(4, 1+math.Floor(tt/150)))
			} else {
				s.Environments = append(s.Environments, math.Ceil(load*(1+0.5*float64(1-i))))
			}
			s.InFlight = append(s.InFlight, math.Round(load))
		}
		conc = append(conc, s)
	}
	for name, err := range map[string]error{
		"matrix-durations.png":          MatrixDurations(filepath.Join(dir, "matrix-durations.png"), rows),
		"matrix-durations-arm-only.png": MatrixDurations(filepath.Join(dir, "matrix-durations-arm-only.png"), armRows),
		"matrix-speedup.png":            MatrixSpeedup(filepath.Join(dir, "matrix-speedup.png"), rows),
		"matrix-cost.png":               MatrixCost(filepath.Join(dir, "matrix-cost.png"), rows, front),
		"matrix-cost-arm-only.png":      MatrixCost(filepath.Join(dir, "matrix-cost-arm-only.png"), armRows, armFront),
		"matrix-coldinit.png":           MatrixColdInit(filepath.Join(dir, "matrix-coldinit.png"), rows),
		"load-high-cpu.png":             LoadPanel(filepath.Join(dir, "load-high-cpu.png"), sc),
		"concurrency.png":               Concurrency(filepath.Join(dir, "concurrency.png"), "Scenario high-cpu: environments and invocations in flight", conc),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 400 || cfg.Height < 300 {
			t.Errorf("%s: not a chart-sized PNG: %+v, %v", name, cfg, err)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	var labels []string
	for _, tk := range (niceTicks{}).Ticks(0, 1900) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := "[0 250 500 750 1000 1250 1500 1750]"; fmt.Sprint(labels) != want {
		t.Errorf("labels = %v, want %s", labels, want)
	}
	if len((niceTicks{}).Ticks(5, 5)) == 0 {
		t.Error("a degenerate range should still get a tick")
	}
}
