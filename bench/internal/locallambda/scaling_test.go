package locallambda

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// fakeScaler is an LMI function with environments that are not processes, a fake clock and fake
// CPU counters: scaleStep is driven step by step.
type fakeScaler struct {
	t      *testing.T
	s      *Server
	f      *function
	now    time.Time
	mu     sync.Mutex
	usage  map[*environment]cpuReading
	cancel context.CancelFunc
}

func newFakeScaler(t *testing.T, minEnvs, maxEnvs int) *fakeScaler {
	t.Helper()
	spec, err := FunctionSpec{Name: "lmi", Binary: fakeBinary, MemoryMB: 2048, Mode: LMI, GiBPerVCPU: 2,
		MaxConcurrency: 8, MinEnvironments: minEnvs, MaxEnvironments: maxEnvs}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeScaler{t: t, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), usage: map[*environment]cpuReading{}}
	ctx, cancel := context.WithCancel(context.Background())
	fs.cancel = cancel
	fs.s = &Server{
		// A start delay the test never reaches: the test brings pending environments up itself.
		scaling:   Scaling{Interval: time.Second, StartDelay: time.Hour, ScaleOutAfter: 3 * time.Second, ScaleInAfter: 10 * time.Second}.withDefaults(),
		hostCores: 8, logf: t.Logf, ctx: ctx,
		cfg: Config{IdleTimeout: -1},
		cpuUsage: func(e *environment) (cpuReading, error) {
			fs.mu.Lock()
			defer fs.mu.Unlock()
			return fs.usage[e], nil
		},
	}
	fs.f = newFunction(fs.s, spec)
	for range minEnvs {
		fs.addReady()
	}
	t.Cleanup(func() {
		cancel()
		fs.s.wg.Wait()
	})
	return fs
}

// addReady adds a ready environment (one that a scale-out decided, now up).
func (fs *fakeScaler) addReady() *environment {
	fs.f.mu.Lock()
	defer fs.f.mu.Unlock()
	if fs.f.sc.pending > 0 {
		fs.f.sc.pending--
	}
	e := fs.f.newEnvironmentLocked()
	e.initDone.Store(true)
	return e
}

// live returns the environments that take invocations.
func (fs *fakeScaler) live() []*environment {
	fs.f.mu.Lock()
	defer fs.f.mu.Unlock()
	var out []*environment
	for _, e := range fs.f.envs {
		if !e.stale {
			out = append(out, e)
		}
	}
	return out
}

// step advances the clock by one interval during which every live environment used util of its
// vCPUs, and makes a scaling decision.
func (fs *fakeScaler) step(util float64) { fs.stepWaiting(util, 0) }

// stepWaiting is step with the environments also waiting, runnable, for waited of their vCPUs.
func (fs *fakeScaler) stepWaiting(util, waited float64) {
	fs.now = fs.now.Add(time.Second)
	fs.mu.Lock()
	for _, e := range fs.live() {
		r := fs.usage[e]
		r.used += time.Duration(util * e.vcpus * float64(time.Second))
		r.waited += time.Duration(waited * e.vcpus * float64(time.Second))
		fs.usage[e] = r
	}
	fs.mu.Unlock()
	fs.f.scaleStep(fs.now)
}

func (fs *fakeScaler) pending() int {
	fs.f.mu.Lock()
	defer fs.f.mu.Unlock()
	return fs.f.sc.pending
}

func (fs *fakeScaler) events() []string {
	var out []string
	for _, e := range fs.f.sc.events {
		out = append(out, e.String())
	}
	return out
}

func TestLMIScalingOnCPU(t *testing.T) {
	fs := newFakeScaler(t, 1, 4)
	fs.f.sc.lastAt = fs.now // the baseline reading
	fs.f.scaleStep(fs.now)

	// 100% of one environment: above the 70% target; it scales out only once it stayed there 3 s.
	for i := 1; i <= 3; i++ {
		fs.step(1.0)
		if got := fs.pending(); got != 0 {
			t.Fatalf("after %d s above the target: %d pending, want none before 3 s", i, got)
		}
	}
	fs.step(1.0)
	if got := fs.pending(); got != 1 {
		t.Fatalf("after 4 s at 100%%: %d pending, want 1 (ceil(1 × 100%% ÷ 70%%) = 2 environments)", got)
	}
	// While the new environment comes up, no further environment is added for the same load.
	for range 5 {
		fs.step(1.0)
	}
	if got := fs.pending(); got != 1 {
		t.Fatalf("%d pending while the first one comes up, want 1", got)
	}
	fs.addReady()

	// Two environments at 90%: 2 × 90% ÷ 70% = 2.6 → 3.
	for range 4 {
		fs.step(0.9)
	}
	if got := fs.pending(); got != 1 {
		t.Fatalf("two environments at 90%%: %d pending, want 1", got)
	}
	fs.addReady()

	// Load gone: one environment fewer stays under the target, but only after 10 s, one at a time.
	// The first interval only reads the new environment's baseline (it is not measured yet), so
	// the 10 s start at the second.
	for range 11 {
		fs.step(0.05)
	}
	if n := len(fs.live()); n != 3 {
		t.Fatalf("%d live after 11 s idle, want 3", n)
	}
	fs.step(0.05)
	if n := len(fs.live()); n != 2 {
		t.Fatalf("%d live after 12 s idle, want 2", n)
	}
	for range 30 {
		fs.step(0.05)
	}
	if n := len(fs.live()); n != 1 {
		t.Fatalf("%d live after 40 s idle, want the minimum 1", n)
	}
	want := []string{"scale out 1→2", "scale out 2→3", "scale in 3→2", "scale in 2→1"}
	got := fs.events()
	if len(got) != len(want) {
		t.Fatalf("events %q, want %d", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]+": ") {
			t.Errorf("event %d = %q, want %s", i, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "cpu 100% > target 70% for 3s") {
		t.Errorf("scale-out reason %q", got[0])
	}
}

func TestLMIScalingBounds(t *testing.T) {
	tests := []struct {
		name             string
		minEnvs, maxEnvs int
		ready            int
		util             float64
		steps            int
		wantPending      int
		wantLive         int
	}{
		{"at max: no scale-out", 1, 2, 2, 1.0, 10, 0, 2},
		{"three at 100%: two more at once", 1, 5, 3, 1.0, 4, 2, 3},
		{"at min: no scale-in", 2, 4, 2, 0, 30, 0, 2},
		{"below target but one fewer would not be", 1, 4, 2, 0.5, 30, 0, 2},
		{"noisy around target: no change", 1, 4, 2, 0.69, 30, 0, 2},
		{"starved on a busy host: used 40%, waited 60%", 1, 4, 1, 0.4, 4, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFakeScaler(t, tt.minEnvs, tt.maxEnvs)
			for len(fs.live()) < tt.ready {
				fs.addReady()
			}
			fs.f.sc.lastAt = fs.now
			fs.f.scaleStep(fs.now)
			util := tt.util
			waited := 0.0
			if strings.HasPrefix(tt.name, "starved") {
				waited = 0.6 // what it used and waited for: 100% of its vCPU, as on a host of its own
			}
			for range tt.steps {
				fs.stepWaiting(util, waited)
			}
			if got := fs.pending(); got != tt.wantPending {
				t.Errorf("pending %d, want %d (events %q)", got, tt.wantPending, fs.events())
			}
			if got := len(fs.live()); got != tt.wantLive {
				t.Errorf("live %d, want %d (events %q)", got, tt.wantLive, fs.events())
			}
		})
	}
}

func TestLMIScalingOnSaturation(t *testing.T) {
	fs := newFakeScaler(t, 1, 3)
	fs.f.sc.lastAt = fs.now
	fs.f.scaleStep(fs.now)
	// Every slot taken, then one more: throttled, and the next decision scales out at once,
	// whatever the CPU says (an I/O-bound function).
	var invs []*invocation
	for range 8 {
		inv := &invocation{id: fmt.Sprint(len(invs)), done: make(chan struct{})}
		if _, err := fs.f.acquire(inv); err != nil {
			t.Fatalf("acquire %d: %v", len(invs), err)
		}
		invs = append(invs, inv)
	}
	if _, err := fs.f.acquire(&invocation{id: "x", done: make(chan struct{})}); err != errThrottled {
		t.Fatalf("ninth invocation on 8 slots: %v, want throttled", err)
	}
	fs.step(0.01)
	if got := fs.pending(); got != 1 {
		t.Fatalf("pending %d after saturation, want 1 (events %q)", got, fs.events())
	}
	if ev := fs.events(); len(ev) != 1 || !strings.Contains(ev[0], "concurrency saturated (8/8 in flight, 1 throttled)") {
		t.Errorf("events %q", ev)
	}
}

func TestIdleStandardEnvironmentsAreReclaimed(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{fakeSpec("fake")}, IdleTimeout: time.Hour})
	c := client(s)
	invoke(t, c, "fake", `{}`)
	if n := liveEnvironments(s, "fake"); n != 1 {
		t.Fatalf("%d environments after an invocation, want 1", n)
	}
	f := s.functions["fake"]
	// Not yet idle for an hour: kept.
	f.reclaimIdle(time.Now().Add(59 * time.Minute))
	if n := liveEnvironments(s, "fake"); n != 1 {
		t.Fatalf("%d environments after 59 idle minutes, want 1", n)
	}
	f.reclaimIdle(time.Now().Add(61 * time.Minute))
	waitFor(t, 5*time.Second, "the idle environment to stop", func() bool { return liveEnvironments(s, "fake") == 0 })
	out := invoke(t, c, "fake", `{}`)
	if r, _ := parseReport(t, out.LogResult); !r.hasInit {
		t.Errorf("the invocation after the reclaim was not a cold start: %s", r.line)
	}

	// --idle-timeout 0 (kept warm): a negative idle timeout never reclaims.
	k := start(t, Config{Functions: []FunctionSpec{fakeSpec("warm")}, IdleTimeout: -1})
	invoke(t, client(k), "warm", `{}`)
	k.functions["warm"].reclaimIdle(time.Now().Add(24 * time.Hour))
	if n := liveEnvironments(k, "warm"); n != 1 {
		t.Errorf("%d environments with keep-warm after a day, want 1", n)
	}
}

// TestLMIScalesOutAndInUnderCPULoad runs the whole loop with real processes and short intervals:
// CPU-bound invocations on an LMI function whose environments have a quarter vCPU each.
func TestLMIScalesOutAndInUnderCPULoad(t *testing.T) {
	spec := FunctionSpec{Name: "spinner", Binary: fakeBinary, MemoryMB: 2048, Timeout: 10 * time.Second,
		Mode: LMI, GiBPerVCPU: 8, MaxConcurrency: 4, MinEnvironments: 1, MaxEnvironments: 3}
	s := start(t, Config{Functions: []FunctionSpec{spec}, SampleInterval: 20 * time.Millisecond,
		Scaling: Scaling{Interval: 50 * time.Millisecond, StartDelay: -1, ScaleOutAfter: -1, ScaleInAfter: 200 * time.Millisecond}})
	c := client(s)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				// Throttles are expected while the environments are full.
				_, _ = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("spinner"), Payload: []byte(`{"action":"spin","ms":50}`)})
			}
		})
	}
	waitFor(t, 20*time.Second, "a scale-out", func() bool {
		for _, e := range s.ScalingEvents("spinner") {
			if e.To > e.From {
				return true
			}
		}
		return false
	})
	waitFor(t, 20*time.Second, "a second environment", func() bool { return liveEnvironments(s, "spinner") >= 2 })
	cancel()
	wg.Wait()
	waitFor(t, 20*time.Second, "the scale-in back to the minimum", func() bool { return liveEnvironments(s, "spinner") == 1 })

	var sawCPU, sawEvent bool
	for _, smp := range s.Timeline("spinner") {
		sawCPU = sawCPU || len(smp.CPU) > 0
		sawEvent = sawEvent || len(smp.Events) > 0
	}
	if !sawCPU || !sawEvent {
		t.Errorf("timeline: CPU per environment %v, scaling events %v; want both", sawCPU, sawEvent)
	}
	var out, in int
	for _, e := range s.ScalingEvents("spinner") {
		if e.To > e.From {
			out++
		} else {
			in++
		}
	}
	if out == 0 || in == 0 {
		t.Errorf("scaling events %v: want scale-outs and scale-ins", s.ScalingEvents("spinner"))
	}
}

func TestParseProcStat(t *testing.T) {
	line := "1234 (boot strap) (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0"
	got, err := parseProcStat(line)
	if err != nil || got != 3*time.Second {
		t.Errorf("parseProcStat = %v, %v; want 3s (250 + 50 ticks)", got, err)
	}
	if _, err := parseProcStat("1234 (x) S 1"); err == nil {
		t.Error("short stat: want an error")
	}
}
