package handlers

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"lambdabench/function/internal/bcryptbatch"
	"lambdabench/function/internal/hello"
)

// The contract fixtures live at the module root: testdata/<handler>/<case>.request.json
// is the invocation payload, <case>.expected.json what must come back.
const fixtures = "../../testdata"

type fixture struct {
	name              string
	request, expected []byte
}

func loadFixtures(t testing.TB, handler string) []fixture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtures, handler, "*.request.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures for %s: %v", handler, err)
	}
	var out []fixture
	for _, p := range paths {
		req, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := os.ReadFile(strings.TrimSuffix(p, ".request.json") + ".expected.json")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixture{strings.TrimSuffix(filepath.Base(p), ".request.json"), req, exp})
	}
	return out
}

// testConfig is the configuration the bcrypt fixtures expect.
var testConfig = bcryptbatch.Config{Workers: 2, DetectedCPUs: 2}

func TestBcryptFixtures(t *testing.T) {
	for _, fx := range loadFixtures(t, "bcrypt") {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			var want map[string]any
			if err := json.Unmarshal(fx.expected, &want); err != nil {
				t.Fatalf("bad fixture: %v", err)
			}
			out, err := Bcrypt{Config: testConfig}.Invoke(context.Background(), fx.request)
			if msg, isErr := want["errorMessage"]; isErr {
				var fe messages.InvokeResponse_Error
				if !asInvokeError(err, &fe) {
					t.Fatalf("want function error %q, got %v (output %s)", msg, err, out)
				}
				if fe.Message != msg || fe.Type != want["errorType"] {
					t.Fatalf("got error {%q, %q}, want {%q, %q}", fe.Type, fe.Message, want["errorType"], msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output is not JSON: %v: %s", err, out)
			}
			for k, v := range want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			checkBcryptResult(t, got)
		})
	}
}

// checkBcryptResult checks what holds for every successful batch.
func checkBcryptResult(t *testing.T, got map[string]any) {
	t.Helper()
	for _, k := range []string{"processed", "duration_ms", "mode", "workers", "detected_cpus", "avg_ms_per_item",
		"memory_used_kb", "threads_used", "gomaxprocs", "cpu_ms", "parallelism", "go_version", "arch", "cost"} {
		if _, ok := got[k]; !ok {
			t.Errorf("response lacks %q: %v", k, got)
		}
	}
	if len(got) != 14 {
		t.Errorf("response has %d fields, want 14: %v", len(got), got)
	}
	// Workers are locked to their own threads while the pool fits in
	// GOMAXPROCS; a larger pool runs unlocked on the threads the runtime gives it.
	threads, workers, procs := got["threads_used"].(float64), got["workers"].(float64), got["gomaxprocs"].(float64)
	if threads < 1 || (workers <= procs && threads > workers) {
		t.Errorf("threads_used = %v, want 1..workers (%v)", threads, workers)
	}
	if got["duration_ms"].(float64) <= 0 || got["memory_used_kb"].(float64) <= 0 {
		t.Errorf("duration_ms and memory_used_kb must be positive: %v", got)
	}
}

func asInvokeError(err error, out *messages.InvokeResponse_Error) bool {
	fe, ok := err.(messages.InvokeResponse_Error)
	if ok {
		*out = fe
	}
	return ok
}

func TestHelloFixtures(t *testing.T) {
	for _, fx := range loadFixtures(t, "hello") {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			var want struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Body       map[string]any    `json:"body"`
			}
			if err := json.Unmarshal(fx.expected, &want); err != nil {
				t.Fatalf("bad fixture: %v", err)
			}
			out, err := Hello{Env: &hello.Environment{}}.Invoke(context.Background(), fx.request)
			if err != nil {
				t.Fatalf("hello returned an error: %v", err)
			}
			var got events.APIGatewayProxyResponse
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output is not a proxy response: %v: %s", err, out)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, got.Body)
			}
			if got.StatusCode != want.StatusCode || !reflect.DeepEqual(got.Headers, want.Headers) || !reflect.DeepEqual(body, want.Body) {
				t.Fatalf("got %d %v %s\nwant %d %v %v", got.StatusCode, got.Headers, got.Body, want.StatusCode, want.Headers, want.Body)
			}
		})
	}
}

func TestHelloDeadlineAndCancel(t *testing.T) {
	ev := `{"queryStringParameters":{"delay_ms":"10000"}}`
	h := Hello{Env: &hello.Environment{}}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	resp := h.Handle(ctx, []byte(ev))
	if resp.StatusCode != 504 || !strings.Contains(resp.Body, "deadline") {
		t.Fatalf("deadline shorter than the delay: got %d %s, want 504", resp.StatusCode, resp.Body)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	resp = h.Handle(ctx, []byte(ev))
	if resp.StatusCode != 504 || !strings.Contains(resp.Body, "canceled") {
		t.Fatalf("cancelled: got %d %s, want 504", resp.StatusCode, resp.Body)
	}
}

func TestHelloTooLarge(t *testing.T) {
	big := make([]byte, MaxEventBytes+1)
	resp := Hello{Env: &hello.Environment{}}.Handle(context.Background(), big)
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, "request too large") {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
}

func TestBcryptTooLarge(t *testing.T) {
	big := []byte(`{"count":1,"mode":"parallel","pad":"` + strings.Repeat("x", bcryptbatch.MaxBodyBytes) + `"}`)
	_, err := Bcrypt{Config: testConfig}.Invoke(context.Background(), big)
	var fe messages.InvokeResponse_Error
	if !asInvokeError(err, &fe) || fe.Type != ErrorTypeInvalidRequest || !strings.HasPrefix(fe.Message, "request too large") {
		t.Fatalf("got %v", err)
	}
}

func TestBcryptDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Bcrypt{Config: testConfig}.Invoke(ctx, []byte(`{"count":5,"mode":"parallel","cost":4}`))
	var fe messages.InvokeResponse_Error
	if !asInvokeError(err, &fe) || fe.Type != ErrorTypeCanceled || !strings.Contains(fe.Message, "batch stopped after 0 of 5 items") {
		t.Fatalf("got %v", err)
	}
}
