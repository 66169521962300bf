package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"

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

// firstMissing is the outermost folder of dir's path that does not exist
// yet ("" when dir exists): what creating dir creates, and what a run
// that ends in bad usage removes again (bench-results itself, say).
func firstMissing(dir string) string {
	missing := ""
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || !os.IsNotExist(err) {
			return missing
		}
		missing = d
		if parent := filepath.Dir(d); parent == d {
			return missing
		}
	}
}

// removeIfEmpty removes the results folder dir if nothing was written into
// it, and each of its parents up to created (firstMissing before the run
// made dir) that is left empty: a run that ended in bad usage leaves
// nothing behind.
func removeIfEmpty(dir, created string) {
	if dir == "" || created == "" {
		return
	}
	created = filepath.Clean(created)
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if entries, err := os.ReadDir(d); err != nil || len(entries) > 0 || os.Remove(d) != nil {
			return
		}
		if d == created || filepath.Dir(d) == d {
			return
		}
	}
}

// undoOut removes what a tune run that ended in bad usage (exit 2, found
// once the function was looked up or its code built) left in out: the
// build folder of code that did not build and, when the run created out,
// the folders it created, if nothing else is in them.
func undoOut(err error, out, created string) {
	if !errors.As(err, new(usageError)) || created == "" {
		return
	}
	_ = os.RemoveAll(filepath.Join(out, "build"))
	removeIfEmpty(out, created)
}
