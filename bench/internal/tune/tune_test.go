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
	lmi.CapacityProviderConfig = &types.CapacityProviderConfig{}
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
		{"LMI", &fakeAPI{cfg: lmi}, "Lambda Managed Instances", new(*UnsupportedError)},
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
		name                 string
		inline, file, weighs string
		want                 int
		wantErr              string
	}{
		{name: "default", want: 1},
		{name: "inline", inline: `{"a":1}`, want: 1},
		{name: "inline not JSON", inline: `{`, wantErr: "not valid JSON"},
		{name: "file", file: write("p.json", `{"a":1}`), want: 1},
		{name: "missing file", file: filepath.Join(dir, "none"), wantErr: "no such file"},
		{name: "weighted", weighs: good, want: 2},
		{name: "weighted zero", weighs: write("z.json", `[{"payload":1,"weight":0}]`), wantErr: "weight ≥ 1"},
		{name: "weighted empty", weighs: write("e.json", `[]`), wantErr: "empty"},
		{name: "weighted unknown field", weighs: write("u.json", `[{"payload":1,"weight":1,"x":2}]`), wantErr: "want ["},
		{name: "two flags", inline: `{}`, file: good, wantErr: "exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := Payloads(tt.inline, tt.file, tt.weighs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(ps) != tt.want {
				t.Fatalf("Payloads = %v, %v; want %d", ps, err, tt.want)
			}
		})
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
