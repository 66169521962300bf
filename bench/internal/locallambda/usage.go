package locallambda

import "time"

// VersionUsage reports a function version's execution environments now
// (qualifier "" or $LATEST: the unpublished function; a version number or
// alias: that version) and the CPU time its live environments have used
// since they started. Environments that have gone take their CPU time with
// them: compare two readings only while the environments stay (as a
// version pinned to a number of environments does).
func (s *Server) VersionUsage(function, qualifier string) (environments int, cpu time.Duration) {
	environments, _, cpu = s.versionUsage(function, qualifier)
	return environments, cpu
}

// ReadyEnvironments is how many of a function version's execution
// environments have finished their init and take invocations.
func (s *Server) ReadyEnvironments(function, qualifier string) int {
	_, ready, _ := s.versionUsage(function, qualifier)
	return ready
}

func (s *Server) versionUsage(function, qualifier string) (environments, ready int, cpu time.Duration) {
	f, _, ok := s.lookup(function, qualifier)
	if !ok {
		return 0, 0, 0
	}
	f.mu.Lock()
	envs := append([]*environment(nil), f.envs...)
	f.mu.Unlock()
	for _, e := range envs {
		environments++
		if e.initDone.Load() {
			ready++
		}
		if r, err := e.cpuTime(); err == nil {
			cpu += r.used
		}
	}
	return environments, ready, cpu
}
