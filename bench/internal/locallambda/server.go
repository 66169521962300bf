// Package locallambda is a local AWS Lambda: it runs the real function binary as execution
// environments (child processes served the Lambda Runtime API), serves the Lambda Invoke API and
// API Gateway REST proxy routes on 127.0.0.1, scales standard and Lambda Managed Instances (LMI)
// functions, and gives each environment the CPU share and memory limit its size buys through
// cgroups where the machine allows.
//
// Start it with Start; point aws-sdk-go-v2's Lambda client at InvokeEndpoint (BaseEndpoint, static
// placeholder credentials; signatures are not checked) and HTTP clients at APIBaseURL.
//
// How it behaves, and where it departs from Lambda:
//   - Each environment gets its own Runtime API listener (127.0.0.1, a free port) named in its
//     AWS_LAMBDA_RUNTIME_API: a request on it can only concern that environment. The same
//     listener serves the Lambda metadata endpoint (AWS_LAMBDA_METADATA_API, MetadataPath) to the
//     bearer of the environment's own AWS_LAMBDA_METADATA_TOKEN, as the Runtime Interface
//     Emulator does; it answers Config.AZID.
//   - Every environment gets Config.Credentials as its execution role's (placeholders by
//     default) and their region, and Config.Env (endpoint overrides) beneath its own variables.
//   - Init Duration is environment start to the first /next. The init phase runs with the CPU
//     unthrottled (as on Lambda); the CPU quota applies from the first /next. Billed Duration is
//     Duration (plus Init Duration on a cold start, as for provided.* runtimes) rounded up to 1 ms.
//   - Max Memory Used is the larger of the environment cgroup's peak and the process's VmHWM.
//   - Standard: one invocation per environment; the most recently created idle environment takes
//     it, else a new one starts (a cold start) up to ReservedConcurrency, then 429.
//   - LMI: up to MaxConcurrency invocations per environment, sent to the least busy ready
//     environment with a free slot; beyond the ready environments' slots, 429 (no cold start on
//     the request path). MinEnvironments start at Start (see Config.LazyLMIEnvironments) and are
//     kept up after crashes. Every Scaling.Interval the function measures each ready
//     environment's CPU utilisation (relative to its vCPUs) and scales as a capacity provider's
//     target tracking does: out when the average stays above TargetCPUPercent for
//     ScaleOutAfter (to ceil(n × utilisation ÷ target)) or at once when the slots were all taken
//     or invocations throttled; the new environments start after Scaling.StartDelay; in by one
//     environment when one fewer would have stayed under the target for ScaleInAfter; always
//     between MinEnvironments and MaxEnvironments. Every decision is a ScalingEvent.
//   - Published versions (PublishVersion) are frozen copies of $LATEST with environments of their
//     own, scaled like their function. An LMI version is Pending, and refuses invocations
//     (ResourceConflictException), until its MinEnvironments are ready; then Active (Failed, and
//     refusing invocations too, when one fails its init). PublishTo LATEST_PUBLISHED publishes $LATEST.PUBLISHED: once Active it
//     runs the function's unqualified invocations and API Gateway route, which $LATEST's own
//     environments ran until then (they then stop). PutFunctionScalingConfig sets a version's Min
//     and MaxEnvironments at once (capped to MaxVersionEnvironments); UpdateFunctionConfiguration's
//     CapacityProviderConfig sets $LATEST's GiBPerVCPU and MaxConcurrency (lmiapi.go).
//   - Standard environments idle for Config.IdleTimeout are stopped (the next invocation is a
//     cold start), as Lambda reclaims idle environments.
//   - A timeout fails the invocation with "Task timed out after N.NN seconds" (Sandbox.Timedout);
//     a standard environment is then replaced, an LMI environment keeps serving its other
//     invocations (the late answer is refused). A crash fails it with Runtime.ExitError, an
//     out-of-memory kill (cgroup memory limit) with Runtime.OutOfMemory; the environment is gone
//     and the next invocation starts a new one. An init failure fails the waiting invocations
//     with the error the runtime posted to /runtime/init/error, or Runtime.ExitError.
//   - LogType Tail returns the last 4 KB of START, the invocation's own log lines, END and
//     REPORT. In LMI environments a line goes to every invocation in flight when it was written.
//   - Children are started with a parent-death signal (SIGKILL) in their own process group, so
//     none outlives the server even when it is killed; Close removes the cgroups, and a later
//     Start removes those left by a killed server.
package locallambda

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lambdabench/bench/internal/cgroup"
)

// DefaultCPUPeriod is the CPU throttling interval of the local Lambda's environments. AWS does
// not document Lambda's; a public measurement tool (pwrdrvr/lambda-throttling, 2025) works from
// "throttling occurring in 20 ms intervals". It decides how short work is throttled at a fraction
// of a vCPU; 'bench calibrate --target aws' measures it on real environments.
const DefaultCPUPeriod = 20 * time.Millisecond

// Defaults of Config.
const (
	DefaultInvokeAddr         = "127.0.0.1:3001"
	DefaultAPIAddr            = "127.0.0.1:3000"
	DefaultIntegrationTimeout = 29 * time.Second // API Gateway's integration timeout
	DefaultInitTimeout        = 10 * time.Second // Lambda's init phase limit
	DefaultSampleInterval     = 100 * time.Millisecond
	// Region and Account appear in ARNs and in the environment of the functions.
	Region  = "us-east-1"
	Account = "000000000000"
	// Stage is the API Gateway stage; routes are served with and without it.
	Stage = "prod"
)

// Config configures a Server.
type Config struct {
	Functions []FunctionSpec
	Routes    []Route
	// InvokeAddr and APIAddr are where the Invoke API and the API Gateway routes listen; both must
	// be on 127.0.0.1 (port 0 = a free port). Empty = 127.0.0.1:3001 and 127.0.0.1:3000.
	// APIAddr "-" serves no API Gateway.
	InvokeAddr, APIAddr string
	// Logf receives what the local Lambda does (environments started and stopped, warnings).
	// nil = silent.
	Logf func(format string, args ...any)
	// FunctionLog receives every log line of the functions (their stdout and stderr) and the
	// START, END and REPORT lines, as CloudWatch would. nil = discarded (LogType Tail still works).
	FunctionLog func(function, line string)
	// CPUControl confines every environment to its CPU share and memory with cgroups when the
	// machine allows; when it does not, Logf says so once and environments run unconfined.
	CPUControl bool
	// HostCores caps every environment's CPU share; 0 = runtime.NumCPU().
	HostCores int
	// CPUPeriod is the CFS bandwidth period of every environment's CPU quota: an environment
	// gets its share of each period and waits for the next once it has used it, so the period
	// decides how a short burst of work is throttled. 0 = DefaultCPUPeriod.
	CPUPeriod time.Duration
	// CPUShare, when set, gives a standard function's environments their vCPUs from their memory
	// (a calibration measured on AWS) instead of memory ÷ 1,769 MB; it is still capped by the
	// host's cores. CPUSource says where it comes from, for Confinement.
	CPUShare  func(memoryMB int) float64
	CPUSource string
	// CPUWeight is how much CPU all environments together claim against the machine's other
	// processes when it is oversubscribed, in busy threads (cgroup cpu.shares/cpu.weight); each
	// environment's own quota still caps it. 0 = HostCores: the environments compete like a
	// machine of their own, and the rest (a load generator) keeps a fair part.
	CPUWeight float64
	// IntegrationTimeout is API Gateway's limit per request (0 = 29 s).
	IntegrationTimeout time.Duration
	// InitTimeout bounds an environment's start (to its first /next); 0 = 10 s.
	InitTimeout time.Duration
	// SampleInterval is the period of the Timeline samples (0 = 100 ms).
	SampleInterval time.Duration
	// LazyLMIEnvironments starts each LMI function's MinEnvironments at its first invocation.
	// By default Start starts them, as publishing a version does on AWS, and waits until they are
	// ready (an environment that fails to start is logged and replaced at first use).
	LazyLMIEnvironments bool
	// Scaling configures how LMI functions scale (zero fields take the defaults).
	Scaling Scaling
	// IdleTimeout is how long an idle standard environment lives before it is stopped (its
	// function's next invocation is then a cold start): 0 = DefaultIdleTimeout, negative = never.
	IdleTimeout time.Duration
	// Credentials are every environment's AWS credentials and region; the zero value gives
	// placeholder credentials and Region.
	Credentials Credentials
	// AZID is the Availability Zone ID the metadata endpoint answers; "" = LocalAZID of the
	// credentials' region.
	AZID string
	// Env are variables every environment gets beneath the function's own, such as the endpoint
	// overrides EndpointEnv finds in the command's environment.
	Env map[string]string
}

// serverSeq numbers the servers of this process (their cgroups must not collide).
var serverSeq atomic.Int64

// Server is a running local Lambda. Its methods are safe for concurrent use.
type Server struct {
	cfg       Config
	hostCores int
	scaling   Scaling
	// cpuUsage reads an environment's CPU time used and waited for (tests replace it).
	cpuUsage func(*environment) (cpuReading, error)
	logf     func(string, ...any)

	functions map[string]*function
	order     []string // function names in configuration order
	routes    []Route

	invokeLn, apiLn   net.Listener
	invokeSrv, apiSrv *http.Server
	cg                *cgroup.Manager // nil = unconfined
	confinement       string

	ctx    context.Context // canceled at Close: stops background work
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines (servers, sampler, environment starts)

	asyncMu sync.Mutex     // orders startAsync against Close
	async   sync.WaitGroup // asynchronous (Event) invocations

	closeOnce sync.Once
	closeErr  error

	registry registry // published versions, aliases and uploaded code (versions.go)
}

// Start starts the local Lambda: it listens, prepares cgroups and (with StartMinEnvironments)
// starts the LMI functions' minimum environments, and returns once it serves requests. ctx
// bounds the start only; call Close to stop.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if len(cfg.Functions) == 0 {
		return nil, errNoFunctions
	}
	if cfg.InvokeAddr == "" {
		cfg.InvokeAddr = DefaultInvokeAddr
	}
	if cfg.APIAddr == "" {
		cfg.APIAddr = DefaultAPIAddr
	}
	if cfg.IntegrationTimeout == 0 {
		cfg.IntegrationTimeout = DefaultIntegrationTimeout
	}
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	if cfg.SampleInterval == 0 {
		cfg.SampleInterval = DefaultSampleInterval
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	cfg.Credentials = cfg.Credentials.withDefaults()
	if cfg.AZID == "" {
		cfg.AZID = LocalAZID(cfg.Credentials.Region)
	} else if err := CheckAZID(cfg.AZID); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, functions: map[string]*function{}, hostCores: cfg.HostCores,
		scaling: cfg.Scaling.withDefaults(), cpuUsage: (*environment).cpuTime}
	if s.hostCores <= 0 {
		s.hostCores = runtime.NumCPU()
	}
	s.logf = cfg.Logf
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	for _, spec := range cfg.Functions {
		spec, err := spec.withDefaults()
		if err != nil {
			return nil, err
		}
		if _, dup := s.functions[spec.Name]; dup {
			return nil, fmt.Errorf("function %s declared twice", spec.Name)
		}
		s.functions[spec.Name] = newFunction(s, spec)
		s.order = append(s.order, spec.Name)
	}
	for _, r := range cfg.Routes {
		if _, ok := s.functions[r.Function]; !ok {
			return nil, fmt.Errorf("route %s: unknown function %q", r.Path, r.Function)
		}
		if !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("route %q: path must start with /", r.Path)
		}
		s.routes = append(s.routes, r)
	}
	if err := CheckLoopback(cfg.InvokeAddr); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	var err error
	if s.invokeLn, err = net.Listen("tcp", cfg.InvokeAddr); err != nil {
		s.cancel()
		return nil, fmt.Errorf("listen for the invoke API: %w", err)
	}
	if cfg.APIAddr != "-" {
		if err := CheckLoopback(cfg.APIAddr); err != nil {
			s.invokeLn.Close()
			s.cancel()
			return nil, err
		}
		if s.apiLn, err = net.Listen("tcp", cfg.APIAddr); err != nil {
			s.invokeLn.Close()
			s.cancel()
			return nil, fmt.Errorf("listen for API Gateway: %w", err)
		}
	}

	s.confinement = "none (CPUControl off)"
	if cfg.CPUControl {
		name := fmt.Sprintf("locallambda-%d.%d", os.Getpid(), serverSeq.Add(1))
		if m, err := cgroup.New(name); err != nil {
			s.confinement = "none: " + err.Error()
			s.logf("cgroups unavailable, environments run without CPU or memory limits: %v", err)
		} else {
			s.cg = m
			period := cfg.CPUPeriod
			if period == 0 {
				period = DefaultCPUPeriod
			}
			if err := m.SetPeriod(period); err != nil {
				m.Close()
				s.invokeLn.Close()
				if s.apiLn != nil {
					s.apiLn.Close()
				}
				s.cancel()
				return nil, err
			}
			weight := cfg.CPUWeight
			if weight <= 0 {
				weight = float64(s.hostCores)
			}
			if err := m.SetWeight(weight); err != nil {
				s.logf("cgroups: cannot set the CPU weight of the environments: %v", err)
			}
			share := "memory ÷ 1769 MB per vCPU"
			for _, f := range cfg.Functions {
				if f.Mode == LMI {
					share += "; on Lambda Managed Instances memory ÷ its GiB per vCPU"
					break
				}
			}
			if cfg.CPUShare != nil {
				share = "the calibration " + cfg.CPUSource
			}
			s.confinement = fmt.Sprintf("cgroup v%d (%s): CPU quota (%s) in every %s period and memory limit per environment",
				m.Version(), m.Dir(), share, m.Period())
		}
	}

	s.invokeSrv = &http.Server{Handler: s.invokeHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.serve(s.invokeSrv, s.invokeLn)
	if s.apiLn != nil {
		s.apiSrv = &http.Server{Handler: http.HandlerFunc(s.serveAPIGateway), ReadHeaderTimeout: 10 * time.Second}
		s.serve(s.apiSrv, s.apiLn)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.sample()
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.scale()
	}()

	if !cfg.LazyLMIEnvironments {
		if err := s.startMinEnvironments(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// CheckLoopback refuses an address the local Lambda must not listen on: any
// but a loopback one (127.0.0.1, ::1, localhost).
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("address %q: the local Lambda listens on 127.0.0.1 only", addr)
	}
	return nil
}

func (s *Server) serve(srv *http.Server, ln net.Listener) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("serve %s: %v", ln.Addr(), err)
		}
	}()
}

// startMinEnvironments starts the minimum environments of every LMI function and waits until
// they are ready (or failed: a failed environment is logged, and replaced at first use).
func (s *Server) startMinEnvironments(ctx context.Context) error {
	var envs []*environment
	for _, name := range s.order {
		envs = append(envs, s.functions[name].ensureMinEnvironments()...)
	}
	for _, e := range envs {
		select {
		case <-e.ready:
		case <-e.exited:
		case <-ctx.Done():
			return fmt.Errorf("start LMI environments: %w", ctx.Err())
		}
	}
	return nil
}

// InvokeEndpoint is the Lambda API's base URL, e.g. "http://127.0.0.1:3001": the BaseEndpoint of
// an aws-sdk-go-v2 Lambda client, or --endpoint-url of the AWS CLI.
func (s *Server) InvokeEndpoint() string { return "http://" + s.invokeLn.Addr().String() }

// APIBaseURL is the API Gateway's base URL, e.g. "http://127.0.0.1:3000/"; routes are served
// below it with or without the stage ("prod/"). Empty when no API Gateway is served.
func (s *Server) APIBaseURL() string {
	if s.apiLn == nil {
		return ""
	}
	return "http://" + s.apiLn.Addr().String() + "/"
}

// Confinement says how environments are confined: the cgroup version and directory, or why not.
func (s *Server) Confinement() string { return s.confinement }

// HostCores is the number of cores that caps every environment's CPU share.
func (s *Server) HostCores() int { return s.hostCores }

// Functions returns the configured functions (with defaults filled in and current configuration),
// in configuration order.
func (s *Server) Functions() []FunctionSpec {
	out := make([]FunctionSpec, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.functions[n].currentSpec())
	}
	return out
}

// Routes returns the API Gateway routes.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// FunctionARN is the ARN the local Lambda gives a function name.
func FunctionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, Account, name)
}

// CapacityProviderName is the capacity provider reported for LMI functions.
const CapacityProviderName = FunctionPrefix + "-capacity-provider"

// CapacityProviderARN is the ARN of CapacityProviderName.
func CapacityProviderARN() string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:capacity-provider:%s", Region, Account, CapacityProviderName)
}

// StackOutputs returns the CloudFormation outputs the CDK stacks would produce for the configured
// functions and routes: "<OutputKey>FunctionName" and "<OutputKey>FunctionArn" per function with an
// OutputKey; with routes, "ApiUrl" (the stage URL, ending in /prod/) and each route's OutputKey
// (its full URL); with LMI functions, "CapacityProviderArn" and "CapacityProviderName".
func (s *Server) StackOutputs() map[string]string {
	out := map[string]string{}
	lmi := false
	for _, n := range s.order {
		spec := s.functions[n].spec0
		if spec.Mode == LMI {
			lmi = true
		}
		if spec.OutputKey == "" {
			continue
		}
		out[spec.OutputKey+"FunctionName"] = spec.Name
		out[spec.OutputKey+"FunctionArn"] = FunctionARN(spec.Name)
	}
	if base := s.APIBaseURL(); base != "" && len(s.routes) > 0 {
		out["ApiUrl"] = base + Stage + "/"
		for _, r := range s.routes {
			if r.OutputKey != "" {
				out[r.OutputKey] = base + Stage + r.Path
			}
		}
	}
	if lmi {
		out["CapacityProviderArn"] = CapacityProviderARN()
		out["CapacityProviderName"] = CapacityProviderName
	}
	return out
}

// Close stops everything: the listeners, every environment (their processes are killed and
// in-flight invocations fail), and removes the cgroups. It is idempotent and returns the same
// result every time.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.asyncMu.Lock()
		s.cancel()
		s.asyncMu.Unlock()
		var errs []error
		errs = append(errs, s.invokeSrv.Close())
		if s.apiSrv != nil {
			errs = append(errs, s.apiSrv.Close())
		}
		for _, n := range s.order {
			s.functions[n].close()
		}
		errs = append(errs, s.closeVersions())
		s.async.Wait()
		s.wg.Wait()
		if s.cg != nil {
			if err := s.cg.Close(); err != nil {
				errs = append(errs, fmt.Errorf("remove cgroups: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// lookup finds a function by name or ARN (with an optional qualifier); it reports whether the
// qualifier names a version the local Lambda has ($LATEST, $LATEST.PUBLISHED, a published version
// or an alias; none is $LATEST). $LATEST.PUBLISHED is the version published to it last (even while
// it is Pending), or $LATEST's own environments before any was.
func (s *Server) lookup(nameOrARN, qualifier string) (*function, string, bool) {
	f, name, _, ok := s.resolve(nameOrARN, qualifier, false)
	return f, name, ok
}

// resolve is lookup for an invocation when invoke is set: an unqualified LMI function then means
// $LATEST.PUBLISHED, as on Lambda, and $LATEST.PUBLISHED the version that serves it (the previous
// one while the last published is not Active yet). version is the version as Invoke reports it
// (X-Amz-Executed-Version).
func (s *Server) resolve(nameOrARN, qualifier string, invoke bool) (f *function, name, version string, ok bool) {
	name = nameOrARN
	if i := strings.Index(name, ":function:"); i >= 0 {
		// A full ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME) or a partial one
		// (ACCOUNT:function:NAME) names this Lambda's functions only in its region and account.
		prefix := strings.Split(name[:i], ":")
		foreignName := name
		if len(prefix) == 1 {
			foreignName = fmt.Sprintf("arn:aws:lambda:%s:%s", Region, name)
		}
		if account := prefix[len(prefix)-1]; account != Account ||
			(len(prefix) > 1 && (len(prefix) != 5 || prefix[0] != "arn" || prefix[1] != "aws" || prefix[2] != "lambda" || prefix[3] != Region)) {
			return nil, foreignName, "", false
		}
		name = name[i+len(":function:"):]
	} else {
		name = strings.TrimPrefix(name, "function:")
	}
	if n, q, ok := strings.Cut(name, ":"); ok {
		name = n
		if qualifier == "" {
			qualifier = q
		}
	}
	f, ok = s.functions[name]
	if !ok {
		return nil, name, "", false
	}
	if qualifier == "" && invoke && f.spec0.Mode == LMI {
		qualifier = latestPublished
	}
	switch qualifier {
	case "", "$LATEST":
		return f, name, "$LATEST", true
	case latestPublished:
		if f.spec0.Mode != LMI {
			return f, name, "$LATEST", true
		}
		if invoke {
			return s.servingOf(name), name, latestPublished, true
		}
		if lp := s.latestPublishedOf(name); lp != nil {
			return lp, name, latestPublished, true
		}
		return f, name, latestPublished, true
	}
	if v, ok := s.resolveQualifier(name, qualifier); ok {
		return v, name, v.spec0.version, true
	}
	return nil, name + ":" + qualifier, "", false
}

// sortedNames returns the function names in alphabetical order (ListFunctions' order).
func (s *Server) sortedNames() []string {
	names := append([]string(nil), s.order...)
	sort.Strings(names)
	return names
}
