package load

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvHeader names the columns of samples.csv, one row per request.
var csvHeader = []string{
	"time", "scenario", "query", "endpoint", "model", "stages", "stage", "vus", "rate",
	"elapsed_ms", "status", "latency_ms", "error", "cold", "concurrent",
}

// timeLayout is RFC 3339 in UTC with microseconds: samples are kept to the
// microsecond, so the file holds them exactly.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// CSVEncoder writes Results as rows of samples.csv. It buffers: call Flush
// to push the rows written so far to the underlying writer. It is not safe
// for concurrent use.
type CSVEncoder struct {
	w      *csv.Writer
	header bool
	row    []string
}

// NewCSVEncoder returns an encoder writing to w; the header goes out with
// the first row.
func NewCSVEncoder(w io.Writer) *CSVEncoder {
	return &CSVEncoder{w: csv.NewWriter(w), row: make([]string, len(csvHeader))}
}

// Encode writes one result.
func (e *CSVEncoder) Encode(r *Result) error {
	if !e.header {
		if err := e.w.Write(csvHeader); err != nil {
			return fmt.Errorf("write samples header: %w", err)
		}
		e.header = true
	}
	row := e.row
	row[0] = r.Time.UTC().Format(timeLayout)
	row[1] = r.Scenario
	row[2] = r.Query
	row[3] = r.Endpoint
	row[4] = string(r.Model)
	row[5] = r.Stages.String()
	row[6] = strconv.Itoa(r.Stage)
	row[7], row[8] = "", ""
	if r.Model == Open {
		row[8] = strconv.FormatFloat(r.Rate, 'f', -1, 64)
	} else {
		row[7] = strconv.Itoa(r.VUs)
	}
	row[9] = formatMillis(r.Elapsed)
	row[10] = strconv.Itoa(r.Status)
	row[11] = formatMillis(r.Latency)
	row[12] = r.Error
	row[13], row[14] = "", ""
	if r.Hello {
		row[13] = strconv.FormatBool(r.Cold)
		row[14] = strconv.Itoa(r.Concurrent)
	}
	if err := e.w.Write(row); err != nil {
		return fmt.Errorf("write sample: %w", err)
	}
	return nil
}

// Flush writes any buffered rows to the underlying writer.
func (e *CSVEncoder) Flush() error {
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return fmt.Errorf("flush samples: %w", err)
	}
	return nil
}

// CSVDecoder reads the rows of samples.csv back into Results.
type CSVDecoder struct {
	r      *csv.Reader
	col    map[string]int
	line   int
	stages map[string]Stages // parsed profiles, by their text
}

// NewCSVDecoder returns a decoder reading from r. The header is read with
// the first Decode; columns are found by name, so extra columns are ignored.
func NewCSVDecoder(r io.Reader) *CSVDecoder {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	return &CSVDecoder{r: cr, stages: map[string]Stages{}}
}

// Decode reads the next row into res. It returns io.EOF after the last row.
func (d *CSVDecoder) Decode(res *Result) error {
	if d.col == nil {
		head, err := d.r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("read samples header: %w", err)
		}
		d.line++
		d.col = make(map[string]int, len(head))
		for i, h := range head {
			d.col[strings.TrimSpace(h)] = i
		}
		for _, h := range csvHeader {
			if _, ok := d.col[h]; !ok {
				return fmt.Errorf("samples header lacks column %q: is this a samples.csv of bench load?", h)
			}
		}
	}
	rec, err := d.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("read samples line %d: %w", d.line+1, err)
	}
	d.line++
	if err := d.fill(res, rec); err != nil {
		return fmt.Errorf("samples line %d: %w", d.line, err)
	}
	return nil
}

func (d *CSVDecoder) fill(res *Result, rec []string) error {
	get := func(name string) string { return rec[d.col[name]] }
	*res = Result{
		Scenario: get("scenario"),
		Query:    get("query"),
		Endpoint: get("endpoint"),
		Model:    Model(get("model")),
		Error:    get("error"),
	}
	var err error
	if res.Time, err = time.Parse(time.RFC3339Nano, get("time")); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	st := get("stages")
	if res.Stages = d.stages[st]; res.Stages == nil {
		if res.Stages, err = ParseStages(st, false); err != nil {
			return fmt.Errorf("stages: %w", err)
		}
		d.stages[st] = res.Stages
	}
	if res.Stage, err = strconv.Atoi(get("stage")); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	if res.Stage < 1 || res.Stage > len(res.Stages) {
		return fmt.Errorf("stage %d outside the %d stages of %s", res.Stage, len(res.Stages), st)
	}
	if v := get("vus"); v != "" {
		if res.VUs, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("vus: %w", err)
		}
	}
	if v := get("rate"); v != "" {
		if res.Rate, err = strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("rate: %w", err)
		}
	}
	if res.Elapsed, err = parseMillis(get("elapsed_ms")); err != nil {
		return fmt.Errorf("elapsed_ms: %w", err)
	}
	if res.Status, err = strconv.Atoi(get("status")); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if res.Latency, err = parseMillis(get("latency_ms")); err != nil {
		return fmt.Errorf("latency_ms: %w", err)
	}
	if v := get("cold"); v != "" {
		res.Hello = true
		if res.Cold, err = strconv.ParseBool(v); err != nil {
			return fmt.Errorf("cold: %w", err)
		}
		if res.Concurrent, err = strconv.Atoi(get("concurrent")); err != nil {
			return fmt.Errorf("concurrent: %w", err)
		}
	}
	switch res.Model {
	case Open, Closed:
	default:
		return fmt.Errorf("model %q: want open or closed", res.Model)
	}
	return nil
}

// formatMillis writes d in milliseconds with microsecond precision, the
// precision samples are kept at: "12.345".
func formatMillis(d time.Duration) string {
	us := d.Microseconds()
	sign := ""
	if us < 0 {
		sign, us = "-", -us
	}
	return fmt.Sprintf("%s%d.%03d", sign, us/1000, us%1000)
}

// parseMillis reads a duration in milliseconds written by formatMillis (or
// any decimal number of milliseconds), exactly to the microsecond.
func parseMillis(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	ms, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad milliseconds %q", s)
	}
	frac = (frac + "000")[:3] // microseconds; finer digits are dropped
	us, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad milliseconds %q", s)
	}
	d := time.Duration(ms)*time.Millisecond + time.Duration(us)*time.Microsecond
	if neg {
		d = -d
	}
	return d, nil
}
