package locallambda

import "time"

// Sample is a function's activity at one moment of the Timeline, and since the previous sample:
// what CloudWatch's ConcurrentExecutions / ExecutionEnvironmentConcurrency show on AWS.
type Sample struct {
	Time             time.Time
	Environments     int // execution environments alive (starting, ready or retiring)
	InFlight         int // invocations assigned to an environment and not finished
	PeakEnvironments int // the most environments since the previous sample
	PeakInFlight     int // the most invocations in flight since the previous sample
	Invocations      int // invocations finished since the previous sample
	Errors           int // of which failed (function errors, timeouts, crashes)
	Throttles        int // invocations throttled since the previous sample
	Starts           int // environments started since the previous sample (cold starts)
	// LMI: environments decided by a scale-out and not started yet, the CPU utilisation of each
	// ready environment over the last scaling interval, and the scaling events since the
	// previous sample.
	Pending int
	CPU     []EnvironmentCPU
	Events  []ScalingEvent
}

// maxSamples bounds each function's timeline (one hour at 100 ms); older samples are dropped.
const maxSamples = 36000

// Timeline returns the samples recorded so far for a function (nil for an unknown function),
// oldest first, one per Config.SampleInterval while the server runs.
func (s *Server) Timeline(function string) []Sample {
	f, ok := s.functions[function]
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sample(nil), f.timeline...)
}

// sample records a Sample per function every SampleInterval until the server closes.
func (s *Server) sample() {
	t := time.NewTicker(s.cfg.SampleInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			for _, n := range s.order {
				s.functions[n].record(now)
			}
		}
	}
}

func (f *function) record(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.win
	f.timeline = append(f.timeline, Sample{
		Time:             now,
		Environments:     len(f.envs),
		InFlight:         f.inFlight,
		PeakEnvironments: max(w.peakEnvs, len(f.envs)),
		PeakInFlight:     max(w.peakInFlight, f.inFlight),
		Invocations:      w.invocations,
		Errors:           w.errors,
		Throttles:        w.throttles,
		Starts:           w.starts,
		Pending:          f.sc.pending,
		Events:           w.events,
	})
	if f.spec.Mode == LMI && len(f.sc.cpu) > 0 {
		f.timeline[len(f.timeline)-1].CPU = append([]EnvironmentCPU(nil), f.sc.cpu...)
	}
	if len(f.timeline) > maxSamples {
		f.timeline = append([]Sample(nil), f.timeline[len(f.timeline)-maxSamples/2:]...)
	}
	f.win = window{}
}
