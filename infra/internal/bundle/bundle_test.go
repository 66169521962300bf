package bundle

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"lambdabench/infra/internal/jsiitest"
)

var functionDir = filepath.Join("..", "..", "..", "function")

func TestMain(m *testing.M) { os.Exit(jsiitest.Main(m)) }

// Two stacks, each with an arm64 and an x86_64 function: the Go toolchain runs
// once per architecture, and every function gets the binary of its own
// architecture (two assets from one source folder must not be merged).
func TestEachArchitectureBuiltOnceAndKeptApart(t *testing.T) {
	b, err := New(functionDir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	outdir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	for _, stackID := range []string{"One", "Two"} {
		stack := awscdk.NewStack(app, jsii.String(stackID), nil)
		for _, arch := range []struct {
			goarch string
			arch   awslambda.Architecture
		}{{"arm64", awslambda.Architecture_ARM_64()}, {"amd64", awslambda.Architecture_X86_64()}} {
			code, err := b.Code(arch.goarch)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				awslambda.NewFunction(stack, jsii.String(fmt.Sprintf("%s%d", arch.goarch, i)), &awslambda.FunctionProps{
					Runtime: awslambda.Runtime_PROVIDED_AL2023(), Handler: jsii.String("bcrypt"),
					Architecture: arch.arch, Code: code,
				})
			}
		}
	}
	app.Synth(nil)

	for _, goarch := range []string{"arm64", "amd64"} {
		if n := b.Builds(goarch); n != 1 {
			t.Errorf("go build ran %d times for %s, want 1", n, goarch)
		}
	}
	wantMachine := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "x86_64": elf.EM_X86_64}
	assets := map[string]string{}
	for _, stackID := range []string{"One", "Two"} {
		data, err := os.ReadFile(filepath.Join(outdir, stackID+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		var tpl struct {
			Resources map[string]struct {
				Type       string
				Properties struct {
					Architectures []string
					Code          struct{ S3Key string }
				}
			}
		}
		if err := json.Unmarshal(data, &tpl); err != nil {
			t.Fatal(err)
		}
		for id, r := range tpl.Resources {
			if r.Type != "AWS::Lambda::Function" {
				continue
			}
			arch := r.Properties.Architectures[0]
			asset := "asset." + strings.TrimSuffix(r.Properties.Code.S3Key, ".zip")
			if prev, ok := assets[arch]; ok && prev != asset {
				t.Errorf("%s/%s: %s uses asset %s, another uses %s", stackID, id, arch, asset, prev)
			}
			assets[arch] = asset
			f, err := elf.Open(filepath.Join(outdir, asset, "bootstrap"))
			if err != nil {
				t.Fatalf("%s/%s: %v", stackID, id, err)
			}
			if f.Machine != wantMachine[arch] {
				t.Errorf("%s/%s (%s) runs a %v binary", stackID, id, arch, f.Machine)
			}
			f.Close()
		}
	}
	if len(assets) != 2 || assets["arm64"] == assets["x86_64"] {
		t.Errorf("assets per architecture %v, want two different ones", assets)
	}
}

// A function that does not compile fails before synth, with the compiler's
// message (and so never falls back to Docker).
func TestBuildFailureIsReported(t *testing.T) {
	src := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module broken\n\ngo 1.22\n")
	write("main.go", "package main\n\nfunc main() { undefinedCall() }\n")
	b, err := New(src)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	code, err := b.Code("arm64")
	if code != nil || err == nil {
		t.Fatalf("Code of a broken function: %v, %v", code, err)
	}
	for _, want := range []string{"build bootstrap for linux/arm64", "undefined: undefinedCall"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestNewNeedsAModule(t *testing.T) {
	if _, err := New(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("New(empty dir) error %v, want no go.mod", err)
	}
}
