package locallambda

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
)

// The part of the Lambda API that tunes a Lambda Managed Instances function, answered as the
// Lambda API (model 2015-03-31) does: UpdateFunctionConfiguration with CapacityProviderConfig (see
// applyCapacityProvider), PublishVersion with PublishTo LATEST_PUBLISHED (versions.go), the states
// of a published LMI version (activate), and PutFunctionScalingConfig / GetFunctionScalingConfig
// per version.
//
// Where the model constrains a value the SDKs do not check on the client (a maximum, a pattern),
// the local Lambda answers InvalidParameterValueException, with the service's "1 validation
// error detected" wording; PublishTo outside its enum is a ValidationException, as the other
// enums of the local Lambda are.

// LMI limits of the Lambda API.
const (
	// MinLMIMemoryMB is the least memory a function with a capacity provider may have.
	MinLMIMemoryMB = 2048
	// MaxScalingEnvironments bounds FunctionScalingConfig's Min and MaxExecutionEnvironments.
	MaxScalingEnvironments = 15000
	// MaxVersionEnvironments is the most environments the local Lambda runs for one version: the
	// applied FunctionScalingConfig (GetFunctionScalingConfig's AppliedFunctionScalingConfig) is
	// the requested one capped to it, as a capacity provider's vCPU limit caps it on AWS. Every
	// environment is a process of this machine.
	MaxVersionEnvironments = 64
)

// publishedQualifierRE is the model's PublishedFunctionQualifier: what Put/GetFunctionScalingConfig
// take as Qualifier.
var publishedQualifierRE = regexp.MustCompile(`^(\$LATEST\.PUBLISHED|[0-9]+)$`)

// capacityProviderRequest is UpdateFunctionConfiguration's CapacityProviderConfig.
type capacityProviderRequest struct {
	LambdaManagedInstancesCapacityProviderConfig *struct {
		CapacityProviderArn                   *string  `json:"CapacityProviderArn"`
		PerExecutionEnvironmentMaxConcurrency *int     `json:"PerExecutionEnvironmentMaxConcurrency"`
		ExecutionEnvironmentMemoryGiBPerVCpu  *float64 `json:"ExecutionEnvironmentMemoryGiBPerVCpu"`
	} `json:"LambdaManagedInstancesCapacityProviderConfig"`
}

// invalidValue is the service's wording for a value outside the model's bounds.
func invalidValue(value any, member, constraint string) string {
	return fmt.Sprintf("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// checkLMIUpdate validates the LMI part of an UpdateFunctionConfiguration of a function in mode:
// the CapacityProviderConfig and, on an LMI function, the memory. It returns the
// InvalidParameterValueException message, or "".
func checkLMIUpdate(name string, mode Mode, cp *capacityProviderRequest, memoryMB *int) string {
	if cp != nil {
		lc := cp.LambdaManagedInstancesCapacityProviderConfig
		const at = "capacityProviderConfig.lambdaManagedInstancesCapacityProviderConfig."
		switch {
		case lc == nil:
			return invalidValue(nil, "capacityProviderConfig.lambdaManagedInstancesCapacityProviderConfig", "Member must not be null")
		case lc.CapacityProviderArn == nil || *lc.CapacityProviderArn == "":
			return invalidValue(nil, at+"capacityProviderArn", "Member must not be null")
		case lc.PerExecutionEnvironmentMaxConcurrency != nil && *lc.PerExecutionEnvironmentMaxConcurrency < 1:
			return invalidValue(*lc.PerExecutionEnvironmentMaxConcurrency, at+"perExecutionEnvironmentMaxConcurrency", "Member must have value greater than or equal to 1")
		case lc.PerExecutionEnvironmentMaxConcurrency != nil && *lc.PerExecutionEnvironmentMaxConcurrency > 1600:
			return invalidValue(*lc.PerExecutionEnvironmentMaxConcurrency, at+"perExecutionEnvironmentMaxConcurrency", "Member must have value less than or equal to 1600")
		case lc.ExecutionEnvironmentMemoryGiBPerVCpu != nil && !(*lc.ExecutionEnvironmentMemoryGiBPerVCpu >= 2):
			return invalidValue(*lc.ExecutionEnvironmentMemoryGiBPerVCpu, at+"executionEnvironmentMemoryGiBPerVCpu", "Member must have value greater than or equal to 2.0")
		case lc.ExecutionEnvironmentMemoryGiBPerVCpu != nil && *lc.ExecutionEnvironmentMemoryGiBPerVCpu > 8:
			return invalidValue(*lc.ExecutionEnvironmentMemoryGiBPerVCpu, at+"executionEnvironmentMemoryGiBPerVCpu", "Member must have value less than or equal to 8.0")
		case mode != LMI:
			// The local Lambda's choice: its functions keep the mode they were started with, and
			// AWS creates a function on a capacity provider (CreateFunction) rather than moving a
			// standard one onto it.
			return "Function " + name + " was not created with a capacity provider: CapacityProviderConfig applies to Lambda Managed Instances functions only"
		case *lc.CapacityProviderArn != CapacityProviderARN():
			return "Capacity provider " + *lc.CapacityProviderArn + " not found: function " + name + " runs on " + CapacityProviderARN()
		}
	}
	if mode == LMI && memoryMB != nil && *memoryMB < MinLMIMemoryMB {
		return fmt.Sprintf("MemorySize %d MB is below %d MB, the minimum for a function with a capacity provider", *memoryMB, MinLMIMemoryMB)
	}
	return ""
}

// applyCapacityProvider sets what a (validated) CapacityProviderConfig sets on spec; a member left
// out keeps its value.
func applyCapacityProvider(spec *FunctionSpec, cp *capacityProviderRequest) {
	if cp == nil || cp.LambdaManagedInstancesCapacityProviderConfig == nil {
		return
	}
	lc := cp.LambdaManagedInstancesCapacityProviderConfig
	if lc.PerExecutionEnvironmentMaxConcurrency != nil {
		spec.MaxConcurrency = *lc.PerExecutionEnvironmentMaxConcurrency
	}
	if lc.ExecutionEnvironmentMemoryGiBPerVCpu != nil {
		spec.GiBPerVCPU = *lc.ExecutionEnvironmentMemoryGiBPerVCpu
	}
}

// activate starts the minimum environments of a just-published (Pending) LMI version in the
// background, as publishing an LMI version does on AWS, and once every environment it has (those
// it started, and any started meanwhile but for the retiring ones) is ready makes it Active (then,
// when not nil, does instead: see serveLatestPublished; it reports whether it did). When one fails its init, the version is Failed
// instead. A version closed meanwhile (deleted, or the server closing) is left as it is.
func (s *Server) activate(vf *function, then func() bool) {
	s.after(0, func() {
		vf.ensureMinEnvironments()
		waited := map[*environment]bool{}
		var failed *environment
		var why, initErr string
		for failed == nil {
			vf.mu.Lock()
			if vf.closed {
				vf.mu.Unlock()
				return
			}
			var next []*environment
			for _, e := range vf.envs {
				if !e.stale && !waited[e] {
					next = append(next, e)
				}
			}
			vf.mu.Unlock()
			if len(next) == 0 {
				break
			}
			for _, e := range next {
				waited[e] = true
				select {
				case <-e.ready:
				case <-e.exited:
				case <-s.ctx.Done():
					return
				}
				if e.initDone.Load() || failed != nil {
					continue
				}
				e.mu.Lock()
				reason, typ := e.reason, e.initErrTyp
				e.mu.Unlock()
				// One the local Lambda stopped itself (a scaling config lowered, the version deleted)
				// did not fail.
				if reason == "" || reason == reasonInitTimeout {
					failed, why, initErr = e, reason, typ
				}
			}
		}
		if failed == nil {
			var ok bool
			if then != nil {
				ok = then()
			} else {
				ok = vf.setActive()
			}
			if !ok {
				return
			}
			s.logf("%s: version %s is Active", vf.spec0.Name, vf.spec0.versionName())
			return
		}
		code := "FunctionError.RuntimeInitError"
		if why == reasonInitTimeout {
			code = "FunctionError.InitTimeout"
		} else if why = "it exited during its init"; initErr != "" {
			why = "its init failed with " + initErr
		}
		reason := fmt.Sprintf("Execution environment %s failed to start: %s.", failed.name, why)
		vf.mu.Lock()
		if vf.closed {
			vf.mu.Unlock()
			return
		}
		vf.state, vf.stateReason, vf.stateReasonCode = stateFailed, reason, code
		vf.mu.Unlock()
		s.logf("%s: version %s failed: %s", vf.spec0.Name, vf.spec0.versionName(), reason)
	})
}

// setActive makes the function Active unless it was closed; it reports whether it did.
func (f *function) setActive() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.state, f.stateReason, f.stateReasonCode = "", "", ""
	return true
}

// serveLatestPublished makes vf, if it is still the version published to $LATEST.PUBLISHED last,
// Active and what $LATEST.PUBLISHED (and base's unqualified invocations) run, at once: a client
// that sees it Active invokes it. The one that served before (base's own
// environments, or a former version) drains. It reports whether vf serves.
func (s *Server) serveLatestPublished(base, vf *function) bool {
	s.registry.mu.Lock()
	p := s.registry.of(base.spec0.Name)
	if p.latest != vf || !vf.setActive() {
		// Replaced before it was Active (or closed): it never serves (and stays Pending, draining).
		s.registry.mu.Unlock()
		return false
	}
	old := p.serving
	p.serving = vf
	base.latestPublished.Store(vf)
	if old != nil {
		p.draining = append(p.draining, old)
	}
	s.registry.mu.Unlock()
	if old == nil {
		old = base
	}
	old.drain()
	return true
}

// setScaling applies a FunctionScalingConfig to an LMI function version: a bound left nil keeps
// its requested value; the requested bounds are kept, the applied ones (capped to
// MaxVersionEnvironments) bound its scaling at once. The environments beyond the new maximum are
// retired (idle ones now, the least busy first), and those missing to the new minimum start at
// once. It returns the requested and applied bounds, or the InvalidParameterValueException when
// the minimum would exceed the maximum (then nothing changes).
func (f *function) setScaling(newMin, newMax *int) (reqMin, reqMax, appliedMin, appliedMax int, err error) {
	f.mu.Lock()
	reqMin, reqMax = f.requestedMin, f.requestedMax
	if newMin != nil {
		reqMin = *newMin
	}
	if newMax != nil {
		reqMax = *newMax
	}
	if reqMin > reqMax {
		f.mu.Unlock()
		return reqMin, reqMax, 0, 0, fmt.Errorf("MinExecutionEnvironments (%d) must be less than or equal to MaxExecutionEnvironments (%d)", reqMin, reqMax)
	}
	appliedMin, appliedMax = min(reqMin, MaxVersionEnvironments), min(reqMax, MaxVersionEnvironments)
	f.requestedMin, f.requestedMax = reqMin, reqMax
	f.spec.MinEnvironments, f.spec.MaxEnvironments = appliedMin, appliedMax
	var live []*environment
	for _, e := range f.envs {
		if !e.stale {
			live = append(live, e)
		}
	}
	sort.SliceStable(live, func(i, j int) bool {
		if live[i].assigned != live[j].assigned {
			return live[i].assigned < live[j].assigned
		}
		return live[i].id > live[j].id
	})
	var idle, busy []*environment
	for i := 0; i < len(live)-appliedMax; i++ {
		e := live[i]
		e.stale = true
		if e.assigned == 0 {
			idle = append(idle, e)
		} else {
			busy = append(busy, e)
		}
	}
	f.mu.Unlock()
	for _, e := range idle {
		e.kill(reasonScaledIn)
	}
	for _, e := range busy {
		e.mu.Lock()
		if e.reason == "" {
			e.reason = reasonScaledIn
		}
		e.mu.Unlock()
	}
	f.ensureMinEnvironments()
	return reqMin, reqMax, appliedMin, appliedMax, nil
}

// scalingTarget finds the LMI function version a Put/GetFunctionScalingConfig names, or answers
// the error Lambda gives.
func (s *Server) scalingTarget(w http.ResponseWriter, r *http.Request) (*function, string, bool) {
	q := r.URL.Query().Get("Qualifier")
	switch {
	case !r.URL.Query().Has("Qualifier"):
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", invalidValue(nil, "qualifier", "Member must not be null"))
		return nil, "", false
	case !publishedQualifierRE.MatchString(q) || len(q) > 128:
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "",
			invalidValue(q, "qualifier", `Member must satisfy regular expression pattern: (\$LATEST\.PUBLISHED|[0-9]+)`))
		return nil, "", false
	}
	base, name, ok := s.lookup(r.PathValue("name"), "")
	if !ok {
		notFound(w, name)
		return nil, "", false
	}
	if base.spec0.Mode != LMI {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "",
			"Function "+name+" was not created with a capacity provider: function scaling configs apply to Lambda Managed Instances functions only")
		return nil, "", false
	}
	f, missing, ok := s.lookup(name, q)
	if !ok {
		notFound(w, missing)
		return nil, "", false
	}
	return f, FunctionARN(name) + ":" + q, true
}

// functionScalingConfig is the FunctionScalingConfig shape of the Lambda API.
type functionScalingConfig struct {
	MinExecutionEnvironments *int `json:"MinExecutionEnvironments,omitempty"`
	MaxExecutionEnvironments *int `json:"MaxExecutionEnvironments,omitempty"`
}

// handlePutScalingConfig answers PutFunctionScalingConfig: Min and MaxExecutionEnvironments of a
// published LMI version (a number or $LATEST.PUBLISHED). A member left out keeps its value.
func (s *Server) handlePutScalingConfig(w http.ResponseWriter, r *http.Request) {
	var req struct {
		FunctionScalingConfig *functionScalingConfig `json:"FunctionScalingConfig"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	cfg := req.FunctionScalingConfig
	if cfg == nil {
		cfg = &functionScalingConfig{}
	}
	for _, m := range []struct {
		v    *int
		name string
	}{{cfg.MinExecutionEnvironments, "minExecutionEnvironments"}, {cfg.MaxExecutionEnvironments, "maxExecutionEnvironments"}} {
		at := "functionScalingConfig." + m.name
		switch {
		case m.v == nil:
		case *m.v < 0:
			apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", invalidValue(*m.v, at, "Member must have value greater than or equal to 0"))
			return
		case *m.v > MaxScalingEnvironments:
			apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "",
				invalidValue(*m.v, at, fmt.Sprintf("Member must have value less than or equal to %d", MaxScalingEnvironments)))
			return
		}
	}
	f, arn, ok := s.scalingTarget(w, r)
	if !ok {
		return
	}
	reqMin, reqMax, appMin, appMax, err := f.setScaling(cfg.MinExecutionEnvironments, cfg.MaxExecutionEnvironments)
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", err.Error())
		return
	}
	s.logf("%s: scaling config: %d to %d environments (requested %d to %d)", arn, appMin, appMax, reqMin, reqMax)
	writeJSON(w, http.StatusAccepted, map[string]string{"FunctionState": f.currentState()})
}

// handleGetScalingConfig answers GetFunctionScalingConfig of a published LMI version.
func (s *Server) handleGetScalingConfig(w http.ResponseWriter, r *http.Request) {
	f, arn, ok := s.scalingTarget(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	appMin, appMax := f.spec.MinEnvironments, f.spec.MaxEnvironments
	reqMin, reqMax := f.requestedMin, f.requestedMax
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"FunctionArn":                    arn,
		"AppliedFunctionScalingConfig":   functionScalingConfig{&appMin, &appMax},
		"RequestedFunctionScalingConfig": functionScalingConfig{&reqMin, &reqMax},
	})
}

// handleGetCapacityProvider answers GetCapacityProvider for the local
// Lambda's one capacity provider (by name or ARN): Active, of this
// machine's architecture, allowing any instance type.
func (s *Server) handleGetCapacityProvider(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name != CapacityProviderName && name != CapacityProviderARN() {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "", "Capacity provider not found: "+name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"CapacityProvider": map[string]any{
		"CapacityProviderArn": CapacityProviderARN(),
		"State":               "Active",
		"VpcConfig":           map[string][]string{"SubnetIds": {"subnet-local"}, "SecurityGroupIds": {}},
		"PermissionsConfig": map[string]string{
			"CapacityProviderOperatorRoleArn": fmt.Sprintf("arn:aws:iam::%s:role/%s-operator", Account, CapacityProviderName)},
		"InstanceRequirements": map[string][]string{"Architectures": {HostArchitecture()}},
	}})
}
