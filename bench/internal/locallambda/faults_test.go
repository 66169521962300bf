package locallambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

func fakeSpec(name string) FunctionSpec {
	return FunctionSpec{Name: name, Binary: fakeBinary, Handler: "fake", MemoryMB: 256, Timeout: 5 * time.Second}
}

func TestCrashMidInvocation(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{fakeSpec("fake")}})
	c := client(s)
	invoke(t, c, "fake", `{"action":"echo"}`)
	out := invoke(t, c, "fake", `{"action":"crash"}`)
	var e struct{ ErrorType, ErrorMessage string }
	_ = json.Unmarshal(out.Payload, &e)
	if aws.ToString(out.FunctionError) != "Unhandled" || e.ErrorType != "Runtime.ExitError" ||
		!strings.Contains(e.ErrorMessage, "Runtime exited with error: exit status 3") {
		t.Errorf("crash: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}
	r, log := parseReport(t, out.LogResult)
	if !strings.Contains(log, "crashing\n") || !strings.Contains(r.line, "Status: error\tError Type: Runtime.ExitError") {
		t.Errorf("crash log:\n%s", log)
	}
	// The environment is replaced: the next invocation is a cold start.
	if r, _ := parseReport(t, invoke(t, c, "fake", `{"action":"echo"}`).LogResult); !r.hasInit {
		t.Errorf("invoke after a crash was warm: %s", r.line)
	}
}

func TestInitErrorAndExit(t *testing.T) {
	failing := fakeSpec("init-fail")
	failing.Env = map[string]string{"FAKE_INIT": "fail"}
	exiting := fakeSpec("init-exit")
	exiting.Env = map[string]string{"FAKE_INIT": "exit"}
	missing := fakeSpec("no-binary")
	missing.Binary = "/nonexistent/bootstrap"
	s := start(t, Config{Functions: []FunctionSpec{failing, exiting, missing}})
	c := client(s)
	for name, want := range map[string]string{
		"init-fail": `"errorType":"Runtime.FakeInitFailure"`,
		"init-exit": `Runtime exited with error: exit status 2`,
		"no-binary": `"errorType":"Runtime.InvalidEntrypoint"`,
	} {
		out := invoke(t, c, name, `{}`)
		if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), want) {
			t.Errorf("%s: %v %s, want %s", name, aws.ToString(out.FunctionError), out.Payload, want)
		}
	}
}

func TestRelativeBinaryPath(t *testing.T) {
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, fakeBinary)
	if err != nil {
		t.Skip(err)
	}
	spec := fakeSpec("relative")
	spec.Binary = rel
	s := start(t, Config{Functions: []FunctionSpec{spec}})
	if out := invoke(t, client(s), "relative", `{"x":1}`); out.FunctionError != nil || string(out.Payload) != `{"x":1}` {
		t.Errorf("relative binary path %s: %s", rel, out.Payload)
	}
}

func TestOutOfMemory(t *testing.T) {
	spec := fakeSpec("hungry")
	spec.MemoryMB = 128
	// Page faults are slow on this kind of VM and a 128 MB environment has 0.07 vCPU: take most
	// of the memory during init, unthrottled.
	spec.Env = map[string]string{"FAKE_PREALLOC_MB": "100"}
	spec.Timeout = 20 * time.Second
	s := start(t, Config{Functions: []FunctionSpec{spec}})
	if s.cg == nil {
		t.Skip("no cgroups here: " + s.Confinement())
	}
	out := invoke(t, client(s), "hungry", `{"action":"oom"}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType":"Runtime.OutOfMemory"`) {
		t.Errorf("out of memory: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}
	r, _ := parseReport(t, out.LogResult)
	if r.maxMemory < 100 || r.maxMemory > 140 {
		t.Errorf("Max Memory Used after an OOM kill: %s", r.line)
	}
}

func TestLogTailHoldsTheInvocationsLines(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	s := start(t, Config{Functions: []FunctionSpec{fakeSpec("printer")}, FunctionLog: func(fn, line string) {
		mu.Lock()
		lines = append(lines, fn+": "+line)
		mu.Unlock()
	}})
	c := client(s)
	for i := range 3 {
		out := invoke(t, c, "printer", `{"action":"print","lines":3}`)
		_, log := parseReport(t, out.LogResult)
		got := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
		if len(got) != 6 {
			t.Fatalf("invoke %d: log has %d lines, want START, 3 lines, END, REPORT:\n%s", i, len(got), log)
		}
		id := strings.Fields(got[0])[2]
		for j := range 3 {
			if want := fmt.Sprintf("line %d of %s", j, id); got[1+j] != want {
				t.Errorf("invoke %d: line %d = %q, want %q", i, j, got[1+j], want)
			}
		}
	}
	// Long output: the tail is the last 4 KB.
	out := invoke(t, c, "printer", `{"action":"print","lines":500}`)
	b, _ := decodeLog(out.LogResult)
	if len(b) != tailBytes || !strings.Contains(string(b), "line 499 of ") {
		t.Errorf("tail of a long log: %d bytes:\n%s", len(b), b)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) < 3*6 || !strings.HasPrefix(lines[0], "printer: INIT_START") {
		t.Errorf("FunctionLog got %d lines, first %q", len(lines), lines[0])
	}
}

func TestLMIRunsManyInvocationsPerEnvironment(t *testing.T) {
	bin := needFunction(t)
	_, routes := HelloPreset(bin)
	spec := FunctionSpec{Name: "go-bench-hello-lmi-2048", Binary: bin, Handler: "hello", MemoryMB: 2048, Timeout: 10 * time.Second,
		Mode: LMI, GiBPerVCPU: 2, MaxConcurrency: 64, MinEnvironments: 1, MaxEnvironments: 2}
	s := start(t, Config{Functions: []FunctionSpec{spec}, Routes: routes[2:]})
	if n := liveEnvironments(s, spec.Name); n != 1 {
		t.Fatalf("%d environments after Start, want the minimum 1", n)
	}
	url := s.StackOutputs()["Lmi2048Url"]
	tr := &http.Transport{MaxIdleConnsPerHost: 200, MaxConnsPerHost: 200}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func(query string) (int, map[string]any, error) {
		resp, err := hc.Get(url + query)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body, err
	}
	// burst sends n requests at once (after a barrier) and returns their results.
	type answer struct {
		code int
		body map[string]any
		err  error
	}
	burst := func(n int, query string) []answer {
		out := make([]answer, n)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				out[i].code, out[i].body, out[i].err = get(query)
			}()
		}
		close(gate)
		wg.Wait()
		return out
	}
	// Open the connections and warm the runtime's 64 pollers first: the machine is slow under -race.
	burst(64, "?delay_ms=0")

	// 1.5 s each, so that all 64 overlap even when this 2-core machine is busy (500 ms is
	// enough on a quiet one).
	began := time.Now()
	maxConcurrent, ok := 0.0, 0
	for _, a := range burst(64, "?delay_ms=1500") {
		if a.err != nil || a.code != 200 {
			t.Errorf("GET: %d %v %v", a.code, a.body, a.err)
			continue
		}
		ok++
		if c, _ := a.body["concurrent"].(float64); c > maxConcurrent {
			maxConcurrent = c
		}
	}
	took := time.Since(began)
	t.Logf("64 requests of 1.5 s on one LMI environment: %v, max concurrent seen by the function %v", took, maxConcurrent)
	if ok != 64 || maxConcurrent != 64 {
		t.Errorf("%d ok, max concurrent %v; want 64 and 64", ok, maxConcurrent)
	}
	if took > 3500*time.Millisecond {
		t.Errorf("64 overlapping 1.5 s requests took %v", took)
	}
	time.Sleep(2 * s.cfg.SampleInterval)
	peakEnv, peakIn := 0, 0
	for _, smp := range s.Timeline(spec.Name) {
		peakEnv, peakIn = max(peakEnv, smp.PeakEnvironments), max(peakIn, smp.PeakInFlight)
	}
	if peakEnv != 1 || peakIn != 64 {
		t.Errorf("timeline: peak environments %d, peak in flight %d; want 1 and 64", peakEnv, peakIn)
	}

	// 64 in flight fill the environment; beyond its slots: 429 (no cold start on the request
	// path). The saturation makes the next scaling decision add the second environment.
	codes := map[int]int{}
	for _, a := range burst(140, "?delay_ms=3000") {
		codes[a.code]++
	}
	if codes[200] < 64 || codes[429] < 1 || codes[200]+codes[429] != 140 {
		t.Errorf("140 at once on 64 slots: %v", codes)
	}
	waitFor(t, 15*time.Second, "the scale-out to 2 environments", func() bool { return liveEnvironments(s, spec.Name) == 2 })
	events := s.ScalingEvents(spec.Name)
	if len(events) == 0 || !strings.Contains(events[0].Reason, "concurrency saturated") || events[0].From != 1 || events[0].To != 2 {
		t.Errorf("scaling events %v, want a scale-out 1→2 on saturation", events)
	}
}

func TestAPIGatewayRoutes(t *testing.T) {
	bin := needFunction(t)
	hello := FunctionSpec{Name: "hello", Binary: bin, Handler: "hello", MemoryMB: 512, Timeout: 5 * time.Second, ReservedConcurrency: 1}
	fake := fakeSpec("fake")
	s := start(t, Config{
		Functions: []FunctionSpec{hello, fake},
		Routes: []Route{
			{Method: "GET", Path: "/default/hello", Function: "hello"},
			{Method: "ANY", Path: "/fake", Function: "fake"},
		},
		IntegrationTimeout: 700 * time.Millisecond,
	})
	base := s.APIBaseURL()
	do := func(method, path string, body string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	for _, p := range []string{"prod/default/hello?delay_ms=0&hash_loops=10", "default/hello?hash_loops=10"} {
		code, body, h := do("GET", p, "")
		if code != 200 || !strings.Contains(body, `"message":"Hello World!"`) || !strings.Contains(h.Get("Content-Type"), "json") {
			t.Errorf("GET %s: %d %s %v", p, code, body, h)
		}
	}
	if code, body, _ := do("GET", "prod/default/hello?delay_ms=abc", ""); code != 400 || !strings.Contains(body, "delay_ms must be an integer") {
		t.Errorf("400 passthrough: %d %s", code, body)
	}
	if code, body, _ := do("GET", "prod/nowhere", ""); code != 403 || body != `{"message":"Missing Authentication Token"}` {
		t.Errorf("unknown route: %d %s", code, body)
	}
	if code, _, _ := do("POST", "prod/default/hello", ""); code != 403 {
		t.Errorf("wrong method: %d", code)
	}
	// Malformed proxy response and function error: 502.
	for _, q := range []string{"action=raw&raw=not-json", "action=raw&raw=%7B%22body%22%3A%22x%22%7D", "action=error"} {
		if code, body, _ := do("GET", "prod/fake?"+q, ""); code != 502 || body != `{"message":"Internal server error"}` {
			t.Errorf("fake %s: %d %s", q, code, body)
		}
	}
	if code, body, h := do("PUT", "fake", "x"); code != 200 || body != "ok" || h.Get("X-Fake") != "1" {
		t.Errorf("fake default: %d %s %v", code, body, h)
	}
	// Past the integration timeout: 504 (the function goes on).
	if code, body, _ := do("POST", "prod/fake?action=sleep&ms=1500", ""); code != 504 || body != `{"message":"Endpoint request timed out"}` {
		t.Errorf("integration timeout: %d %s", code, body)
	}
	// Throttled: the one environment of hello is busy.
	done := make(chan struct{})
	go func() {
		defer close(done)
		do("GET", "prod/default/hello?delay_ms=600", "")
	}()
	waitFor(t, 2*time.Second, "hello busy", func() bool {
		f := s.functions["hello"]
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.inFlight == 1
	})
	if code, body, _ := do("GET", "prod/default/hello", ""); code != 429 || body != `{"message":"Too Many Requests"}` {
		t.Errorf("throttled: %d %s", code, body)
	}
	<-done
}

func TestCloseLeavesNothing(t *testing.T) {
	bin := needFunction(t)
	specs := []FunctionSpec{bcryptSpec(bin), fakeSpec("fake")}
	s, err := Start(context.Background(), Config{Functions: specs, InvokeAddr: "127.0.0.1:0", APIAddr: "-", CPUControl: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	c := client(s)
	invoke(t, c, "bcrypt-1536", `{"count":1,"mode":"parallel","cost":4}`)
	invoke(t, c, "fake", `{}`)
	// One invocation still running when Close comes.
	go func() {
		_, _ = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("fake"), Payload: []byte(`{"action":"sleep","ms":3000}`)})
	}()
	waitFor(t, 2*time.Second, "the sleeping invocation", func() bool {
		f := s.functions["fake"]
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.inFlight == 1
	})
	pids := childPIDs(t)
	if len(pids) != 2 {
		t.Fatalf("%d child processes before Close, want 2", len(pids))
	}
	cgDir := ""
	if s.cg != nil {
		cgDir = s.cg.Dir()
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d outlived Close", pid)
		}
	}
	if left := childPIDs(t); len(left) > 0 {
		t.Errorf("child processes after Close: %v", left)
	}
	if cgDir != "" {
		if _, err := os.Stat(cgDir); !os.IsNotExist(err) {
			t.Errorf("cgroup %s still there after Close (%v)", cgDir, err)
		}
	}
	if _, err := http.Post(s.InvokeEndpoint()+"/2015-03-31/functions/fake/invocations", "application/json", bytes.NewBufferString("{}")); err == nil {
		t.Errorf("the invoke API still answers after Close")
	}
}

// childPIDs lists this process's children (zombies excluded).
func childPIDs(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	me := strconv.Itoa(os.Getpid())
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		st := string(b)
		if strings.Contains(st, "\nPPid:\t"+me+"\n") && !strings.Contains(st, "\nState:\tZ") {
			out = append(out, pid)
		}
	}
	return out
}

func decodeLog(s *string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(aws.ToString(s))
}
