package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/locallambda"
)

// boto3Script calls the Lambda API through boto3 against $ENDPOINT: the cases on stdin in order,
// each {name, op, params}, op a boto3 method name or wait_active (GetFunctionConfiguration until
// the State is no longer Pending). It prints one record per case: outcome "ok" (with the HTTP
// status and the response), "param" (botocore's client-side ParamValidationError) or the service
// error's code (a ClientError, with its HTTP status and message).
const boto3Script = `
import json, os, sys, time
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

def plain(v):
    if hasattr(v, "read"):
        return v.read().decode("utf-8", "replace")
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v

c = boto3.client("lambda", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                 aws_access_key_id="local", aws_secret_access_key="local",
                 config=Config(retries={"max_attempts": 1, "mode": "standard"}))
out = []
for case in json.load(sys.stdin):
    rec = {"name": case["name"]}
    try:
        if case["op"] == "wait_active":
            deadline = time.time() + 60
            while True:
                r = c.get_function_configuration(**case["params"])
                if r.get("State") != "Pending" or time.time() > deadline:
                    break
                time.sleep(0.05)
        else:
            r = getattr(c, case["op"])(**case["params"])
        rec.update(outcome="ok", status=r["ResponseMetadata"]["HTTPStatusCode"], response=plain(r))
    except ParamValidationError as e:
        rec.update(outcome="param", message=str(e))
    except ClientError as e:
        rec.update(outcome=e.response["Error"]["Code"], status=e.response["ResponseMetadata"]["HTTPStatusCode"],
                   message=e.response["Error"].get("Message", ""))
    out.append(rec)
json.dump(out, sys.stdout, default=str)
`

// boto3Python finds a Python with boto3: python3.11 or python3 on PATH, else pyenv's shims (a
// non-interactive shell, as CI runs, does not put them on PATH).
func boto3Python() (string, error) {
	var candidates []string
	for _, name := range []string{"python3.11", "python3"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		for _, name := range []string{"python3.11", "python3"} {
			candidates = append(candidates, filepath.Join(home, ".pyenv", "shims", name))
		}
	}
	for _, p := range candidates {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := exec.CommandContext(ctx, p, "-c", "import boto3, botocore").Run()
		cancel()
		if err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Python with boto3 (tried %s): pip install boto3", strings.Join(candidates, ", "))
}

// boto3Case is one call of the boto3 test and what must come of it.
type boto3Case struct {
	Name   string         `json:"name"`
	Op     string         `json:"op"`
	Params map[string]any `json:"params"`
	want   string         // "ok", "param" (ParamValidationError) or the service's error code
	status int            // the HTTP status wanted (0: not checked)
	check  func(r map[string]any) string
}

// field walks r along keys ("" when absent).
func field(r map[string]any, keys ...string) any {
	var v any = r
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	return v
}

// expect checks fields of a response: each path (dot-separated) against its value.
func expect(fields map[string]any) func(r map[string]any) string {
	return func(r map[string]any) string {
		var bad []string
		for path, want := range fields {
			got := field(r, strings.Split(path, ".")...)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				bad = append(bad, fmt.Sprintf("%s = %v, want %v", path, got, want))
			}
		}
		return strings.Join(bad, "; ")
	}
}

// TestBoto3LMIAPI runs bench serve with the hello preset and calls what an LMI tuning sweep calls
// through boto3: UpdateFunctionConfiguration with CapacityProviderConfig, PublishVersion with and
// without PublishTo, Put/GetFunctionScalingConfig, DeleteFunction of a version. Valid calls come
// back in the shapes the model documents; invalid ones fail as the botocore model allows: botocore
// refuses on the client what it checks (types, required members, minimums: it checks "min" but not
// "max", patterns or enums), and the rest comes back as the service's error code.
func TestBoto3LMIAPI(t *testing.T) {
	python, err := boto3Python()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-o", bin, "./internal/locallambda/testdata/fakeruntime")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the test runtime: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(testContext(t, 5*time.Minute))
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--binary", bin, "--functions", "hello", "--invoke-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0", "--quiet"}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var endpoint string
	deadline := time.Now().Add(30 * time.Second)
	for endpoint == "" {
		if m := regexp.MustCompile(`Invoke API +(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(stdout.String()); m != nil && strings.Contains(stdout.String(), "Ctrl+C stops everything.") {
			endpoint = m[1]
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve ended early: %v\n%s%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	const lmi, std = "go-bench-hello-lmi-2048", "go-bench-hello-128"
	arn := locallambda.CapacityProviderARN()
	fnARN := locallambda.FunctionARN(lmi)
	cp := func(members map[string]any) map[string]any {
		return map[string]any{"LambdaManagedInstancesCapacityProviderConfig": members}
	}
	cpOf := func(conc any, ratio any) map[string]any {
		return cp(map[string]any{"CapacityProviderArn": arn, "PerExecutionEnvironmentMaxConcurrency": conc, "ExecutionEnvironmentMemoryGiBPerVCpu": ratio})
	}
	const lc = "CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig."
	scaling := func(q string, lo, hi any) map[string]any {
		return map[string]any{"FunctionName": lmi, "Qualifier": q, "FunctionScalingConfig": map[string]any{"MinExecutionEnvironments": lo, "MaxExecutionEnvironments": hi}}
	}
	const ipve = "InvalidParameterValueException"
	cases := []boto3Case{
		{Name: "update the capacity provider config", Op: "update_function_configuration",
			Params: map[string]any{"FunctionName": lmi, "MemorySize": 4096, "CapacityProviderConfig": cpOf(32, 4.0)}, want: "ok", status: 200,
			check: expect(map[string]any{"MemorySize": 4096, lc + "PerExecutionEnvironmentMaxConcurrency": 32, lc + "ExecutionEnvironmentMemoryGiBPerVCpu": 4, lc + "CapacityProviderArn": arn})},
		{Name: "read it back", Op: "get_function_configuration", Params: map[string]any{"FunctionName": lmi}, want: "ok",
			check: expect(map[string]any{"MemorySize": 4096, lc + "PerExecutionEnvironmentMaxConcurrency": 32, lc + "ExecutionEnvironmentMemoryGiBPerVCpu": 4, "State": "Active", "LastUpdateStatus": "Successful"})},
		{Name: "concurrency 0: below the model's min", Op: "update_function_configuration", Params: map[string]any{"FunctionName": lmi, "CapacityProviderConfig": cpOf(0, 2.0)}, want: "param"},
		{Name: "concurrency 1601: above the max botocore does not check", Op: "update_function_configuration", Params: map[string]any{"FunctionName": lmi, "CapacityProviderConfig": cpOf(1601, 2.0)}, want: ipve, status: 400},
		{Name: "ratio 1.0: below the min", Op: "update_function_configuration", Params: map[string]any{"FunctionName": lmi, "CapacityProviderConfig": cpOf(8, 1.0)}, want: "param"},
		{Name: "ratio 9.0: above the max", Op: "update_function_configuration", Params: map[string]any{"FunctionName": lmi, "CapacityProviderConfig": cpOf(8, 9.0)}, want: ipve, status: 400},
		{Name: "concurrency as a string: a wrong type", Op: "update_function_configuration", Params: map[string]any{"FunctionName": lmi, "CapacityProviderConfig": cpOf("8", 2.0)}, want: "param"},
		{Name: "no CapacityProviderArn: a required member", Op: "update_function_configuration",
			Params: map[string]any{"FunctionName": lmi, "CapacityProviderConfig": cp(map[string]any{"PerExecutionEnvironmentMaxConcurrency": 8})}, want: "param"},
		{Name: "memory 1024 on an LMI function", Op: "update_function_configuration", Params: map[string]any{"FunctionName": lmi, "MemorySize": 1024}, want: ipve, status: 400},
		{Name: "a capacity provider config on a standard function", Op: "update_function_configuration", Params: map[string]any{"FunctionName": std, "CapacityProviderConfig": cpOf(8, 2.0)}, want: ipve},
		{Name: "unchanged by the refused updates", Op: "get_function_configuration", Params: map[string]any{"FunctionName": lmi}, want: "ok",
			check: expect(map[string]any{"MemorySize": 4096, lc + "PerExecutionEnvironmentMaxConcurrency": 32, lc + "ExecutionEnvironmentMemoryGiBPerVCpu": 4})},

		{Name: "publish to $LATEST.PUBLISHED", Op: "publish_version", Params: map[string]any{"FunctionName": lmi, "PublishTo": "LATEST_PUBLISHED"}, want: "ok", status: 201,
			check: expect(map[string]any{"Version": "$LATEST.PUBLISHED", "FunctionArn": fnARN + ":$LATEST.PUBLISHED", "State": "Pending", "StateReasonCode": "Creating", "MemorySize": 4096})},
		{Name: "$LATEST.PUBLISHED becomes Active", Op: "wait_active", Params: map[string]any{"FunctionName": lmi, "Qualifier": "$LATEST.PUBLISHED"}, want: "ok",
			check: expect(map[string]any{"State": "Active", "Version": "$LATEST.PUBLISHED", lc + "PerExecutionEnvironmentMaxConcurrency": 32})},
		{Name: "an unqualified invocation runs it", Op: "invoke", Params: map[string]any{"FunctionName": lmi, "Payload": `{"x":1}`}, want: "ok", status: 200,
			check: expect(map[string]any{"ExecutedVersion": "$LATEST.PUBLISHED", "Payload": `{"x":1}`})},
		{Name: "PublishTo outside its enum (not checked by botocore)", Op: "publish_version", Params: map[string]any{"FunctionName": lmi, "PublishTo": "SOMEWHERE"}, want: "ValidationException", status: 400},
		{Name: "PublishTo on a standard function", Op: "publish_version", Params: map[string]any{"FunctionName": std, "PublishTo": "LATEST_PUBLISHED"}, want: ipve, status: 400},
		{Name: "publish a numbered version", Op: "publish_version", Params: map[string]any{"FunctionName": lmi}, want: "ok", status: 201,
			check: expect(map[string]any{"Version": "1", "FunctionArn": fnARN + ":1", "State": "Pending"})},
		{Name: "version 1 becomes Active", Op: "wait_active", Params: map[string]any{"FunctionName": lmi, "Qualifier": "1"}, want: "ok", check: expect(map[string]any{"State": "Active"})},
		{Name: "invoke version 1", Op: "invoke", Params: map[string]any{"FunctionName": lmi, "Qualifier": "1", "Payload": `{}`}, want: "ok", check: expect(map[string]any{"ExecutedVersion": "1"})},

		{Name: "pin version 1 to 2 environments", Op: "put_function_scaling_config", Params: scaling("1", 2, 2), want: "ok", status: 202, check: expect(map[string]any{"FunctionState": "Active"})},
		{Name: "read version 1's scaling config", Op: "get_function_scaling_config", Params: map[string]any{"FunctionName": lmi, "Qualifier": "1"}, want: "ok", status: 200,
			check: expect(map[string]any{"FunctionArn": fnARN + ":1", "AppliedFunctionScalingConfig.MinExecutionEnvironments": 2, "AppliedFunctionScalingConfig.MaxExecutionEnvironments": 2,
				"RequestedFunctionScalingConfig.MinExecutionEnvironments": 2, "RequestedFunctionScalingConfig.MaxExecutionEnvironments": 2})},
		{Name: "min -1: below the min", Op: "put_function_scaling_config", Params: scaling("1", -1, 2), want: "param"},
		{Name: "max 15001: above the max", Op: "put_function_scaling_config", Params: scaling("1", 1, 15001), want: ipve, status: 400},
		{Name: "min above max", Op: "put_function_scaling_config", Params: scaling("1", 3, 2), want: ipve, status: 400},
		{Name: "qualifier $LATEST: outside the pattern botocore does not check", Op: "put_function_scaling_config", Params: scaling("$LATEST", 1, 1), want: ipve, status: 400},
		{Name: "an empty qualifier: below its min length", Op: "put_function_scaling_config", Params: scaling("", 1, 1), want: "param"},
		{Name: "no qualifier: a required member", Op: "get_function_scaling_config", Params: map[string]any{"FunctionName": lmi}, want: "param"},
		{Name: "a version that does not exist", Op: "get_function_scaling_config", Params: map[string]any{"FunctionName": lmi, "Qualifier": "99"}, want: "ResourceNotFoundException", status: 404},
		{Name: "a standard function", Op: "get_function_scaling_config", Params: map[string]any{"FunctionName": std, "Qualifier": "$LATEST.PUBLISHED"}, want: ipve, status: 400},
		{Name: "scale $LATEST.PUBLISHED", Op: "put_function_scaling_config", Params: scaling("$LATEST.PUBLISHED", 1, 2), want: "ok", status: 202},
		{Name: "read $LATEST.PUBLISHED's", Op: "get_function_scaling_config", Params: map[string]any{"FunctionName": lmi, "Qualifier": "$LATEST.PUBLISHED"}, want: "ok",
			check: expect(map[string]any{"FunctionArn": fnARN + ":$LATEST.PUBLISHED", "AppliedFunctionScalingConfig.MinExecutionEnvironments": 1, "AppliedFunctionScalingConfig.MaxExecutionEnvironments": 2})},
		{Name: "version 1's is its own", Op: "get_function_scaling_config", Params: map[string]any{"FunctionName": lmi, "Qualifier": "1"}, want: "ok",
			check: expect(map[string]any{"AppliedFunctionScalingConfig.MinExecutionEnvironments": 2})},

		{Name: "delete version 1", Op: "delete_function", Params: map[string]any{"FunctionName": lmi, "Qualifier": "1"}, want: "ok", status: 204},
		{Name: "its scaling config is gone", Op: "get_function_scaling_config", Params: map[string]any{"FunctionName": lmi, "Qualifier": "1"}, want: "ResourceNotFoundException"},
		{Name: "and the version", Op: "get_function_configuration", Params: map[string]any{"FunctionName": lmi, "Qualifier": "1"}, want: "ResourceNotFoundException"},

		{Name: "read the capacity provider", Op: "get_capacity_provider", Params: map[string]any{"CapacityProviderName": locallambda.CapacityProviderName}, want: "ok", status: 200,
			check: expect(map[string]any{"CapacityProvider.CapacityProviderArn": arn, "CapacityProvider.State": "Active"})},
		{Name: "an unknown capacity provider", Op: "get_capacity_provider", Params: map[string]any{"CapacityProviderName": "other"}, want: "ResourceNotFoundException", status: 404},
		{Name: "no capacity provider name: a required member", Op: "get_capacity_provider", Params: map[string]any{}, want: "param"},
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 3*time.Minute)
	defer pcancel()
	cmd := exec.CommandContext(pctx, python, "-c", boto3Script)
	cmd.Stdin = bytes.NewReader(in)
	// No profile, credentials or endpoint of this machine's: no AWS_ variable passes.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "ENDPOINT="+endpoint, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var pyErr bytes.Buffer
	cmd.Stderr = &pyErr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the boto3 script: %v\n%s", err, pyErr.String())
	}
	var records []struct {
		Name     string         `json:"name"`
		Outcome  string         `json:"outcome"`
		Status   int            `json:"status"`
		Message  string         `json:"message"`
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(out, &records); err != nil {
		t.Fatalf("the boto3 script's output: %v\n%s", err, out)
	}
	if len(records) != len(cases) {
		t.Fatalf("%d records for %d cases", len(records), len(cases))
	}
	for i, tt := range cases {
		r := records[i]
		t.Run(tt.Name, func(t *testing.T) {
			if r.Outcome != tt.want {
				t.Fatalf("%s: outcome %q (%s), want %q", tt.Op, r.Outcome, r.Message, tt.want)
			}
			if tt.status != 0 && r.Status != tt.status {
				t.Errorf("HTTP %d, want %d", r.Status, tt.status)
			}
			if tt.want == "param" && !strings.Contains(r.Message, "Parameter validation failed") {
				t.Errorf("not botocore's parameter validation: %s", r.Message)
			}
			if tt.check != nil {
				if bad := tt.check(r.Response); bad != "" {
					t.Errorf("%s: %s", tt.Op, bad)
				}
			}
		})
	}
}
