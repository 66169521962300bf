package load

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// csvHeader names the columns of samples.csv, one row per request.
var csvHeader = []string{
	"time", "scenario", "query", "endpoint", "model", "stages", "stage", "vus", "rate",
	"elapsed_ms", "status", "latency_ms", "error", "cold", "concurrent",
	"request", "lag_ms", "duration_ms", "billed_ms",
}

// optionalColumns may be missing from a samples.csv written before they
// existed; they read as empty.
var optionalColumns = map[string]bool{"request": true, "lag_ms": true, "duration_ms": true, "billed_ms": true}

// timeLayout is RFC 3339 in UTC with microseconds: samples are kept to the
// microsecond, so the file holds them exactly.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// CSVEncoder writes Results as rows of samples.csv. It buffers: call Flush
// to push the rows written so far to the underlying writer. It is not safe
// for concurrent use.
//
// It formats each row into one reused buffer with strconv's Append
// functions instead of going through encoding/csv, which costs a []string
// and a string per field: the encoder runs once per request, on the path
// every result takes. Fields are quoted as encoding/csv quotes them, so
// encoding/csv reads them back.
type CSVEncoder struct {
	w      *bufio.Writer
	header bool
	buf    []byte
	stages map[*Stage]string // Stages.String of the profiles seen, by first element
	// The time column's text up to the whole second, for the second of the
	// last row: rows come in time order, so most rows reuse it.
	sec     int64
	secText []byte
	// The scenario, query, endpoint, model and stages columns of the last
	// row, which rows of one endpoint share: quoting them once per
	// endpoint, not per row.
	fixed     fixedKey
	fixedText []byte
}

type fixedKey struct {
	scenario, query, endpoint string
	model                     Model
	stages                    *Stage
	n                         int
}

// NewCSVEncoder returns an encoder writing to w; the header goes out with
// the first row.
func NewCSVEncoder(w io.Writer) *CSVEncoder {
	return &CSVEncoder{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 256), stages: map[*Stage]string{}}
}

// Encode writes one result.
func (e *CSVEncoder) Encode(r *Result) error {
	if !e.header {
		if _, err := e.w.WriteString(strings.Join(csvHeader, ",") + "\n"); err != nil {
			return fmt.Errorf("write samples header: %w", err)
		}
		e.header = true
	}
	b := e.buf[:0]
	b = e.appendTime(b, r.Time)
	b = append(b, e.fixedFields(r)...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Stage), 10)
	b = append(b, ',')
	if r.Model == Open {
		b = append(b, ',')
		b = strconv.AppendFloat(b, r.Rate, 'f', -1, 64)
	} else {
		b = strconv.AppendInt(b, int64(r.VUs), 10)
		b = append(b, ',')
	}
	b = append(b, ',')
	b = appendMillis(b, r.Elapsed)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, ',')
	b = appendMillis(b, r.Latency)
	b = appendField(b, r.Error)
	b = append(b, ',')
	if r.Hello {
		b = strconv.AppendBool(b, r.Cold)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(r.Concurrent), 10)
	} else {
		b = append(b, ',')
	}
	b = appendField(b, r.Request)
	b = append(b, ',')
	if !r.Dropped() {
		b = appendMillis(b, r.Lag)
	}
	b = append(b, ',')
	if r.DurationMs > 0 {
		b = strconv.AppendFloat(b, r.DurationMs, 'f', -1, 64)
	}
	b = append(b, ',')
	if r.BilledMs > 0 {
		b = strconv.AppendFloat(b, r.BilledMs, 'f', -1, 64)
	}
	b = append(b, '\n')
	e.buf = b
	if _, err := e.w.Write(b); err != nil {
		return fmt.Errorf("write sample: %w", err)
	}
	return nil
}

// appendTime appends t as timeLayout formats it, formatting the date and
// the second only when they change: AppendFormat on every row was a tenth
// of the encoder's time.
func (e *CSVEncoder) appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	if sec := t.Unix(); sec != e.sec || e.secText == nil {
		e.sec = sec
		e.secText = t.AppendFormat(e.secText[:0], "2006-01-02T15:04:05")
	}
	b = append(b, e.secText...)
	us := t.Nanosecond() / 1000
	b = append(b, '.', byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10),
		byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10), 'Z')
	return b
}

// fixedFields returns the columns from scenario to stages of r, each after
// its comma.
func (e *CSVEncoder) fixedFields(r *Result) []byte {
	k := fixedKey{scenario: r.Scenario, query: r.Query, endpoint: r.Endpoint, model: r.Model, n: len(r.Stages)}
	if len(r.Stages) > 0 {
		k.stages = &r.Stages[0]
	}
	if k != e.fixed || e.fixedText == nil {
		b := appendField(e.fixedText[:0], r.Scenario)
		b = appendField(b, r.Query)
		b = appendField(b, r.Endpoint)
		b = appendField(b, string(r.Model))
		e.fixedText = appendField(b, e.stagesText(r.Stages))
		e.fixed = k
	}
	return e.fixedText
}

// stagesText is ss.String(), computed once per profile.
func (e *CSVEncoder) stagesText(ss Stages) string {
	if len(ss) == 0 {
		return ""
	}
	k := &ss[0]
	if s, ok := e.stages[k]; ok {
		return s
	}
	s := ss.String()
	e.stages[k] = s
	return s
}

// AppendCSVField appends a comma and s, quoted when encoding/csv would
// quote it: for other engines' samples files written as cheaply as this
// one.
func AppendCSVField(b []byte, s string) []byte { return appendField(b, s) }

// AppendMillis appends d in milliseconds to the microsecond (truncated),
// as samples.csv keeps durations: "12.345".
func AppendMillis(b []byte, d time.Duration) []byte { return appendMillis(b, d) }

// appendField appends a comma and s, quoted when encoding/csv would quote it.
func appendField(b []byte, s string) []byte {
	b = append(b, ',')
	if s == "" || !fieldNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func fieldNeedsQuotes(s string) bool {
	if s == `\.` || s[0] == ' ' || s[0] == '\t' {
		return true
	}
	return strings.ContainsAny(s, ",\"\r\n")
}

// Flush writes any buffered rows to the underlying writer.
func (e *CSVEncoder) Flush() error {
	if err := e.w.Flush(); err != nil {
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
			return fmt.Errorf("line 1 (header): %w", err)
		}
		d.line++
		d.col = make(map[string]int, len(head))
		for i, h := range head {
			d.col[strings.TrimSpace(h)] = i
		}
		for _, h := range csvHeader {
			if _, ok := d.col[h]; !ok && !optionalColumns[h] {
				return fmt.Errorf("samples header lacks column %q: is this a samples.csv of bench load?", h)
			}
		}
	}
	rec, err := d.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("line %d: %w", d.line+1, err)
	}
	d.line++
	if err := d.fill(res, rec); err != nil {
		return fmt.Errorf("line %d: %w", d.line, err)
	}
	return nil
}

func (d *CSVDecoder) fill(res *Result, rec []string) error {
	get := func(name string) string {
		i, ok := d.col[name]
		if !ok {
			return ""
		}
		return rec[i]
	}
	*res = Result{
		Scenario: get("scenario"),
		Query:    get("query"),
		Endpoint: get("endpoint"),
		Request:  get("request"),
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
	if v := get("lag_ms"); v != "" {
		if res.Lag, err = parseMillis(v); err != nil {
			return fmt.Errorf("lag_ms: %w", err)
		}
	}
	for _, c := range []struct {
		name string
		v    *float64
	}{{"duration_ms", &res.DurationMs}, {"billed_ms", &res.BilledMs}} {
		if v := get(c.name); v != "" {
			if *c.v, err = strconv.ParseFloat(v, 64); err != nil || *c.v < 0 {
				return fmt.Errorf("%s: bad value %q", c.name, v)
			}
		}
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

// appendMillis appends d in milliseconds with microsecond precision, the
// precision samples are kept at: "12.345".
func appendMillis(b []byte, d time.Duration) []byte {
	us := d.Microseconds()
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}

// parseMillis reads a duration in milliseconds written by appendMillis (or
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

// samplesFile is a samples.csv opened for reading up to its last complete
// line.
type samplesFile struct {
	*io.SectionReader
	f    *os.File
	path string
	// Torn is the last line when the file does not end with a newline: a
	// row cut short by a run that was killed while writing (every row the
	// encoder writes ends with one). It is left out of the reading.
	Torn string
}

func (s *samplesFile) Close() error { return s.f.Close() }

// openSamples opens a samples.csv, leaving out a torn last line.
func openSamples(path string) (*samplesFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	size := st.Size()
	cut := size
	var torn string
	if size > 0 {
		const window = 1 << 20 // longer than any row
		from := max(0, size-window)
		tail := make([]byte, size-from)
		if _, err := f.ReadAt(tail, from); err != nil && !errors.Is(err, io.EOF) {
			f.Close()
			return nil, err
		}
		if tail[len(tail)-1] != '\n' {
			i := bytes.LastIndexByte(tail, '\n')
			cut = from + int64(i) + 1 // 0 when the whole file is one torn line
			torn = string(tail[i+1:])
		}
	}
	return &samplesFile{SectionReader: io.NewSectionReader(f, 0, cut), f: f, path: path, Torn: torn}, nil
}

// Warning is the line to print about a torn last line ("" when none).
func (s *samplesFile) Warning() string {
	if s.Torn == "" {
		return ""
	}
	t := s.Torn
	if len(t) > 60 {
		t = t[:60] + "…"
	}
	return fmt.Sprintf("warning: %s ends in a torn line (the run was killed while writing it); skipped it: %q", s.path, t)
}
