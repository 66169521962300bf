package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"lambdabench/bench/internal/compare"
)

const compareDescription = `Puts two results folders of the same kind side by side, as benchstat does for Go
benchmarks: a matrix (or tune) folder, a load folder, a tune --lmi folder, or a
suite folder holding both — or a file 'report --format benchfmt' wrote from one (successful samples
only: no failure counts, verdict or summary cost). Rows are matched by configuration (architecture × memory) or by scenario ×
endpoint (× stage with --stages). For each row and metric it prints both values
with their 95% confidence intervals, the change, and the p-value of a
Mann–Whitney U test on the raw samples of samples.csv; "~" when the difference
is not significant at --alpha. Medians and the U test come from
golang.org/x/perf/benchmath; percentiles are nearest rank, as in every summary.
A p99 metric is tested with a quantile test (is the share of samples above the
pooled p99 different?), not the U test, which compares whole distributions.

Metrics: matrix and tune: warm, billed, init (cold init), roundtrip, cost (per
1M invocations, each invocation priced alone); load: latency, latency-p99,
throughput (requests per whole second), errors (error rate); tune --lmi: latency,
latency-p99 and errors per configuration and offered load, and each
configuration's knee side by side. Append -p50 or -p99 to pick the percentile.

Exit status: 0 compared (and the gate, if any, passed), 1 error, 2 bad usage
or bad input (a folder without samples.csv, two folders of different kinds, a
damaged samples.csv), 99 --fail-on-regression found a gate metric
significantly worse by more than PCT.`

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "compare OLD NEW [flags]", compareDescription, stdout, stderr)
	alpha := fs.Float64("alpha", 0.05, "significance level of the tests (0..1)")
	fail := fs.String("fail-on-regression", "", "exit 99 when a --metric row got significantly worse by more than this, e.g. 5%")
	metric := fs.String("metric", "", "metrics the gate watches, comma-separated (default warm for matrix/tune; latency-p99,errors for load: the p99 of successful requests and the error rate)")
	stages := fs.Bool("stages", false, "load: one row per scenario × endpoint × stage")
	format := fs.String("format", "text", "output on stdout: text, md or json")
	out := fs.String("out", "", "also write compare.txt, compare.md, compare.json and the charts into this folder")
	force := fs.Bool("force", false, "replace the comparison already in --out (compare.txt, compare.md, compare.json and its charts)")
	noColor := fs.Bool("no-color", false, "no colour in the text table (colour is used only on a terminal, and never with NO_COLOR set)")
	var junitPath string
	registerJUnit(fs, &junitPath, "the --fail-on-regression gate (per gate metric and row; skipped where too few samples)")

	// Accept flags before, between and after OLD and NEW.
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return parseFlags(fs, []string{a}, stdout)
		}
	}
	var dirs []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return flagError(fs, err)
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if err := parsed(fs); err != nil {
		return err
	}
	if len(dirs) != 2 {
		return usagef("compare: want two results folders (or benchfmt files), OLD and NEW (got %d): go run ./bench compare bench-results/<old> bench-results/<new>", len(dirs))
	}
	switch *format {
	case "text", "md", "json":
	default:
		return usagef("compare: --format %q: want text, md or json", *format)
	}
	o := compare.Options{Alpha: *alpha, FailPct: -1}
	if !(*alpha > 0 && *alpha < 1) {
		return usagef("compare: --alpha %v: want a level between 0 and 1, such as 0.05", *alpha)
	}
	if *fail != "" {
		v, err := compare.ParsePercent(*fail)
		if err != nil {
			return inputError(err)
		}
		o.FailPct = v
	}
	gates := 0
	if *fail != "" {
		gates = 1
	}
	if err := checkJUnit(junitPath, gates, "--fail-on-regression gate"); err != nil {
		return err
	}
	for _, m := range strings.Split(*metric, ",") {
		if m = strings.TrimSpace(m); m != "" {
			o.Gate = append(o.Gate, m)
		}
	}
	if *out != "" && !*force {
		for _, name := range []string{compare.TextFile, compare.MarkdownFile, compare.JSONFile} {
			if _, err := os.Stat(filepath.Join(*out, name)); err == nil {
				return usagef("compare: --out %s already holds a comparison (%s): choose another --out, or add --force to replace it", *out, name)
			}
		}
	}

	ro := compare.ReadOptions{Stages: *stages}
	old, err := compare.Read(dirs[0], ro)
	if err != nil {
		return inputError(err)
	}
	cur, err := compare.Read(dirs[1], ro)
	if err != nil {
		return inputError(err)
	}
	res, err := compare.Compare(old, cur, o)
	if err != nil {
		return inputError(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	switch *format {
	case "md":
		err = res.WriteMarkdown(stdout)
	case "json":
		err = res.WriteJSON(stdout)
	default:
		err = res.WriteText(stdout, compare.TextOptions{Color: !*noColor && colorTerminal(stdout)})
	}
	if err != nil {
		return err
	}
	if *out != "" {
		paths, err := res.WriteFiles(*out)
		var chartErr *compare.ChartError
		if errors.As(err, &chartErr) {
			fmt.Fprintf(stderr, "warning: %v (the comparison is not affected)\n", chartErr)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "Wrote %s\n", strings.Join(paths, ", "))
	}
	err = res.Err()
	if os.Getenv(stepSummaryVar) != "" {
		var md bytes.Buffer
		if merr := res.WriteMarkdown(&md); merr == nil {
			if serr := appendStepSummary(md.Bytes(), *out); serr != nil {
				err = errors.Join(err, serr)
			}
		}
	}
	return writeJUnit(junitPath, "bench compare "+dirs[0]+" "+dirs[1], compareCases(res), err)
}

// inputError turns the comparison's complaints about its input into usage
// errors (exit status 2).
func inputError(err error) error {
	if errors.Is(err, compare.ErrInput) {
		return usagef("compare: %s", strings.TrimPrefix(err.Error(), compare.ErrInput.Error()+": "))
	}
	return err
}

// colorTerminal reports whether w is a terminal that may get colour: not
// when NO_COLOR is set (no-color.org) or TERM is dumb.
func colorTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
