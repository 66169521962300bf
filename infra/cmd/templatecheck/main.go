// Command templatecheck checks a cloud assembly (cdk.out) for what this
// project intends and neither cfn-lint nor cdk-nag can know: one code asset
// per architecture whose bootstrap is an ELF program of that architecture, the
// matrix table, and the stack outputs bench reads. It exits 1 if it finds
// anything, 2 on bad usage or an unreadable assembly.
//
//	go run ./cmd/templatecheck ../cdk.out
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"lambdabench/infra/internal/templatecheck"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("templatecheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: templatecheck <cdk.out directory>...")
		fmt.Fprintln(stderr, "Checks code assets (one ELF build per architecture), the matrix table and the outputs bench reads.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	start := time.Now()
	failed, stacks := false, 0
	for _, dir := range fs.Args() {
		a, err := templatecheck.LoadAssembly(dir)
		if err != nil {
			fmt.Fprintln(stderr, "templatecheck:", err)
			return 2
		}
		for _, s := range a.Stacks {
			stacks++
			findings := templatecheck.CheckStack(s)
			if len(findings) == 0 {
				fmt.Fprintf(stdout, "ok    %s (%s)\n", s.Name, templatecheck.Summary(s))
				continue
			}
			failed = true
			fmt.Fprintf(stdout, "FAIL  %s: %d findings\n", s.Name, len(findings))
			for _, f := range findings {
				fmt.Fprintf(stdout, "      %s\n", f)
			}
		}
	}
	fmt.Fprintf(stdout, "checked %d stacks in %v\n", stacks, time.Since(start).Round(time.Millisecond))
	if failed {
		return 1
	}
	return 0
}
