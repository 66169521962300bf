package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// This file holds a minimal Lambda Runtime API (the part of Lambda a custom
// runtime talks to) and helpers that build and run the function binary
// against it, as Lambda would.

// fakeRuntime serves /2018-06-01/runtime/... for one function process.
type fakeRuntime struct {
	srv   *httptest.Server
	queue chan invocation
	done  chan struct{}
	nextN atomic.Int64 // /next requests received

	firstNext chan struct{} // closed when the first /next arrives
	firstOnce sync.Once
	firstAt   atomic.Int64 // unix ns of the first /next

	mu       sync.Mutex
	results  map[string]chan result
	served   map[string]time.Time // request id -> when /next handed it out
	initErrs chan result
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
}

// result is what the function posted back for an invocation (or at init).
type result struct {
	kind   string // "response", "error" or "init-error"
	body   []byte
	header http.Header
	at     time.Time
}

func newFakeRuntime(t testing.TB) *fakeRuntime {
	rt := &fakeRuntime{
		queue:     make(chan invocation, 64),
		done:      make(chan struct{}),
		firstNext: make(chan struct{}),
		results:   map[string]chan result{},
		served:    map[string]time.Time{},
		initErrs:  make(chan result, 4),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", rt.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", rt.post("response"))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", rt.post("error"))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rt.initErrs <- result{kind: "init-error", body: body, header: r.Header, at: time.Now()}
		w.WriteHeader(http.StatusAccepted)
	})
	srv := httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	rt.srv = srv
	t.Cleanup(func() {
		close(rt.done) // unblock pending /next before Close waits for handlers
		srv.Close()
	})
	return rt
}

func (rt *fakeRuntime) addr() string { return rt.srv.Listener.Addr().String() }

func (rt *fakeRuntime) next(w http.ResponseWriter, r *http.Request) {
	if rt.nextN.Add(1) == 1 {
		rt.firstOnce.Do(func() {
			rt.firstAt.Store(time.Now().UnixNano())
			close(rt.firstNext)
		})
	}
	select {
	case inv := <-rt.queue:
		rt.mu.Lock()
		rt.served[inv.id] = time.Now()
		rt.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:go-bench-test")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	case <-rt.done:
		http.Error(w, "shutting down", http.StatusGone)
	}
}

func (rt *fakeRuntime) post(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rt.mu.Lock()
		ch, ok := rt.results[r.PathValue("id")]
		rt.mu.Unlock()
		if !ok {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		ch <- result{kind: kind, body: body, header: r.Header, at: time.Now()}
		w.WriteHeader(http.StatusAccepted)
	}
}

// invoke queues an invocation with the given time budget and returns its id.
func (rt *fakeRuntime) invoke(payload string, timeout time.Duration) string {
	id := fmt.Sprintf("req-%d-%d", time.Now().UnixNano(), rt.nextN.Load())
	rt.mu.Lock()
	rt.results[id] = make(chan result, 1)
	rt.mu.Unlock()
	rt.queue <- invocation{id: id, payload: []byte(payload), deadline: time.Now().Add(timeout)}
	return id
}

// wait returns what the function posted for id, failing the test after timeout.
func (rt *fakeRuntime) wait(t testing.TB, id string, timeout time.Duration) result {
	t.Helper()
	rt.mu.Lock()
	ch := rt.results[id]
	rt.mu.Unlock()
	select {
	case r := <-ch:
		return r
	case <-time.After(timeout):
		t.Fatalf("no result for %s within %v", id, timeout)
		return result{}
	}
}

func (rt *fakeRuntime) servedAt(id string) time.Time {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.served[id]
}

// syncBuffer collects a process's output safely.
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

// process is a running function binary.
type process struct {
	cmd    *exec.Cmd
	output *syncBuffer
	exited chan struct{}
	err    error // valid after exited is closed
}

// lambdaEnv is the environment Lambda gives a provided.al2023 runtime.
func lambdaEnv(api, handler string, extra ...string) []string {
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"_HANDLER=" + handler,
		"AWS_LAMBDA_FUNCTION_NAME=go-bench-test",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=2048",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/go-bench-test",
		"AWS_LAMBDA_LOG_STREAM_NAME=2025/01/01/[$LATEST]0123456789abcdef",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"LAMBDA_TASK_ROOT=/var/task",
		"TZ=:UTC",
		"PATH=/usr/bin:/bin",
	}
	return append(env, extra...)
}

// start runs binary with env; the process is killed when the test ends.
func start(t testing.TB, binary string, env []string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(binary), output: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if raceEnabled && bytes.Contains([]byte(p.output.String()), []byte("DATA RACE")) {
			t.Errorf("the function reported a data race:\n%s", p.output)
		}
	})
	return p
}

var (
	builds   sync.Map // flags key -> *buildResult
	buildDir string
)

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// buildFunction builds this package once per set of flags (-tags
// lambda.norpc plus extra; with -race when race is set) into a temporary
// directory removed by TestMain. Without -trimpath the build shares the
// compiled packages of the test binary itself, which keeps a fresh run short.
func buildFunction(t testing.TB, race bool, extra ...string) string {
	t.Helper()
	key := fmt.Sprint(race, extra)
	v, _ := builds.LoadOrStore(key, &buildResult{})
	br := v.(*buildResult)
	br.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			br.err = err
			return
		}
		dir, err := os.MkdirTemp(buildDir, "build")
		if err != nil {
			br.err = err
			return
		}
		br.path = filepath.Join(dir, "bootstrap")
		args := []string{"build", "-tags", "lambda.norpc", "-o", br.path}
		cgo := "CGO_ENABLED=0"
		if race {
			args, cgo = append(args, "-race"), "CGO_ENABLED=1"
		}
		args = append(append(args, extra...), ".")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Env = append(os.Environ(), cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			br.err = fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
	})
	if br.err != nil {
		t.Fatal(br.err)
	}
	return br.path
}

func TestMain(m *testing.M) {
	var err error
	buildDir, err = os.MkdirTemp("", "function-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(buildDir)
	os.Exit(code)
}
