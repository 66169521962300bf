package compare

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/lmitune"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/matrix"
)

// ErrInput is wrapped by every error about the folders given: missing,
// not a results folder, a damaged samples.csv, or two folders of different
// kinds. The command turns it into a usage error (exit status 2).
var ErrInput = errors.New("bad input")

func inputErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInput, fmt.Sprintf(format, a...))
}

// Folder kinds.
const (
	KindMatrix = "matrix"
	KindTune   = "tune"
	KindLoad   = "load"
	KindSuite  = "suite"
)

// Run is one results folder, reduced to what a comparison needs: its rows'
// raw samples per metric, cost per row and verdict. It is the adapter
// between the folders the verbs write and the comparison, so that the
// readers can change underneath without touching the statistics.
type Run struct {
	Dir  string
	Kind string // matrix, tune or load (a suite is split into its parts)
	Rows []*Row
	// Verdict is the configuration the run's verdict picked ("" when the
	// run records none).
	Verdict string
	// Costs is the run's own cost per 1M invocations as its summary states
	// it: per configuration (matrix, tune) or scenario × endpoint (load).
	Costs []KeyCost
	Notes []string

	lmi *lmiRun // an LMI tune's knees and break-even
}

// KeyCost is a cost per 1M invocations of one row.
type KeyCost struct {
	Key        string
	PerMillion float64
}

// Row is one configuration (matrix, tune) or scenario × endpoint (× stage)
// of a run.
type Row struct {
	Key string
	// Samples holds the raw samples of each metric, by metric name.
	Samples map[string][]float64
	// Attempts counts invocations (matrix: cold and warm) or requests
	// sent (load); Failures the failed invocations or non-2xx requests
	// among them; Dropped the requests the open model never sent; Skip
	// says why a configuration was not measured.
	Attempts int
	Failures int
	Dropped  int
	Skip     string
	// Labels name the row part by part, as a benchmark name's keys:
	// arch and memory (matrix, tune), endpoint and scenario (load).
	Labels []Label
}

// Label is one key=value part of a row's name.
type Label struct{ Key, Value string }

func (r *Run) row(key string) *Row {
	for _, x := range r.Rows {
		if x.Key == key {
			return x
		}
	}
	x := &Row{Key: key, Samples: map[string][]float64{}}
	r.Rows = append(r.Rows, x)
	return x
}

// ReadOptions says how to read folders.
type ReadOptions struct {
	// Stages splits load rows by stage.
	Stages bool
}

// Read reads a results folder: a matrix, tune or load folder gives one
// Run; a suite folder gives one Run per part present (matrix/, load/). A
// file is read as the Go benchmark format 'report --format benchfmt'
// writes.
func Read(dir string, o ReadOptions) ([]*Run, error) {
	if st, err := os.Stat(dir); err == nil && st.Mode().IsRegular() {
		return ReadBenchfmt(dir)
	}
	kind, err := Kind(dir)
	if err != nil {
		return nil, err
	}
	if kind != KindSuite {
		r, err := readOne(dir, kind, o)
		if err != nil {
			return nil, err
		}
		return []*Run{r}, nil
	}
	var runs []*Run
	for _, sub := range []string{KindMatrix, KindLoad} {
		p := filepath.Join(dir, sub)
		if _, err := os.Stat(filepath.Join(p, "samples.csv")); err != nil {
			continue
		}
		r, err := readOne(p, sub, o)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// Kind tells what a results folder holds: "kind" of its summary.json when
// present, else the columns of its samples.csv (a matrix file has
// worker_count); a folder with matrix/ or load/ inside is a suite.
func Kind(dir string) (string, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", inputErr("%s: not a folder", dir)
	}
	samples := filepath.Join(dir, "samples.csv")
	f, err := os.Open(samples)
	if err != nil {
		for _, sub := range []string{KindMatrix, KindLoad} {
			if _, err := os.Stat(filepath.Join(dir, sub, "samples.csv")); err == nil {
				return KindSuite, nil
			}
		}
		return "", inputErr("%s has no samples.csv (nor matrix/ or load/ with one): not a results folder", dir)
	}
	defer f.Close()
	if b, err := os.ReadFile(filepath.Join(dir, "summary.json")); err == nil {
		if lmitune.IsLMI(b) {
			return KindTuneLMI, nil
		}
		// Only the kind is read here; each verb's own reader decodes the
		// rest of its summary.json.
		var probe struct {
			Kind string `json:"kind"`
		}
		if json.Unmarshal(b, &probe) == nil && probe.Kind != "" {
			switch probe.Kind {
			case KindMatrix, KindTune, KindLoad:
				return probe.Kind, nil
			}
			return "", inputErr("%s: summary.json says kind %q, which compare does not know (matrix, tune, load, tune-lmi)", dir, probe.Kind)
		}
	}
	head, err := csv.NewReader(f).Read()
	if err != nil {
		return "", inputErr("%s: header: %v", samples, err)
	}
	for _, h := range head {
		switch strings.TrimSpace(h) {
		case "worker_count":
			return KindMatrix, nil
		case "gib_per_vcpu": // lmitune.SampleHeader
			return KindTuneLMI, nil
		}
	}
	return KindLoad, nil
}

func readOne(dir, kind string, o ReadOptions) (*Run, error) {
	switch kind {
	case KindMatrix, KindTune:
		return readMatrix(dir, kind)
	case KindTuneLMI:
		return readLMI(dir)
	default:
		return readLoad(dir, o)
	}
}

// Matrix and tune metrics.
const (
	MetricWarm      = "warm"
	MetricBilled    = "billed"
	MetricRoundTrip = "roundtrip"
	MetricInit      = "init"
	MetricCost      = "cost"
)

// Load metrics.
const (
	MetricLatency    = "latency"
	MetricThroughput = "throughput"
	MetricErrors     = "errors"
)

// readMatrix reads a matrix (or tune) folder through matrix.ReadCSV.
func readMatrix(dir, kind string) (*Run, error) {
	path := filepath.Join(dir, "samples.csv")
	samples, torn, err := matrix.ReadFile(path)
	if err != nil {
		return nil, inputErr("%v", err)
	}
	r := &Run{Dir: dir, Kind: kind}
	if torn != nil {
		r.Notes = append(r.Notes, torn.Warning(path))
	}
	prices := cost.Default()
	sum, err := matrix.ReadSummary(filepath.Join(dir, "summary.json"))
	switch {
	case err == nil:
		if sum.Verdict != nil {
			r.Verdict = sum.Verdict.Choice.Name
			if c := sum.Verdict.Choice; c.Arch != "" && c.MemoryMB > 0 {
				r.Verdict = configKey(c.Arch, c.MemoryMB)
			}
		}
		if sum.Prices.Validate() == nil {
			prices = sum.Prices
		} else {
			r.Notes = append(r.Notes, dir+": summary.json has no usable price table: priced with the built-in prices")
		}
	case errors.Is(err, fs.ErrNotExist):
		r.Notes = append(r.Notes, dir+": no summary.json: no verdict; priced with the built-in prices")
	case kind == KindTune:
		// tune's summary.json may differ from matrix's beyond the samples'
		// shape: its verdict is a bonus, not a requirement.
		r.Notes = append(r.Notes, dir+": summary.json not read as a matrix summary: no verdict; priced with the built-in prices")
	default:
		return nil, inputErr("%s: %v", filepath.Join(dir, "summary.json"), err)
	}
	billed := map[string][]float64{}
	for _, s := range samples {
		key := configKey(s.Arch, s.MemoryMB)
		row := r.row(key)
		if row.Labels == nil {
			row.Labels = []Label{{"arch", s.Arch}, {"memory", strconv.Itoa(s.MemoryMB)}}
		}
		if s.Kind == matrix.KindSkipped {
			row.Skip = s.Error
			continue
		}
		if s.Kind != matrix.KindWarm && s.Kind != matrix.KindCold {
			continue
		}
		row.Attempts++
		if !s.OK {
			row.Failures++
			continue
		}
		if s.Kind == matrix.KindCold {
			if !math.IsNaN(s.InitMs) {
				row.Samples[MetricInit] = append(row.Samples[MetricInit], s.InitMs)
			}
			continue
		}
		row.Samples[MetricWarm] = append(row.Samples[MetricWarm], s.Duration())
		row.Samples[MetricBilled] = append(row.Samples[MetricBilled], s.Billed())
		row.Samples[MetricRoundTrip] = append(row.Samples[MetricRoundTrip], s.RoundTripMs)
		billed[key] = append(billed[key], s.Billed())
		// The cost of each invocation priced on its own, per million: a
		// sample of cost that the U test can compare like any other.
		c, err := prices.PerMillion(s.Arch, s.MemoryMB, s.Billed())
		if err != nil {
			return nil, inputErr("%s line with %s: %v", path, key, err)
		}
		row.Samples[MetricCost] = append(row.Samples[MetricCost], c)
	}
	for _, row := range r.Rows {
		if b := billed[row.Key]; len(b) > 0 {
			arch, mem := splitConfigKey(row.Key)
			bill, err := prices.Standard(arch, mem, b)
			if err != nil {
				return nil, inputErr("%s: price %s: %v", dir, row.Key, err)
			}
			r.Costs = append(r.Costs, KeyCost{row.Key, bill.PerMillion()})
		}
	}
	if len(r.Rows) == 0 {
		return nil, inputErr("%s has no samples", path)
	}
	return r, nil
}

func configKey(arch string, memoryMB int) string { return fmt.Sprintf("%s %d MB", arch, memoryMB) }

func splitConfigKey(key string) (string, int) {
	f := strings.Fields(key)
	if len(f) < 2 {
		return key, 0
	}
	mem, _ := strconv.Atoi(f[1])
	return f[0], mem
}

// readLoad reads a load folder through load.CSVDecoder.
func readLoad(dir string, o ReadOptions) (*Run, error) {
	path := filepath.Join(dir, load.SamplesFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, inputErr("%s: %v", path, err)
	}
	defer f.Close()
	r := &Run{Dir: dir, Kind: KindLoad}
	type tally struct {
		row     *Row
		perSec  map[int64]float64
		lastSec int64
		// order: scenario as first seen, endpoint as load.EndpointOrder
		// (others after, as first seen), stage.
		scenario, endpoint, stage int
	}
	scenarios, endpoints := map[string]int{}, map[string]int{}
	for i, e := range load.EndpointOrder {
		endpoints[e] = i
	}
	tallies := map[string]*tally{}
	var order []string
	dec := load.NewCSVDecoder(f)
	for {
		var res load.Result
		if err := dec.Decode(&res); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, inputErr("%s: %v", path, err)
		}
		key := res.Scenario + " " + res.Endpoint
		if o.Stages {
			key += fmt.Sprintf(" stage %d (%s)", res.Stage, res.Stages.Label(res.Stage-1))
		}
		t := tallies[key]
		if t == nil {
			if _, ok := scenarios[res.Scenario]; !ok {
				scenarios[res.Scenario] = len(scenarios)
			}
			if _, ok := endpoints[res.Endpoint]; !ok {
				endpoints[res.Endpoint] = len(endpoints)
			}
			t = &tally{row: r.row(key), perSec: map[int64]float64{}, lastSec: -1,
				scenario: scenarios[res.Scenario], endpoint: endpoints[res.Endpoint]}
			t.row.Labels = []Label{{"endpoint", res.Endpoint}, {"scenario", res.Scenario}}
			if o.Stages {
				t.stage = res.Stage
			}
			tallies[key] = t
			order = append(order, key)
		}
		if res.Dropped() {
			t.row.Dropped++
			continue
		}
		t.row.Attempts++
		ok := res.OK()
		errFlag := 0.0
		if !ok {
			errFlag = 1
			t.row.Failures++
		}
		if ok {
			// Latency is that of the successful requests only: a failure
			// answered fast must never read as an improvement.
			t.row.Samples[MetricLatency] = append(t.row.Samples[MetricLatency], float64(res.Latency)/float64(time.Millisecond))
		}
		t.row.Samples[MetricErrors] = append(t.row.Samples[MetricErrors], errFlag)
		sec := int64(res.Elapsed / time.Second)
		t.perSec[sec]++
		t.lastSec = max(t.lastSec, sec)
	}
	for _, k := range order {
		t := tallies[k]
		// Requests sent in each whole second of the row's window, from its
		// first to its last second; the last second is partial (the run
		// or the stage ended inside it) and is left out when there are
		// others.
		first := t.lastSec
		for s := range t.perSec {
			first = min(first, s)
		}
		last := t.lastSec
		if last > first {
			last--
		}
		for s := first; s <= last && t.lastSec >= 0; s++ {
			t.row.Samples[MetricThroughput] = append(t.row.Samples[MetricThroughput], t.perSec[s])
		}
	}
	if len(r.Rows) == 0 {
		return nil, inputErr("%s has no samples", path)
	}
	slices.SortStableFunc(r.Rows, func(a, b *Row) int {
		x, y := tallies[a.Key], tallies[b.Key]
		return cmp.Or(cmp.Compare(x.scenario, y.scenario), cmp.Compare(x.endpoint, y.endpoint), cmp.Compare(x.stage, y.stage))
	})
	rep, err := load.ReadReport(filepath.Join(dir, load.SummaryJSONFile))
	if err != nil {
		r.Notes = append(r.Notes, dir+": no readable summary.json: no cost per row")
		return r, nil
	}
	for _, sc := range rep.Scenarios {
		for _, e := range sc.Endpoints {
			if e.Cost == nil {
				continue
			}
			// The estimate covers the whole scenario, also with --stages.
			r.Costs = append(r.Costs, KeyCost{sc.Name + " " + e.Endpoint, e.Cost.PerMillionUSD})
		}
	}
	return r, nil
}
