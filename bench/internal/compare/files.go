package compare

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"lambdabench/bench/internal/charts"
)

// Files written by WriteFiles.
const (
	TextFile     = "compare.txt"
	MarkdownFile = "compare.md"
	JSONFile     = "compare.json"
)

// WriteFiles writes the comparison into dir (created if needed): the table
// as text (no colour), Markdown and JSON, and per metric a chart of each
// row's distribution before and after (compare-<kind>-<metric>.png). It
// returns the paths written.
func (r *Result) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("compare output: %w", err)
	}
	var written []string
	var chartErrs []error
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{TextFile, func(b *bytes.Buffer) error { return r.WriteText(b, TextOptions{}) }},
		{MarkdownFile, func(b *bytes.Buffer) error { return r.WriteMarkdown(b) }},
		{JSONFile, func(b *bytes.Buffer) error { return r.WriteJSON(b) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			return written, err
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return written, fmt.Errorf("compare output: %w", err)
		}
		written = append(written, p)
	}
	for _, part := range r.Parts {
		for _, t := range part.Tables {
			// The p99 and error-rate tables read the same samples as the
			// latency chart (or 0/1 flags): no chart of their own.
			if t.Metric.Stat != P50 || len(t.Cells) == 0 {
				continue
			}
			rows := make([]charts.CompareRow, 0, len(t.Cells))
			for _, c := range t.Cells {
				rows = append(rows, charts.CompareRow{Name: c.Key, Old: c.oldSamples, New: c.newSamples})
			}
			p := filepath.Join(dir, "compare-"+part.Kind+"-"+t.Metric.ID+".png")
			name := strings.TrimSuffix(t.Metric.Title, ", median")
			if err := charts.Compare(p, title(part.Kind)+": "+name+", old vs new", name+" ("+t.Metric.Unit+")",
				"old: "+filepath.Base(part.OldDir), "new: "+filepath.Base(part.NewDir), rows); err != nil {
				chartErrs = append(chartErrs, err)
				continue
			}
			written = append(written, p)
		}
	}
	if len(chartErrs) > 0 {
		return written, &ChartError{Err: errors.Join(chartErrs...)}
	}
	return written, nil
}

// ChartError is WriteFiles' error when every table was written but some
// charts could not be drawn: a warning, not a failed comparison.
type ChartError struct{ Err error }

func (e *ChartError) Error() string { return "charts not drawn: " + e.Err.Error() }

func (e *ChartError) Unwrap() error { return e.Err }
