package load

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"lambdabench/bench/internal/charts"
	"lambdabench/bench/internal/stats"
)

// panelFile is the 2×2 chart of a scenario; concurrencyFile its concurrency
// chart.
func panelFile(scenario string) string       { return "load-" + scenario + ".png" }
func concurrencyFile(scenario string) string { return "concurrency-" + scenario + ".png" }

// writeCharts draws every scenario's charts from samples.csv, read one
// scenario at a time: the scatter, averages and distributions use every
// request, and only one scenario's requests are in memory at once.
func writeCharts(dir string, r *Report) error {
	byName := map[string]*ScenarioSummary{}
	for i := range r.Scenarios {
		byName[r.Scenarios[i].Name] = &r.Scenarios[i]
	}
	f, err := openSamples(filepath.Join(dir, SamplesFile))
	if err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	defer f.Close()
	dec := NewCSVDecoder(bufio.NewReaderSize(f, 1<<20))
	var cur *charts.LoadScenario
	var curSum *ScenarioSummary
	flush := func() error {
		if cur == nil || curSum == nil {
			return nil
		}
		return drawScenario(dir, curSum, cur)
	}
	for {
		var res Result
		err := dec.Decode(&res)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("charts: %w", err)
		}
		if cur == nil || cur.Name != res.Scenario {
			if err := flush(); err != nil {
				return err
			}
			cur = &charts.LoadScenario{Name: res.Scenario, Dist: map[string][]float64{}}
			curSum = byName[res.Scenario]
		}
		if res.Dropped() {
			continue
		}
		lat := float64(res.Latency) / float64(time.Millisecond)
		cur.Points = append(cur.Points, charts.LoadPoint{
			T: res.Elapsed.Seconds(), Endpoint: res.Endpoint, LatencyMs: lat, OK: res.class() == class2xx,
		})
		cur.Dist[res.Endpoint] = append(cur.Dist[res.Endpoint], lat)
	}
	if err := flush(); err != nil {
		return err
	}
	for i := range r.Scenarios {
		sc := &r.Scenarios[i]
		if len(sc.Concurrency) == 0 {
			continue
		}
		if err := drawConcurrency(dir, sc); err != nil {
			return err
		}
	}
	return nil
}

func drawScenario(dir string, sum *ScenarioSummary, sc *charts.LoadScenario) error {
	sc.Summaries = map[string]stats.Summary{}
	for _, e := range sum.Endpoints {
		sc.Endpoints = append(sc.Endpoints, e.Endpoint)
		sc.Summaries[e.Endpoint] = e.Total.Latency
	}
	st := sum.Profile()
	for i := 1; i < len(st); i++ {
		b := st.Start(i).Seconds()
		if n := len(sc.StageBoundaries); b > 0 && (n == 0 || sc.StageBoundaries[n-1] != b) && b < st.Total().Seconds() {
			sc.StageBoundaries = append(sc.StageBoundaries, b)
		}
	}
	if hb := hostBoundEndpoints(sum); hb != "" {
		sc.Note = "host-bound (" + hb + "): these latencies measure this machine, not Lambda"
	}
	if err := charts.LoadPanel(filepath.Join(dir, panelFile(sum.Name)), *sc); err != nil {
		return fmt.Errorf("chart of %s: %w", sum.Name, err)
	}
	return nil
}

func drawConcurrency(dir string, sc *ScenarioSummary) error {
	var series []charts.ConcurrencySeries
	for _, s := range sc.Concurrency {
		cs := charts.ConcurrencySeries{Name: s.Endpoint}
		hasCPU := false
		for _, p := range s.Points {
			hasCPU = hasCPU || p.CPU != nil
		}
		for _, p := range s.Points {
			cs.T = append(cs.T, p.ElapsedS)
			cs.Environments = append(cs.Environments, p.Environments)
			cs.InFlight = append(cs.InFlight, p.Value)
			if hasCPU {
				v := math.NaN()
				if p.CPU != nil {
					v = *p.CPU
				}
				cs.CPU = append(cs.CPU, v)
			}
			if p.Event != "" {
				cs.Events = append(cs.Events, p.ElapsedS)
			}
		}
		series = append(series, cs)
	}
	title := fmt.Sprintf("Scenario %q: function concurrency (%s)", sc.Name, sc.Concurrency[0].Source)
	if sc.Concurrency[0].Source == SourceCloudWatch {
		title = fmt.Sprintf("Scenario %q: CloudWatch ExecutionEnvironmentConcurrency (SampleCount as environments; Average × SampleCount as in flight)", sc.Name)
	}
	if hb := hostBoundEndpoints(sc); hb != "" {
		title += " — host-bound (" + hb + ")"
	}
	if err := charts.Concurrency(filepath.Join(dir, concurrencyFile(sc.Name)), title, series); err != nil {
		return fmt.Errorf("concurrency chart of %s: %w", sc.Name, err)
	}
	return nil
}

// Sources of concurrency series.
const (
	SourceLocal      = "local lambda"
	SourceCloudWatch = "cloudwatch"
)

var concurrencyHeader = []string{"scenario", "endpoint", "function", "source", "elapsed_s", "environments", "in_flight", "cpu_util_pct", "cpu_per_env", "event"}

// concurrencyColumnsV1 is how many columns concurrency.csv had before the
// CPU and scaling columns; such files are still read.
const concurrencyColumnsV1 = 7

// writeConcurrency appends a scenario's series to concurrency.csv.
func writeConcurrency(path, scenario string, series []ConcurrencySeries) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write concurrency: %w", err)
	}
	w := csv.NewWriter(f)
	if errors.Is(statErr, fs.ErrNotExist) {
		_ = w.Write(concurrencyHeader)
	}
	for _, s := range series {
		for _, p := range s.Points {
			cpu := ""
			if p.CPU != nil {
				cpu = strconv.FormatFloat(*p.CPU, 'f', 1, 64)
			}
			_ = w.Write([]string{scenario, s.Endpoint, s.Function, s.Source,
				strconv.FormatFloat(p.ElapsedS, 'f', 3, 64),
				strconv.FormatFloat(p.Environments, 'f', -1, 64),
				strconv.FormatFloat(p.Value, 'f', -1, 64),
				cpu, p.CPUPerEnv, p.Event})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write concurrency: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write concurrency: %w", err)
	}
	return nil
}

// readConcurrency reads concurrency.csv into series per scenario; a missing
// file gives none.
func readConcurrency(path string) (map[string][]ConcurrencySeries, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read concurrency: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read concurrency %s: %w", path, err)
	}
	out := map[string][]ConcurrencySeries{}
	for i, rec := range recs {
		if i == 0 || len(rec) != len(concurrencyHeader) && len(rec) != concurrencyColumnsV1 {
			continue
		}
		t, err1 := strconv.ParseFloat(rec[4], 64)
		envs, err2 := strconv.ParseFloat(rec[5], 64)
		v, err3 := strconv.ParseFloat(rec[6], 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("read concurrency %s line %d: %w", path, i+1, err)
		}
		list := out[rec[0]]
		if n := len(list); n == 0 || list[n-1].Endpoint != rec[1] {
			list = append(list, ConcurrencySeries{Endpoint: rec[1], Function: rec[2], Source: rec[3]})
		}
		s := &list[len(list)-1]
		p := ConcurrencyPoint{Elapsed: time.Duration(t * float64(time.Second)), ElapsedS: t, Environments: envs, Value: v}
		if len(rec) == len(concurrencyHeader) {
			if rec[7] != "" {
				cpu, err := strconv.ParseFloat(rec[7], 64)
				if err != nil {
					return nil, fmt.Errorf("read concurrency %s line %d: %w", path, i+1, err)
				}
				p.CPU = &cpu
			}
			p.CPUPerEnv, p.Event = rec[8], rec[9]
		}
		s.Points = append(s.Points, p)
		out[rec[0]] = list
	}
	return out, nil
}
