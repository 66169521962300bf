package matrix

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"lambdabench/bench/internal/results"
)

// Sample kinds.
const (
	KindCold    = "cold"    // first invocation after a forced cold start
	KindWarm    = "warm"    // a measured warm invocation
	KindWarmup  = "warmup"  // unmeasured invocation that warms an environment when --cold is 0
	KindSkipped = "skipped" // a configuration that could not be measured on this target
)

// Sample is one invocation of one configuration, as written to samples.csv.
type Sample struct {
	Time     time.Time
	Function string
	Arch     string
	MemoryMB int
	Workers  int     // WORKER_COUNT the function was deployed with
	VCPUs    float64 // vCPUs the environment had (what memory buys, capped by the target)
	Kind     string
	Seq      int
	OK       bool
	Error    string

	// Columns after the matrix's own (read by name; absent in older files).
	ErrorKind string // timeout | oom | error | throttle | invoke ("" = ok)
	Payload   string // name of the weighted payload it sent ("" = the only one)
	Qualifier string // version or alias invoked ("" = $LATEST)

	derived bool // made from another sample for the summary (cold starts only, --runs 0); not an invocation

	RoundTripMs float64 // client-side round trip of the Invoke call

	// From the REPORT line; NaN where the target gave none.
	DurationMs  float64
	BilledMs    float64
	InitMs      float64 // NaN unless a cold start
	MaxMemoryMB float64

	// From the function's response; NaN on failure.
	HandlerMs    float64
	Processed    float64
	Mode         string
	HandlerWork  float64 // workers the handler used
	DetectedCPUs float64
	Gomaxprocs   float64
	ThreadsUsed  float64
	CPUMs        float64
	Parallelism  float64
	MemoryUsedKB float64
}

var header = []string{
	"time", "function", "arch", "memory_mb", "worker_count", "vcpus", "kind", "seq", "ok", "error",
	"roundtrip_ms", "duration_ms", "billed_ms", "init_ms", "max_memory_mb",
	"handler_ms", "processed", "mode", "workers", "detected_cpus", "gomaxprocs", "threads_used",
	"cpu_ms", "parallelism", "memory_used_kb",
}

// extraHeader are columns after the matrix's; a reader must not require them.
var extraHeader = []string{"error_kind", "payload", "qualifier"}

// Duration is the invocation's duration as Lambda measured it (REPORT), or
// the handler's own measurement where the target reported none.
func (s Sample) Duration() float64 {
	if !math.IsNaN(s.DurationMs) {
		return s.DurationMs
	}
	return s.HandlerMs
}

// Billed is the billed duration, or the duration rounded up to 1 ms where the
// target reported none (Lambda rounds up to 1 ms).
func (s Sample) Billed() float64 {
	if !math.IsNaN(s.BilledMs) {
		return s.BilledMs
	}
	return math.Ceil(s.Duration())
}

// CSVWriter streams samples to a CSV file, flushing every row so that an
// interrupted run keeps everything it measured.
type CSVWriter struct {
	w *csv.Writer
}

// NewCSVWriter writes the header and returns a writer for the rows.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string(nil), header...), extraHeader...)); err != nil {
		return nil, fmt.Errorf("write samples header: %w", err)
	}
	cw.Flush()
	return &CSVWriter{w: cw}, cw.Error()
}

// Write appends one sample and flushes it.
func (c *CSVWriter) Write(s Sample) error {
	rec := []string{
		s.Time.UTC().Format(time.RFC3339Nano), s.Function, s.Arch, strconv.Itoa(s.MemoryMB), strconv.Itoa(s.Workers),
		num(s.VCPUs), s.Kind, strconv.Itoa(s.Seq), strconv.FormatBool(s.OK), s.Error,
		num(s.RoundTripMs), num(s.DurationMs), num(s.BilledMs), num(s.InitMs), num(s.MaxMemoryMB),
		num(s.HandlerMs), num(s.Processed), s.Mode, num(s.HandlerWork), num(s.DetectedCPUs), num(s.Gomaxprocs),
		num(s.ThreadsUsed), num(s.CPUMs), num(s.Parallelism), num(s.MemoryUsedKB),
		s.ErrorKind, s.Payload, s.Qualifier,
	}
	if err := c.w.Write(rec); err != nil {
		return fmt.Errorf("write sample: %w", err)
	}
	c.w.Flush()
	return c.w.Error()
}

func num(f float64) string {
	if math.IsNaN(f) {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// ReadFile reads a samples.csv written by CSVWriter through results.ReadSamples: a torn last
// line (a run killed mid-write) is left out and described in torn; any other damage is an error
// naming the file and the line.
func ReadFile(path string) (samples []Sample, torn *results.Torn, err error) {
	r, torn, err := results.OpenSamples(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read samples: %w", err)
	}
	samples, err = ReadCSV(r)
	if err != nil {
		return nil, torn, &results.DamagedError{Path: path, Err: err}
	}
	return samples, torn, nil
}

// ReadCSV reads samples written by CSVWriter. Every line must be whole: a torn last line is
// ReadFile's to cut off, so any CSV error here is damage and names its line.
func ReadCSV(r io.Reader) ([]Sample, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read samples header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range header {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("samples.csv has no %q column: not a matrix samples file", h)
		}
	}
	var out []Sample
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("line %d: %w", pe.StartLine, pe.Err)
			}
			return nil, fmt.Errorf("read samples: %w", err)
		}
		line, _ := cr.FieldPos(0)
		p := parser{rec: rec, col: col, line: line}
		s := Sample{
			Function: p.str("function"), Arch: p.str("arch"), MemoryMB: p.int("memory_mb"), Workers: p.int("worker_count"),
			VCPUs: p.f("vcpus"), Kind: p.str("kind"), Seq: p.int("seq"), OK: p.str("ok") == "true", Error: p.str("error"),
			RoundTripMs: p.f("roundtrip_ms"), DurationMs: p.f("duration_ms"), BilledMs: p.f("billed_ms"), InitMs: p.f("init_ms"),
			MaxMemoryMB: p.f("max_memory_mb"), HandlerMs: p.f("handler_ms"), Processed: p.f("processed"), Mode: p.str("mode"),
			HandlerWork: p.f("workers"), DetectedCPUs: p.f("detected_cpus"), Gomaxprocs: p.f("gomaxprocs"),
			ThreadsUsed: p.f("threads_used"), CPUMs: p.f("cpu_ms"), Parallelism: p.f("parallelism"), MemoryUsedKB: p.f("memory_used_kb"),
			ErrorKind: p.opt("error_kind"), Payload: p.opt("payload"), Qualifier: p.opt("qualifier"),
		}
		s.Time, err = time.Parse(time.RFC3339Nano, p.str("time"))
		if err == nil {
			err = p.err
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, s)
	}
}

type parser struct {
	rec  []string
	col  map[string]int
	line int
	err  error
}

func (p *parser) str(name string) string { return p.rec[p.col[name]] }

// opt reads a column that older files do not have.
func (p *parser) opt(name string) string {
	i, ok := p.col[name]
	if !ok || i >= len(p.rec) {
		return ""
	}
	return p.rec[i]
}

func (p *parser) f(name string) float64 {
	s := p.str(name)
	if s == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("column %s: %w", name, err)
	}
	return v
}

func (p *parser) int(name string) int {
	v, err := strconv.Atoi(p.str(name))
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("column %s: %w", name, err)
	}
	return v
}
