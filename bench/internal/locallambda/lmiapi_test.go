package locallambda

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// lmiFakeSpec is an LMI function of the fake runtime: 4096 MB at 2 GiB per vCPU, 8 invocations per
// environment, 1 to 3 environments.
func lmiFakeSpec(name string) FunctionSpec {
	return FunctionSpec{Name: name, Binary: fakeBinary, Handler: "fake", MemoryMB: 4096, Timeout: 5 * time.Second,
		Mode: LMI, GiBPerVCPU: 2, MaxConcurrency: 8, MinEnvironments: 1, MaxEnvironments: 3}
}

// liveOf returns the environments of a function version that take invocations (not retiring),
// and how many of them are ready.
func liveOf(t *testing.T, s *Server, name, qualifier string) (live []*environment, ready int) {
	t.Helper()
	f, _, ok := s.lookup(name, qualifier)
	if !ok {
		t.Fatalf("no version %s:%s", name, qualifier)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.envs {
		if !e.stale {
			live = append(live, e)
			if e.initDone.Load() {
				ready++
			}
		}
	}
	return live, ready
}

// apiCode is the error code of an API error ("" for none, "client" for an error the SDK raised
// before sending).
func apiCode(err error) string {
	var apiErr smithy.APIError
	var params smithy.InvalidParamsError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &params):
		return "client"
	case errors.As(err, &apiErr):
		return apiErr.ErrorCode()
	}
	return err.Error()
}

// waitState polls GetFunctionConfiguration of a version until its State is want.
func waitState(t *testing.T, c *lambda.Client, name, qualifier string, want types.State) *lambda.GetFunctionConfigurationOutput {
	t.Helper()
	var out *lambda.GetFunctionConfigurationOutput
	waitFor(t, 30*time.Second, "version "+qualifier+" "+string(want), func() bool {
		var err error
		out, err = c.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name), Qualifier: aws.String(qualifier)})
		if err != nil {
			t.Fatalf("GetFunctionConfiguration %s:%s: %v", name, qualifier, err)
		}
		return out.State == want
	})
	return out
}

func lmiInput(arn string, concurrency int32, ratio float64) *types.CapacityProviderConfig {
	return &types.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{
		CapacityProviderArn: aws.String(arn), PerExecutionEnvironmentMaxConcurrency: aws.Int32(concurrency),
		ExecutionEnvironmentMemoryGiBPerVCpu: aws.Float64(ratio),
	}}
}

// UpdateFunctionConfiguration's CapacityProviderConfig changes what $LATEST's new environments
// get (vCPUs from memory ÷ ratio, invocations per environment), GetFunctionConfiguration shows it,
// and what the Lambda API refuses is refused with its error, leaving the configuration as it was.
func TestUpdateCapacityProviderConfig(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi"), fakeSpec("std")}})
	c := client(s)
	ctx := context.Background()
	arn := CapacityProviderARN()

	before := s.VCPUsOf(lmiFakeSpec("lmi"))
	out, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("lmi"),
		MemorySize: aws.Int32(2048), CapacityProviderConfig: lmiInput(arn, 4, 4)})
	if err != nil {
		t.Fatal(err)
	}
	want := FunctionSpec{Mode: LMI, MemoryMB: 2048, GiBPerVCPU: 4}
	if v := s.VCPUsOf(want); v == before {
		t.Fatalf("the test proves nothing: %g vCPUs before and after", v)
	}
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("lmi")})
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*types.CapacityProviderConfig{out.CapacityProviderConfig, cfg.CapacityProviderConfig} {
		lc := got.LambdaManagedInstancesCapacityProviderConfig
		if aws.ToString(lc.CapacityProviderArn) != arn || aws.ToInt32(lc.PerExecutionEnvironmentMaxConcurrency) != 4 ||
			aws.ToFloat64(lc.ExecutionEnvironmentMemoryGiBPerVCpu) != 4 {
			t.Errorf("CapacityProviderConfig after the update: %+v", lc)
		}
	}
	if aws.ToInt32(cfg.MemorySize) != 2048 {
		t.Errorf("MemorySize %d, want 2048", aws.ToInt32(cfg.MemorySize))
	}
	// The minimum environment restarts with the new configuration: 0.5 vCPU, 4 slots.
	waitFor(t, 30*time.Second, "an environment of the new configuration", func() bool {
		_, ready := liveOf(t, s, "lmi", "")
		return ready == 1
	})
	live, _ := liveOf(t, s, "lmi", "")
	if e := live[0]; e.vcpus != s.VCPUsOf(want) || e.slots != 4 || e.spec.MemoryMB != 2048 {
		t.Errorf("new environment: %g vCPUs, %d slots, %d MB; want %g, 4, 2048", e.vcpus, e.slots, e.spec.MemoryMB, s.VCPUsOf(want))
	}
	if r, _ := parseReport(t, invoke(t, c, "lmi", `{}`).LogResult); r.memorySize != 2048 {
		t.Errorf("invocation after the update: %d MB", r.memorySize)
	}

	tests := []struct {
		name   string
		fn     string
		in     lambda.UpdateFunctionConfigurationInput
		code   string
		detail string
	}{
		{"concurrency 0", "lmi", lambda.UpdateFunctionConfigurationInput{CapacityProviderConfig: lmiInput(arn, 0, 2)}, "InvalidParameterValueException", "greater than or equal to 1"},
		{"concurrency 1601", "lmi", lambda.UpdateFunctionConfigurationInput{CapacityProviderConfig: lmiInput(arn, 1601, 2)}, "InvalidParameterValueException", "less than or equal to 1600"},
		{"ratio 1.5", "lmi", lambda.UpdateFunctionConfigurationInput{CapacityProviderConfig: lmiInput(arn, 8, 1.5)}, "InvalidParameterValueException", "greater than or equal to 2.0"},
		{"ratio 8.5", "lmi", lambda.UpdateFunctionConfigurationInput{CapacityProviderConfig: lmiInput(arn, 8, 8.5)}, "InvalidParameterValueException", "less than or equal to 8.0"},
		{"memory 1024 on LMI", "lmi", lambda.UpdateFunctionConfigurationInput{MemorySize: aws.Int32(1024)}, "InvalidParameterValueException", "2048 MB"},
		{"another capacity provider", "lmi", lambda.UpdateFunctionConfigurationInput{CapacityProviderConfig: lmiInput(arn+"x", 8, 2)}, "InvalidParameterValueException", "not found"},
		{"standard function", "std", lambda.UpdateFunctionConfigurationInput{CapacityProviderConfig: lmiInput(arn, 8, 2)}, "InvalidParameterValueException", "not created with a capacity provider"},
		{"no ARN (the SDK checks)", "lmi", lambda.UpdateFunctionConfigurationInput{CapacityProviderConfig: &types.CapacityProviderConfig{
			LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{}}}, "client", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.FunctionName = aws.String(tt.fn)
			_, err := c.UpdateFunctionConfiguration(ctx, &in)
			var apiErr smithy.APIError
			if got := apiCode(err); got != tt.code || tt.detail != "" && (!errors.As(err, &apiErr) || !strings.Contains(apiErr.ErrorMessage(), tt.detail)) {
				t.Fatalf("%v; want %s mentioning %q", err, tt.code, tt.detail)
			}
		})
	}
	// What the SDKs check on the client, sent as it is: the service checks it too.
	for _, body := range []string{
		`{"CapacityProviderConfig":{"LambdaManagedInstancesCapacityProviderConfig":{"PerExecutionEnvironmentMaxConcurrency":4}}}`,
		`{"CapacityProviderConfig":{}}`,
	} {
		req, _ := http.NewRequest(http.MethodPut, s.InvokeEndpoint()+"/2015-03-31/functions/lmi/configuration", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "InvalidParameterValueException" {
			t.Errorf("%s: %d %s, want 400 InvalidParameterValueException", body, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
		}
	}
	after, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("lmi")})
	if err != nil {
		t.Fatal(err)
	}
	if lc := after.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig; aws.ToInt32(after.MemorySize) != 2048 ||
		aws.ToInt32(lc.PerExecutionEnvironmentMaxConcurrency) != 4 || aws.ToFloat64(lc.ExecutionEnvironmentMemoryGiBPerVCpu) != 4 {
		t.Errorf("refused updates changed the configuration: %d MB, %+v", aws.ToInt32(after.MemorySize), lc)
	}
	if std, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("std")}); err != nil || std.CapacityProviderConfig != nil {
		t.Errorf("standard function after a refused CapacityProviderConfig: %+v, %v", std, err)
	}
}

// A published LMI version is Pending, and refuses invocations, until its minimum environments
// have started; then Active. One whose environment fails its init is Failed. A standard
// function's versions are Active at once.
func TestPublishedLMIVersionStates(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi"), fakeSpec("std")}})
	c := client(s)
	ctx := context.Background()
	gate := filepath.Join(t.TempDir(), "go")
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("lmi"),
		Environment: &types.Environment{Variables: map[string]string{"FAKE_INIT_WAIT_FILE": gate}}}); err != nil {
		t.Fatal(err)
	}
	v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi")})
	if err != nil {
		t.Fatal(err)
	}
	if v.State != types.StatePending || v.StateReasonCode != types.StateReasonCodeCreating || aws.ToString(v.Version) != "1" {
		t.Fatalf("published: version %q, state %q (%q)", aws.ToString(v.Version), v.State, v.StateReasonCode)
	}
	// Its environment waits for the gate: still Pending, and an invocation is refused.
	waitFor(t, 10*time.Second, "the version's environment to start", func() bool {
		live, _ := liveOf(t, s, "lmi", "1")
		return len(live) == 1
	})
	if got := waitState(t, c, "lmi", "1", types.StatePending); aws.ToString(got.StateReason) == "" {
		t.Error("Pending without a StateReason")
	}
	var conflict *types.ResourceConflictException
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("lmi"), Qualifier: aws.String("1"), Payload: []byte(`{}`)}); !errors.As(err, &conflict) {
		t.Fatalf("invoking a Pending version: %v, want ResourceConflictException", err)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := waitState(t, c, "lmi", "1", types.StateActive); got.StateReasonCode != "" || got.StateReason != nil {
		t.Errorf("Active with reason %q (%q)", aws.ToString(got.StateReason), got.StateReasonCode)
	}
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("lmi"), Qualifier: aws.String("1"), Payload: []byte(`{}`)})
	if err != nil || aws.ToString(out.ExecutedVersion) != "1" {
		t.Fatalf("invoking the Active version: %v, executed %q", err, aws.ToString(out.ExecutedVersion))
	}

	// An environment that fails its init fails the version.
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("lmi"),
		Environment: &types.Environment{Variables: map[string]string{"FAKE_INIT": "fail"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi")}); err != nil {
		t.Fatal(err)
	}
	if got := waitState(t, c, "lmi", "2", types.StateFailed); got.StateReasonCode != types.StateReasonCodeFunctionErrorRuntimeInitError {
		t.Errorf("Failed with %q: %s", got.StateReasonCode, aws.ToString(got.StateReason))
	}

	sv, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("std")})
	if err != nil || sv.State != types.StateActive {
		t.Fatalf("standard version: %+v, %v; want Active at once", sv, err)
	}
}

// PublishTo LATEST_PUBLISHED publishes $LATEST as $LATEST.PUBLISHED: once Active it is what the
// function's unqualified invocations (and its API Gateway route) run, and $LATEST's changes reach
// them only at the next such publish. A numbered version runs as itself.
func TestPublishToLatestPublished(t *testing.T) {
	spec := lmiFakeSpec("lmi")
	s := start(t, Config{Functions: []FunctionSpec{spec, fakeSpec("std")},
		Routes: []Route{{Method: "GET", Path: "/lmi", Function: "lmi"}}})
	c := client(s)
	ctx := context.Background()
	memoryOf := func(q string) (int, string) {
		t.Helper()
		in := &lambda.InvokeInput{FunctionName: aws.String("lmi"), Payload: []byte(`{}`), LogType: types.LogTypeTail}
		if q != "" {
			in.Qualifier = aws.String(q)
		}
		out, err := c.Invoke(ctx, in)
		if err != nil {
			t.Fatalf("invoke lmi:%s: %v", q, err)
		}
		r, _ := parseReport(t, out.LogResult)
		return r.memorySize, aws.ToString(out.ExecutedVersion)
	}
	update := func(mb int32) {
		t.Helper()
		if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("lmi"), MemorySize: aws.Int32(mb)}); err != nil {
			t.Fatal(err)
		}
	}
	publish := func() *lambda.PublishVersionOutput {
		t.Helper()
		out, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi"), PublishTo: types.FunctionVersionLatestPublishedLatestPublished})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if mb, v := memoryOf(""); mb != 4096 || v != latestPublished {
		t.Fatalf("before any publish: %d MB, executed %q", mb, v)
	}

	steps := []struct {
		name       string
		memory     int32 // $LATEST's memory set before the step (0: unchanged)
		publish    bool
		wantMemory int // what an unqualified invocation runs after it
	}{
		{"first publish to $LATEST.PUBLISHED", 0, true, 4096},
		{"$LATEST changed, not published", 6144, false, 4096},
		{"published", 0, true, 6144},
		{"changed and published again", 2048, true, 2048},
	}
	var versions []*function // the versions published to $LATEST.PUBLISHED, in order
	for _, st := range steps {
		if st.memory != 0 {
			update(st.memory)
		}
		if st.publish {
			out := publish()
			lp, _, _ := s.lookup("lmi", latestPublished)
			versions = append(versions, lp)
			if aws.ToString(out.Version) != latestPublished || out.State != types.StatePending ||
				aws.ToString(out.FunctionArn) != FunctionARN("lmi")+":"+latestPublished {
				t.Fatalf("%s: published %q (%s), state %q", st.name, aws.ToString(out.Version), aws.ToString(out.FunctionArn), out.State)
			}
			if got := waitState(t, c, "lmi", latestPublished, types.StateActive); aws.ToInt32(got.MemorySize) != int32(st.wantMemory) {
				t.Fatalf("%s: $LATEST.PUBLISHED has %d MB", st.name, aws.ToInt32(got.MemorySize))
			}
		}
		for _, q := range []string{"", latestPublished} {
			if mb, v := memoryOf(q); mb != st.wantMemory || v != latestPublished {
				t.Errorf("%s: invoking lmi:%s runs %d MB (executed %q), want %d MB as $LATEST.PUBLISHED", st.name, q, mb, v, st.wantMemory)
			}
		}
		resp, err := http.Get(s.APIBaseURL() + "lmi")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: the route: %v %v", st.name, resp, err)
		}
		resp.Body.Close()
	}
	// What no longer serves drains: $LATEST's own environments and the former versions.
	waitFor(t, 10*time.Second, "$LATEST's environments to stop", func() bool { return liveEnvironments(s, "lmi") == 0 })
	if len(versions) != 3 {
		t.Fatalf("%d versions published to $LATEST.PUBLISHED, want 3", len(versions))
	}
	for _, f := range versions[:2] {
		if !f.isDraining() {
			t.Errorf("a former $LATEST.PUBLISHED version is not draining")
		}
		waitFor(t, 10*time.Second, "a former version's environments to stop", func() bool {
			f.mu.Lock()
			defer f.mu.Unlock()
			return len(f.envs) == 0
		})
	}
	// Once stopped, they are forgotten (the next scaling round or BusyVCPUs drops them).
	waitFor(t, 10*time.Second, "the former versions to be dropped", func() bool {
		s.allFunctions(true)
		s.registry.mu.Lock()
		defer s.registry.mu.Unlock()
		return len(s.registry.of("lmi").draining) == 0
	})
	for _, f := range s.allFunctions(true) {
		if f == versions[0] || f == versions[1] {
			t.Error("a stopped former version is still walked")
		}
	}

	// A numbered version runs as itself; unqualified invocations stay on $LATEST.PUBLISHED.
	update(8192)
	v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi")})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "lmi", aws.ToString(v.Version), types.StateActive)
	if mb, ev := memoryOf(aws.ToString(v.Version)); mb != 8192 || ev != aws.ToString(v.Version) {
		t.Errorf("numbered version: %d MB, executed %q", mb, ev)
	}
	if mb, ev := memoryOf(""); mb != 2048 || ev != latestPublished {
		t.Errorf("unqualified after a numbered publish: %d MB, executed %q", mb, ev)
	}

	errs := []struct {
		name string
		in   lambda.PublishVersionInput
		code string
	}{
		{"PublishTo outside the enum", lambda.PublishVersionInput{FunctionName: aws.String("lmi"), PublishTo: "EVERYWHERE"}, "ValidationException"},
		{"PublishTo on a standard function", lambda.PublishVersionInput{FunctionName: aws.String("std"), PublishTo: types.FunctionVersionLatestPublishedLatestPublished}, "InvalidParameterValueException"},
		{"unknown function", lambda.PublishVersionInput{FunctionName: aws.String("nope"), PublishTo: types.FunctionVersionLatestPublishedLatestPublished}, "ResourceNotFoundException"},
	}
	for _, tt := range errs {
		if _, err := c.PublishVersion(ctx, &tt.in); apiCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
}

// PutFunctionScalingConfig bounds a version's environments at once and its scaling afterwards;
// GetFunctionScalingConfig reads them back per qualifier; deleting the version stops them.
func TestFunctionScalingConfig(t *testing.T) {
	spec := lmiFakeSpec("lmi")
	spec.MemoryMB = 2048
	spec.MaxConcurrency = 2
	s := start(t, Config{Functions: []FunctionSpec{spec, fakeSpec("std")},
		// Scale in as soon as one environment fewer would do: an unpinned idle version shrinks.
		Scaling: Scaling{Interval: 20 * time.Millisecond, StartDelay: -1, ScaleOutAfter: -1, ScaleInAfter: -1}})
	c := client(s)
	ctx := context.Background()
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi")}); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "lmi", "1", types.StateActive)
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("std")}); err != nil {
		t.Fatal(err)
	}
	put := func(q string, lo, hi *int32) (*lambda.PutFunctionScalingConfigOutput, error) {
		return c.PutFunctionScalingConfig(ctx, &lambda.PutFunctionScalingConfigInput{FunctionName: aws.String("lmi"), Qualifier: aws.String(q),
			FunctionScalingConfig: &types.FunctionScalingConfig{MinExecutionEnvironments: lo, MaxExecutionEnvironments: hi}})
	}
	// decisions waits until the version's scaling decided n more times.
	decisions := func(q string, n int) {
		t.Helper()
		f, _, _ := s.lookup("lmi", q)
		f.mu.Lock()
		last := f.sc.lastAt
		f.mu.Unlock()
		for range n {
			waitFor(t, 10*time.Second, "a scaling decision", func() bool {
				f.mu.Lock()
				defer f.mu.Unlock()
				if f.sc.lastAt.After(last) {
					last = f.sc.lastAt
					return true
				}
				return false
			})
		}
	}

	steps := []struct {
		name     string
		min, max int32
		want     int // environments once settled, and still after scaling decisions
	}{
		{"pinned to 2", 2, 2, 2},
		{"pinned to 3", 3, 3, 3},
		{"pinned to 1: two retired", 1, 1, 1},
		{"pinned to 2 again", 2, 2, 2},
		{"unpinned 1 to 3: idle, scales in to 1", 1, 3, 1},
		{"min = max = 0: none", 0, 0, 0},
	}
	for _, st := range steps {
		out, err := put("1", aws.Int32(st.min), aws.Int32(st.max))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if out.FunctionState != types.StateActive {
			t.Errorf("%s: FunctionState %q", st.name, out.FunctionState)
		}
		got, err := c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String("lmi"), Qualifier: aws.String("1")})
		if err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []*types.FunctionScalingConfig{got.AppliedFunctionScalingConfig, got.RequestedFunctionScalingConfig} {
			if aws.ToInt32(cfg.MinExecutionEnvironments) != st.min || aws.ToInt32(cfg.MaxExecutionEnvironments) != st.max {
				t.Errorf("%s: scaling config %d..%d", st.name, aws.ToInt32(cfg.MinExecutionEnvironments), aws.ToInt32(cfg.MaxExecutionEnvironments))
			}
		}
		if aws.ToString(got.FunctionArn) != FunctionARN("lmi")+":1" {
			t.Errorf("FunctionArn %q", aws.ToString(got.FunctionArn))
		}
		waitFor(t, 30*time.Second, st.name, func() bool {
			live, ready := liveOf(t, s, "lmi", "1")
			return len(live) == st.want && ready == st.want
		})
		decisions("1", 5)
		if live, ready := liveOf(t, s, "lmi", "1"); len(live) != st.want || ready != st.want {
			t.Errorf("%s: %d environments (%d ready) after 5 scaling decisions, want %d", st.name, len(live), ready, st.want)
		}
	}

	// Applied is capped to what the local Lambda runs; Requested is kept.
	if _, err := put("1", aws.Int32(0), aws.Int32(MaxScalingEnvironments)); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String("lmi"), Qualifier: aws.String("1")})
	if err != nil || aws.ToInt32(got.AppliedFunctionScalingConfig.MaxExecutionEnvironments) != MaxVersionEnvironments ||
		aws.ToInt32(got.RequestedFunctionScalingConfig.MaxExecutionEnvironments) != MaxScalingEnvironments {
		t.Errorf("max 15000: %+v %+v, %v", got.AppliedFunctionScalingConfig, got.RequestedFunctionScalingConfig, err)
	}
	// A member left out keeps its value.
	if _, err := put("1", nil, aws.Int32(5)); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String("lmi"), Qualifier: aws.String("1")}); err != nil ||
		aws.ToInt32(got.RequestedFunctionScalingConfig.MinExecutionEnvironments) != 0 || aws.ToInt32(got.RequestedFunctionScalingConfig.MaxExecutionEnvironments) != 5 {
		t.Errorf("after Max only: %+v, %v", got, err)
	}

	// $LATEST.PUBLISHED before any publish to it: $LATEST's own environments.
	if _, err := put(latestPublished, aws.Int32(2), aws.Int32(2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "$LATEST.PUBLISHED pinned to 2", func() bool {
		live, ready := liveOf(t, s, "lmi", latestPublished)
		return len(live) == 2 && ready == 2
	})
	if got, err := c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String("lmi"), Qualifier: aws.String(latestPublished)}); err != nil ||
		aws.ToInt32(got.AppliedFunctionScalingConfig.MinExecutionEnvironments) != 2 || aws.ToString(got.FunctionArn) != FunctionARN("lmi")+":"+latestPublished {
		t.Errorf("$LATEST.PUBLISHED: %+v, %v", got, err)
	}

	errs := []struct {
		name     string
		fn, q    string
		min, max *int32
		code     string
	}{
		{"$LATEST", "lmi", "$LATEST", aws.Int32(1), aws.Int32(1), "InvalidParameterValueException"},
		{"an alias name", "lmi", "live", aws.Int32(1), aws.Int32(1), "InvalidParameterValueException"},
		{"a version that does not exist", "lmi", "99", aws.Int32(1), aws.Int32(1), "ResourceNotFoundException"},
		{"min above max", "lmi", "1", aws.Int32(3), aws.Int32(2), "InvalidParameterValueException"},
		{"max 15001", "lmi", "1", aws.Int32(1), aws.Int32(15001), "InvalidParameterValueException"},
		{"min -1", "lmi", "1", aws.Int32(-1), aws.Int32(1), "InvalidParameterValueException"},
		{"a standard function", "std", "1", aws.Int32(1), aws.Int32(1), "InvalidParameterValueException"},
		{"an unknown function", "nope", "1", aws.Int32(1), aws.Int32(1), "ResourceNotFoundException"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutFunctionScalingConfig(ctx, &lambda.PutFunctionScalingConfigInput{FunctionName: aws.String(tt.fn), Qualifier: aws.String(tt.q),
				FunctionScalingConfig: &types.FunctionScalingConfig{MinExecutionEnvironments: tt.min, MaxExecutionEnvironments: tt.max}})
			if got := apiCode(err); got != tt.code {
				t.Errorf("Put: %v, want %s", err, tt.code)
			}
			if tt.min != nil && *tt.min > *tt.max || *tt.max > MaxScalingEnvironments || *tt.min < 0 {
				return // a Get has no values to refuse
			}
			_, err = c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String(tt.fn), Qualifier: aws.String(tt.q)})
			if got := apiCode(err); got != tt.code {
				t.Errorf("Get: %v, want %s", err, tt.code)
			}
		})
	}
	// The Qualifier is required: the SDK checks it, and so does the service.
	if _, err := c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String("lmi")}); apiCode(err) != "client" {
		t.Errorf("Get without Qualifier: %v, want the SDK's parameter error", err)
	}
	resp, err := http.Get(s.InvokeEndpoint() + "/2025-11-30/functions/lmi/function-scaling-config")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "InvalidParameterValueException" {
		t.Errorf("Get without Qualifier over HTTP: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}

	// Deleting the version stops its environments and forgets its scaling config.
	if _, err := put("1", aws.Int32(2), aws.Int32(2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "version 1 pinned to 2", func() bool { live, _ := liveOf(t, s, "lmi", "1"); return len(live) == 2 })
	vf, _, _ := s.lookup("lmi", "1")
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("lmi"), Qualifier: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	vf.mu.Lock()
	n := len(vf.envs)
	vf.mu.Unlock()
	if n != 0 {
		t.Errorf("%d environments of the deleted version", n)
	}
	for _, f := range s.allFunctions(true) {
		if f == vf {
			t.Error("the deleted version is still scaled")
		}
	}
	if _, err := c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String("lmi"), Qualifier: aws.String("1")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("scaling config of a deleted version: %v", err)
	}
}

// While a version published to $LATEST.PUBLISHED is Pending, the one before keeps serving; one
// replaced by a newer publish before it was Active never serves, and stops.
func TestLatestPublishedServesOnlyOnceActive(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi")}})
	c := client(s)
	ctx := context.Background()
	publish := func(memory int32, env map[string]string, want types.State) *function {
		t.Helper()
		if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("lmi"),
			MemorySize: aws.Int32(memory), Environment: &types.Environment{Variables: env}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("lmi"), PublishTo: types.FunctionVersionLatestPublishedLatestPublished}); err != nil {
			t.Fatal(err)
		}
		if got := waitState(t, c, "lmi", latestPublished, want); aws.ToInt32(got.MemorySize) != memory {
			t.Fatalf("$LATEST.PUBLISHED has %d MB, want %d", aws.ToInt32(got.MemorySize), memory)
		}
		f, _, _ := s.lookup("lmi", latestPublished)
		return f
	}
	serving := func() *function {
		f, _, version, ok := s.resolve("lmi", "", true)
		if !ok || version != latestPublished {
			t.Fatalf("unqualified invocations run %q", version)
		}
		return f
	}

	// Blocked in its init (the gate never opens): Pending, and $LATEST's own environments serve.
	first := publish(2048, map[string]string{"FAKE_INIT_WAIT_FILE": filepath.Join(t.TempDir(), "never")}, types.StatePending)
	if f := serving(); f != s.functions["lmi"] {
		t.Fatalf("a Pending $LATEST.PUBLISHED serves unqualified invocations")
	}
	// A newer one replaces it, becomes Active and serves.
	second := publish(6144, map[string]string{}, types.StateActive)
	if f := serving(); f != second {
		t.Fatalf("the Active $LATEST.PUBLISHED does not serve unqualified invocations")
	}
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("lmi"), Payload: []byte(`{}`), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := parseReport(t, out.LogResult); r.memorySize != 6144 || aws.ToString(out.ExecutedVersion) != latestPublished {
		t.Errorf("unqualified invocation: %d MB, executed %q", r.memorySize, aws.ToString(out.ExecutedVersion))
	}
	// The replaced one stops, never Active.
	waitFor(t, 10*time.Second, "the replaced version's environment to stop", func() bool {
		first.mu.Lock()
		defer first.mu.Unlock()
		return len(first.envs) == 0
	})
	if !first.isDraining() || first.currentState() == stateActive {
		t.Errorf("the replaced version: draining %v, state %s", first.isDraining(), first.currentState())
	}
}

func TestGetCapacityProvider(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{lmiFakeSpec("lmi")}})
	c := client(s)
	ctx := context.Background()
	for _, name := range []string{CapacityProviderName, CapacityProviderARN()} {
		out, err := c.GetCapacityProvider(ctx, &lambda.GetCapacityProviderInput{CapacityProviderName: aws.String(name)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cp := out.CapacityProvider
		if aws.ToString(cp.CapacityProviderArn) != CapacityProviderARN() || cp.State != types.CapacityProviderStateActive ||
			cp.InstanceRequirements == nil || len(cp.InstanceRequirements.Architectures) != 1 || string(cp.InstanceRequirements.Architectures[0]) != HostArchitecture() {
			t.Errorf("%s: %+v", name, cp)
		}
	}
	_, err := c.GetCapacityProvider(ctx, &lambda.GetCapacityProviderInput{CapacityProviderName: aws.String("other")})
	if code := apiCode(err); code != "ResourceNotFoundException" {
		t.Errorf("unknown provider: %v (%s), want ResourceNotFoundException", err, code)
	}
}
