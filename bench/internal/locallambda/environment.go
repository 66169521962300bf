package locallambda

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"lambdabench/bench/internal/cgroup"
)

// Why an environment was stopped by the local Lambda ("" = it exited on its own: a crash).
const (
	reasonTimeout     = "timeout"      // an invocation timed out (standard)
	reasonInitTimeout = "init timeout" // no /next within the init timeout
	reasonRetired     = "retired"      // configuration changed
	reasonClosed      = "closed"       // the server stops
	reasonIdle        = "idle"         // idle for longer than the idle timeout (standard)
	reasonScaledIn    = "scaled in"    // removed by the LMI scaling
)

// maxResponseBytes is Lambda's limit on a synchronous invocation's payload and response.
const maxResponseBytes = 6 << 20

// maxRequestBytes bounds an Invoke request's payload: it must be smaller
// than 6 MB (6,291,456 bytes), as AWS's RequestTooLargeException says.
const maxRequestBytes = 6 << 20

// environment is one execution environment: a child process of the function's binary, the
// Runtime API listener it polls, and its cgroup.
type environment struct {
	f       *function
	id      int
	name    string // "<function>#<id>", for logs
	spec    FunctionSpec
	slots   int
	vcpus   float64
	queue   chan *invocation // assigned, not yet taken by /next
	created time.Time
	stream  string // log stream name
	// metadataToken is AWS_LAMBDA_METADATA_TOKEN: the metadata endpoint answers only requests
	// that carry it.
	metadataToken string

	ready        chan struct{} // closed at the first /next
	readyOnce    sync.Once
	initDone     atomic.Bool
	initDuration time.Duration // set before ready is closed
	gone         chan struct{} // closed when the process has exited
	exited       chan struct{} // closed when the environment is fully cleaned up

	// Guarded by f.mu.
	assigned int
	stale    bool // takes no new invocation (retiring or doomed)
	dead     bool
	busy     bool      // had an invocation since the last Server.BusyVCPUs
	lastUsed time.Time // when its last invocation finished (or it was created)

	mu         sync.Mutex
	cmd        *exec.Cmd
	reason     string // why the local Lambda stopped it
	inflight   map[string]*invocation
	initErr    []byte // body posted to /runtime/init/error
	initErrTyp string
	srv        *http.Server
	group      *cgroup.Group

	logs logCapture
}

func newEnvironment(f *function, id int, spec FunctionSpec) *environment {
	e := &environment{
		f:        f,
		id:       id,
		name:     fmt.Sprintf("%s#%d", spec.Name, id),
		spec:     spec,
		slots:    spec.slots(),
		vcpus:    f.s.vcpus(spec),
		queue:    make(chan *invocation, spec.slots()),
		created:  time.Now(),
		ready:    make(chan struct{}),
		gone:     make(chan struct{}),
		exited:   make(chan struct{}),
		inflight: map[string]*invocation{},
	}
	e.lastUsed = e.created
	e.metadataToken = randomHex(32)
	e.stream = fmt.Sprintf("%s/[$LATEST]%s", e.created.UTC().Format("2006/01/02"), randomHex(16))
	e.logs.init(e)
	return e
}

// start launches the environment's process. Failures (the binary cannot run, the server is
// closing) fail the invocations queued on it, as an init failure does on Lambda.
func (e *environment) start() {
	s := e.f.s
	fail := func(reason string, err error) {
		e.mu.Lock()
		if e.reason == "" {
			e.reason = reason
		}
		e.mu.Unlock()
		close(e.gone)
		e.logs.closeNoProcess()
		e.cleanup(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("", fmt.Errorf("listen for the runtime API: %w", err))
		return
	}
	srv := &http.Server{Handler: e.runtimeAPI(), ReadHeaderTimeout: 10 * time.Second}

	var group *cgroup.Group
	if s.cg != nil {
		g, err := s.cg.NewGroup(fmt.Sprintf("%s-%d", e.spec.Name, e.id), int64(e.spec.MemoryMB)<<20)
		if err != nil {
			s.logf("%s: no cgroup, running unconfined: %v", e.name, err)
		} else {
			group = g
		}
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		ln.Close()
		if group != nil {
			_ = group.Remove()
		}
		fail("", fmt.Errorf("pipe: %w", err))
		return
	}
	cmd := exec.Command(e.spec.Binary)
	cmd.Dir = filepath.Dir(e.spec.Binary)
	cmd.Env = e.environ(ln.Addr().String())
	cmd.Stdout, cmd.Stderr = pw, pw
	// Setpgid: the environment's processes are killed as a group. Pdeathsig: they die with us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	// INIT_START comes first in the function's log: the runtime may print and answer before the
	// start below returns.
	e.fnLog(fmt.Sprintf("INIT_START Runtime Version: provided:al2023\tRuntime Version ARN: arn:aws:lambda:%s::runtime:local", Region))
	e.mu.Lock()
	if e.reason != "" { // stopped before it started
		e.mu.Unlock()
		ln.Close()
		pr.Close()
		pw.Close()
		if group != nil {
			_ = group.Remove()
		}
		fail(e.reason, errClosed)
		return
	}
	e.srv, e.group = srv, group
	e.f.s.wg.Add(1)
	go func() {
		defer e.f.s.wg.Done()
		_ = srv.Serve(ln)
	}()
	// The log reader runs before the process does: a fast runtime can print and answer its first
	// invocation before the lines below (cgroup writes can take milliseconds) are done, and its
	// lines must be read while that invocation is attached. We keep a write end of the pipe:
	// logCapture.sync writes markers through it.
	e.logs.setPipe(pw)
	go e.logs.run(pr)
	if err := cmd.Start(); err != nil {
		e.mu.Unlock()
		e.logs.closeWriter() // the reader sees EOF and closes its end
		fail("", err)
		return
	}
	e.cmd = cmd
	e.mu.Unlock()
	if group != nil {
		// The init phase runs with the CPU unthrottled and the weight of 2 vCPUs (as on Lambda);
		// the quota and the weight of its share apply from the first /next. The memory limit
		// applies from here on.
		if err := group.SetWeight(min(2, float64(s.hostCores))); err != nil {
			s.logf("%s: cannot set its CPU weight: %v", e.name, err)
		}
		if err := group.Add(cmd.Process.Pid); err != nil {
			s.logf("%s: cannot join its cgroup, running unconfined: %v", e.name, err)
		}
	}
	s.logf("%s: started (pid %d, %.3g vCPU, %d MB, runtime API %s)", e.name, cmd.Process.Pid, e.vcpus, e.spec.MemoryMB, ln.Addr())

	initTimer := time.AfterFunc(s.cfg.InitTimeout, func() {
		if !e.initDone.Load() {
			e.kill(reasonInitTimeout)
		}
	})
	go func() {
		err := cmd.Wait()
		initTimer.Stop()
		close(e.gone)
		e.logs.closeWriter()
		e.logs.waitEOF(200 * time.Millisecond)
		e.cleanup(err)
	}()
}

// environ is the process environment Lambda gives a provided.al2023 runtime, plus the function's
// variables. The metadata endpoint is served on the Runtime API's listener, as the Runtime
// Interface Emulator serves it.
func (e *environment) environ(runtimeAPI string) []string {
	spec := e.spec
	creds := e.f.s.cfg.Credentials
	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin:/opt/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"LD_LIBRARY_PATH":                 "/lib64:/usr/lib64:/opt/lib",
		"LAMBDA_TASK_ROOT":                filepath.Dir(spec.Binary),
		"LAMBDA_RUNTIME_DIR":              filepath.Dir(spec.Binary),
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"_HANDLER":                        spec.Handler,
		"AWS_LAMBDA_FUNCTION_NAME":        spec.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(spec.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + spec.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      e.stream,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      creds.Region,
		"AWS_DEFAULT_REGION":              creds.Region,
		"AWS_ACCESS_KEY_ID":               creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           creds.SecretAccessKey,
		"AWS_LAMBDA_METADATA_API":         runtimeAPI,
		"AWS_LAMBDA_METADATA_TOKEN":       e.metadataToken,
	}
	if creds.SessionToken != "" {
		env["AWS_SESSION_TOKEN"] = creds.SessionToken
	}
	for k, v := range e.f.s.cfg.Env {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	if spec.Mode == LMI {
		env["AWS_LAMBDA_MAX_CONCURRENCY"] = strconv.Itoa(spec.MaxConcurrency)
		env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST.PUBLISHED"
		env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "lambda-managed-instances"
	}
	if spec.version != "" {
		env["AWS_LAMBDA_FUNCTION_VERSION"] = spec.version
	}
	for k, v := range spec.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// kill stops the environment's processes (the first reason given is kept). The process's exit
// then fails whatever is still running or queued on it.
func (e *environment) kill(reason string) {
	e.f.mu.Lock()
	e.stale = true
	e.f.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reason == "" {
		e.reason = reason
	}
	if e.cmd != nil && e.cmd.Process != nil {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// cleanup runs once the process is gone (or never started): it fails the invocations left on the
// environment, releases its listener and cgroup, and tells the function.
func (e *environment) cleanup(waitErr error) {
	e.mu.Lock()
	reason := e.reason
	group := e.group
	srv := e.srv
	inflight := make([]*invocation, 0, len(e.inflight))
	for _, inv := range e.inflight {
		inflight = append(inflight, inv)
	}
	initErr, initErrTyp := e.initErr, e.initErrTyp
	e.mu.Unlock()

	oom := false
	if group != nil {
		if n, err := group.OOMKills(); err == nil && n > 0 {
			oom = true
		}
	}
	queued := e.f.removed(e)
	exit := "Runtime exited without providing a reason"
	if waitErr != nil {
		exit = "Runtime exited with error: " + waitErr.Error()
	}
	for _, inv := range inflight {
		switch {
		case reason == reasonClosed:
			e.finish(inv, e.failure(inv, "Runtime.ExitError", "RequestId: %s Error: %v", inv.id, errClosed))
		case oom:
			e.finish(inv, e.failure(inv, "Runtime.OutOfMemory", "RequestId: %s Error: %s", inv.id, exit))
		default:
			e.finish(inv, e.failure(inv, "Runtime.ExitError", "RequestId: %s Error: %s", inv.id, exit))
		}
	}
	for _, inv := range queued {
		var r result
		switch {
		case reason == reasonClosed:
			r = e.failure(inv, "Runtime.ExitError", "RequestId: %s Error: %v", inv.id, errClosed)
		case initErr != nil:
			r = e.failure(inv, initErrTyp, "")
			r.payload = initErr
		case reason == reasonInitTimeout:
			r = e.failure(inv, "Sandbox.Timedout", "RequestId: %s Error: Task timed out after %.2f seconds",
				inv.id, e.f.s.cfg.InitTimeout.Seconds())
		case e.cmd == nil && waitErr != nil:
			r = e.failure(inv, "Runtime.InvalidEntrypoint", "RequestId: %s Error: %v", inv.id, waitErr)
		case oom:
			r = e.failure(inv, "Runtime.OutOfMemory", "RequestId: %s Error: %s", inv.id, exit)
		default:
			r = e.failure(inv, "Runtime.ExitError", "RequestId: %s Error: %s", inv.id, exit)
		}
		r.initFailed = true
		e.finish(inv, r)
	}
	if srv != nil {
		_ = srv.Close()
	}
	if group != nil {
		if err := group.Remove(); err != nil {
			e.f.s.logf("%s: %v", e.name, err)
		}
	}
	switch {
	case reason == "" && oom:
		e.f.s.logf("%s: killed: out of memory (%d MB)", e.name, e.spec.MemoryMB)
	case reason == "":
		e.f.s.logf("%s: exited: %s", e.name, exit)
	default:
		e.f.s.logf("%s: stopped (%s)", e.name, reason)
	}
	close(e.exited)
}

// failure builds the result of a failed invocation: a function error whose payload is
// {"errorType","errorMessage"} as Lambda returns it.
func (e *environment) failure(inv *invocation, errorType, format string, args ...any) result {
	msg := ""
	if format != "" {
		msg = fmt.Sprintf(format, args...)
	}
	payload, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}{errorType, msg})
	return result{payload: payload, functionError: "Unhandled", errorType: errorType, status: "error"}
}

// finish completes an invocation exactly once: it stops its timer, gathers its log lines and
// REPORT, wakes the caller and frees the slot. It reports whether this call completed it.
func (e *environment) finish(inv *invocation, r result) bool {
	e.mu.Lock()
	if inv.finished {
		e.mu.Unlock()
		return false
	}
	inv.finished = true
	delete(e.inflight, inv.id)
	e.mu.Unlock()
	end := time.Now()
	if inv.timer != nil {
		inv.timer.Stop()
	}
	if !inv.started.IsZero() {
		if r.duration == 0 {
			r.duration = end.Sub(inv.started)
		}
		if inv.wantLogs || e.f.s.cfg.FunctionLog != nil {
			e.logs.sync(250 * time.Millisecond)
		}
	}
	r.lines = e.logs.detach(inv)
	if inv.cold && e.initDone.Load() {
		r.initDuration = e.initDuration
	}
	r.cold = inv.cold
	if inv.wantLogs || e.f.s.cfg.FunctionLog != nil {
		r.maxMemoryMB = e.maxMemoryMB()
		e.writeLogs(inv, &r)
	}
	inv.res = r
	// Free the slot before waking the caller: its next invocation finds this environment idle.
	e.f.release(e, &r)
	close(inv.done)
	return true
}

// maxMemoryMB is the environment's peak memory: the larger of its cgroup's peak (what it charged
// since it joined) and the process's peak resident set (VmHWM, which includes the binary's pages).
func (e *environment) maxMemoryMB() int {
	e.mu.Lock()
	group, cmd := e.group, e.cmd
	e.mu.Unlock()
	var peak int64
	if group != nil {
		if b, err := group.MaxMemoryBytes(); err == nil {
			peak = b
		}
	}
	if cmd != nil && cmd.Process != nil {
		peak = max(peak, vmHWM(cmd.Process.Pid)<<10)
	}
	return int((peak + 1<<20 - 1) >> 20)
}

func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// timeout fails an invocation that ran past the function's timeout. A standard environment is
// replaced (its runtime is stuck in the handler); an LMI environment keeps serving its other
// invocations and the late response is refused.
func (e *environment) timeout(inv *invocation) {
	if e.spec.Mode == Standard {
		e.mu.Lock()
		if e.reason == "" {
			e.reason = reasonTimeout
		}
		e.mu.Unlock()
		e.f.retire(e)
	}
	r := e.failure(inv, "Sandbox.Timedout", "RequestId: %s Error: Task timed out after %.2f seconds",
		inv.id, e.spec.Timeout.Seconds())
	r.status = "timeout"
	r.duration = e.spec.Timeout
	if e.finish(inv, r) && e.spec.Mode == Standard {
		e.kill(reasonTimeout)
	}
}

// deliver hands an invocation to the runtime (its /next) and starts the timeout.
func (e *environment) deliver(inv *invocation) {
	now := time.Now()
	e.mu.Lock()
	inv.started = now
	inv.deadline = now.Add(e.spec.Timeout)
	e.inflight[inv.id] = inv
	inv.timer = time.AfterFunc(e.spec.Timeout, func() { e.timeout(inv) })
	e.mu.Unlock()
	e.logs.attach(inv)
}

// markReady records the end of the init phase at the first /next and applies the CPU quota.
func (e *environment) markReady() {
	e.readyOnce.Do(func() {
		e.initDuration = time.Since(e.created)
		e.initDone.Store(true)
		e.mu.Lock()
		group := e.group
		e.mu.Unlock()
		if group != nil {
			// A share of the whole machine needs no quota; a quota equal to all cores would only
			// lose CPU to the kernel's per-CPU bandwidth slices (measured: 1.75 of 2 cores).
			quota := e.vcpus
			if quota >= float64(e.f.s.hostCores) {
				quota = 0
			}
			if err := group.SetCPU(quota); err != nil {
				e.f.s.logf("%s: cannot set its CPU quota: %v", e.name, err)
			}
			if err := group.SetWeight(e.vcpus); err != nil {
				e.f.s.logf("%s: cannot set its CPU weight: %v", e.name, err)
			}
		}
		close(e.ready)
		e.fnLog(fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms", ms(e.initDuration)))
	})
}

// runtimeAPI serves the Lambda Runtime API to this environment's process.
func (e *environment) runtimeAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", e.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", e.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", e.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", e.initError)
	mux.HandleFunc(MetadataPath, e.metadata)
	return mux
}

func (e *environment) next(w http.ResponseWriter, r *http.Request) {
	e.markReady()
	var inv *invocation
	select {
	case inv = <-e.queue:
	case <-e.gone:
		return
	case <-r.Context().Done():
		return
	}
	e.deliver(inv)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
	h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
	if inv.clientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// inflightInvocation finds a running invocation by the id in the path.
func (e *environment) inflightInvocation(w http.ResponseWriter, r *http.Request) *invocation {
	id := r.PathValue("id")
	e.mu.Lock()
	inv := e.inflight[id]
	e.mu.Unlock()
	if inv == nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "unknown or finished request id "+id)
	}
	return inv
}

func (e *environment) response(w http.ResponseWriter, r *http.Request) {
	inv := e.inflightInvocation(w, r)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if len(body) > maxResponseBytes {
		e.finish(inv, e.failure(inv, "Function.ResponseSizeTooLarge",
			"Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponseBytes))
		runtimeError(w, http.StatusRequestEntityTooLarge, "Function.ResponseSizeTooLarge", "response too large")
		return
	}
	e.finish(inv, result{payload: body})
	accepted(w)
}

func (e *environment) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := e.inflightInvocation(w, r)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes))
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	if typ == "" {
		var v struct {
			ErrorType string `json:"errorType"`
		}
		_ = json.Unmarshal(body, &v)
		typ = v.ErrorType
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	e.finish(inv, result{payload: body, functionError: "Unhandled", errorType: typ, status: "error"})
	accepted(w)
}

func (e *environment) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	var v struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &v) != nil || v.ErrorType == "" && v.ErrorMessage == "" {
		v.ErrorType, v.ErrorMessage = typ, string(body)
	}
	if v.ErrorType == "" {
		v.ErrorType = typ
	}
	if v.ErrorType == "" {
		v.ErrorType = "Runtime.Unknown"
	}
	payload, _ := json.Marshal(v)
	e.mu.Lock()
	e.initErr, e.initErrTyp = payload, v.ErrorType
	e.mu.Unlock()
	e.f.s.logf("%s: init error: %s", e.name, payload)
	accepted(w)
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func runtimeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

// fnLog sends one line to Config.FunctionLog.
func (e *environment) fnLog(line string) {
	if fl := e.f.s.cfg.FunctionLog; fl != nil {
		fl(e.spec.Name, line)
	}
}
