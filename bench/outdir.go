package main

import (
	"flag"
	"os"

	"lambdabench/bench/internal/results"
)

// forceHelp is the help of every verb's --force.
const forceHelp = "replace the run already in --out (its samples, summaries and charts); without it an --out holding a run is refused"

// registerForce registers --force, which lets --out name a folder that
// already holds a run.
func registerForce(fs *flag.FlagSet, force *bool) {
	fs.BoolVar(force, "force", false, forceHelp)
}

// prepareOut makes the results folder dir ready before anything starts:
// created, writable, and not holding an earlier run unless force (which
// removes that run's files). Every failure is a usage error (exit 2).
func prepareOut(dir string, force bool) error {
	if err := results.Prepare(dir, force); err != nil {
		return usagef("--out: %v", err)
	}
	return nil
}

// removeIfEmpty removes the results folder dir if nothing was written into
// it: a run that ended in bad usage leaves nothing behind.
func removeIfEmpty(dir string) {
	if dir == "" {
		return
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		_ = os.Remove(dir)
	}
}
