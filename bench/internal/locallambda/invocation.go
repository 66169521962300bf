package locallambda

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"
)

// tailBytes is how much of an invocation's log LogType Tail returns (Lambda: the last 4 KB).
const tailBytes = 4096

// invocation is one request to a function, from the Invoke API or API Gateway.
type invocation struct {
	id            string
	payload       []byte
	arn           string // invoked function ARN, given to the runtime
	traceID       string
	clientContext string
	wantLogs      bool // LogType Tail
	done          chan struct{}
	res           result // valid once done is closed

	// Set when it is assigned to an environment (under function.mu).
	env  *environment
	spec FunctionSpec
	cold bool // its environment was starting when it was assigned

	// Guarded by env.mu.
	started  time.Time // delivered to the runtime
	deadline time.Time
	timer    *time.Timer
	finished bool

	logs []byte // its log lines; guarded by env.logs.mu
}

func newInvocation(arn string, payload []byte, wantLogs bool) *invocation {
	return &invocation{
		id:       newRequestID(),
		payload:  payload,
		arn:      arn,
		traceID:  newTraceID(),
		wantLogs: wantLogs,
		done:     make(chan struct{}),
	}
}

// result is how an invocation ended.
type result struct {
	payload       []byte
	functionError string // "" or "Unhandled" (X-Amz-Function-Error)
	errorType     string
	status        string // "" success, "error", "timeout" (the REPORT line's Status)
	initFailed    bool   // failed in its environment's init phase
	cold          bool
	duration      time.Duration
	initDuration  time.Duration
	maxMemoryMB   int
	lines         []byte // the function's own log lines during the invocation
	report        string // the REPORT line (set when logs were wanted)
	tail          string // base64 of the last 4 KB of the invocation's log (LogType Tail)
}

// billedDuration is Duration rounded up to the millisecond; for provided.* runtimes a cold start's
// init is billed too.
func billedDuration(r *result) int64 {
	d := r.duration
	if r.cold {
		d += r.initDuration
	}
	return int64(math.Ceil(float64(d) / float64(time.Millisecond)))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// reportLine is Lambda's REPORT line for the invocation (tab-separated, with Lambda's trailing tab).
func reportLine(inv *invocation, r *result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		inv.id, ms(r.duration), billedDuration(r), inv.spec.MemoryMB, r.maxMemoryMB)
	if r.cold && r.initDuration > 0 {
		fmt.Fprintf(&b, "Init Duration: %.2f ms\t", ms(r.initDuration))
	}
	switch r.status {
	case "timeout":
		b.WriteString("Status: timeout\t")
	case "error":
		if strings.HasPrefix(r.errorType, "Runtime.") || strings.HasPrefix(r.errorType, "Sandbox.") {
			fmt.Fprintf(&b, "Status: error\tError Type: %s\t", r.errorType)
		}
	}
	return b.String()
}

// writeLogs builds the invocation's log (START, its lines, END, REPORT), sends it to
// Config.FunctionLog and keeps its tail for LogType Tail.
func (e *environment) writeLogs(inv *invocation, r *result) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "START RequestId: %s Version: %s\n", inv.id, inv.spec.versionName())
	b.Write(r.lines)
	if r.status == "timeout" {
		fmt.Fprintf(&b, "%s %s Task timed out after %.2f seconds\n",
			time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.id, inv.spec.Timeout.Seconds())
	}
	fmt.Fprintf(&b, "END RequestId: %s\n", inv.id)
	r.report = reportLine(inv, r)
	b.WriteString(r.report)
	b.WriteByte('\n')
	if inv.wantLogs {
		log := b.Bytes()
		if len(log) > tailBytes {
			log = log[len(log)-tailBytes:]
		}
		r.tail = base64.StdEncoding.EncodeToString(log)
	}
	if fl := e.f.s.cfg.FunctionLog; fl != nil {
		fl(e.spec.Name, fmt.Sprintf("START RequestId: %s Version: %s", inv.id, inv.spec.versionName()))
		if e.spec.Mode == Standard {
			for line := range strings.SplitSeq(strings.TrimSuffix(string(r.lines), "\n"), "\n") {
				if line != "" {
					fl(e.spec.Name, line)
				}
			}
		}
		if r.status == "timeout" {
			fl(e.spec.Name, fmt.Sprintf("%s Task timed out after %.2f seconds", inv.id, inv.spec.Timeout.Seconds()))
		}
		fl(e.spec.Name, "END RequestId: "+inv.id)
		fl(e.spec.Name, r.report)
	}
}

// logCapture reads an environment's stdout and stderr (one pipe) and gives each line to the
// invocations running when it was read. With one invocation at a time (standard) that is exact:
// before an invocation's log is closed, sync writes a marker into the same pipe and waits until
// the reader reaches it, so every line the process wrote before answering has been attributed.
// With several invocations at once (LMI) a line goes to every invocation in flight.
type logCapture struct {
	e *environment

	wmu  sync.Mutex // serializes marker writes and closing the write end
	w    *os.File   // our write end of the pipe; nil once the process is gone
	sent int64      // markers written

	mu      sync.Mutex
	cond    sync.Cond
	seen    int64 // markers read
	eof     bool
	partial []byte
	current []*invocation
}

// syncMarker is written by sync into the log pipe and removed by the reader.
var syncMarker = []byte("\x00locallambda-sync\x00")

func (l *logCapture) init(e *environment) {
	l.e = e
	l.cond.L = &l.mu
}

// setPipe records the pipe's write end (before run starts).
func (l *logCapture) setPipe(w *os.File) {
	l.wmu.Lock()
	l.w = w
	l.wmu.Unlock()
}

// closeWriter closes our write end once the process has exited, so the reader sees EOF.
func (l *logCapture) closeWriter() {
	l.wmu.Lock()
	if l.w != nil {
		l.w.Close()
		l.w = nil
	}
	l.wmu.Unlock()
}

// run reads the pipe until the process (and its children) and closeWriter have closed it.
func (l *logCapture) run(pr *os.File) {
	defer pr.Close()
	buf := make([]byte, 32<<10)
	fl := l.e.f.s.cfg.FunctionLog
	// Lines of a standard environment's invocation are written to FunctionLog with its START and
	// END lines; the others (init, LMI) as they come.
	direct := l.e.spec.Mode == LMI
	for {
		n, err := pr.Read(buf)
		var lines []string
		l.mu.Lock()
		if n > 0 {
			l.partial = append(l.partial, buf[:n]...)
			for {
				// Markers first: the lines before a marker belong to the invocations in flight.
				m := bytes.Index(l.partial, syncMarker)
				nl := bytes.IndexByte(l.partial, '\n')
				if m >= 0 && (nl < 0 || m < nl) {
					l.partial = append(l.partial[:m], l.partial[m+len(syncMarker):]...)
					l.seen++
					continue
				}
				if nl < 0 {
					break
				}
				line := l.partial[:nl+1]
				l.attribute(line)
				if fl != nil && (direct || len(l.current) == 0) {
					lines = append(lines, string(line[:nl]))
				}
				l.partial = l.partial[nl+1:]
			}
			if len(l.partial) > tailBytes*4 && !bytes.Contains(l.partial, syncMarker[:1]) { // an endless line: cut it
				l.attribute(append(l.partial, '\n'))
				l.partial = nil
			}
		}
		if err != nil {
			if len(l.partial) > 0 {
				l.attribute(append(l.partial, '\n'))
				if fl != nil {
					lines = append(lines, string(l.partial))
				}
				l.partial = nil
			}
			l.eof = true
		}
		l.cond.Broadcast()
		l.mu.Unlock()
		for _, line := range lines {
			fl(l.e.spec.Name, line)
		}
		if err != nil {
			return
		}
	}
}

// attribute appends a line to every invocation in flight, keeping at most about 4 KB each.
func (l *logCapture) attribute(line []byte) {
	for _, inv := range l.current {
		inv.logs = append(inv.logs, line...)
		if len(inv.logs) > 2*tailBytes {
			cut := len(inv.logs) - tailBytes
			if i := bytes.IndexByte(inv.logs[cut:], '\n'); i >= 0 && cut+i+1 < len(inv.logs) {
				cut += i + 1
			}
			inv.logs = append([]byte(nil), inv.logs[cut:]...)
		}
	}
}

// closeNoProcess marks the capture finished when no process was started.
func (l *logCapture) closeNoProcess() {
	l.mu.Lock()
	l.eof = true
	l.cond.Broadcast()
	l.mu.Unlock()
}

// waitEOF waits (at most d) until the pipe is closed, so a dead process's last lines are in.
func (l *logCapture) waitEOF(d time.Duration) {
	l.waitUntil(d, func() bool { return l.eof })
}

// sync waits (at most d) until everything the process wrote so far has been read and attributed.
func (l *logCapture) sync(d time.Duration) {
	l.wmu.Lock()
	if l.w == nil {
		l.wmu.Unlock()
		return
	}
	l.sent++
	n := l.sent
	_, err := l.w.Write(syncMarker)
	l.wmu.Unlock()
	if err != nil {
		return
	}
	l.waitUntil(d, func() bool { return l.eof || l.seen >= n })
}

// waitUntil waits, at most d, until cond (evaluated under l.mu) holds.
func (l *logCapture) waitUntil(d time.Duration, cond func() bool) {
	l.mu.Lock()
	if cond() {
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	expired := false
	t := time.AfterFunc(d, func() {
		l.mu.Lock()
		expired = true
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer t.Stop()
	l.mu.Lock()
	for !cond() && !expired {
		l.cond.Wait()
	}
	l.mu.Unlock()
}

func (l *logCapture) attach(inv *invocation) {
	l.mu.Lock()
	l.current = append(l.current, inv)
	l.mu.Unlock()
}

// detach stops collecting lines for inv and returns them.
func (l *logCapture) detach(inv *invocation) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, x := range l.current {
		if x == inv {
			l.current = append(l.current[:i], l.current[i+1:]...)
			break
		}
	}
	out := inv.logs
	inv.logs = nil
	return out
}

// newRequestID is a random UUID (version 4), as Lambda's request ids are.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// newTraceID is an X-Ray trace header as Lambda passes it to the runtime.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randomHex(12), randomHex(8))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
