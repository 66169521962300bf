package lmitune

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/stats"
	"lambdabench/bench/internal/threshold"
)

// Rebuild recomputes an LMI tune's results folder from its samples.csv:
// every step's counts, throughput and latency percentiles, whether it met
// the run's objectives, the knees, and the costs with prices (a
// --prices table, or the built-in one); environments, CPU and host load
// come from summary.json, which samples do not hold. It rewrites
// summary.json, summary.md and the charts. A damaged samples.csv or
// summary.json leaves the folder as it was.
func Rebuild(dir string, prices cost.PriceTable, pricesSource string) (Summary, []string, error) {
	s, err := Read(dir)
	if err != nil {
		// The steps, objectives and environments are only there.
		return s, nil, &DamagedError{Path: filepath.Join(dir, "summary.json"), Err: err}
	}
	slo, err := threshold.ParseAll(s.Meta.SLO)
	if err != nil {
		return s, nil, &DamagedError{Path: filepath.Join(dir, "summary.json"), Err: fmt.Errorf("objectives %v: %w", s.Meta.SLO, err)}
	}
	acc, warnings, err := readSamples(filepath.Join(dir, "samples.csv"))
	if err != nil {
		return s, nil, err
	}
	for i := range s.Results {
		r := &s.Results[i]
		for k := range r.Steps {
			st := &r.Steps[k]
			a := acc[stepKey{r.Label, st.Step}]
			if a == nil {
				a = &stepAcc{hist: stats.NewHistogram()}
			}
			st.Requests, st.OK, st.Dropped = a.requests, a.ok, a.dropped
			st.Status429, st.Status4xx, st.Status5xx, st.FunctionErrors, st.NetworkErrors = a.c429, a.c4xx, a.c5xx, a.fn, a.net
			st.Throughput, st.Goodput = 0, 0
			if st.DurationS > 0 {
				st.Throughput = round3(float64(a.requests) / st.DurationS)
				st.Goodput = round3(float64(a.ok) / st.DurationS)
			}
			st.ErrorRate = errorRate(a.requests, a.dropped, a.ok)
			st.Latency = a.hist.Summary(stats.DefaultTrim)
			st.Held, st.Broke = judge(slo, s.Meta.MaxErrorRate, r.Label, *st)
		}
		r.setKnee()
		if r.Status == "ok" || r.Status == "no step held" {
			r.Status = "ok"
			if !r.Held() {
				r.Status = "no step held"
			}
		}
	}
	var rates []float64
	for _, rc := range s.Rates {
		rates = append(rates, rc.RPS)
	}
	if pricesSource != "" {
		s.Meta.Prices = pricesSource
	} else {
		s.Meta.Prices = fmt.Sprintf("built-in (%s, %s)", prices.Region, prices.Date)
	}
	s.Meta.Notes = dropCostNotes(s.Meta.Notes)
	if err := Price(&s, rates, s.Meta.allowed(), prices); err != nil {
		s.Meta.Notes = append(s.Meta.Notes, "costs: "+err.Error())
	}
	return s, warnings, Write(dir, s)
}

func dropCostNotes(notes []string) []string {
	var out []string
	for _, n := range notes {
		if len(n) < 7 || n[:7] != "costs: " {
			out = append(out, n)
		}
	}
	return out
}

type stepKey struct {
	config string
	step   int
}

type stepAcc struct {
	requests, ok, dropped     int64
	c429, c4xx, c5xx, fn, net int64
	hist                      *stats.Histogram
}

// DamagedError is a results file (samples.csv, summary.json) that cannot
// be read: a rebuild leaves the folder as it was.
type DamagedError struct {
	Path string
	Line int // 0: the whole file
	Err  error
}

func (e *DamagedError) Error() string {
	if e.Line == 0 {
		return e.Err.Error()
	}
	err := e.Err
	if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
		err = pe.Err // its line is said already
	}
	return fmt.Sprintf("%s: damaged at line %d: %v", e.Path, e.Line, err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// readSamples reads an LMI tune's samples.csv into per-step counts and
// successful latencies. A last line cut short (a run killed while it
// wrote) is skipped with a warning; any other damage is a DamagedError.
func readSamples(path string) (map[stepKey]*stepAcc, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	if n := len(b); n > 0 && b[n-1] != '\n' {
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			b = b[:i+1]
			warnings = append(warnings, fmt.Sprintf("%s: its last line was cut short (a run killed while it wrote): skipped", path))
		}
	}
	acc, err := parseSamples(path, bytes.NewReader(b))
	return acc, warnings, err
}

func parseSamples(path string, f io.Reader) (map[stepKey]*stepAcc, error) {
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, &DamagedError{path, 1, fmt.Errorf("no header: %w", err)}
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, want := range SampleHeader {
		if _, ok := col[want]; !ok {
			return nil, &DamagedError{path, 1, fmt.Errorf("no column %q: not an LMI tune's samples", want)}
		}
	}
	out := map[stepKey]*stepAcc{}
	line := 1
	for {
		rec, err := r.Read()
		line++
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &DamagedError{path, line, err}
		}
		step, err1 := strconv.Atoi(rec[col["step"]])
		status, err2 := strconv.Atoi(rec[col["status"]])
		lat, err3 := strconv.ParseFloat(rec[col["latency_ms"]], 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, &DamagedError{path, line, err}
		}
		k := stepKey{rec[col["config"]], step}
		a := out[k]
		if a == nil {
			a = &stepAcc{hist: stats.NewHistogram()}
			out[k] = a
		}
		switch load.Outcome(status, rec[col["error"]]) {
		case load.OutcomeDropped:
			a.dropped++
			continue
		case load.OutcomeOK:
			a.ok++
			a.hist.Record(time.Duration(math.Round(lat*1000)) * time.Microsecond)
		case load.Outcome429:
			a.c429++
		case load.Outcome4xx:
			a.c4xx++
		case load.Outcome5xx:
			a.c5xx++
		case load.OutcomeNetwork:
			a.net++
		case load.OutcomeFunction:
			a.fn++
		}
		a.requests++
	}
}
