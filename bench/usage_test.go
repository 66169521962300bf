package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
)

// A flag mistake is one line on stderr (printed by main from the error), never the
// whole usage, for every verb.
func TestFlagMistakeIsOneLine(t *testing.T) {
	for _, v := range verbs() {
		for _, args := range [][]string{{"--no-such-flag"}, {"--out"}} {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{v.name}, args...), &stdout, &stderr)
			if err == nil {
				t.Errorf("%s %v: no error", v.name, args)
				continue
			}
			var shown bytes.Buffer
			if code := exitCode(err, &shown); code != 2 {
				t.Errorf("%s %v: exit %d, want 2 (%v)", v.name, args, code, err)
			}
			if stdout.Len() != 0 || stderr.Len() != 0 {
				t.Errorf("%s %v: printed besides the error:\nstdout: %q\nstderr: %q", v.name, args, stdout.String(), stderr.String())
			}
			line := shown.String()
			if strings.Count(line, "\n") != 1 || !strings.Contains(line, "--help") {
				t.Errorf("%s %v: error output %q, want one line pointing to --help", v.name, args, line)
			}
		}
	}
}

// TestVerbFlagCounts: no verb's --help lists more than 35 flags, and
// every verb's help groups or lists them all.
func TestVerbFlagCounts(t *testing.T) {
	const most = 35
	flagLine := regexp.MustCompile(`(?m)^  -[a-z]`)
	names := []string{"tune --lmi"} // tune's other flag set
	for _, v := range verbs() {
		names = append(names, v.name)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), append(strings.Fields(name), "--help"), &out, &out); !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("%s --help: %v", name, err)
			}
			if n := len(flagLine.FindAllString(out.String(), -1)); n == 0 || n > most {
				t.Errorf("%s --help lists %d flags, want 1 to %d", name, n, most)
			}
		})
	}
}
