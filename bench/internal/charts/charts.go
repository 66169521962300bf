// Package charts describes the benchmark's PNG charts (duration percentiles,
// speedup, cost and cold starts of the architecture × memory matrix, the 2×2
// panel of a load scenario, execution environments over time, old-vs-new
// comparisons, an LMI tune's latency and cost against load) as plain
// structs. Package render draws them with gonum/plot, in the same process,
// once it is linked in: the engines describe charts without depending on
// the plotting library, and the Lambda load generator, which draws nothing,
// links none of it.
package charts

import (
	"errors"
	"fmt"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/stats"
)

// Kinds of chart a Request asks for.
const (
	KindLoadPanel       = "load-panel"
	KindConcurrency     = "concurrency"
	KindMatrixDurations = "matrix-durations"
	KindMatrixSpeedup   = "matrix-speedup"
	KindMatrixCost      = "matrix-cost"
	KindMatrixColdInit  = "matrix-cold-init"
	KindTunePowerView   = "tune-power-view"
	KindCompare         = "compare"
)

// Request is one chart: what to draw and where. The fields a Kind does not
// use are empty.
type Request struct {
	Kind string
	// Path is the PNG file to write.
	Path  string
	Title string
	// Unit, OldName and NewName label a comparison.
	Unit, OldName, NewName string
	Load                   *LoadScenario
	Series                 []ConcurrencySeries
	Rows                   []MatrixRow
	Front                  []cost.Candidate
	Compare                []CompareRow
	// LMILatency and LMICost are the two charts of an LMI tune.
	LMILatency *LMILatency
	LMICost    *LMICost
}

// LoadPanel draws the 2×2 chart of one load scenario at path: each
// request's latency over time with the stage boundaries (at most
// 5,000 per endpoint are drawn), the per-second average latency,
// the latency distribution, and p50/p90/p95/p99 bars per endpoint.
func LoadPanel(path string, sc LoadScenario) error {
	return draw(Request{Kind: KindLoadPanel, Path: path, Load: &sc})
}

// Concurrency draws execution environments and in-flight invocations over
// time, one line per series, at path.
func Concurrency(path, title string, series []ConcurrencySeries) error {
	return draw(Request{Kind: KindConcurrency, Path: path, Title: title, Series: series})
}

// MatrixDurations draws the warm duration percentiles of each configuration
// against memory, per architecture, at path.
func MatrixDurations(path string, rows []MatrixRow) error {
	return draw(Request{Kind: KindMatrixDurations, Path: path, Rows: rows})
}

// MatrixSpeedup draws each configuration's speedup over one worker against
// its vCPUs at path.
func MatrixSpeedup(path string, rows []MatrixRow) error {
	return draw(Request{Kind: KindMatrixSpeedup, Path: path, Rows: rows})
}

// MatrixCost draws cost per million invocations against duration, with the
// Pareto front, at path.
func MatrixCost(path string, rows []MatrixRow, front []cost.Candidate) error {
	return draw(Request{Kind: KindMatrixCost, Path: path, Rows: rows, Front: front})
}

// MatrixColdInit draws the cold-start init durations of each configuration
// at path.
func MatrixColdInit(path string, rows []MatrixRow) error {
	return draw(Request{Kind: KindMatrixColdInit, Path: path, Rows: rows})
}

// TunePowerView draws duration and cost against memory, one line per
// architecture, in the style of Lambda Power Tuning's chart, at path.
func TunePowerView(path, title string, rows []MatrixRow) error {
	return draw(Request{Kind: KindTunePowerView, Path: path, Title: title, Rows: rows})
}

// Compare draws each row's distribution in the old and the new run side by
// side at path.
func Compare(path, title, unit, oldName, newName string, rows []CompareRow) error {
	return draw(Request{Kind: KindCompare, Path: path, Title: title, Unit: unit, OldName: oldName, NewName: newName, Compare: rows})
}

// renderer draws a Request: render.Draw, once package render is linked
// into the program (it registers itself when it is initialised).
var renderer func(Request) error

// SetRenderer installs the function that draws every chart. Package render
// calls it from its init, so a program draws charts by importing it
// (import _ "lambdabench/bench/internal/charts/render"), and a program that
// must stay small — the Lambda load generator — describes none and links
// no plotting code.
func SetRenderer(draw func(Request) error) { renderer = draw }

// ErrNoRenderer is returned for a chart when no renderer is linked in.
var ErrNoRenderer = errors.New("no chart renderer linked into this program")

// draw draws req in this process.
func draw(req Request) error {
	if renderer == nil {
		return fmt.Errorf("chart %s: %w", req.Path, ErrNoRenderer)
	}
	return renderer(req)
}

// CompareRow is one row of a comparison: its samples in the old and the new
// run.
type CompareRow struct {
	Name     string
	Old, New []float64
}

// LoadPoint is one request of a load test.
type LoadPoint struct {
	// T is when the request was due, in seconds since the scenario started.
	T float64
	// Endpoint names the endpoint it went to.
	Endpoint string
	// LatencyMs is its latency in milliseconds.
	LatencyMs float64
	// OK is false for a failed request (non-2xx status or network error).
	OK bool
}

// LoadScenario is everything the 2×2 chart of one scenario shows.
type LoadScenario struct {
	// Name is the scenario, e.g. "high-cpu".
	Name string
	// Endpoints lists the endpoints in display order; when empty the
	// endpoints of Points, Summaries and Dist are used, sorted.
	Endpoints []string
	// Points are the requests, in any order.
	Points []LoadPoint
	// StageBoundaries are the times (seconds since start) where one stage
	// ends and the next begins.
	StageBoundaries []float64
	// Summaries are the latency summaries per endpoint (for the bars).
	Summaries map[string]stats.Summary
	// Dist holds latency values (ms) per endpoint for the distribution;
	// it may be a sample.
	Dist map[string][]float64
	// Note, when set, is printed in red under the title (e.g. that the
	// host was saturated).
	Note string
}

// ConcurrencySeries is one function's activity over time.
type ConcurrencySeries struct {
	// Name is the function or endpoint.
	Name string
	// T are the sample times in seconds since the start.
	T []float64
	// Environments is the number of execution environments at each time.
	Environments []float64
	// InFlight is the number of invocations in progress at each time.
	InFlight []float64
	// CPU, when set, is the mean CPU utilisation of the function's
	// environments (percent of their vCPUs) at each time; NaN = not measured.
	CPU []float64
	// Events are the times of scaling decisions, marked on the
	// environments panel.
	Events []float64
}

// MatrixRow is one architecture × memory configuration of a matrix run.
type MatrixRow struct {
	// Name labels the configuration (e.g. the function name); when empty
	// charts label it "<arch> <MB> MB".
	Name string
	// Arch is "arm64" or "x86_64".
	Arch string
	// MemoryMB is the configured memory.
	MemoryMB int
	// VCPUs is the CPU share the memory buys (memory ÷ 1,769 MB, up to 6).
	VCPUs float64
	// Workers is the configured worker count.
	Workers int
	// Summary describes the warm durations (milliseconds).
	Summary stats.Summary
	// DurationMs is the representative duration used for the cost and the
	// verdict; when 0 the cost chart uses Summary.TrimmedMean.
	DurationMs float64
	// Speedup is the warm duration of the 1-worker configuration of the
	// same architecture divided by this one's (0 when unknown).
	Speedup float64
	// CostPerMillion is the cost of one million invocations in USD.
	CostPerMillion float64
	// ColdInit describes the cold-start init durations (milliseconds).
	ColdInit stats.Summary
	// Measured is false for a configuration that could not be run on this
	// target (another architecture locally); such rows are left out.
	Measured bool
	// Verdict marks the configuration the verdict chose; the cost chart
	// highlights it.
	Verdict bool
}
