package locallambda

import "time"

// VersionUsage reports a function version's execution environments now
// (qualifier "" or $LATEST: the unpublished function; a version number or
// alias: that version) and the CPU time its live environments have used
// since they started. Environments that have gone take their CPU time with
// them: compare two readings only while the environments stay (as a
// version pinned to a number of environments does).
func (s *Server) VersionUsage(function, qualifier string) (environments int, cpu time.Duration) {
	f, _, ok := s.lookup(function, qualifier)
	if !ok {
		return 0, 0
	}
	f.mu.Lock()
	envs := append([]*environment(nil), f.envs...)
	f.mu.Unlock()
	for _, e := range envs {
		// The used time only: the run delay (schedstat of every thread) is the scaling's concern.
		if used, _, err := e.usedCPU(); err == nil {
			cpu += used
		}
	}
	return len(envs), cpu
}

// ReadyEnvironments is how many of a function version's execution
// environments have finished their init and take invocations.
func (s *Server) ReadyEnvironments(function, qualifier string) int {
	f, _, ok := s.lookup(function, qualifier)
	if !ok {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ready := 0
	for _, e := range f.envs {
		if e.initDone.Load() {
			ready++
		}
	}
	return ready
}
