package locallambda

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

func bcryptSpec(binary string) FunctionSpec {
	return FunctionSpec{Name: "bcrypt-1536", Binary: binary, Handler: "bcrypt", MemoryMB: 1536,
		Timeout: 10 * time.Second, Env: map[string]string{"WORKER_COUNT": "1"}}
}

func TestColdThenWarmInvokeWithReport(t *testing.T) {
	bin := needFunction(t)
	s := start(t, Config{Functions: []FunctionSpec{bcryptSpec(bin)}})
	c := client(s)

	var reports []report
	for i := range 2 {
		out := invoke(t, c, "bcrypt-1536", `{"count":2,"mode":"parallel","cost":4}`)
		if out.FunctionError != nil {
			t.Fatalf("invoke %d: function error %s: %s", i, *out.FunctionError, out.Payload)
		}
		if out.StatusCode != 200 || aws.ToString(out.ExecutedVersion) != "$LATEST" {
			t.Errorf("invoke %d: status %d, version %q", i, out.StatusCode, aws.ToString(out.ExecutedVersion))
		}
		var resp struct {
			Processed int    `json:"processed"`
			Workers   int    `json:"workers"`
			Cost      int    `json:"cost"`
			Mode      string `json:"mode"`
		}
		if err := json.Unmarshal(out.Payload, &resp); err != nil || resp.Processed != 2 || resp.Workers != 1 || resp.Cost != 4 {
			t.Errorf("invoke %d: response %s (%v)", i, out.Payload, err)
		}
		r, log := parseReport(t, out.LogResult)
		if !strings.HasPrefix(log, "START RequestId: ") || !strings.Contains(log, "\nEND RequestId: ") {
			t.Errorf("invoke %d: log lacks START/END:\n%s", i, log)
		}
		reports = append(reports, r)
	}
	cold, warm := reports[0], reports[1]
	t.Logf("cold: %s", cold.line)
	t.Logf("warm: %s", warm.line)
	if !cold.hasInit || cold.init <= 0 {
		t.Errorf("cold REPORT has no Init Duration: %s", cold.line)
	}
	if warm.hasInit {
		t.Errorf("warm REPORT has an Init Duration: %s", warm.line)
	}
	for _, r := range reports {
		if r.memorySize != 1536 || r.maxMemory <= 0 || r.duration <= 0 {
			t.Errorf("REPORT fields: %s", r.line)
		}
	}
	if want := math.Ceil(cold.duration + cold.init); math.Abs(cold.billed-want) > 1 {
		t.Errorf("cold billed %v, want ceil(duration+init) = %v", cold.billed, want)
	}
	if want := math.Ceil(warm.duration); math.Abs(warm.billed-want) > 1 {
		t.Errorf("warm billed %v, want ceil(duration) = %v", warm.billed, want)
	}
	if n := liveEnvironments(s, "bcrypt-1536"); n != 1 {
		t.Errorf("%d environments after two sequential invokes, want 1", n)
	}
}

func TestFunctionErrorAndUnknownFunction(t *testing.T) {
	bin := needFunction(t)
	s := start(t, Config{Functions: []FunctionSpec{bcryptSpec(bin)}})
	c := client(s)

	out := invoke(t, c, "bcrypt-1536", `{"count":0,"mode":"parallel"}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "count must be greater than 0") {
		t.Errorf("function error: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}
	// The environment survives a function error.
	if out := invoke(t, c, "bcrypt-1536", `{"count":1,"mode":"parallel","cost":4}`); out.FunctionError != nil {
		t.Errorf("after a function error: %s", out.Payload)
	}
	if n := liveEnvironments(s, "bcrypt-1536"); n != 1 {
		t.Errorf("%d environments, want 1", n)
	}

	_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown function: %v, want ResourceNotFoundException", err)
	}
	_, err = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("bcrypt-1536"), Qualifier: aws.String("7")})
	if !errors.As(err, &nf) {
		t.Errorf("unknown version: %v, want ResourceNotFoundException", err)
	}
	_, err = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("bcrypt-1536"), Payload: []byte("{not json")})
	var bad *types.InvalidRequestContentException
	if !errors.As(err, &bad) {
		t.Errorf("invalid JSON: %v, want InvalidRequestContentException", err)
	}
	// By ARN.
	if out := invoke(t, c, FunctionARN("bcrypt-1536"), `{"count":1,"mode":"sequential","cost":4}`); out.FunctionError != nil {
		t.Errorf("by ARN: %s", out.Payload)
	}
}

// helloEvent is an API Gateway proxy event for the hello handler, invoked directly.
func helloEvent(delayMS int) string {
	return `{"httpMethod":"GET","path":"/hello","queryStringParameters":{"delay_ms":"` + itoa(delayMS) + `"}}`
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestThrottleAndScaleOut(t *testing.T) {
	bin := needFunction(t)
	spec := FunctionSpec{Name: "hello", Binary: bin, Handler: "hello", MemoryMB: 128, Timeout: 5 * time.Second, ReservedConcurrency: 3}
	s := start(t, Config{Functions: []FunctionSpec{spec}})
	c := client(s)

	// Three at once: three environments, all cold; a fourth meanwhile is throttled.
	var wg sync.WaitGroup
	outs := make([]*lambda.InvokeOutput, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = invoke(t, c, "hello", helloEvent(600))
		}()
	}
	waitFor(t, 3*time.Second, "three environments", func() bool { return liveEnvironments(s, "hello") == 3 })
	_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("hello"), Payload: []byte(helloEvent(0))})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
		t.Errorf("fourth invoke: %v, want TooManyRequestsException (ReservedFunctionConcurrentInvocationLimitExceeded)", err)
	}
	wg.Wait()
	for i, out := range outs {
		if out == nil {
			continue
		}
		r, _ := parseReport(t, out.LogResult)
		if !r.hasInit {
			t.Errorf("invoke %d of the scale-out was not a cold start: %s", i, r.line)
		}
	}
	peak := 0
	throttles := 0
	time.Sleep(2 * s.cfg.SampleInterval)
	for _, smp := range s.Timeline("hello") {
		peak = max(peak, smp.PeakEnvironments)
		throttles += smp.Throttles
	}
	if peak != 3 || throttles != 1 {
		t.Errorf("timeline: peak environments %d, throttles %d; want 3 and 1", peak, throttles)
	}
}

func TestUpdateFunctionConfigurationForcesColdStart(t *testing.T) {
	bin := needFunction(t)
	s := start(t, Config{Functions: []FunctionSpec{bcryptSpec(bin)}})
	c := client(s)
	ctx := context.Background()
	const ev = `{"count":1,"mode":"parallel","cost":4}`

	invoke(t, c, "bcrypt-1536", ev)
	if r, _ := parseReport(t, invoke(t, c, "bcrypt-1536", ev).LogResult); r.hasInit {
		t.Fatalf("second invoke was cold: %s", r.line)
	}
	_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("bcrypt-1536"),
		Environment:  &types.Environment{Variables: map[string]string{"WORKER_COUNT": "1", "COLD": "1"}},
	})
	if err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}
	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("bcrypt-1536")}, 5*time.Second); err != nil {
		t.Fatalf("wait for the update: %v", err)
	}
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("bcrypt-1536")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LastUpdateStatus != types.LastUpdateStatusSuccessful || cfg.Environment.Variables["COLD"] != "1" {
		t.Errorf("configuration after update: %v %v", cfg.LastUpdateStatus, cfg.Environment.Variables)
	}
	if r, _ := parseReport(t, invoke(t, c, "bcrypt-1536", ev).LogResult); !r.hasInit {
		t.Errorf("invoke after the update was warm: %s", r.line)
	}
	// Out-of-range values are refused as the Lambda API refuses them (validation, before the
	// function is looked at); validation_test.go has the table.
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("bcrypt-1536"), MemorySize: aws.Int32(64)})
	var bad smithy.APIError
	if !errors.As(err, &bad) || bad.ErrorCode() != "ValidationException" {
		t.Errorf("MemorySize 64: %v, want ValidationException", err)
	}
	waitFor(t, 2*time.Second, "the old environment to stop", func() bool { return liveEnvironments(s, "bcrypt-1536") == 1 })
}

func TestInitFailure(t *testing.T) {
	bin := needFunction(t)
	spec := FunctionSpec{Name: "bad-handler", Binary: bin, Handler: "nope", MemoryMB: 256}
	s := start(t, Config{Functions: []FunctionSpec{spec}})
	out := invoke(t, client(s), "bad-handler", `{}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "nope") {
		t.Errorf("init failure: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}
	t.Logf("init failure payload: %s", out.Payload)
	waitFor(t, 2*time.Second, "the failed environment to go", func() bool { return liveEnvironments(s, "bad-handler") == 0 })
}

// The real function is deadline-aware (hello refuses a delay it cannot finish, bcrypt stops between
// items), so a Lambda timeout needs an item still running at the deadline: cost-14 bcrypt hashes
// take about 1 s of CPU each (3.3 s at the 0.29 vCPU of 512 MB), against a 1 s timeout.
func TestTimeoutReplacesEnvironment(t *testing.T) {
	bin := needFunction(t)
	spec := bcryptSpec(bin)
	spec.Timeout = time.Second
	spec.MemoryMB = 512
	s := start(t, Config{Functions: []FunctionSpec{spec}})
	c := client(s)
	began := time.Now()
	out := invoke(t, c, spec.Name, `{"count":3,"mode":"sequential","cost":14}`)
	took := time.Since(began)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "Task timed out after 1.00 seconds") {
		t.Fatalf("timeout: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}
	if took > 2500*time.Millisecond {
		t.Errorf("timed-out invoke took %v", took)
	}
	r, log := parseReport(t, out.LogResult)
	if r.status != "timeout" || !strings.Contains(log, "Task timed out after 1.00 seconds") || r.duration != 1000 {
		t.Errorf("timeout log:\n%s", log)
	}
	if r2, _ := parseReport(t, invoke(t, c, spec.Name, `{"count":1,"mode":"sequential","cost":4}`).LogResult); !r2.hasInit {
		t.Errorf("invoke after a timeout was warm: %s", r2.line)
	}
	waitFor(t, 2*time.Second, "the timed-out environment to go", func() bool { return liveEnvironments(s, spec.Name) == 1 })

	// The hello handler answers a delay past its deadline itself (a 504 proxy response): that is
	// the function's answer, passed through, not a Lambda timeout.
	hs := FunctionSpec{Name: "hello-1s", Binary: bin, Handler: "hello", MemoryMB: 512, Timeout: time.Second}
	s2 := start(t, Config{Functions: []FunctionSpec{hs}})
	out = invoke(t, client(s2), "hello-1s", helloEvent(3000))
	if out.FunctionError != nil || !strings.Contains(string(out.Payload), `"statusCode":504`) {
		t.Errorf("hello past its deadline: %s", out.Payload)
	}
}

func TestGetAndListFunctions(t *testing.T) {
	specs := MatrixPreset(fakeBinary, "arm64")
	hello, routes := HelloPreset(fakeBinary)
	s := start(t, Config{Functions: append(specs, hello...), Routes: routes, LazyLMIEnvironments: true})
	c := client(s)
	ctx := context.Background()

	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("go-bench-arm64-3vcpu-4096mb")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(cfg.MemorySize) != 4096 || len(cfg.Architectures) != 1 || cfg.Architectures[0] != types.ArchitectureArm64 ||
		cfg.Environment.Variables["WORKER_COUNT"] != "3" || aws.ToInt32(cfg.Timeout) != 30 || aws.ToString(cfg.Handler) != "bcrypt" ||
		cfg.Runtime != types.RuntimeProvidedal2023 || cfg.State != types.StateActive || cfg.LastUpdateStatus != types.LastUpdateStatusSuccessful {
		t.Errorf("configuration: %+v", cfg)
	}
	lmi, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("go-bench-hello-lmi-2048")})
	if err != nil {
		t.Fatal(err)
	}
	if lmi.CapacityProviderConfig == nil ||
		aws.ToInt32(lmi.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency) != 64 {
		t.Errorf("LMI configuration: %+v", lmi.CapacityProviderConfig)
	}

	var names []string
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(4)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
	}
	if len(names) != 9 {
		t.Errorf("ListFunctions: %d functions %v, want 9", len(names), names)
	}

	out := s.StackOutputs()
	for _, k := range []string{"Arm64Mem1536FunctionName", "Arm64Mem10240FunctionArn", "ApiUrl", "Default128Url",
		"Default2048Url", "Lmi2048Url", "Default128FunctionName", "Default2048FunctionName", "Lmi2048FunctionName",
		"CapacityProviderArn", "CapacityProviderName"} {
		if out[k] == "" {
			t.Errorf("stack output %s missing: %v", k, out)
		}
	}
	if out["Arm64Mem6144FunctionName"] != "go-bench-arm64-4vcpu-6144mb" || !strings.HasSuffix(out["ApiUrl"], "/prod/") ||
		out["Lmi2048Url"] != out["ApiUrl"]+"lmi/2048/hello" {
		t.Errorf("stack outputs: %v", out)
	}
}

func TestInvocationTypesAndConcurrency(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{fakeSpec("fake")}})
	c := client(s)
	ctx := context.Background()
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fake"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != 204 {
		t.Errorf("DryRun: %v %v", out, err)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fake"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{}`)})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("Event: %v %v", out, err)
	}
	waitFor(t, 3*time.Second, "the event to run", func() bool {
		n := 0
		for _, smp := range s.Timeline("fake") {
			n += smp.Invocations
		}
		return n == 1
	})
	conc, err := c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String("fake")})
	if err != nil || aws.ToInt32(conc.ReservedConcurrentExecutions) != DefaultReservedConcurrency {
		t.Errorf("GetFunctionConcurrency: %v %v", conc, err)
	}
}
