package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"lambdabench/bench/internal/compare"
	"lambdabench/bench/internal/junit"
	"lambdabench/bench/internal/load"
	"lambdabench/bench/internal/threshold"
)

// What bench gives a CI system: a JUnit report of the threshold checks
// (--junit) and, on GitHub Actions, the run's Markdown summary on the
// job's page (GITHUB_STEP_SUMMARY).

// stepSummaryVar names the file GitHub Actions shows on the job's summary
// page; a step appends Markdown to it.
const stepSummaryVar = "GITHUB_STEP_SUMMARY"

// registerJUnit adds --junit to a verb that checks thresholds (or, for
// compare, a regression gate).
func registerJUnit(fs *flag.FlagSet, p *string, what string) {
	fs.StringVar(p, "junit", "", "write "+what+" as JUnit XML to this `file`: one test case each, failed where crossed")
}

// checkJUnit validates --junit before anything starts: it needs checks to
// report (what names the flag that gives them) and a folder to write into.
func checkJUnit(path string, checks int, what string) error {
	if path == "" {
		return nil
	}
	if checks == 0 {
		return usagef("--junit %s has nothing to report: it writes the %s, and none is given", path, what)
	}
	if err := junit.CheckPath(path); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// thresholdCases is one test case per threshold and subject.
func thresholdCases(verb string, outcomes []threshold.Outcome) []junit.Case {
	cases := make([]junit.Case, 0, len(outcomes))
	for _, o := range outcomes {
		c := junit.Case{Name: o.Subject + ": " + o.Threshold.Raw, Classname: "bench." + verb}
		if !o.Passed {
			c.Failure = &junit.Failure{Message: o.Failure().String(), Type: "threshold"}
		} else {
			c.SystemOut = "passed: " + actualText(o.Threshold.Metric, o.Actual)
		}
		cases = append(cases, c)
	}
	return cases
}

// loadCheckCases is one test case per threshold check of a load report.
func loadCheckCases(verb string, checks []load.Check) []junit.Case {
	var outcomes []threshold.Outcome
	for _, c := range checks {
		t, err := threshold.Parse(c.Threshold)
		if err != nil {
			t = threshold.Threshold{Raw: c.Threshold, Metric: c.Metric}
		}
		outcomes = append(outcomes, threshold.Outcome{Threshold: t, Subject: c.Subject, Actual: c.Actual, Passed: c.Passed})
	}
	return thresholdCases(verb, outcomes)
}

func actualText(metric string, v float64) string {
	switch metric {
	case "error_rate":
		return fmt.Sprintf("%s is %.2f%%", metric, 100*v)
	case "dropped":
		return fmt.Sprintf("%s is %.0f requests", metric, v)
	}
	return fmt.Sprintf("%s is %.2fms", metric, v)
}

// compareCases is one test case per row of every gate metric: failed when
// the row regressed beyond --fail-on-regression, skipped when it has too
// few samples for the gate ever to fire.
func compareCases(res *compare.Result) []junit.Case {
	undetectable := map[string]bool{}
	for _, u := range res.Undetectable {
		undetectable[u] = true
	}
	var cases []junit.Case
	for _, p := range res.Parts {
		for _, t := range p.Tables {
			if !t.Gate {
				continue
			}
			for _, c := range t.Cells {
				jc := junit.Case{Name: c.Key + ": " + t.Metric.ID, Classname: "bench.compare." + p.Kind}
				change := "no change measured"
				if c.Test != nil {
					change = fmt.Sprintf("%+.2f%% (p=%.3f)", c.ChangePct, c.Test.P)
				}
				switch {
				case c.Regression:
					jc.Failure = &junit.Failure{Message: fmt.Sprintf("%s %s: %s, beyond the gate of %s", c.Key, t.Metric.Title, change, pctText(res.FailPct)), Type: "regression"}
				case undetectable[c.Key+" "+t.Metric.ID]:
					jc.Skipped = &junit.Skipped{Message: "too few samples for the test ever to reach significance at alpha " + fmt.Sprint(res.Alpha)}
				default:
					jc.SystemOut = t.Metric.Title + ": " + change
				}
				cases = append(cases, jc)
			}
		}
	}
	return cases
}

func pctText(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%g%%", *p)
}

// writeJUnit writes one suite to path; err is the run's own error, kept.
func writeJUnit(path, suite string, cases []junit.Case, err error) error {
	if path == "" {
		return err
	}
	if werr := junit.Document("bench", junit.NewSuite(suite, cases)).WriteFile(path); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// imageLink is a Markdown image: ![alt](file.png).
var imageLink = regexp.MustCompile(`!\[([^\]]*)\]\(([^)\s]+)\)`)

// appendStepSummary appends a run's Markdown summary to the file
// GITHUB_STEP_SUMMARY names, when it is set. The page cannot show the
// charts of the results folder: each image becomes a note naming the
// chart and the folder to upload as an artifact.
func appendStepSummary(md []byte, dir string) error {
	path := os.Getenv(stepSummaryVar)
	if path == "" || len(md) == 0 {
		return nil
	}
	md = imageLink.ReplaceAllFunc(md, func(m []byte) []byte {
		sub := imageLink.FindSubmatch(m)
		return fmt.Appendf(nil, "*(chart %s: `%s` in the results folder `%s` — upload that folder as an artifact to see it)*",
			sub[1], filepath.Join(dir, string(sub[2])), dir)
	})
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", stepSummaryVar, err)
	}
	if !bytes.HasSuffix(md, []byte("\n")) {
		md = append(md, '\n')
	}
	_, err = f.Write(append(md, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", stepSummaryVar, err)
	}
	return nil
}

// summarizeRun appends dir/summary.md to the step summary (when there is
// one) and keeps the run's error.
func summarizeRun(dir string, err error) error {
	if dir == "" || os.Getenv(stepSummaryVar) == "" {
		return err
	}
	md, rerr := os.ReadFile(filepath.Join(dir, "summary.md"))
	if rerr != nil {
		return err
	}
	if serr := appendStepSummary(md, dir); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}
