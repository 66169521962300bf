package locallambda

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// invokeHandler serves the subset of the Lambda API that bench uses, in the restJson1 protocol
// aws-sdk-go-v2 speaks: Invoke, GetFunction, GetFunctionConfiguration,
// UpdateFunctionConfiguration, ListFunctions, GetFunctionConcurrency, and Put and
// GetFunctionScalingConfig (lmiapi.go).
func (s *Server) invokeHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", s.handleInvoke)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/configuration", s.handleGetConfiguration)
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/configuration", s.handleUpdateConfiguration)
	mux.HandleFunc("GET /2015-03-31/functions/{name}", s.handleGetFunction)
	mux.HandleFunc("GET /2015-03-31/functions/{$}", s.handleListFunctions)
	mux.HandleFunc("GET /2015-03-31/functions", s.handleListFunctions)
	mux.HandleFunc("GET /2019-09-30/functions/{name}/concurrency", s.handleGetConcurrency)
	mux.HandleFunc("GET /2025-11-30/functions/{name}/function-scaling-config", s.handleGetScalingConfig)
	mux.HandleFunc("PUT /2025-11-30/functions/{name}/function-scaling-config", s.handlePutScalingConfig)
	mux.HandleFunc("GET /2025-11-30/capacity-providers/{name}", s.handleGetCapacityProvider)
	s.registerVersionRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "UnknownOperationException", "",
			fmt.Sprintf("the local Lambda does not implement %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// apiError writes a restJson1 error: aws-sdk-go-v2 turns X-Amzn-ErrorType into the typed error.
func apiError(w http.ResponseWriter, status int, typ, reason, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", typ)
	h.Set("X-Amzn-RequestId", newRequestID())
	body := map[string]string{"Type": "User", "message": msg}
	if status >= 500 {
		body["Type"] = "Service"
	}
	if reason != "" {
		body["Reason"] = reason
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter, name string) {
	arn := name
	if !strings.HasPrefix(arn, "arn:") {
		arn = FunctionARN(name)
	}
	apiError(w, http.StatusNotFound, "ResourceNotFoundException", "", "Function not found: "+arn)
}

// notActive refuses to invoke a version in state (Pending or Failed), as Lambda does.
func notActive(w http.ResponseWriter, state string) {
	apiError(w, http.StatusConflict, "ResourceConflictException", "",
		"The operation cannot be performed at this time. The function is currently in the following state: "+state)
}

func (s *Server) handleInvoke(w http.ResponseWriter, r *http.Request) {
	f, name, version, ok := s.resolve(r.PathValue("name"), r.URL.Query().Get("Qualifier"), true)
	if !ok {
		notFound(w, name)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "", "read request body: "+err.Error())
		return
	}
	if len(payload) >= maxRequestBytes {
		// As AWS answers: a request must be smaller than 6 MB (6,291,456 bytes).
		apiError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "",
			fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", maxRequestBytes))
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	} else if !json.Valid(payload) {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "",
			"Could not parse request body into json: the payload is not valid JSON")
		return
	}
	inv := newInvocation(FunctionARN(f.spec0.Name), payload, r.Header.Get("X-Amz-Log-Type") == "Tail")
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		if b, err := base64.StdEncoding.DecodeString(cc); err == nil {
			inv.clientContext = string(b)
		}
	}
	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
	case "DryRun":
		if st := f.currentState(); st != stateActive {
			notActive(w, st)
			return
		}
		w.Header().Set("X-Amzn-RequestId", inv.id)
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		// Lambda queues the event and answers at once; here it runs in the background, and a
		// throttled event is retried as Lambda retries it (event.go). A version not Active is
		// refused now, as Lambda refuses the request.
		if st := f.currentState(); st != stateActive {
			notActive(w, st)
			return
		}
		if !s.startAsync(func(ctx context.Context) { s.runEvent(ctx, f, inv) }) {
			apiError(w, http.StatusServiceUnavailable, "ServiceException", "", errClosed.Error())
			return
		}
		w.Header().Set("X-Amzn-RequestId", inv.id)
		w.WriteHeader(http.StatusAccepted)
		return
	default:
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "",
			fmt.Sprintf("invalid invocation type %q: want RequestResponse, Event or DryRun", typ))
		return
	}

	res, err := f.invoke(r.Context(), inv)
	var na *notActiveError
	switch {
	case errors.As(err, &na):
		notActive(w, na.state)
		return
	case errors.Is(err, errThrottled):
		reason := "ReservedFunctionConcurrentInvocationLimitExceeded"
		if f.spec0.Mode == LMI {
			reason = "ConcurrentInvocationLimitExceeded"
		}
		apiError(w, http.StatusTooManyRequests, "TooManyRequestsException", reason, "Rate Exceeded.")
		return
	case errors.Is(err, errClosed):
		apiError(w, http.StatusServiceUnavailable, "ServiceException", "", err.Error())
		return
	case err != nil: // the caller went away
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-RequestId", inv.id)
	h.Set("X-Amz-Executed-Version", version)
	if res.functionError != "" {
		h.Set("X-Amz-Function-Error", res.functionError)
	}
	if inv.wantLogs {
		h.Set("X-Amz-Log-Result", res.tail)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.payload)
}

// startAsync runs fn in the background unless the server is closing; Close waits for it.
func (s *Server) startAsync(fn func(ctx context.Context)) bool {
	s.asyncMu.Lock()
	defer s.asyncMu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.async.Add(1)
	go func() {
		defer s.async.Done()
		fn(s.ctx)
	}()
	return true
}

// functionConfiguration is the FunctionConfiguration shape of the Lambda API.
type functionConfiguration struct {
	FunctionName           string                  `json:"FunctionName"`
	FunctionArn            string                  `json:"FunctionArn"`
	Runtime                string                  `json:"Runtime"`
	Role                   string                  `json:"Role"`
	Handler                string                  `json:"Handler"`
	CodeSize               int64                   `json:"CodeSize"`
	Description            string                  `json:"Description"`
	Timeout                int                     `json:"Timeout"`
	MemorySize             int                     `json:"MemorySize"`
	LastModified           string                  `json:"LastModified"`
	CodeSha256             string                  `json:"CodeSha256"`
	Version                string                  `json:"Version"`
	Environment            *environmentResponse    `json:"Environment,omitempty"`
	State                  string                  `json:"State"`
	StateReason            string                  `json:"StateReason,omitempty"`
	StateReasonCode        string                  `json:"StateReasonCode,omitempty"`
	LastUpdateStatus       string                  `json:"LastUpdateStatus"`
	PackageType            string                  `json:"PackageType"`
	Architectures          []string                `json:"Architectures"`
	EphemeralStorage       map[string]int          `json:"EphemeralStorage"`
	RevisionID             string                  `json:"RevisionId"`
	CapacityProviderConfig *capacityProviderConfig `json:"CapacityProviderConfig,omitempty"`
}

type environmentResponse struct {
	Variables map[string]string `json:"Variables"`
}

type capacityProviderConfig struct {
	LambdaManagedInstancesCapacityProviderConfig struct {
		CapacityProviderArn                   string  `json:"CapacityProviderArn"`
		ExecutionEnvironmentMemoryGiBPerVCpu  float64 `json:"ExecutionEnvironmentMemoryGiBPerVCpu"`
		PerExecutionEnvironmentMaxConcurrency int     `json:"PerExecutionEnvironmentMaxConcurrency"`
	} `json:"LambdaManagedInstancesCapacityProviderConfig"`
}

func (f *function) configuration() functionConfiguration {
	f.mu.Lock()
	spec, rev, modified := f.spec, f.revision, f.lastModified
	spec.Env = copyEnv(f.spec.Env)
	state, reason, code := f.state, f.stateReason, f.stateReasonCode
	f.mu.Unlock()
	c := functionConfiguration{
		FunctionName:     spec.Name,
		FunctionArn:      FunctionARN(spec.Name),
		Runtime:          "provided.al2023",
		Role:             fmt.Sprintf("arn:aws:iam::%s:role/%s-role", Account, spec.Name),
		Handler:          spec.Handler,
		Timeout:          int((spec.Timeout + time.Second - 1) / time.Second),
		MemorySize:       spec.MemoryMB,
		LastModified:     modified.UTC().Format("2006-01-02T15:04:05.000-0700"),
		Version:          "$LATEST",
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      "Zip",
		Architectures:    []string{spec.Architecture},
		EphemeralStorage: map[string]int{"Size": 512},
		RevisionID:       revisionString(spec.Name, rev),
	}
	if state != "" {
		c.State, c.StateReason, c.StateReasonCode = state, reason, code
	}
	if spec.version != "" {
		c.Version, c.FunctionArn = spec.version, FunctionARN(spec.Name)+":"+spec.version
		c.Description = spec.description
	}
	c.CodeSha256, c.CodeSize = codeDigest(spec.Binary)
	if len(spec.Env) > 0 {
		c.Environment = &environmentResponse{Variables: spec.Env}
	}
	if spec.Mode == LMI {
		c.CapacityProviderConfig = &capacityProviderConfig{}
		lc := &c.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig
		lc.CapacityProviderArn = CapacityProviderARN()
		lc.ExecutionEnvironmentMemoryGiBPerVCpu = spec.GiBPerVCPU
		lc.PerExecutionEnvironmentMaxConcurrency = spec.MaxConcurrency
	}
	return c
}

var (
	digestMu sync.Mutex
	digests  = map[string]codeInfo{}
)

type codeInfo struct {
	sha  string
	size int64
	mod  time.Time
}

// codeDigest is the binary's CodeSha256 (base64 of its SHA-256, as Lambda reports a zip's) and
// size, cached per path and modification time.
func codeDigest(path string) (string, int64) {
	st, err := os.Stat(path)
	if err != nil {
		return "", 0
	}
	digestMu.Lock()
	defer digestMu.Unlock()
	if c, ok := digests[path]; ok && c.mod.Equal(st.ModTime()) && c.size == st.Size() {
		return c.sha, c.size
	}
	f, err := os.Open(path)
	if err != nil {
		return "", 0
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", 0
	}
	c := codeInfo{sha: base64.StdEncoding.EncodeToString(h.Sum(nil)), size: st.Size(), mod: st.ModTime()}
	digests[path] = c
	return c.sha, c.size
}

func (s *Server) handleGetConfiguration(w http.ResponseWriter, r *http.Request) {
	f, name, ok := s.lookup(r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if !ok {
		notFound(w, name)
		return
	}
	writeJSON(w, http.StatusOK, f.configuration())
}

func (s *Server) handleGetFunction(w http.ResponseWriter, r *http.Request) {
	f, name, ok := s.lookup(r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if !ok {
		notFound(w, name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"Configuration": f.configuration(),
		"Code": map[string]string{"RepositoryType": "S3",
			"Location": s.InvokeEndpoint() + "/_local/code/" + f.spec0.Name + "?Qualifier=" + url.QueryEscape(f.configuration().Version)},
	})
}

// updateRequest is the part of UpdateFunctionConfiguration the local Lambda applies.
type updateRequest struct {
	Environment *struct {
		Variables map[string]string `json:"Variables"`
	} `json:"Environment"`
	MemorySize  *int    `json:"MemorySize"`
	Timeout     *int    `json:"Timeout"`
	Handler     *string `json:"Handler"`
	Description *string `json:"Description"`
	RevisionID  *string `json:"RevisionId"`
	// CapacityProviderConfig changes an LMI function's memory per vCPU and invocations per
	// environment (lmiapi.go).
	CapacityProviderConfig *capacityProviderRequest `json:"CapacityProviderConfig"`
}

func (s *Server) handleUpdateConfiguration(w http.ResponseWriter, r *http.Request) {
	f, name, ok := s.lookup(r.PathValue("name"), "")
	if !ok {
		notFound(w, name)
		return
	}
	var req updateRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", "invalid request body: "+err.Error())
		return
	}
	if req.RevisionID != nil && *req.RevisionID != f.revisionID() {
		apiError(w, http.StatusPreconditionFailed, "PreconditionFailedException", "",
			"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
		return
	}
	if req.Timeout != nil && *req.Timeout < 1 {
		// The API model's minimum: parameter validation, as for MemorySize.
		apiError(w, http.StatusBadRequest, "ValidationException", "",
			fmt.Sprintf("1 validation error detected: Value '%d' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1", *req.Timeout))
		return
	}
	if req.MemorySize != nil {
		// The Lambda API validates the request before it looks at the function.
		if m := *req.MemorySize; m < 128 || m > 10240 {
			bound := "greater than or equal to 128"
			if m > 10240 {
				bound = "less than or equal to 10240"
			}
			apiError(w, http.StatusBadRequest, "ValidationException", "",
				fmt.Sprintf("1 validation error detected: Value '%d' at 'memorySize' failed to satisfy constraint: Member must have value %s", m, bound))
			return
		}
	}
	if msg := checkLMIUpdate(f.spec0.Name, f.spec0.Mode, req.CapacityProviderConfig, req.MemorySize); msg != "" {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", msg)
		return
	}
	_, err := f.update(func(spec *FunctionSpec) error {
		applyCapacityProvider(spec, req.CapacityProviderConfig)
		if req.Environment != nil {
			spec.Env = copyEnv(req.Environment.Variables)
		}
		if req.MemorySize != nil {
			spec.MemoryMB = *req.MemorySize
		}
		if req.Timeout != nil {
			if *req.Timeout < 1 || *req.Timeout > 900 {
				return fmt.Errorf("timeout %d out of 1..900 seconds", *req.Timeout)
			}
			spec.Timeout = time.Duration(*req.Timeout) * time.Second
		}
		if req.Handler != nil {
			spec.Handler = *req.Handler
		}
		return nil
	})
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", err.Error())
		return
	}
	s.logf("%s: configuration updated; new invocations start new environments", f.spec0.Name)
	writeJSON(w, http.StatusOK, f.configuration())
}

func (s *Server) handleListFunctions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	maxItems := 50
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", "MaxItems must be 1..10000")
			return
		}
		maxItems = n
	}
	names := s.sortedNames()
	start := 0
	if m := q.Get("Marker"); m != "" {
		start = -1
		for i, n := range names {
			if n == m {
				start = i
			}
		}
		if start < 0 {
			apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", "invalid Marker")
			return
		}
	}
	out := struct {
		Functions  []functionConfiguration `json:"Functions"`
		NextMarker *string                 `json:"NextMarker,omitempty"`
	}{Functions: []functionConfiguration{}}
	end := min(start+maxItems, len(names))
	for _, n := range names[start:end] {
		out.Functions = append(out.Functions, s.functions[n].configuration())
	}
	if end < len(names) {
		out.NextMarker = &names[end]
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetConcurrency(w http.ResponseWriter, r *http.Request) {
	f, name, ok := s.lookup(r.PathValue("name"), "")
	if !ok {
		notFound(w, name)
		return
	}
	spec := f.currentSpec()
	out := map[string]any{}
	if spec.Mode == Standard {
		out["ReservedConcurrentExecutions"] = spec.ReservedConcurrency
	}
	writeJSON(w, http.StatusOK, out)
}
