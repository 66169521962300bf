package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lambdabench/bench/internal/hostload"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/matrix"
	"lambdabench/bench/internal/target"
)

const suiteDescription = `Runs the whole benchmark on this machine, with no AWS account: builds the function,
starts a local Lambda that runs it, measures the matrix (this machine's architecture,
all six memory sizes, cold and warm) and the load scenarios on the three hello
endpoints (standard 128 MB and 2048 MB, and LMI 2048 MB), and writes one report
folder with index.md linking every summary and chart. About 7 minutes on 2 cores;
--quick takes about a minute with a lighter workload. On a host of at most 4 cores the
endpoints of the CPU-bound scenarios are loaded one after another (--endpoints-in-turn),
and every result measured while this machine's CPU was saturated is marked host-bound.`

// suitePlan is what the suite runs: matrix settings and load arguments.
type suitePlan struct {
	matrixPayload string
	cold, runs    int
	loadArgs      []string
}

func planSuite(quick bool) suitePlan {
	if quick {
		return suitePlan{
			matrixPayload: `{"count":20,"mode":"parallel","cost":6}`,
			cold:          1, runs: 5,
			loadArgs: []string{"--scenario", "fast-io,low-cpu", "--stages", "2s:4,7s:4,3s:8"},
		}
	}
	return suitePlan{
		matrixPayload: `{"count":20,"mode":"parallel"}`,
		cold:          1, runs: 10,
		loadArgs: []string{"--scenario", "all", "--stages", "10s:4,20s:4,10s:8"},
	}
}

func runSuite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("suite", "[suite] [flags]", suiteDescription, stdout, stderr)
	quick := fs.Bool("quick", false, "a lighter run (bcrypt cost 6, 5 warm runs, two short load scenarios): about a minute")
	out := fs.String("out", "", "report folder (default bench-results/<timestamp>)")
	var force bool
	registerForce(fs, &force)
	var tf targetFlags
	tf.registerLocal(fs)
	skipMatrix := fs.Bool("skip-matrix", false, "run only the load scenarios")
	skipLoad := fs.Bool("skip-load", false, "run only the matrix")
	inTurn := fs.String("endpoints-in-turn", "auto", "load the endpoints one after another instead of at once: on, off, or auto (CPU-bound scenarios on a host of at most "+fmt.Sprint(smallHostCores)+" cores)")
	var ll localLambdaFlags
	ll.register(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := ll.validate(); err != nil {
		return err
	}
	switch *inTurn {
	case "auto", "on", "off":
	default:
		return usagef("--endpoints-in-turn %q: want auto, on or off", *inTurn)
	}
	if err := tf.check(); err != nil {
		return err
	}
	if *skipMatrix && *skipLoad {
		return usagef("--skip-matrix and --skip-load leave nothing to run")
	}
	plan := planSuite(*quick)
	dir := *out
	if dir == "" {
		dir = filepath.Join("bench-results", time.Now().Format("20060102-150405"))
	}
	if err := prepareOut(dir, force); err != nil {
		return err
	}
	started := time.Now()

	// One local Lambda serves both parts.
	fmt.Fprintln(stderr, "Building the function and starting the local Lambda…")
	cpu, _ := tf.cpuModel() // checked above
	opts := target.LocalOptions{Binary: tf.binary, Matrix: !*skipMatrix, Hello: !*skipLoad, BuildLog: stderr, NoCPUControl: tf.noCPULimits, CPU: cpu}
	ll.apply(&opts)
	lt, err := target.StartLocal(ctx, opts)
	if err != nil {
		return err
	}
	defer lt.Close()
	fmt.Fprintf(stderr, "Local Lambda: %s; %d host cores cap each environment's vCPUs.\n", lt.Server.Confinement(), lt.Server.HostCores())
	fmt.Fprintf(stderr, "Local Lambda scaling: %s; environments' CPU from %s.\n", ll.describe(), lt.Server.CPUSource())

	var errs []error
	var ms *matrix.Summary
	if !*skipMatrix {
		fmt.Fprintf(stderr, "\n== Matrix: bcrypt batch on every memory size (%s) ==\n", plan.matrixPayload)
		var f matrixFlags
		mfs := flag.NewFlagSet("matrix", flag.ContinueOnError)
		f.register(mfs)
		if err := mfs.Parse(nil); err != nil {
			return err
		}
		f.cold, f.runs, f.payload, f.out, f.local = plan.cold, plan.runs, plan.matrixPayload, filepath.Join(dir, "matrix"), lt
		res, err := matrixRun(ctx, f, io.Discard, stderr)
		if res.summary.Kind != "" {
			ms = &res.summary
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return finishSuite(dir, stdout, ms, nil, started, err)
			}
			errs = append(errs, fmt.Errorf("matrix: %w", err))
		}
	}

	var lr *load.Report
	if !*skipLoad {
		fmt.Fprintln(stderr, "\n== Load: standard Lambda vs LMI on the hello endpoints ==")
		lfs, f := newHelloFlagSet(io.Discard, io.Discard)
		if err := lfs.Parse(append([]string{"--out", filepath.Join(dir, "load"), "--endpoints-in-turn", *inTurn}, plan.loadArgs...)); err != nil {
			return usageError{err.Error()}
		}
		f.local, f.ll = lt, ll
		if err := f.validate(); err != nil {
			return err
		}
		res, err := helloRun(ctx, f, io.Discard, stderr)
		lr = res.report
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return finishSuite(dir, stdout, ms, lr, started, err)
			}
			errs = append(errs, fmt.Errorf("load: %w", err))
		}
	}
	return finishSuite(dir, stdout, ms, lr, started, errors.Join(errs...))
}

// finishSuite writes index.md, prints the headline tables and where the
// report is, and passes err on.
func finishSuite(dir string, stdout io.Writer, ms *matrix.Summary, lr *load.Report, started time.Time, err error) error {
	if ms != nil {
		fmt.Fprintln(stdout, "\nMatrix (warm duration of a 20-item bcrypt batch):")
		printMatrixHeadline(stdout, *ms)
	}
	if lr != nil {
		printLoadHeadline(stdout, lr)
	}
	if ierr := writeIndex(dir, io.Discard); ierr != nil {
		err = errors.Join(err, ierr)
	}
	fmt.Fprintf(stdout, "\nReport: %s (took %s)\n", filepath.Join(dir, "index.md"), time.Since(started).Round(time.Second))
	return err
}

// printLoadHeadline prints, per scenario, each endpoint's totals.
func printLoadHeadline(w io.Writer, r *load.Report) {
	hostBound := false
	for _, sc := range r.Scenarios {
		inTurn := ""
		if sc.InTurn {
			inTurn = ", endpoints one after another"
		}
		fmt.Fprintf(w, "\nLoad %s (%s, %s model, stages %s%s):\n", sc.Name, sc.Query, sc.Model, sc.Stages, inTurn)
		fmt.Fprintf(w, "  %-13s %9s %8s %9s %9s %9s %9s %7s  %s\n", "endpoint", "requests", "req/s", "errors %", "p50 ms", "p95 ms", "p99 ms", "cold", "host")
		for _, e := range sc.Endpoints {
			t := e.Total
			host := "-"
			if h := t.Saturation; h != nil {
				host = fmt.Sprintf("ok (saturated %.0f%%)", 100*h.SaturatedShare)
				if h.HostCPUSaturated {
					host = fmt.Sprintf("HOST-BOUND (saturated %.0f%%)", 100*h.SaturatedShare)
					hostBound = true
				}
			}
			fmt.Fprintf(w, "  %-13s %9d %8.1f %9.2f %9.1f %9.1f %9.1f %7d  %s\n", e.Endpoint, t.Requests, t.Throughput, t.ErrorRate,
				t.Latency.P50, t.Latency.P95, t.Latency.P99, t.ColdStarts, host)
		}
	}
	if hostBound {
		fmt.Fprintf(w, "  HOST-BOUND: %s (its CPU was over %.0f%% busy while the environments ran).\n", strings.TrimPrefix(hostload.HostBoundNote, "host-bound: "), 100*hostload.DefaultThreshold)
	}
	if r.Partial {
		fmt.Fprintln(w, "  (partial: the load run was interrupted)")
	}
}

// writeIndex writes index.md for a suite folder: the headline tables and
// links to each part's summary and charts.
func writeIndex(dir string, stdout io.Writer) error {
	var b strings.Builder
	b.WriteString("# Benchmark report\n\n")
	fmt.Fprintf(&b, "Folder `%s`. Rebuild everything from the samples with `go run ./bench report %s`.\n\n", dir, dir)
	var head strings.Builder
	if ms, err := matrix.ReadSummary(filepath.Join(dir, "matrix", "summary.json")); err == nil {
		head.WriteString("Matrix (warm duration of the bcrypt batch):\n")
		printMatrixHeadline(&head, ms)
	}
	if lr, err := load.ReadReport(filepath.Join(dir, "load", "summary.json")); err == nil {
		printLoadHeadline(&head, lr)
	}
	if head.Len() > 0 {
		fmt.Fprintf(&b, "```\n%s```\n\n", strings.TrimLeft(head.String(), "\n"))
	}
	charts := map[string][]string{
		"matrix": {matrix.ChartDurations, matrix.ChartSpeedup, matrix.ChartCost, matrix.ChartColdInit},
	}
	for _, part := range []struct{ sub, title string }{{"matrix", "Matrix: architecture × memory"}, {"load", "Load: standard Lambda vs LMI"}} {
		p := filepath.Join(dir, part.sub)
		if _, err := os.Stat(filepath.Join(p, "summary.md")); err != nil {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n- [summary](%s/summary.md) · [summary.json](%s/summary.json) · [samples.csv](%s/samples.csv)\n", part.title, part.sub, part.sub, part.sub)
		names := charts[part.sub]
		if names == nil {
			// Load charts: each scenario's 2×2 panel, then its concurrency chart.
			pngs, _ := filepath.Glob(filepath.Join(p, "load-*.png"))
			for _, png := range pngs {
				scenario := strings.TrimPrefix(filepath.Base(png), "load-")
				names = append(names, filepath.Base(png), "concurrency-"+scenario)
			}
		}
		for _, name := range names {
			if _, err := os.Stat(filepath.Join(p, name)); err == nil {
				fmt.Fprintf(&b, "\n![%s](%s/%s)\n", strings.TrimSuffix(name, ".png"), part.sub, name)
			}
		}
		b.WriteString("\n")
	}
	path := filepath.Join(dir, "index.md")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}
