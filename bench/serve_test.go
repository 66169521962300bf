package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeServesUntilCanceled(t *testing.T) {
	// A stand-in runtime (the local Lambda's test runtime) keeps this test independent of function/.
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-o", bin, "./internal/locallambda/testdata/fakeruntime")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the test runtime: %v\n%s", err, out)
	}
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--binary", bin, "--invoke-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0",
			"--outputs-file", outputs}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "Ctrl+C stops everything.") {
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	out := stdout.String()
	for _, want := range []string{"go-bench-x86-1vcpu-1536mb", "go-bench-hello-lmi-2048", "/prod/lmi/2048/hello", "aws lambda invoke --endpoint-url",
		"target CPU 70%", "idle ones stop after 5m0s", "LMI scaling: a decision every 1s"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve output lacks %q:\n%s", want, out)
		}
	}
	m := regexp.MustCompile(`Invoke API +(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no Invoke API address in:\n%s", out)
	}
	resp, err := http.Post(m[1]+"/2015-03-31/functions/go-bench-hello-128/invocations", "application/json", strings.NewReader(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"x":1}` {
		t.Errorf("invoke through serve: %d %s", resp.StatusCode, body)
	}
	var stacks map[string]map[string]string
	if b, err := os.ReadFile(outputs); err != nil || json.Unmarshal(b, &stacks) != nil ||
		stacks["GoLambdaBenchMatrix"]["X8664Mem1536FunctionName"] == "" && stacks["GoLambdaBenchMatrix"]["Arm64Mem1536FunctionName"] == "" ||
		!strings.HasSuffix(stacks["GoLambdaBenchLmi"]["ApiUrl"], "/prod/") {
		t.Errorf("outputs file: %v %v", stacks, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after interrupt: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.HasSuffix(stdout.String(), "stopped\n") {
		t.Errorf("serve output does not end with stopped:\n%s", stdout.String())
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--functions", "nope"}, {"--arch", "arm64"}, {"--binary", "/does/not/exist"}, {"--lmi-scaling", "target-cpu=150"}, {"--lmi-scaling", "max=0"}} {
		err := runServe(context.Background(), args, io.Discard, io.Discard)
		var u usageError
		if err == nil || !errors.As(err, &u) {
			t.Errorf("serve %v: %v, want a usage error", args, err)
		}
	}
}

func TestServeOwnFunction(t *testing.T) {
	bin := exampleBinary(t)
	script := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--function", "f"}, "pass --binary"},
		{[]string{"--function", "f", "--binary", script}, "not a Linux executable"},
		{[]string{"--function", "f", "--binary", bin, "--memory", "64"}, "out of 128..10240"},
		{[]string{"--function", "f", "--binary", bin, "--env", "NOEQUALS"}, "KEY=VALUE"},
		{[]string{"--function", "f", "--binary", bin, "--env", "1X=2"}, "not a Lambda environment variable name"},
		{[]string{"--memory", "512"}, "name it with --function"},
	} {
		err := runServe(context.Background(), tt.args, io.Discard, io.Discard)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve %v: %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}

	ctx, cancel := context.WithCancel(testContext(t, time.Minute))
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--function", "thumb", "--binary", bin, "--memory", "512", "--env", "MODE=1",
			"--invoke-addr", "127.0.0.1:0", "--quiet"}, &stdout, io.Discard)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "Ctrl+C stops everything") {
		select {
		case err := <-done:
			t.Fatalf("serve ended before it was up: %v\n%s", err, stdout.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	out := stdout.String()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "thumb") || !strings.Contains(out, "512 MB") || !strings.Contains(out, "bench tune --endpoint-url") || strings.Contains(out, "go-bench-") {
		t.Errorf("serve --function should list only the function and how to tune it:\n%s", out)
	}
}
