package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"lambdabench/bench/internal/threshold"
)

// TextOptions configure the terminal table.
type TextOptions struct {
	// Color marks significant changes in red (worse) and green (better)
	// with ANSI escapes; only for a terminal.
	Color bool
}

const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiBold  = "\x1b[1m"
	ansiReset = "\x1b[0m"
)

// WriteText writes the comparison as aligned tables, benchstat's layout:
// per metric, each row's old and new value ± the half-width of its 95%
// confidence interval (as % of the value), then the change and the test —
// "~" when the difference is not significant at alpha.
func (r *Result) WriteText(w io.Writer, o TextOptions) error {
	ew := &errWriter{w: w}
	for i, p := range r.Parts {
		if i > 0 {
			ew.printf("\n")
		}
		ew.printf("%s: %s → %s\n", title(p.Kind), p.OldDir, p.NewDir)
		ew.printf("%s\n", legend(r))
		for _, t := range p.Tables {
			ew.printf("\n")
			notes := &footnotes{}
			head := []string{t.Metric.Title + " (" + t.Metric.Unit + ")", "old", "new", "vs old"}
			if t.Gate {
				head[0] += " [gate]"
			}
			rows := [][]string{head}
			var colour []string
			colour = append(colour, "")
			for _, c := range t.Cells {
				rows = append(rows, []string{
					c.Key,
					estText(c.Old, t.Metric, notes),
					estText(c.New, t.Metric, notes),
					changeText(c, notes) + regressionMark(c),
				})
				colour = append(colour, cellColour(c))
			}
			if g := t.Geomean; g != nil {
				rows = append(rows, []string{"geomean", num(g.Old, t.Metric.Unit), num(g.New, t.Metric.Unit), signedPct(g.ChangePct)})
				colour = append(colour, "")
			}
			writeAligned(ew, rows, colour, o.Color)
			for i, n := range notes.list {
				ew.printf("%s %s\n", sup(i+1), n)
			}
		}
		writeSets(ew, p, "")
		writeKneesText(ew, p, o.Color)
		if len(p.Costs) > 0 {
			ew.printf("\n")
			rows := [][]string{{"cost per 1M invocations (as each summary states it)", "old", "new", "vs old"}}
			for _, c := range p.Costs {
				rows = append(rows, []string{c.Key, usd(c.Old), usd(c.New), signedPct(c.ChangePct)})
			}
			writeAligned(ew, rows, nil, false)
		}
		ew.printf("\n%s\n", verdictLine(p))
		for _, n := range p.Notes {
			ew.printf("note: %s\n", n)
		}
	}
	ew.printf("\n%s\n", gateLine(r))
	return ew.err
}

// WriteMarkdown writes the comparison as Markdown, for a pull-request
// comment.
func (r *Result) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("# Comparison\n")
	for _, p := range r.Parts {
		ew.printf("\n## %s: `%s` → `%s`\n\n%s\n", title(p.Kind), p.OldDir, p.NewDir, legend(r))
		for _, t := range p.Tables {
			notes := &footnotes{}
			gate := ""
			if t.Gate {
				gate = " — gate"
			}
			ew.printf("\n### %s (%s)%s\n\n", t.Metric.Title, t.Metric.Unit, gate)
			ew.printf("| row | old | new | vs old |\n|---|---:|---:|---|\n")
			for _, c := range t.Cells {
				o, n := estText(c.Old, t.Metric, notes), estText(c.New, t.Metric, notes)
				ch := changeText(c, notes)
				if c.Regression {
					ch = "**" + ch + "** ⚠ regression"
				} else if c.Worse || c.Better {
					ch = "**" + ch + "**"
				}
				ew.printf("| %s | %s | %s | %s |\n", c.Key, o, n, ch)
			}
			if g := t.Geomean; g != nil {
				ew.printf("| *geomean* | %s | %s | %s |\n", num(g.Old, t.Metric.Unit), num(g.New, t.Metric.Unit), signedPct(g.ChangePct))
			}
			if len(notes.list) > 0 {
				ew.printf("\n")
				for i, n := range notes.list {
					ew.printf("%s %s  \n", sup(i+1), n)
				}
			}
		}
		writeSets(ew, p, "- ")
		writeKneesMarkdown(ew, p)
		if len(p.Costs) > 0 {
			ew.printf("\n### Cost per 1M invocations (as each summary states it)\n\n| row | old | new | vs old |\n|---|---:|---:|---:|\n")
			for _, c := range p.Costs {
				ew.printf("| %s | %s | %s | %s |\n", c.Key, usd(c.Old), usd(c.New), signedPct(c.ChangePct))
			}
		}
		ew.printf("\n%s\n", verdictLine(p))
		for _, n := range p.Notes {
			ew.printf("\n> %s\n", n)
		}
	}
	ew.printf("\n**%s**\n", gateLine(r))
	return ew.err
}

// WriteJSON writes the comparison as JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write comparison JSON: %w", err)
	}
	return nil
}

func title(kind string) string {
	switch kind {
	case KindMatrix:
		return "Matrix"
	case KindTune:
		return "Tune"
	case KindLoad:
		return "Load"
	case KindTuneLMI:
		return "LMI tune"
	}
	return kind
}

func legend(r *Result) string {
	return fmt.Sprintf("value ± half-width of its %.0f%% confidence interval; vs old: change of the value, "+
		"\"~\" when not significant at alpha %v (p: Mann–Whitney U on the raw samples; p99: quantile test; n: samples on each side, old+new when they differ)",
		100*r.Confidence, r.Alpha)
}

func writeSets(ew *errWriter, p Part, bullet string) {
	if len(p.OnlyOld) == 0 && len(p.OnlyNew) == 0 && len(p.Skipped) == 0 && len(p.Failures) == 0 {
		return
	}
	ew.printf("\n")
	for _, k := range p.OnlyOld {
		ew.printf("%sonly in old: %s\n", bullet, k)
	}
	for _, k := range p.OnlyNew {
		ew.printf("%sonly in new: %s\n", bullet, k)
	}
	for _, k := range p.Skipped {
		ew.printf("%snot measured: %s\n", bullet, k)
	}
	for _, k := range p.Failures {
		ew.printf("%sfailures: %s\n", bullet, k)
	}
}

func verdictLine(p Part) string {
	if p.Kind == KindLoad {
		return "verdict: load runs have none"
	}
	if p.Kind == KindTuneLMI {
		return lmiVerdictLine(p)
	}
	o, n := orNone(p.OldVerdict), orNone(p.NewVerdict)
	switch {
	case p.VerdictChanged:
		return fmt.Sprintf("verdict: changed — old %s, new %s", o, n)
	case p.OldVerdict != "" && p.OldVerdict == p.NewVerdict:
		return fmt.Sprintf("verdict: unchanged — %s on both sides", o)
	}
	return fmt.Sprintf("verdict: old %s, new %s", o, n)
}

func orNone(s string) string {
	if s == "" {
		return "(none recorded)"
	}
	return s
}

func gateLine(r *Result) string {
	if r.FailPct == nil {
		return fmt.Sprintf("regression gate: off (--fail-on-regression PCT exits %d when a gate metric got significantly worse by more than PCT)", threshold.ExitCode)
	}
	s := fmt.Sprintf("regression gate (%s): FAILED — %s", pct(*r.FailPct), strings.Join(r.Regressions, "; "))
	if len(r.Regressions) == 0 {
		s = fmt.Sprintf("regression gate (%s): passed — no gate metric got significantly worse by more than %s", pct(*r.FailPct), pct(*r.FailPct))
	}
	if len(r.Undetectable) > 0 {
		s += fmt.Sprintf(" (too few samples to detect any difference, so never failing: %s)", strings.Join(r.Undetectable, ", "))
	}
	return s
}

func estText(e *Estimate, m Metric, notes *footnotes) string {
	if e == nil || e.N == 0 {
		return "—"
	}
	var s string
	switch {
	case m.Stat == Rate:
		s = fmt.Sprintf("%.2f%% [%.2f, %.2f]", e.Center, e.Lo, e.Hi)
	case e.HasInterval():
		s = num(e.Center, m.Unit) + " ± " + halfWidth(*e)
	default:
		s = num(e.Center, m.Unit) + " ± ∞"
	}
	for _, w := range e.Warnings {
		s += notes.mark(w)
	}
	return s
}

// halfWidth is the larger distance from the value to a bound of its
// interval, in % of the value (benchstat's ± figure).
func halfWidth(e Estimate) string {
	if e.Center == 0 {
		if e.Lo == 0 && e.Hi == 0 {
			return "0%"
		}
		return "?"
	}
	v := math.Max(e.Hi/e.Center-1, 1-e.Lo/e.Center)
	return fmt.Sprintf("%.0f%%", 100*v)
}

func changeText(c Cell, notes *footnotes) string {
	if c.Test == nil {
		return "—"
	}
	n := fmt.Sprintf("n=%d+%d", c.Old.N, c.New.N)
	if c.Old.N == c.New.N {
		n = fmt.Sprintf("n=%d", c.Old.N)
	}
	s := "~"
	if c.Test.Significant {
		s = signedPct(c.ChangePct)
	}
	s += fmt.Sprintf(" (p=%s %s)", pval(c.Test.P), n)
	for _, w := range c.Test.Warnings {
		s += notes.mark(w)
	}
	return s
}

func regressionMark(c Cell) string {
	if c.Regression {
		return " REGRESSION"
	}
	return ""
}

func cellColour(c Cell) string {
	switch {
	case c.Regression:
		return ansiBold + ansiRed
	case c.Worse:
		return ansiRed
	case c.Better:
		return ansiGreen
	}
	return ""
}

func pval(p float64) string { return fmt.Sprintf("%.3f", p) }

func signedPct(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 1):
		return "+∞"
	case v == 0:
		return "0.00%"
	}
	return fmt.Sprintf("%+.2f%%", v)
}

// num formats a value in its unit, with digits enough to tell rows apart.
func num(v float64, unit string) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case unit == "$":
		return usd(v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func usd(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("$%.2f", v)
}

// footnotes numbers distinct warnings, benchstat-style.
type footnotes struct{ list []string }

func (f *footnotes) mark(msg string) string {
	for i, m := range f.list {
		if m == msg {
			return sup(i + 1)
		}
	}
	f.list = append(f.list, msg)
	return sup(len(f.list))
}

func sup(n int) string {
	digits := []rune("⁰¹²³⁴⁵⁶⁷⁸⁹")
	var b strings.Builder
	for _, d := range fmt.Sprint(n) {
		b.WriteRune(digits[d-'0'])
	}
	return b.String()
}

// writeAligned writes rows as columns separated by two spaces: the first
// left-aligned, the others right-aligned but the last (left). colour, when
// on, wraps each row in its escape.
func writeAligned(ew *errWriter, rows [][]string, colour []string, on bool) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for ri, r := range rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i == 0:
				b.WriteString(c + pad)
			case i == len(r)-1:
				b.WriteString("  " + c)
			default:
				b.WriteString("  " + pad + c)
			}
		}
		line := strings.TrimRight(b.String(), " ")
		if on && ri < len(colour) && colour[ri] != "" {
			line = colour[ri] + line + ansiReset
		}
		ew.printf("%s\n", line)
	}
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}

// JSON shapes: NaN and ±Inf (unknown values, unbounded intervals) become
// null, which JSON can carry.

type jnum float64

func (v jnum) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// MarshalJSON writes the interval as lo and hi (null when unbounded).
func (e Estimate) MarshalJSON() ([]byte, error) {
	type plain Estimate
	return json.Marshal(struct {
		plain
		Center jnum `json:"value"`
		Lo     jnum `json:"ci_lo"`
		Hi     jnum `json:"ci_hi"`
	}{plain(e), jnum(e.Center), jnum(e.Lo), jnum(e.Hi)})
}

// MarshalJSON adds the change in percent (null when undefined).
func (c Cell) MarshalJSON() ([]byte, error) {
	type plain Cell
	return json.Marshal(struct {
		plain
		ChangePct jnum `json:"change_pct"`
	}{plain(c), jnum(c.ChangePct)})
}

// MarshalJSON writes the amounts in USD (null when unknown).
func (c CostRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Key       string `json:"row"`
		Old       jnum   `json:"old_usd"`
		New       jnum   `json:"new_usd"`
		ChangePct jnum   `json:"change_pct"`
	}{c.Key, jnum(c.Old), jnum(c.New), jnum(c.ChangePct)})
}

// MarshalJSON writes the geomeans.
func (g Geo) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Old       jnum `json:"old"`
		New       jnum `json:"new"`
		ChangePct jnum `json:"change_pct"`
		Rows      int  `json:"rows"`
	}{jnum(g.Old), jnum(g.New), jnum(g.ChangePct), g.Rows})
}
