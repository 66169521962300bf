package compare

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// The Go benchmark format (golang.org/x/perf/benchfmt) of a run: what
// 'bench report --format benchfmt' writes so that benchstat can compare
// runs, and what compare reads back. One benchmark line per sample, named
// after its row — BenchmarkTune/arch=arm64/memory=1024,
// BenchmarkLoad/endpoint=api/scenario=load — with a value per metric in
// its unit. Only the successful invocations or requests are samples, as
// in compare's duration and latency rows.

// BenchKindKey is the file configuration key naming the kind of run
// (matrix, tune, load); benchstat puts runs of different kinds in
// different tables.
const BenchKindKey = "bench-kind"

// benchUnit is how one metric is written: the sample ÷ div, in unit.
type benchUnit struct {
	metric string
	unit   string
	div    float64
}

// benchUnits lists, per kind, the units of a warm or load sample line
// (first) and the cold-start line (init).
var benchUnits = map[string][]benchUnit{
	KindMatrix: {
		{MetricWarm, "sec/op", 1e3},
		{MetricBilled, "billed-sec/op", 1e3},
		{MetricRoundTrip, "roundtrip-sec/op", 1e3},
		{MetricCost, "USD/op", 1e6},
		{MetricInit, "init-sec/op", 1e3},
	},
	KindLoad: {
		{MetricLatency, "sec/op", 1e3},
	},
	KindTuneLMI: {
		{MetricLatency, "sec/op", 1e3},
	},
}

func unitsOf(kind string) []benchUnit {
	if kind == KindTune {
		kind = KindMatrix
	}
	return benchUnits[kind]
}

// benchBase is a kind's benchmark name: Tune, Matrix, Load.
func benchBase(kind string) string {
	if kind == KindTuneLMI {
		return "TuneLMI"
	}
	return strings.ToUpper(kind[:1]) + kind[1:]
}

// benchValue is a label's value made fit for a benchmark name, which has
// no spaces and uses / between its parts.
func benchValue(s string) string {
	return strings.NewReplacer(" ", "_", "\t", "_", "/", "_").Replace(s)
}

// benchNumber rounds a value to 9 significant digits, so that a duration
// of 4.69 ms is written 0.00469, not 0.004690000000000001.
func benchNumber(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 9, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// WriteBenchfmt writes runs (as Read returns them) in the Go benchmark
// format: a bench-kind configuration line per run, then one line per
// successful sample: for matrix and tune each warm invocation's duration
// (sec/op), billed duration, round trip and cost (USD/op), and each
// forced cold start's init (init-sec/op); for load each successful
// request's latency (sec/op).
func WriteBenchfmt(w io.Writer, runs []*Run) error {
	bw := benchfmt.NewWriter(w)
	for _, r := range runs {
		units := unitsOf(r.Kind)
		if units == nil {
			return fmt.Errorf("%w: %s: a %s run has no benchmark format", ErrInput, r.Dir, r.Kind)
		}
		res := &benchfmt.Result{Iters: 1}
		res.SetConfig(BenchKindKey, r.Kind)
		if i, ok := res.ConfigIndex(BenchKindKey); ok {
			res.Config[i].File = true // a "bench-kind: …" line, not internal
		}
		for _, row := range r.Rows {
			if row.Skip != "" {
				continue
			}
			name := benchBase(r.Kind)
			for _, l := range row.Labels {
				name += "/" + benchValue(l.Key) + "=" + benchValue(l.Value)
			}
			res.Name = benchfmt.Name(name)
			main := units[0].metric
			for i := range row.Samples[main] {
				res.Values = res.Values[:0]
				for _, u := range units {
					if u.metric == MetricInit {
						continue
					}
					if v := row.Samples[u.metric]; i < len(v) {
						res.Values = append(res.Values, benchfmt.Value{Value: benchNumber(v[i] / u.div), Unit: u.unit})
					}
				}
				if err := bw.Write(res); err != nil {
					return fmt.Errorf("benchfmt: %w", err)
				}
			}
			for _, u := range units {
				if u.metric != MetricInit {
					continue
				}
				for _, v := range row.Samples[MetricInit] {
					res.Values = append(res.Values[:0], benchfmt.Value{Value: benchNumber(v / u.div), Unit: u.unit})
					if err := bw.Write(res); err != nil {
						return fmt.Errorf("benchfmt: %w", err)
					}
				}
			}
		}
	}
	return nil
}

// ReadBenchfmt reads a file WriteBenchfmt wrote: one Run per kind in it,
// in the order met. A file that is not in the format, or that bench did
// not write (no bench-kind line, units of its own), is bad input.
func ReadBenchfmt(path string) ([]*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, inputErr("%s: %v", path, err)
	}
	defer f.Close()
	rd := benchfmt.NewReader(f, path)
	var runs []*Run
	byKind := map[string]*Run{}
	lines := 0
	for rd.Scan() {
		var res *benchfmt.Result
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, inputErr("%v", rec)
		case *benchfmt.Result:
			res = rec
		default:
			continue
		}
		lines++
		file, line := res.Pos()
		kind := res.GetConfig(BenchKindKey)
		units := unitsOf(kind)
		if units == nil {
			return nil, inputErr("%s:%d: not a benchmark file written by 'bench report --format benchfmt' (its %q line says %q): compare reads bench's own; compare other Go benchmarks with benchstat", file, line, BenchKindKey, kind)
		}
		r := byKind[kind]
		if r == nil {
			r = &Run{Dir: path, Kind: kind}
			note := "successful invocations only: no failure counts, verdict or cost as a summary states it"
			if kind == KindLoad || kind == KindTuneLMI {
				note = "the latency of successful requests only: no error rate, throughput or cost"
			}
			r.Notes = append(r.Notes, path+": a benchmark file holds "+note)
			byKind[kind] = r
			runs = append(runs, r)
		}
		base, parts := res.Name.Parts()
		if n := len(parts); n > 1 && !bytes.HasPrefix(parts[n-1], []byte("/")) {
			// benchfmt reads a trailing -N as GOMAXPROCS, which these
			// names never carry: it is the end of the last value
			// ("scenario=step-2", "offered=1e-05").
			parts = append(parts[:n-2:n-2], append(append([]byte(nil), parts[n-2]...), parts[n-1]...))
		}
		if want := benchBase(kind); string(base) != want {
			return nil, inputErr("%s:%d: benchmark %s in a %s file: want Benchmark%s/…", file, line, res.Name, kind, want)
		}
		labels := map[string]string{}
		var ls []Label
		for _, p := range parts {
			k, v, ok := strings.Cut(strings.TrimPrefix(string(p), "/"), "=")
			if !ok {
				return nil, inputErr("%s:%d: benchmark %s: part %q is not key=value", file, line, res.Name, p)
			}
			labels[k] = v
			ls = append(ls, Label{k, v})
		}
		key, err := benchRowKey(kind, labels)
		if err != nil {
			return nil, inputErr("%s:%d: benchmark %s: %v", file, line, res.Name, err)
		}
		row := r.row(key)
		row.Labels = ls
	values:
		for _, v := range res.Values {
			for _, u := range units {
				if u.unit == v.Unit {
					row.Samples[u.metric] = append(row.Samples[u.metric], v.Value*u.div)
					continue values
				}
			}
			return nil, inputErr("%s:%d: unit %q is not one bench writes for a %s run", file, line, v.Unit, kind)
		}
	}
	if err := rd.Err(); err != nil {
		return nil, inputErr("%s: %v", path, err)
	}
	if lines == 0 {
		return nil, inputErr("%s: no benchmark lines: neither a results folder nor a file written by 'bench report --format benchfmt'", path)
	}
	return runs, nil
}

// benchRowKey is the compare row key of a benchmark's labels.
func benchRowKey(kind string, l map[string]string) (string, error) {
	if kind == KindTuneLMI {
		offered, err := strconv.ParseFloat(l["offered"], 64)
		if err != nil || l["config"] == "" {
			return "", errors.New("want config= and offered=")
		}
		// A configuration's label has a / ("2048MB-2GiB/vCPU-c16"),
		// written _ in a benchmark name.
		return lmiRowKey(strings.ReplaceAll(l["config"], "GiB_vCPU", "GiB/vCPU"), offered), nil
	}
	if kind == KindLoad {
		if l["endpoint"] == "" || l["scenario"] == "" {
			return "", errors.New("want endpoint= and scenario=")
		}
		return l["scenario"] + " " + l["endpoint"], nil
	}
	mem, err := strconv.Atoi(l["memory"])
	if err != nil || l["arch"] == "" {
		return "", errors.New("want arch= and memory=MB")
	}
	return configKey(l["arch"], mem), nil
}
