package target

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

type fakeStacks struct {
	out *cloudformation.DescribeStacksOutput
	err error
}

func (f fakeStacks) DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return f.out, f.err
}

func stack(status cftypes.StackStatus, kv ...string) *cloudformation.DescribeStacksOutput {
	s := cftypes.Stack{StackName: aws.String("S"), StackStatus: status}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Outputs = append(s.Outputs, cftypes.Output{OutputKey: aws.String(kv[i]), OutputValue: aws.String(kv[i+1])})
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cftypes.Stack{s}}
}

func TestStackOutputs(t *testing.T) {
	tests := []struct {
		name    string
		fake    fakeStacks
		want    map[string]string
		wantErr string
	}{
		{name: "outputs", fake: fakeStacks{out: stack(cftypes.StackStatusCreateComplete, "A", "1", "B", "2")}, want: map[string]string{"A": "1", "B": "2"}},
		{name: "missing stack", fake: fakeStacks{err: errors.New("ValidationError: Stack with id S does not exist")}, wantErr: "deploy it first"},
		{name: "other error", fake: fakeStacks{err: errors.New("AccessDenied")}, wantErr: "describe stack S: AccessDenied"},
		{name: "failed stack", fake: fakeStacks{out: stack(cftypes.StackStatusRollbackComplete, "A", "1")}, wantErr: "ROLLBACK_COMPLETE"},
		{name: "no outputs", fake: fakeStacks{out: stack(cftypes.StackStatusUpdateComplete)}, wantErr: "no outputs"},
		{name: "empty answer", fake: fakeStacks{out: &cloudformation.DescribeStacksOutput{}}, wantErr: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := StackOutputs(context.Background(), tt.fake, "S")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestOutputsFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "outputs.json")
	if err := os.WriteFile(good, []byte(`{"GoLambdaBenchLmi":{"ApiUrl":"https://x/prod/"},"Other":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`[1,2]`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, stack, wantErr, wantURL string
	}{
		{name: "found", path: good, stack: LmiStack, wantURL: "https://x/prod/"},
		{name: "other stack", path: good, stack: MatrixStack, wantErr: "has no stack GoLambdaBenchMatrix (it has: GoLambdaBenchLmi, Other)"},
		{name: "not json object", path: bad, stack: LmiStack, wantErr: "not a cdk --outputs-file"},
		{name: "missing file", path: filepath.Join(dir, "nope.json"), stack: LmiStack, wantErr: "read outputs file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OutputsFile(tt.path, tt.stack)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got["ApiUrl"] != tt.wantURL {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	for _, s := range []string{"local", "aws"} {
		if k, err := ParseKind(s); err != nil || string(k) != s {
			t.Errorf("ParseKind(%q) = %q, %v", s, k, err)
		}
	}
	if _, err := ParseKind("gcp"); err == nil || !strings.Contains(err.Error(), "use local or aws") {
		t.Errorf("ParseKind(gcp) err = %v", err)
	}
}

func TestFindRepoRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "bench", "internal", "x")
	for _, d := range []string{deep, filepath.Join(root, "function")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"go.work", "function/go.mod"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := FindRepoRoot(deep)
	if err != nil || got != root {
		t.Fatalf("FindRepoRoot = %q, %v; want %q", got, err, root)
	}
	if _, err := FindRepoRoot(t.TempDir()); err == nil {
		t.Fatal("want an error outside a checkout")
	}
}

func TestOpenAWSRegionWithOutputsFile(t *testing.T) {
	// No region anywhere in the environment or the shared config.
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	names := write("names.json", `{"GoLambdaBenchMatrix":{"X8664Mem1536FunctionName":"f1"}}`)
	arns := write("arns.json", `{"GoLambdaBenchMatrix":{"X8664Mem1536FunctionName":"arn:aws:lambda:eu-west-3:123456789012:function:f1"}}`)
	tests := []struct {
		name, file, endpoint, region, want, wantErr string
	}{
		{name: "endpoint, names", file: names, endpoint: "http://127.0.0.1:9", want: LocalRegion},
		{name: "endpoint, ARNs", file: arns, endpoint: "http://127.0.0.1:9", want: "eu-west-3"},
		{name: "AWS, ARNs", file: arns, want: "eu-west-3"},
		{name: "region flag wins", file: arns, region: "ap-south-1", want: "ap-south-1"},
		{name: "AWS, names", file: names, wantErr: "no AWS region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := OpenAWS(context.Background(), AWSOptions{Stack: MatrixStack, OutputsFile: tt.file, Endpoint: tt.endpoint, Region: tt.region})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if at.Config.Region != tt.want || at.Lambda.Options().Region != tt.want {
				t.Errorf("region %q (client %q), want %q", at.Config.Region, at.Lambda.Options().Region, tt.want)
			}
			if at.Outputs["X8664Mem1536FunctionName"] == "" {
				t.Errorf("outputs %v", at.Outputs)
			}
		})
	}
}
