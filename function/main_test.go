package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestEndToEndHelloConcurrent runs the built binary with
// AWS_LAMBDA_MAX_CONCURRENCY=4 and checks that four slow invocations really
// overlap in one process: all four are handed out before any answer comes
// back, and together they take well under twice one delay.
func TestEndToEndHelloConcurrent(t *testing.T) {
	rt := newFakeRuntime(t)
	start(t, buildFunction(t, raceEnabled), lambdaEnv(rt.addr(), "hello", "AWS_LAMBDA_MAX_CONCURRENCY=4"))

	const delay = 300 * time.Millisecond
	event := `{"resource":"/hello","path":"/hello","httpMethod":"GET","queryStringParameters":{"delay_ms":"300","hash_loops":"1000"}}`
	// Wait until the runtime's four pollers are all waiting on /next, so the
	// timing below measures the invocations, not the process start.
	for deadline := time.Now().Add(20 * time.Second); rt.nextN.Load() < 4; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 4 pollers asked for work", rt.nextN.Load())
		}
	}
	began := time.Now()
	ids := make([]string, 4)
	for i := range ids {
		ids[i] = rt.invoke(event, 10*time.Second)
	}
	var firstAnswer, lastAnswer time.Time
	var bodies []map[string]any
	for _, id := range ids {
		r := rt.wait(t, id, 20*time.Second)
		if r.kind != "response" {
			t.Fatalf("%s: got %s %s", id, r.kind, r.body)
		}
		if firstAnswer.IsZero() || r.at.Before(firstAnswer) {
			firstAnswer = r.at
		}
		if r.at.After(lastAnswer) {
			lastAnswer = r.at
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(r.body, &resp); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: bad proxy response %s (%v)", id, r.body, err)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatal(err)
		}
		if body["hash"] != "1dd23b473a2498b287288a8ed80892dee2f4e53316ea5943618f985b9afb20ba" || body["message"] != "Hello World!" {
			t.Fatalf("unexpected body %v", body)
		}
		bodies = append(bodies, body)
		t.Logf("hello response: %s", r.body)
	}
	for _, id := range ids {
		if served := rt.servedAt(id); !served.Before(firstAnswer) {
			t.Errorf("%s was handed out at %v, after the first answer at %v: invocations did not overlap",
				id, served.Sub(began), firstAnswer.Sub(began))
		}
	}
	// Overlap is proven above (every invocation was handed out before the first
	// answer) and below (one answer saw 4 in flight); wall time is only logged,
	// as a loaded machine can stretch it.
	t.Logf("four %v invocations took %v", delay, lastAnswer.Sub(began))
	cold, concurrent := 0, []float64{}
	for _, b := range bodies {
		if b["cold"] == true {
			cold++
		}
		concurrent = append(concurrent, b["concurrent"].(float64))
	}
	if cold != 1 || slices.Max(concurrent) != 4 {
		t.Errorf("cold=%d (want 1), concurrent=%v (want a 4)", cold, concurrent)
	}
}

// TestEndToEndHelloErrors checks a 400 and a deadline through the binary.
func TestEndToEndHelloErrors(t *testing.T) {
	rt := newFakeRuntime(t)
	start(t, buildFunction(t, raceEnabled), lambdaEnv(rt.addr(), "hello"))
	for _, tc := range []struct {
		query    string
		timeout  time.Duration
		status   int
		contains string
	}{
		{`{"delay_ms":"abc"}`, 10 * time.Second, 400, `{"error":"delay_ms must be an integer"}`},
		{`{"hash_loops":"1000001"}`, 10 * time.Second, 400, `{"error":"hash_loops must be between 0 and 1000000"}`},
		{`{"delay_ms":"5000"}`, 1 * time.Second, 504, "not enough time left before the invocation deadline"},
	} {
		r := rt.wait(t, rt.invoke(`{"queryStringParameters":`+tc.query+`}`, tc.timeout), 20*time.Second)
		t.Logf("hello response: %s", r.body)
		var resp events.APIGatewayProxyResponse
		if r.kind != "response" || json.Unmarshal(r.body, &resp) != nil || resp.StatusCode != tc.status ||
			!strings.Contains(resp.Body, tc.contains) || resp.Headers["Content-Type"] != "application/json" {
			t.Errorf("query %s: got %s %s, want %d with %q", tc.query, r.kind, r.body, tc.status, tc.contains)
		}
	}
}

// TestEndToEndBcrypt runs batches and a function error in one process.
func TestEndToEndBcrypt(t *testing.T) {
	rt := newFakeRuntime(t)
	p := start(t, buildFunction(t, raceEnabled), lambdaEnv(rt.addr(), "bcrypt", "WORKER_COUNT=2"))

	r := rt.wait(t, rt.invoke(`{"count":8,"mode":"parallel","cost":4}`, 30*time.Second), 60*time.Second)
	var res map[string]any
	if r.kind != "response" || json.Unmarshal(r.body, &res) != nil {
		t.Fatalf("got %s %s", r.kind, r.body)
	}
	t.Logf("bcrypt response: %s", r.body)
	if res["processed"] != 8.0 || res["workers"] != 2.0 || res["mode"] != "parallel" || res["cost"] != 4.0 {
		t.Fatalf("unexpected result %s", r.body)
	}

	r = rt.wait(t, rt.invoke(`{"count":0,"mode":"parallel"}`, 30*time.Second), 30*time.Second)
	var fe struct{ ErrorMessage, ErrorType string }
	if r.kind != "error" || json.Unmarshal(r.body, &fe) != nil ||
		fe.ErrorMessage != "count must be greater than 0" || fe.ErrorType != "InvalidRequest" {
		t.Fatalf("want function error, got %s %s", r.kind, r.body)
	}
	t.Logf("bcrypt function error: %s", r.body)

	// The process survives a function error.
	r = rt.wait(t, rt.invoke(`{"count":2,"mode":"sequential","cost":4}`, 30*time.Second), 60*time.Second)
	if r.kind != "response" || !strings.Contains(string(r.body), `"workers":1`) {
		t.Fatalf("after the error: got %s %s", r.kind, r.body)
	}
	if out := p.output.String(); !strings.Contains(out, "bcrypt: workers=2") || strings.Contains(out, "password_") {
		t.Errorf("unexpected log output:\n%s", out)
	}
}

// TestEndToEndInitError checks that a bad configuration fails at init: the
// error is posted to /runtime/init/error and the process exits non-zero.
func TestEndToEndInitError(t *testing.T) {
	for _, tc := range []struct{ handler, extra, errType, message string }{
		{"nope", "", "Runtime.InvalidHandler", `unknown _HANDLER "nope": set the function's handler to bcrypt, hello or probe`},
		{"", "", "Runtime.InvalidHandler", "_HANDLER is not set: set the function's handler to bcrypt, hello or probe"},
		{"bcrypt", "WORKER_COUNT=lots", "Runtime.InvalidConfiguration", `WORKER_COUNT must be an integer from 1 to 6, got "lots"`},
	} {
		t.Run(tc.handler+tc.extra, func(t *testing.T) {
			rt := newFakeRuntime(t)
			p := start(t, buildFunction(t, raceEnabled), lambdaEnv(rt.addr(), tc.handler, tc.extra))
			select {
			case r := <-rt.initErrs:
				t.Logf("init error: %s", r.body)
				var fe struct{ ErrorMessage, ErrorType string }
				if err := json.Unmarshal(r.body, &fe); err != nil || fe.ErrorType != tc.errType || fe.ErrorMessage != tc.message ||
					r.header.Get("Lambda-Runtime-Function-Error-Type") != tc.errType {
					t.Fatalf("init error %s (header %q), want %s %q", r.body, r.header.Get("Lambda-Runtime-Function-Error-Type"), tc.errType, tc.message)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("no init error; output:\n%s", p.output)
			}
			select {
			case <-p.exited:
				if p.cmd.ProcessState.ExitCode() == 0 {
					t.Fatal("exit code 0 after an init error")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("process still running after an init error")
			}
			if rt.nextN.Load() != 0 {
				t.Fatal("asked for an invocation after failing init")
			}
		})
	}
}

// BenchmarkColdStart builds the binary exactly as `make function` does
// (CGO_ENABLED=0, -tags lambda.norpc, -trimpath, stripped) and reports its size and the median time from starting the
// process to its first /next request, over b.N starts.
func BenchmarkColdStart(b *testing.B) {
	bin := buildFunction(b, false, "-trimpath", "-ldflags", "-s -w")
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	var samples []float64
	for b.Loop() {
		rt := newFakeRuntime(b)
		t0 := time.Now()
		p := start(b, bin, lambdaEnv(rt.addr(), "hello"))
		select {
		case <-rt.firstNext:
			samples = append(samples, float64(rt.firstAt.Load()-t0.UnixNano())/1e6)
		case <-time.After(10 * time.Second):
			b.Fatalf("no /next within 10s:\n%s", p.output)
		}
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	slices.Sort(samples)
	b.ReportMetric(samples[len(samples)/2], "ms-to-first-next(median)")
	b.ReportMetric(float64(fi.Size()), "binary-bytes")
}
