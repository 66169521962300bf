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
	"lambdabench/bench/internal/cost"
	"lambdabench/bench/internal/lmitune"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/results"
)

const reportDescription = `Rebuilds summary.json, summary.md and every chart of a results folder from its
samples.csv: a matrix or tune folder, a load folder, or a suite folder holding both
(matrix/ and load/). Use it after editing prices (--prices) or to recover the
summary of a run that was killed.

--format benchfmt rewrites nothing: it prints the run's samples in the Go
benchmark format (one line per successful invocation or request, named after
its configuration, e.g. BenchmarkTune/arch=arm64/memory=1024), so that
'benchstat old.txt new.txt' compares two runs; compare reads such files too.`

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report [flags] DIR", reportDescription, stdout, stderr)
	prices := fs.String("prices", "", "matrix: JSON price table overriding the built-in prices")
	format := fs.String("format", "", "benchfmt: print the samples in the Go benchmark format on stdout (for benchstat) instead of rebuilding the folder")
	var dir string
	// Accept flags before and after DIR.
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return parseFlags(fs, []string{a}, stdout)
		}
	}
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return flagError(fs, err)
		}
		if fs.NArg() > 0 {
			return usagef("report: unexpected argument %q", fs.Arg(0))
		}
	}
	if err := parsed(fs); err != nil {
		return err
	}
	if dir == "" {
		return usagef("report: which results folder? (go run ./bench report bench-results/<run>)")
	}
	switch *format {
	case "":
	case "benchfmt":
		return writeBenchfmt(dir, *prices, stdout)
	default:
		return usagef("report: --format %q: the only format is benchfmt (without --format, report rebuilds the folder)", *format)
	}
	pt, source := cost.Default(), ""
	if *prices != "" {
		var err error
		if pt, err = cost.Load(*prices); err != nil {
			return usageError{err.Error()}
		}
		source = *prices
	}
	return rebuildDir(dir, pt, source, stdout, stderr)
}

// rebuildDir rebuilds one results folder of any kind.
func rebuildDir(dir string, prices cost.PriceTable, pricesSource string, stdout, stderr io.Writer) error {
	kind, err := folderKind(dir)
	if err != nil {
		return usagef("report: %v", err)
	}
	switch kind {
	case "suite":
		for _, sub := range []string{"matrix", "load"} {
			p := filepath.Join(dir, sub)
			if _, err := os.Stat(filepath.Join(p, "samples.csv")); err != nil {
				continue
			}
			if err := rebuildDir(p, prices, pricesSource, stdout, stderr); err != nil {
				return err
			}
		}
		return writeIndex(dir, stdout)
	case "matrix":
		s, warnings, err := matrix.Rebuild(dir, prices, pricesSource)
		for _, w := range warnings {
			fmt.Fprintln(stderr, w)
		}
		if err != nil {
			return damaged(err)
		}
		if s.Kind == "tune" {
			printTuneTable(stdout, s)
			kind = "tune"
		} else {
			printMatrixHeadline(stdout, s)
		}
	case "load":
		if err := load.Rebuild(dir, stderr); err != nil {
			return damaged(err)
		}
	case lmitune.Kind:
		s, warnings, err := lmitune.Rebuild(dir, prices, pricesSource)
		for _, w := range warnings {
			fmt.Fprintln(stderr, w)
		}
		if err != nil {
			if de := (*lmitune.DamagedError)(nil); errors.As(err, &de) {
				return usagef("report: %v (nothing rewritten)", de)
			}
			return err
		}
		lmitune.PrintTable(stdout, s)
	}
	fmt.Fprintf(stdout, "rebuilt %s (%s)\n", dir, kind)
	return nil
}

// writeBenchfmt prints a results folder's samples in the Go benchmark
// format; the folder is only read.
func writeBenchfmt(dir, prices string, stdout io.Writer) error {
	if prices != "" {
		return usagef("report: --prices changes a rebuild; --format benchfmt prices each invocation as its summary.json does")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("report: results folder %s: not found", dir)
	}
	runs, err := compare.Read(dir, compare.ReadOptions{})
	if err != nil {
		return inputError(err)
	}
	var b bytes.Buffer
	if err := compare.WriteBenchfmt(&b, runs); err != nil {
		return inputError(err)
	}
	_, err = stdout.Write(b.Bytes())
	return err
}

// damaged makes a damaged results file bad input (exit 2): the folder was
// left as it was.
func damaged(err error) error {
	if de := (*results.DamagedError)(nil); errors.As(err, &de) {
		return usagef("report: %v (nothing rewritten)", de)
	}
	return err
}

// folderKind tells what a results folder holds, as compare reads it
// (compare.Kind): a suite (matrix/ and load/ inside), a matrix or tune
// folder ("matrix": one rebuild for both), a load folder or an LMI tune.
func folderKind(dir string) (string, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("results folder %s: not found", dir)
	}
	kind, err := compare.Kind(dir)
	if err != nil {
		// The line without compare's "bad input: " prefix.
		return "", errors.New(strings.TrimPrefix(err.Error(), compare.ErrInput.Error()+": "))
	}
	if kind == compare.KindTune {
		kind = compare.KindMatrix
	}
	return kind, nil
}
