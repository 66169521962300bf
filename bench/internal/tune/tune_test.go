package tune

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// fakeAPI answers GetFunction and ListProvisionedConcurrencyConfigs; every
// other call fails the test.
type fakeAPI struct {
	API
	cfg    *types.FunctionConfiguration
	getErr error
	pc     []types.ProvisionedConcurrencyConfigListItem
}

func (f *fakeAPI) GetFunction(context.Context, *lambda.GetFunctionInput, ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	if f.getErr != nil {
		return nil, f.getErr
	}
	return &lambda.GetFunctionOutput{Configuration: f.cfg}, nil
}

func (f *fakeAPI) ListProvisionedConcurrencyConfigs(context.Context, *lambda.ListProvisionedConcurrencyConfigsInput, ...func(*lambda.Options)) (*lambda.ListProvisionedConcurrencyConfigsOutput, error) {
	return &lambda.ListProvisionedConcurrencyConfigsOutput{ProvisionedConcurrencyConfigs: f.pc}, nil
}

func TestInspect(t *testing.T) {
	base := func() *types.FunctionConfiguration {
		return &types.FunctionConfiguration{FunctionName: aws.String("f"), MemorySize: aws.Int32(512),
			Architectures: []types.Architecture{types.ArchitectureArm64}, Environment: &types.EnvironmentResponse{Variables: map[string]string{"A": "1"}}}
	}
	lmi := base()
	lmi.CapacityProviderConfig = &types.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{
		CapacityProviderArn: aws.String("arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp"), ExecutionEnvironmentMemoryGiBPerVCpu: aws.Float64(2),
		PerExecutionEnvironmentMaxConcurrency: aws.Int32(16)}}
	snap := base()
	snap.SnapStart = &types.SnapStartResponse{ApplyOn: types.SnapStartApplyOnPublishedVersions}
	tests := []struct {
		name    string
		api     *fakeAPI
		want    string
		wantErr any
	}{
		{"ok", &fakeAPI{cfg: base()}, "", nil},
		{"unknown", &fakeAPI{getErr: &types.ResourceNotFoundException{Message: aws.String("nope")}}, "not found", new(*NotFoundError)},
		{"LMI", &fakeAPI{cfg: lmi}, "tune --lmi --function f", new(*UnsupportedError)},
		{"SnapStart", &fakeAPI{cfg: snap}, "SnapStart", new(*UnsupportedError)},
		{"provisioned concurrency", &fakeAPI{cfg: base(), pc: []types.ProvisionedConcurrencyConfigListItem{{FunctionArn: aws.String("arn:f:live")}}}, "provisioned concurrency", new(*UnsupportedError)},
		{"access denied", &fakeAPI{getErr: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}, "lambda:GetFunction", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Inspect(context.Background(), tt.api, "f")
			if tt.want == "" {
				if err != nil || o.Arch != "arm64" || o.MemoryMB != 512 || o.Env["A"] != "1" || !o.HasEnv {
					t.Fatalf("Inspect = %+v, %v", o, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.wantErr != nil && !errors.As(err, tt.wantErr) {
				t.Fatalf("err %T is not %T", err, tt.wantErr)
			}
		})
	}
}

func TestPayloads(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("w.json", `[{"payload":{"a":1},"weight":3},{"payload":"x","weight":1}]`)
	tests := []struct {
		name, value string
		want        []string // bodies
		wantErr     string
	}{
		{name: "default", want: []string{"{}"}},
		{name: "inline", value: `{"a":1}`, want: []string{`{"a":1}`}},
		{name: "inline not JSON", value: `{`, wantErr: "not valid JSON"},
		{name: "file", value: "@" + write("p.json", "{\"a\":1}\n"), want: []string{`{"a":1}`}},
		{name: "missing file", value: "@" + filepath.Join(dir, "none"), wantErr: "no such file"},
		{name: "file not JSON", value: "@" + write("bad.json", "{"), wantErr: "not valid JSON"},
		{name: "weighted file", value: "@" + good, want: []string{`{"a":1}`, `"x"`}},
		{name: "weighted inline", value: `[{"payload":"{\"b\":2}","weight":1}]`, want: []string{`{"b":2}`}},
		{name: "a plain list is one payload", value: `[1,2,3]`, want: []string{`[1,2,3]`}},
		{name: "a list of other objects is one payload", value: `[{"id":1}]`, want: []string{`[{"id":1}]`}},
		{name: "weighted zero", value: `[{"payload":1,"weight":0}]`, wantErr: "weight ≥ 1"},
		{name: "weighted without payload", value: `[{"weight":2}]`, wantErr: "has no payload"},
		{name: "weighted unknown field", value: `[{"payload":1,"weight":1,"x":2}]`, wantErr: "a weighted list is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := Payloads(tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			var got []string
			for _, p := range ps {
				got = append(got, string(p.Body))
			}
			if err != nil || strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("Payloads = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// Power Tuning's payload: a string holding JSON is sent as that JSON, any
// other string as a JSON string; a list of {payload, weight} is weighted.
func TestPowerTuningPayloads(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
	}{
		{`{"a":1}`, []string{`{"a":1}`}},
		{`"{}"`, []string{`{}`}},
		{`"just text"`, []string{`"just text"`}},
		{`[{"payload":"{\"n\":1}","weight":2},{"payload":{"n":2},"weight":1}]`, []string{`{"n":1}`, `{"n":2}`}},
	}
	for _, tt := range tests {
		ps, err := PowerTuningPayloads([]byte(tt.raw), "payload")
		if err != nil {
			t.Fatalf("%s: %v", tt.raw, err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, string(p.Body))
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s: %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestReadPowerTuningInput(t *testing.T) {
	in, err := ReadPowerTuningInput("-", strings.NewReader(`{
		"lambdaARN": "arn:aws:lambda:us-east-1:123456789012:function:thumb",
		"powerValues": [128, "256", 512], "num": 10, "payload": "{}", "parallelInvocation": true,
		"strategy": "balanced", "balancedWeight": 0.3, "discardTopBottom": 0.1, "sleepBetweenRunsMs": 50,
		"onlyColdStarts": false, "allowedExceptions": ["HandledError"], "autoOptimize": true,
		"autoOptimizeAlias": "live", "dryRun": false, "disablePayloadLogs": true, "includeOutputResults": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.LambdaARN == "" || len(in.PowerValues) != 3 || in.PowerValues[1] != 256 || *in.Num != 10 || string(in.Payload) != `"{}"` ||
		!*in.ParallelInvocation || *in.Strategy != "balanced" || *in.BalancedWeight != 0.3 || *in.DiscardTopBottom != 0.1 ||
		*in.SleepBetweenRunsMs != 50 || in.AllowedExceptions[0] != "HandledError" || !*in.AutoOptimize || *in.AutoOptimizeAlias != "live" ||
		!*in.DisablePayloadLogs || !*in.IncludeOutputResults || len(in.Keys) != 16 {
		t.Fatalf("read %+v", in)
	}
	if FunctionName(in.LambdaARN) != "thumb" || FunctionName("arn:aws:lambda:us-east-1:1:function:f:live") != "f" || FunctionName("f") != "f" {
		t.Error("FunctionName")
	}
	all, err := ReadPowerTuningInput("-", strings.NewReader(`{"lambdaARN":"f","powerValues":"ALL","allowedExceptions":3}`))
	if err != nil || len(all.PowerValues) != 46 || all.PowerValues[45] != 3008 || *all.AllowedErrors != 3 {
		t.Fatalf("ALL: %d values, %v", len(all.PowerValues), err)
	}
	for _, bad := range []struct{ body, want string }{
		{`{"payloadS3":"s3://b/k"}`, "payloadS3 is not supported"},
		{`{"lambdaARN":"f","foo":1}`, `unknown key "foo"`},
		{`{"parallelInvocation":"yes"}`, "parallelInvocation"},
		{`{"allowedExceptions":[1]}`, "allowedExceptions"},
		{`[1]`, "not a Power Tuning input"},
	} {
		if _, err := ReadPowerTuningInput("-", strings.NewReader(bad.body)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.body, err, bad.want)
		}
	}
}

func TestBinaryArch(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := BinaryArch(script); err == nil || !strings.Contains(err.Error(), "not a Linux executable") {
		t.Fatalf("script: %v", err)
	}
	if _, err := BinaryArch(filepath.Join(dir, "none")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing: %v", err)
	}
	// A tiny program for each architecture, and one for another OS.
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ goos, goarch, want string }{
		{"linux", "amd64", "x86_64"}, {"linux", "arm64", "arm64"}, {"windows", runtime.GOARCH, "not a Linux executable"},
	} {
		out := filepath.Join(dir, tc.goos+"-"+tc.goarch)
		cmd := exec.Command("go", "build", "-o", out, src)
		cmd.Env = append(os.Environ(), "GOOS="+tc.goos, "GOARCH="+tc.goarch, "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod")
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s/%s: %v\n%s", tc.goos, tc.goarch, err, b)
		}
		got, err := BinaryArch(out)
		if tc.goos == "linux" && (err != nil || got != tc.want) {
			t.Errorf("%s/%s: %q, %v; want %s", tc.goos, tc.goarch, got, err, tc.want)
		}
		if tc.goos != "linux" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s/%s: %v, want %q", tc.goos, tc.goarch, err, tc.want)
		}
	}
}

func TestJournalRoundTrip(t *testing.T) {
	dir := t.TempDir()
	j := &Journal{RunID: "r1", Function: "f", Original: Original{FunctionName: "f", MemoryMB: 128}}
	if err := Create(dir, j); err != nil {
		t.Fatal(err)
	}
	if err := j.Update(func(j *Journal) { j.Versions = append(j.Versions, "7") }); err != nil {
		t.Fatal(err)
	}
	got, err := Open(dir)
	if err != nil || got.RunID != "r1" || len(got.Versions) != 1 || got.Versions[0] != "7" || got.VersionDescription() != "bench tune r1" {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged journal: %v", err)
	}
}

func TestBuildSourceRelativeOutput(t *testing.T) {
	// A relative output folder is relative to the caller, not to the source.
	t.Chdir(t.TempDir())
	src, err := filepath.Abs(filepath.Join("src"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"main.go": "package main\nfunc main() {}\n", "go.mod": "module m\n\ngo 1.26\n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := BuildSource(context.Background(), src, "x86_64", "out")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Abs(filepath.Join("out", "linux-amd64", "bootstrap"))
	if bin != want {
		t.Fatalf("built %s, want %s", bin, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("no bootstrap where it was said to be: %v", err)
	}
}
