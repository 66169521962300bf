package stacks

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"lambdabench/infra/internal/bundle"
	"lambdabench/infra/internal/matrix"
)

func TestLoadGenStack(t *testing.T) {
	lg, err := bundle.New(filepath.Join("..", "..", "..", "bench"))
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	lg.Package = "./cmd/loadgen"
	stack, err := NewLoadGenStack(newApp(t), DefaultLoadGenStackName, &LoadGenStackProps{Code: lg})
	if err != nil {
		t.Fatal(err)
	}
	tpl, doc := synthesized(t, stack) // cdk-nag and the assembly checks included
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(1))
	fns := functionsByName(doc)
	fn, ok := fns[LoadGenFunctionName(matrix.DefaultPrefix)]
	if !ok {
		t.Fatalf("functions %v, want %s", fns, LoadGenFunctionName(matrix.DefaultPrefix))
	}
	if fn["MemorySize"].(float64) < MinLoadGenMemoryMB || fn["Timeout"].(float64) != 900 || fn["Runtime"] != "provided.al2023" {
		t.Errorf("generator function %v: want ≥ %d MB, 900 s, provided.al2023", fn, MinLoadGenMemoryMB)
	}
	if archs, _ := fn["Architectures"].([]any); len(archs) != 1 || archs[0] != "arm64" {
		t.Errorf("architectures %v, want arm64", fn["Architectures"])
	}
	outs, _ := doc["Outputs"].(map[string]any)
	if _, ok := outs[LoadGenFunctionNameOutput]; !ok {
		t.Errorf("outputs %v lack %s", outs, LoadGenFunctionNameOutput)
	}
	if lg.Builds("arm64") != 1 {
		t.Errorf("%d arm64 builds of the generator, want 1", lg.Builds("arm64"))
	}
}

func TestLoadGenStackProps(t *testing.T) {
	tests := []struct {
		name  string
		props LoadGenStackProps
		want  string
	}{
		{"less than a vCPU", LoadGenStackProps{MemoryMB: 1024}, "one full vCPU"},
		{"over Lambda's limit", LoadGenStackProps{MemoryMB: 20000}, "10240"},
		{"bad retention", LoadGenStackProps{LogRetentionDays: 2}, "log retention"},
		{"no code", LoadGenStackProps{}, "no code source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewLoadGenStack(newApp(t), "S", &tc.props)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %q", err, tc.want)
			}
		})
	}
}
