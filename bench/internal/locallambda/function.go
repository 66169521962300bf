package locallambda

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	errThrottled = errors.New("throttled")
	errClosed    = errors.New("local Lambda stopped")
	// errPruned: a former $LATEST.PUBLISHED version dropped once its environments were gone (an
	// invocation that resolved it just before runs on what serves now).
	errPruned = errors.New("version no longer serves")
	// errNotActive: the version is not Active (Pending or Failed); see notActiveError.
	errNotActive = errors.New("function not active")
)

// notActiveError refuses an invocation of a version that is not Active, with its state.
type notActiveError struct{ state string }

func (e *notActiveError) Error() string        { return "the function is " + e.state }
func (e *notActiveError) Is(target error) bool { return target == errNotActive }

// function is one function's configuration and execution environments.
type function struct {
	s     *Server
	spec0 FunctionSpec // as configured; names the stack outputs

	mu           sync.Mutex
	spec         FunctionSpec // current configuration (UpdateFunctionConfiguration changes it)
	revision     int
	lastModified time.Time
	envs         []*environment // live environments (starting, ready, or retiring)
	nextEnvID    int
	inFlight     int
	closed       bool
	win          window   // activity since the last sample
	timeline     []Sample // bounded; see maxSamples
	sc           scaler   // LMI scaling
	goneBusy     float64  // vCPUs of environments busy since the last BusyVCPUs that are gone

	// state is a published LMI version's State: "" (Active), statePending while its minimum
	// environments start, stateFailed when one failed its init; reason and code explain it.
	state, stateReason, stateReasonCode string
	// draining: nothing routes unqualified invocations here any more ($LATEST of an LMI function
	// once a version was published to $LATEST.PUBLISHED, or a former $LATEST.PUBLISHED): no
	// minimum and no scaling; an invocation still sent here runs in an environment of its own
	// that stops after it.
	draining bool
	// pruned: draining, and dropped with no environment left (see registry.pruneDraining);
	// closed too.
	pruned bool
	// latestPublished, on an LMI function's $LATEST: the version published to $LATEST.PUBLISHED
	// that serves its unqualified invocations (nil while its own environments do). It changes
	// under s.registry.mu with published.serving; invocations read it without a lock.
	latestPublished atomic.Pointer[function]
	// requestedMin and requestedMax are the LMI FunctionScalingConfig as last requested; the
	// spec's MinEnvironments and MaxEnvironments are what is applied.
	requestedMin, requestedMax int
}

// States of a published LMI version, as FunctionConfiguration.State reports them.
const (
	statePending = "Pending"
	stateActive  = "Active"
	stateFailed  = "Failed"
)

// window accumulates activity between two timeline samples.
type window struct {
	peakEnvs, peakInFlight                 int
	invocations, errors, throttles, starts int
	events                                 []ScalingEvent
}

func newFunction(s *Server, spec FunctionSpec) *function {
	return &function{s: s, spec0: spec, spec: spec, revision: 1, lastModified: time.Now(),
		requestedMin: spec.MinEnvironments, requestedMax: spec.MaxEnvironments}
}

func (f *function) currentSpec() FunctionSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	spec := f.spec
	spec.Env = copyEnv(f.spec.Env)
	return spec
}

func copyEnv(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// invoke runs one invocation to completion. ctx bounds only the wait: as on Lambda, an invocation
// whose caller gave up still runs to its end. It returns errThrottled when no environment can take
// the invocation, a notActiveError (errNotActive) when the version is not Active.
func (f *function) invoke(ctx context.Context, inv *invocation) (*result, error) {
	start, err := f.acquire(inv)
	if errors.Is(err, errPruned) {
		if next := f.s.servingOf(f.spec0.Name); next != nil && next != f {
			return next.invoke(ctx, inv)
		}
		err = errClosed
	}
	if err != nil {
		return nil, err
	}
	if start != nil {
		start.start()
	}
	select {
	case <-inv.done:
		return &inv.res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// acquire assigns inv to an environment with a free slot and queues it there. When it has to
// create the environment, it returns it; the caller then starts it (outside the lock).
func (f *function) acquire(inv *invocation) (*environment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		if f.pruned {
			return nil, errPruned
		}
		return nil, errClosed
	}
	if f.state != "" {
		// As Lambda refuses to invoke a version that is not Active (Pending or Failed).
		return nil, &notActiveError{state: f.state}
	}
	var pick, created *environment
	if f.spec.Mode == LMI {
		// The least busy ready environment with a free slot. An environment still starting takes
		// invocations only while none is ready (the first one, or after a configuration change):
		// otherwise, as on AWS, invocations beyond the ready environments' capacity are throttled
		// and the scaling adds environments asynchronously.
		readyLive := false
		var starting *environment
		for _, e := range f.envs {
			if e.stale {
				continue
			}
			ready := e.initDone.Load()
			readyLive = readyLive || ready
			if e.assigned >= e.slots {
				continue
			}
			if !ready {
				if starting == nil || e.assigned < starting.assigned {
					starting = e
				}
				continue
			}
			if pick == nil || e.assigned < pick.assigned {
				pick = e
			}
		}
		if pick == nil && !readyLive {
			pick = starting
		}
		if pick == nil && readyLive {
			f.win.throttles++
			f.sc.throttles++
			return nil, errThrottled
		}
	} else {
		// The most recently created idle environment.
		for i := len(f.envs) - 1; i >= 0; i-- {
			if e := f.envs[i]; !e.stale && e.assigned == 0 {
				pick = e
				break
			}
		}
	}
	if pick == nil {
		if len(f.envs) >= f.spec.maxEnvironments() {
			f.win.throttles++
			f.sc.throttles++
			return nil, errThrottled
		}
		pick = f.newEnvironmentLocked()
		created = pick
		// A draining function keeps no environment: this one stops after its invocation.
		pick.stale = f.draining
	}
	pick.assigned++
	pick.busy = true
	f.inFlight++
	f.win.peakInFlight = max(f.win.peakInFlight, f.inFlight)
	f.sc.peakIn = max(f.sc.peakIn, f.inFlight)
	inv.env = pick
	inv.cold = !pick.initDone.Load()
	inv.spec = pick.spec
	pick.queue <- inv // never blocks: the queue holds one element per slot
	return created, nil
}

// newEnvironmentLocked creates (but does not start) an environment with the current configuration.
func (f *function) newEnvironmentLocked() *environment {
	f.nextEnvID++
	e := newEnvironment(f, f.nextEnvID, f.spec)
	f.envs = append(f.envs, e)
	f.win.starts++
	f.win.peakEnvs = max(f.win.peakEnvs, len(f.envs))
	return e
}

// release frees the slot of a finished invocation; a retiring environment left idle is stopped.
func (f *function) release(e *environment, res *result) {
	f.mu.Lock()
	e.assigned--
	e.lastUsed = time.Now()
	f.inFlight--
	f.win.invocations++
	if res.functionError != "" {
		f.win.errors++
	}
	stop := e.stale && e.assigned == 0
	f.mu.Unlock()
	if stop {
		e.kill(reasonRetired)
	}
}

// retire marks an environment so it takes no new invocation; it returns whether it is idle.
func (f *function) retire(e *environment) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.stale = true
	return e.assigned == 0
}

// removed forgets a dead environment and returns the invocations still queued on it. When a ready
// LMI environment went away, the minimum is restored.
func (f *function) removed(e *environment) []*invocation {
	f.mu.Lock()
	for i, x := range f.envs {
		if x == e {
			f.envs = append(f.envs[:i], f.envs[i+1:]...)
			break
		}
	}
	var queued []*invocation
	for {
		select {
		case inv := <-e.queue:
			queued = append(queued, inv)
			continue
		default:
		}
		break
	}
	e.dead = true
	if e.busy {
		f.goneBusy += e.vcpus
	}
	refill := f.spec.Mode == LMI && !f.closed && e.initDone.Load()
	f.mu.Unlock()
	if refill {
		f.ensureMinEnvironments()
	}
	return queued
}

// ensureMinEnvironments starts environments until an LMI function has its minimum, and returns
// the ones it started.
func (f *function) ensureMinEnvironments() []*environment {
	f.mu.Lock()
	if f.spec.Mode != LMI || f.closed || f.draining {
		f.mu.Unlock()
		return nil
	}
	live := 0
	for _, e := range f.envs {
		if !e.stale {
			live++
		}
	}
	var started []*environment
	for ; live < f.spec.MinEnvironments && len(f.envs) < f.spec.MaxEnvironments; live++ {
		started = append(started, f.newEnvironmentLocked())
	}
	f.mu.Unlock()
	for _, e := range started {
		e.start()
	}
	return started
}

// update applies a configuration change: new invocations go to new environments (cold starts),
// idle environments stop now and busy ones after their invocations.
func (f *function) update(apply func(*FunctionSpec) error) (FunctionSpec, error) {
	f.mu.Lock()
	next := f.spec
	next.Env = copyEnv(f.spec.Env)
	if err := apply(&next); err != nil {
		f.mu.Unlock()
		return FunctionSpec{}, err
	}
	next, err := next.withDefaults()
	if err != nil {
		f.mu.Unlock()
		return FunctionSpec{}, err
	}
	f.spec = next
	f.revision++
	f.lastModified = time.Now()
	var idle []*environment
	for _, e := range f.envs {
		e.stale = true
		if e.assigned == 0 {
			idle = append(idle, e)
		}
	}
	spec := f.spec
	spec.Env = copyEnv(f.spec.Env)
	f.mu.Unlock()
	for _, e := range idle {
		e.kill(reasonRetired)
	}
	f.ensureMinEnvironments()
	return spec, nil
}

// drain makes the function draining: its idle environments stop now, busy ones after their
// invocations, and none starts again but for one invocation at a time.
func (f *function) drain() {
	f.mu.Lock()
	f.draining = true
	f.sc.pending = 0
	var idle []*environment
	for _, e := range f.envs {
		e.stale = true
		if e.assigned == 0 {
			idle = append(idle, e)
		}
	}
	f.mu.Unlock()
	for _, e := range idle {
		e.kill(reasonRetired)
	}
}

// retireIfEmpty closes a draining function that has no environment left, so that it can be
// forgotten, and returns the vCPUs of its environments that were busy since the last BusyVCPUs.
// It reports whether it did.
func (f *function) retireIfEmpty() (goneBusy float64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.draining || len(f.envs) > 0 || f.inFlight > 0 {
		return 0, false
	}
	f.closed, f.pruned = true, true
	goneBusy, f.goneBusy = f.goneBusy, 0
	return goneBusy, true
}

// isDraining reports whether the function is draining.
func (f *function) isDraining() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.draining
}

// currentState is the function's State ("Active", "Pending" or "Failed").
func (f *function) currentState() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == "" {
		return stateActive
	}
	return f.state
}

// revisionID is the RevisionId of the current configuration.
func (f *function) revisionID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return revisionString(f.spec.Name, f.revision)
}

func revisionString(name string, rev int) string {
	// Stable per name and revision, shaped like Lambda's UUIDs.
	h := fnv32(name)
	return strconv.FormatUint(uint64(h), 16) + "-0000-4000-8000-" + leftPad(strconv.Itoa(rev), 12)
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// close stops every environment of the function and waits until they are gone.
func (f *function) close() {
	f.mu.Lock()
	f.closed = true
	envs := append([]*environment(nil), f.envs...)
	f.mu.Unlock()
	for _, e := range envs {
		e.kill(reasonClosed)
	}
	for _, e := range envs {
		<-e.exited
	}
}
