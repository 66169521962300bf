package locallambda

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"lambdabench/bench/internal/cgroup"
)

// Defaults of Config.Scaling and Config.IdleTimeout.
const (
	// DefaultScalingInterval is how often an LMI function's scaling is decided.
	DefaultScalingInterval = time.Second
	// DefaultStartDelay is how long a new LMI environment takes to come up after the decision to
	// add it (placing it on an instance), before its own init runs.
	DefaultStartDelay = 2 * time.Second
	// DefaultScaleOutAfter is how long the utilisation must stay above the target before the
	// function scales out (concurrency saturation scales out at the next decision).
	DefaultScaleOutAfter = 3 * time.Second
	// DefaultScaleInAfter is how long the utilisation must stay low before one environment is
	// removed (and again before the next one).
	DefaultScaleInAfter = 10 * time.Second
	// DefaultIdleTimeout is how long an idle standard environment lives. Lambda does not document
	// it; 5 minutes is the low end of what is commonly observed.
	DefaultIdleTimeout = 5 * time.Minute
)

// Scaling configures how LMI functions scale their execution environments: target tracking on
// the environments' average CPU utilisation (FunctionSpec.TargetCPUPercent) and on concurrency
// saturation, asynchronously, between MinEnvironments and MaxEnvironments.
type Scaling struct {
	// Interval is the time between two scaling decisions (0 = DefaultScalingInterval).
	Interval time.Duration
	// StartDelay is the time from a scale-out decision to the start of the new environment's
	// process (0 = DefaultStartDelay; negative = none). Its init comes on top.
	StartDelay time.Duration
	// ScaleOutAfter is how long the average utilisation must stay above the target before
	// environments are added (0 = DefaultScaleOutAfter; negative = at the first decision).
	ScaleOutAfter time.Duration
	// ScaleInAfter is how long the utilisation must stay low enough for one environment fewer to
	// stay under the target before one is removed (0 = DefaultScaleInAfter; negative = at once).
	ScaleInAfter time.Duration
}

func (c Scaling) withDefaults() Scaling {
	def := func(d *time.Duration, v time.Duration) {
		switch {
		case *d == 0:
			*d = v
		case *d < 0:
			*d = 0
		}
	}
	if c.Interval <= 0 {
		c.Interval = DefaultScalingInterval
	}
	def(&c.StartDelay, DefaultStartDelay)
	def(&c.ScaleOutAfter, DefaultScaleOutAfter)
	def(&c.ScaleInAfter, DefaultScaleInAfter)
	return c
}

// ScalingEvent is one change of an LMI function's environments decided by its scaling, or the
// reclaim of an idle standard environment.
type ScalingEvent struct {
	Time     time.Time
	From, To int     // environments (live and pending) before and after
	Reason   string  // e.g. "cpu 96% > target 70% for 3s", "concurrency saturated (64/64, 12 throttled)"
	CPU      float64 // average utilisation of the measured environments, 0..1 (relative to their vCPUs)
	InFlight int
}

// String is the event as one line: "scale out 1→2: cpu 96% > target 70% for 3s".
func (e ScalingEvent) String() string {
	verb := "scale out"
	if e.To < e.From {
		verb = "scale in"
	}
	return fmt.Sprintf("%s %d→%d: %s", verb, e.From, e.To, e.Reason)
}

// EnvironmentCPU is one environment's CPU utilisation over the last scaling interval.
type EnvironmentCPU struct {
	ID    int     // the environment's number within its function (#1, #2, …)
	VCPUs float64 // its quota
	// Utilization is what the scaling uses: the CPU time the environment used or waited for
	// (runnable but not running: this machine's cores were busy, or its quota was spent), ÷
	// (interval × VCPUs), at most 1. On AWS an environment has its vCPUs to itself, so what it
	// waited for here it would have used there.
	Utilization float64
	// Used is the CPU time it actually got ÷ (interval × VCPUs).
	Used float64
}

// cpuReading is an environment's cumulative CPU time: used, and waited for while runnable.
type cpuReading struct{ used, waited time.Duration }

// scaler is an LMI function's scaling state (guarded by function.mu).
type scaler struct {
	lastAt    time.Time
	lastCPU   map[*environment]cpuReading
	highSince time.Time // utilisation above target since (zero: not above)
	lowSince  time.Time // utilisation low enough to remove one since (zero: not)
	pending   int       // environments decided but not created yet
	peakIn    int       // most invocations in flight since the last decision
	throttles int       // throttles since the last decision
	cpu       []EnvironmentCPU
	avg       float64
	events    []ScalingEvent
}

// maxEvents bounds each function's event list.
const maxEvents = 10000

// ScalingEvents returns the scaling events of a function so far, oldest first.
func (s *Server) ScalingEvents(function string) []ScalingEvent {
	f, ok := s.functions[function]
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ScalingEvent(nil), f.sc.events...)
}

// BusyVCPUs returns the sum of the vCPUs (CPU quotas) of the environments that had an invocation
// in flight at some moment since the previous call: how much CPU the busy environments were
// entitled to. One caller (a host monitor) at a time.
func (s *Server) BusyVCPUs() float64 {
	var sum float64
	for _, f := range s.allFunctions(true) {
		f.mu.Lock()
		for _, e := range f.envs {
			if e.busy || e.assigned > 0 {
				sum += e.vcpus
			}
			e.busy = e.assigned > 0
		}
		sum += f.goneBusy
		f.goneBusy = 0
		f.mu.Unlock()
	}
	s.registry.mu.Lock()
	sum += s.registry.goneBusy
	s.registry.goneBusy = 0
	s.registry.mu.Unlock()
	return sum
}

// CPUSource says where environments' CPU utilisation is read from.
func (s *Server) CPUSource() string {
	if s.cg == nil {
		return "/proc/<pid>/stat of each environment's process (no cgroups)"
	}
	switch {
	case s.cg.Version() == 2:
		return "cgroup v2 cpu.stat usage_usec"
	case s.cg.HasCPUAccounting():
		return "cgroup v1 cpuacct.usage"
	}
	return "/proc/<pid>/stat of each environment's process (cpuacct is not mounted with cpu)"
}

// scale runs the periodic work until the server closes: LMI scaling decisions and the reclaim of
// idle standard environments.
func (s *Server) scale() {
	t := time.NewTicker(s.scaling.Interval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.scaleOnce(now)
		}
	}
}

// allFunctions returns every function version that may have environments: each function's
// $LATEST (in configuration order), then the published versions (in no particular order) and,
// with draining, the former $LATEST.PUBLISHED versions still stopping.
func (s *Server) allFunctions(draining bool) []*function {
	fns := make([]*function, 0, len(s.order))
	for _, n := range s.order {
		fns = append(fns, s.functions[n])
	}
	s.registry.mu.Lock()
	fns = append(fns, s.versionsLocked(draining)...)
	s.registry.mu.Unlock()
	return fns
}

// scaleOnce makes one round of decisions at now, for every function and published version but
// those draining.
func (s *Server) scaleOnce(now time.Time) {
	for _, f := range s.allFunctions(false) {
		if f.isDraining() {
			continue
		}
		if f.currentSpec().Mode == LMI {
			f.scaleStep(now)
		} else {
			f.reclaimIdle(now)
		}
	}
}

// reclaimIdle stops the standard environments idle for longer than the idle timeout.
func (f *function) reclaimIdle(now time.Time) {
	idle := f.s.cfg.IdleTimeout
	if idle < 0 {
		return
	}
	var stop []*environment
	f.mu.Lock()
	for _, e := range f.envs {
		if !e.stale && e.assigned == 0 && e.initDone.Load() && now.Sub(e.lastUsed) >= idle {
			e.stale = true
			stop = append(stop, e)
		}
	}
	f.mu.Unlock()
	for _, e := range stop {
		e.kill(reasonIdle)
	}
}

// scaleStep measures the LMI function's environments and applies one scaling decision.
func (f *function) scaleStep(now time.Time) {
	f.mu.Lock()
	var ready []*environment
	for _, e := range f.envs {
		if !e.stale && e.initDone.Load() {
			ready = append(ready, e)
		}
	}
	f.mu.Unlock()
	usage := make(map[*environment]cpuReading, len(ready))
	for _, e := range ready {
		if d, err := f.s.cpuUsage(e); err == nil {
			usage[e] = d
		}
	}

	var (
		add    int
		remove *environment
	)
	f.mu.Lock()
	spec := f.spec
	sc := &f.sc
	interval := now.Sub(sc.lastAt)
	sc.cpu = sc.cpu[:0]
	var sum float64
	measured := 0
	for _, e := range ready {
		u, ok := usage[e]
		prev, seen := sc.lastCPU[e]
		if !ok || !seen || sc.lastAt.IsZero() || interval <= 0 {
			continue
		}
		used := max(0, float64(u.used-prev.used)/float64(interval)/e.vcpus)
		util := min(1, max(used, float64(u.used+u.waited-prev.used-prev.waited)/float64(interval)/e.vcpus))
		sc.cpu = append(sc.cpu, EnvironmentCPU{ID: e.id, VCPUs: e.vcpus, Utilization: util, Used: used})
		sum += util
		measured++
	}
	sc.lastAt, sc.lastCPU = now, usage
	sc.avg = 0
	if measured > 0 {
		sc.avg = sum / float64(measured)
	}
	live := 0
	slots := 0
	for _, e := range f.envs {
		if !e.stale {
			live++
			if e.initDone.Load() {
				slots += e.slots
			}
		}
	}
	n := live + sc.pending
	target := spec.TargetCPUPercent / 100
	saturated := sc.throttles > 0 || slots > 0 && sc.peakIn >= slots
	ev := ScalingEvent{Time: now, From: n, CPU: sc.avg, InFlight: f.inFlight}
	switch {
	case saturated && n < spec.MaxEnvironments:
		want := max(n+1, int(math.Ceil(float64(measured)*sc.avg/target)))
		add = min(want, spec.MaxEnvironments) - n
		ev.Reason = fmt.Sprintf("concurrency saturated (%d/%d in flight, %d throttled)", sc.peakIn, slots, sc.throttles)
		sc.highSince, sc.lowSince = time.Time{}, time.Time{}
	case measured > 0 && sc.avg > target:
		sc.lowSince = time.Time{}
		if sc.highSince.IsZero() {
			sc.highSince = now
		}
		want := min(int(math.Ceil(float64(measured)*sc.avg/target)), spec.MaxEnvironments)
		if now.Sub(sc.highSince) >= f.s.scaling.ScaleOutAfter && want > n {
			add = want - n
			ev.Reason = fmt.Sprintf("cpu %.0f%% > target %.0f%% for %s", 100*sc.avg, spec.TargetCPUPercent, roundFor(now.Sub(sc.highSince)))
			sc.highSince = time.Time{}
		}
	case measured > 0 && sc.pending == 0 && live == measured && n > spec.MinEnvironments &&
		float64(measured)*sc.avg < target*float64(n-1):
		// One environment fewer would still run under the target.
		sc.highSince = time.Time{}
		if sc.lowSince.IsZero() {
			sc.lowSince = now
		}
		if now.Sub(sc.lowSince) >= f.s.scaling.ScaleInAfter {
			for _, e := range ready {
				if remove == nil || e.assigned < remove.assigned || e.assigned == remove.assigned && e.id > remove.id {
					remove = e
				}
			}
			remove.stale = true
			ev.Reason = fmt.Sprintf("cpu %.0f%% would stay under target %.0f%% with %d for %s", 100*sc.avg*float64(measured)/float64(n-1),
				spec.TargetCPUPercent, n-1, roundFor(now.Sub(sc.lowSince)))
			sc.lowSince = now
		}
	default:
		sc.highSince, sc.lowSince = time.Time{}, time.Time{}
	}
	sc.peakIn, sc.throttles = f.inFlight, 0
	if add > 0 || remove != nil {
		ev.To = n + add
		if remove != nil {
			ev.To = n - 1
		}
		sc.events = append(sc.events, ev)
		if len(sc.events) > maxEvents {
			sc.events = append([]ScalingEvent(nil), sc.events[len(sc.events)-maxEvents/2:]...)
		}
		if f.sampled() {
			f.win.events = append(f.win.events, ev)
		}
		sc.pending += add
	}
	idle := remove != nil && remove.assigned == 0
	f.mu.Unlock()

	if add > 0 || remove != nil {
		f.s.logf("%s: %s", spec.Name, ev)
	}
	if idle {
		remove.kill(reasonScaledIn)
	} else if remove != nil {
		remove.mu.Lock()
		if remove.reason == "" {
			remove.reason = reasonScaledIn
		}
		remove.mu.Unlock()
	}
	for range add {
		f.s.after(f.s.scaling.StartDelay, f.startPending)
	}
}

// sampled reports whether the timeline samples the function (record empties its window): a
// function's $LATEST, not a published version.
func (f *function) sampled() bool { return f.spec0.version == "" }

// startPending creates and starts one environment decided by a scale-out.
func (f *function) startPending() {
	f.mu.Lock()
	if f.sc.pending > 0 {
		f.sc.pending--
	}
	if f.closed || f.draining || len(f.envs) >= f.spec.MaxEnvironments {
		f.mu.Unlock()
		return
	}
	e := f.newEnvironmentLocked()
	f.mu.Unlock()
	e.start()
}

// after runs fn after d (at once when d is 0) unless the server closes first.
func (s *Server) after(d time.Duration, fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
		}
		if s.ctx.Err() == nil {
			fn()
		}
	}()
}

// cpuTime is the CPU time the environment has used (see usedCPU) and the time its threads
// waited, runnable, for a CPU (the run_delay of /proc/<pid>/task/*/schedstat; 0 where the kernel
// keeps no schedstat).
func (e *environment) cpuTime() (cpuReading, error) {
	used, pid, err := e.usedCPU()
	if err != nil {
		return cpuReading{}, err
	}
	return cpuReading{used: used, waited: procRunDelay(pid)}, nil
}

// usedCPU is the CPU time the environment has used — its cgroup's counter where the hierarchy
// keeps one, else its process's utime+stime from /proc/<pid>/stat (an environment is one process:
// the runtime does not fork) — and its process's pid.
func (e *environment) usedCPU() (time.Duration, int, error) {
	e.mu.Lock()
	group, cmd := e.group, e.cmd
	e.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0, 0, errors.New("no process")
	}
	pid := cmd.Process.Pid
	if group != nil {
		used, err := group.CPUUsage()
		switch {
		case err == nil:
			return used, pid, nil
		case !errors.Is(err, cgroup.ErrNoCPUAccounting):
			return 0, 0, err
		}
	}
	used, err := procCPUTime(pid)
	if err != nil {
		return 0, 0, err
	}
	return used, pid, nil
}

// procRunDelay sums the run_delay (time runnable but waiting for a CPU) of a process's threads.
func procRunDelay(pid int) time.Duration {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			if ns, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				sum += time.Duration(ns)
			}
		}
	}
	return sum
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux architecture's
// user ABI.
const clockTicks = 100

// procCPUTime reads utime+stime of a process from /proc/<pid>/stat.
func procCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(string(b))
}

// parseProcStat reads utime+stime (fields 14 and 15) of a /proc/<pid>/stat line. The command
// name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
func parseProcStat(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/<pid>/stat")
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state): utime is field 14 = f[11], stime f[12].
	if len(f) < 13 {
		return 0, errors.New("short /proc/<pid>/stat")
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc/<pid>/stat times")
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// roundFor rounds how long a condition held for a scaling event's reason.
func roundFor(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
