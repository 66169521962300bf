// Package jsiitest runs test binaries that drive the CDK through jsii, which
// starts a Node.js kernel process and unpacks its runtime into a temporary
// directory.
package jsiitest

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
)

// Runner runs tests and returns the exit code; *testing.M is one.
type Runner interface {
	Run() int
}

// Main runs the tests with TMPDIR pointing at a private directory, so the jsii
// runtime and everything the tests write land there, and removes it afterwards.
//
// It closes the jsii kernel, except under the race detector: in jsii-runtime-go
// v1.119.0, Close calls cmd.Wait while the goroutine that started the kernel is
// still in its own cmd.Wait, a data race in the library that -race reports.
// Without Close the kernel exits when the test binary does (its stdin closes).
//
// Use it as: func TestMain(m *testing.M) { os.Exit(jsiitest.Main(m)) }
func Main(m Runner) int {
	dir, err := os.MkdirTemp("", "infra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "jsiitest:", err)
		return 1
	}
	prev, had := os.LookupEnv("TMPDIR")
	if err := os.Setenv("TMPDIR", dir); err != nil {
		fmt.Fprintln(os.Stderr, "jsiitest:", err)
		return 1
	}
	code := m.Run()
	if !raceEnabled {
		jsii.Close()
	}
	if had {
		os.Setenv("TMPDIR", prev)
	} else {
		os.Unsetenv("TMPDIR")
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "jsiitest:", err)
	}
	return code
}
