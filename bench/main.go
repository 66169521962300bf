// Command bench benchmarks Go on AWS Lambda: it tunes any function over
// memory × architecture, loads any URL or function, tells a real change
// from noise, and runs the bcrypt matrix and the standard-vs-LMI hello
// experiment on our own stacks. With no arguments it runs the whole suite on
// this machine against a local Lambda that runs the real function binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "lambdabench/bench/internal/charts/render" // draws the charts, in process
	"lambdabench/bench/internal/threshold"
)

// verb is one subcommand.
type verb struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func verbs() []verb {
	return []verb{
		{"suite", "run the whole local benchmark: the bcrypt matrix and the hello experiment, one report (the default)", runSuite},
		{"matrix", "architecture × memory benchmark: cold starts, percentiles, speedup, cost, verdict", runMatrix},
		{"load", "staged or open-model load on any URL or Lambda function: percentiles, errors, cost, thresholds", runLoad},
		{"hello", "the standard-vs-LMI hello experiment: our hello endpoints under staged load", runHello},
		{"smoke", "check every function and endpoint of a target against its contract", runSmoke},
		{"burst", "parallel vs sequential on one configuration: speedup and efficiency", runBurst},
		{"calibrate", "measure how environments are throttled: the CPU period and each memory size's share", runCalibrate},
		{"serve", "run the local Lambda (Invoke API and API Gateway) until interrupted", runServe},
		{"tune", "tune any Lambda function over memory × architecture: percentiles, cold starts, cost, verdict", runTune},
		{"report", "rebuild summaries and charts of a results folder from its samples.csv", runReport},
		{"compare", "two results folders side by side: changes, significance, a regression gate", runCompare},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err and maps it to the process status: 0 success (and
// --help), 2 bad usage, 99 a crossed threshold, 130 interrupted, 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, threshold.ErrCrossed):
		fmt.Fprintln(stderr, "bench:", err)
		return threshold.ExitCode
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "bench: interrupted; everything measured so far was kept")
		return 130
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	fmt.Fprintln(stderr, "bench:", err)
	return 1
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help" && args[0] != "-help") {
		return runSuite(ctx, args, stdout, stderr)
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help", "-help":
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		printUsage(stdout)
		return nil
	}
	for _, v := range verbs() {
		if v.name == name {
			return v.run(ctx, args[1:], stdout, stderr)
		}
	}
	printUsage(stderr)
	return usagef("unknown command %q", name)
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `bench measures Go on AWS Lambda — on AWS, or on this machine against a local
Lambda that runs the same function binary.

Usage:
  bench [suite flags]        run the whole local suite (matrix + hello), one report
  bench <command> [flags]
(from the project's checkout: go run ./bench ...; make install builds the binary)

Commands:
`)
	for _, v := range verbs() {
		fmt.Fprintf(w, "  %-8s %s\n", v.name, v.summary)
	}
	fmt.Fprint(w, `
Run 'bench <command> --help' for a command's flags.
Exit status: 0 ok, 1 error, 2 bad usage, 99 a --threshold was crossed (or compare
--fail-on-regression found a regression), 130 interrupted.
`)
}

// newFlagSet returns a FlagSet whose --help prints a usage line, the
// description and the flags to stdout. A mistake prints nothing here: it
// comes back as one usage error line (see parseFlags), not the whole usage.
func newFlagSet(name, usage, description string, _, _ io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: bench %s\n\n%s\n\nFlags:\n", usage, description)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, sending --help to stdout and turning other
// mistakes into usage errors.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (see 'go run ./bench %s --help')", fs.Name(), fs.Arg(0), fs.Name())
	}
	return parsed(fs)
}

// afterParse, when set, is called by every verb once its command line has
// parsed, before anything is checked or started; an error it returns ends
// the verb. The docs tests set it to parse the docs' example command lines
// with the real flag sets without running them.
var afterParse func(fs *flag.FlagSet) error

// parsed calls afterParse, if set.
func parsed(fs *flag.FlagSet) error {
	if afterParse != nil {
		return afterParse(fs)
	}
	return nil
}

// flagError is the one line a flag the FlagSet could not parse gets.
func flagError(fs *flag.FlagSet, err error) error {
	return usagef("%s: %v (see 'go run ./bench %s --help')", fs.Name(), err, fs.Name())
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return fmt.Sprint(*l) }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}
