package templatecheck

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// elfHeader returns the 64-byte header of a little-endian 64-bit ELF
// executable for machine: all debug/elf needs to identify a binary.
func elfHeader(t *testing.T, machine elf.Machine) []byte {
	t.Helper()
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT), Ehsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fn is a Lambda function resource.
func fn(name, handler, arch string, memoryMB int, key string, extra map[string]any) map[string]any {
	p := map[string]any{
		"FunctionName": name, "Handler": handler, "Architectures": []any{arch}, "MemorySize": float64(memoryMB),
		"Runtime": "provided.al2023", "Code": map[string]any{"S3Bucket": map[string]any{"Fn::Sub": "bucket"}, "S3Key": key},
	}
	for k, v := range extra {
		p[k] = v
	}
	return map[string]any{"Type": "AWS::Lambda::Function", "Properties": p}
}

func workers(n string) map[string]any {
	return map[string]any{"Environment": map[string]any{"Variables": map[string]any{"WORKER_COUNT": n}}}
}

func ref(id string) map[string]any { return map[string]any{"Value": map[string]any{"Ref": id}} }
func arn(id string) map[string]any {
	return map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{id, "Arn"}}}
}
func url(path string) map[string]any {
	return map[string]any{"Value": map[string]any{"Fn::Join": []any{"", []any{"https://", map[string]any{"Ref": "Api"}, ".execute-api/prod", path}}}}
}

const (
	armKey = "aaaa.zip"
	x86Key = "bbbb.zip"
)

// matrixTemplate is a valid two-by-two matrix stack.
func matrixTemplate() Template {
	return Template{
		"Resources": map[string]any{
			"Arm64Mem1536": fn("go-bench-arm64-1vcpu-1536mb", "bcrypt", "arm64", 1536, armKey, workers("1")),
			"Arm64Mem2048": fn("go-bench-arm64-2vcpu-2048mb", "bcrypt", "arm64", 2048, armKey, workers("2")),
			"X8664Mem1536": fn("go-bench-x86-1vcpu-1536mb", "bcrypt", "x86_64", 1536, x86Key, workers("1")),
			"X8664Mem2048": fn("go-bench-x86-2vcpu-2048mb", "bcrypt", "x86_64", 2048, x86Key, workers("2")),
		},
		"Outputs": map[string]any{
			"Arm64Mem1536FunctionName": ref("Arm64Mem1536"), "Arm64Mem1536FunctionArn": arn("Arm64Mem1536"),
			"Arm64Mem2048FunctionName": ref("Arm64Mem2048"), "Arm64Mem2048FunctionArn": arn("Arm64Mem2048"),
			"X8664Mem1536FunctionName": ref("X8664Mem1536"), "X8664Mem1536FunctionArn": arn("X8664Mem1536"),
			"X8664Mem2048FunctionName": ref("X8664Mem2048"), "X8664Mem2048FunctionArn": arn("X8664Mem2048"),
		},
	}
}

// lmiTemplate is a valid LMI stack (arm64).
func lmiTemplate() Template {
	onCP := map[string]any{"CapacityProviderConfig": map[string]any{"LambdaManagedInstancesCapacityProviderConfig": map[string]any{
		"CapacityProviderArn": map[string]any{"Fn::GetAtt": []any{"CapacityProvider", "Arn"}},
	}}}
	return Template{
		"Resources": map[string]any{
			"CapacityProvider": map[string]any{"Type": "AWS::Lambda::CapacityProvider", "Properties": map[string]any{}},
			"Default128Hello":  fn("go-bench-hello-128", "hello", "arm64", 128, armKey, nil),
			"Default2048Hello": fn("go-bench-hello-2048", "hello", "arm64", 2048, armKey, nil),
			"Lmi2048Hello":     fn("go-bench-hello-lmi-2048", "hello", "arm64", 2048, armKey, onCP),
		},
		"Outputs": map[string]any{
			"ApiUrl":        url("/"),
			"Default128Url": url("/default/128/hello"), "Default128FunctionName": ref("Default128Hello"),
			"Default2048Url": url("/default/2048/hello"), "Default2048FunctionName": ref("Default2048Hello"),
			"Lmi2048Url": url("/lmi/2048/hello"), "Lmi2048FunctionName": ref("Lmi2048Hello"),
			"CapacityProviderArn": arn("CapacityProvider"), "CapacityProviderName": ref("CapacityProvider"),
		},
	}
}

// assembly writes a cloud assembly holding the templates, with an asset
// directory per key in binaries (nil content: no bootstrap file).
func assembly(t *testing.T, templates map[string]Template, binaries map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	artifacts := map[string]any{}
	for name, tpl := range templates {
		write(name+".template.json", tpl)
		files := map[string]any{}
		for key, bin := range binaries {
			hash := strings.TrimSuffix(key, ".zip")
			files[hash] = map[string]any{
				"source":       map[string]any{"path": "asset." + hash, "packaging": "zip"},
				"destinations": map[string]any{"current": map[string]any{"bucketName": "b", "objectKey": key}},
			}
			if err := os.MkdirAll(filepath.Join(dir, "asset."+hash), 0o755); err != nil {
				t.Fatal(err)
			}
			if bin != nil {
				if err := os.WriteFile(filepath.Join(dir, "asset."+hash, "bootstrap"), bin, 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
		write(name+".assets.json", map[string]any{"version": "55.0.0", "files": files})
		artifacts[name+".assets"] = map[string]any{"type": "cdk:asset-manifest", "properties": map[string]any{"file": name + ".assets.json"}}
		artifacts[name] = map[string]any{"type": "aws:cloudformation:stack", "properties": map[string]any{"templateFile": name + ".template.json"},
			"dependencies": []any{name + ".assets"}}
	}
	write("manifest.json", map[string]any{"version": "55.0.0", "artifacts": artifacts})
	return dir
}

func TestCheck(t *testing.T) {
	arm, x86 := elfHeader(t, elf.EM_AARCH64), elfHeader(t, elf.EM_X86_64)
	goodBins := func() map[string][]byte { return map[string][]byte{armKey: arm, x86Key: x86} }
	tests := []struct {
		name   string
		change func(m, l Template, bins map[string][]byte)
		want   []string // substrings of the findings, in order; none: clean
	}{
		{"clean", func(m, l Template, bins map[string][]byte) {}, nil},
		{"x86_64 asset holds the arm64 binary", func(m, l Template, bins map[string][]byte) { bins[x86Key] = arm },
			[]string{"GoLambdaBenchMatrix: code asset bbbb.zip (x86_64): bootstrap is built for EM_AARCH64, but the functions are x86_64"}},
		{"one asset for both architectures", func(m, l Template, bins map[string][]byte) {
			setKey(m, "X8664Mem1536", armKey)
			setKey(m, "X8664Mem2048", armKey)
		}, []string{"code asset aaaa.zip serves arm64 and x86_64"}},
		{"two assets for one architecture", func(m, l Template, bins map[string][]byte) {
			setKey(m, "Arm64Mem2048", "cccc.zip")
			bins["cccc.zip"] = arm
		}, []string{"the arm64 functions use 2 code assets (aaaa.zip, cccc.zip)"}},
		{"bootstrap is a script", func(m, l Template, bins map[string][]byte) { bins[armKey] = []byte("#!/bin/sh\necho hi\n") },
			[]string{"not an ELF file", "not an ELF file"}},
		{"no bootstrap", func(m, l Template, bins map[string][]byte) { bins[x86Key] = nil }, []string{"bbbb.zip (x86_64): no bootstrap"}},
		{"asset not in the manifest", func(m, l Template, bins map[string][]byte) { delete(bins, x86Key) },
			[]string{"code asset bbbb.zip is not in the stack's asset manifest"}},
		{"name and memory disagree", func(m, l Template, bins map[string][]byte) {
			props(m, "Arm64Mem2048")["MemorySize"] = float64(4096)
		}, []string{"go-bench-arm64-2vcpu-2048mb does not name its configuration: want <prefix>-arm64-3vcpu-4096mb",
			"Outputs.Arm64Mem4096FunctionName: want the output", "Outputs.Arm64Mem4096FunctionArn: want the output",
			"Outputs.Arm64Mem2048FunctionArn: no matrix function Arm64Mem2048", "Outputs.Arm64Mem2048FunctionName: no matrix function Arm64Mem2048"}},
		{"worker count out of range", func(m, l Template, bins map[string][]byte) {
			props(m, "X8664Mem1536")["Environment"] = workers("9")["Environment"]
		}, []string{"worker count 9 outside 1-6", "Outputs.X8664Mem1536FunctionArn: no matrix function", "Outputs.X8664Mem1536FunctionName: no matrix function"}},
		{"output names another function", func(m, l Template, bins map[string][]byte) {
			mapOf(m["Outputs"])["Arm64Mem1536FunctionName"] = ref("Arm64Mem2048")
		}, []string{"Outputs.Arm64Mem1536FunctionName: want the output, holding the name of go-bench-arm64-1vcpu-1536mb (Ref Arm64Mem1536)"}},
		{"no capacity provider ARN output", func(m, l Template, bins map[string][]byte) { delete(mapOf(l["Outputs"]), "CapacityProviderArn") },
			[]string{"GoLambdaBenchLmi: Outputs.CapacityProviderArn: want the output"}},
		{"route URL with the wrong path", func(m, l Template, bins map[string][]byte) { mapOf(l["Outputs"])["Lmi2048Url"] = url("/lmi/hello") },
			[]string{"Outputs.Lmi2048Url: the URL does not end in /lmi/2048/hello"}},
		{"route output names the other function", func(m, l Template, bins map[string][]byte) {
			mapOf(l["Outputs"])["Default2048FunctionName"] = ref("Lmi2048Hello")
		}, []string{"Outputs.Default2048FunctionName: names Lmi2048Hello, which runs on the capacity provider"}},
		{"LMI function off the capacity provider", func(m, l Template, bins map[string][]byte) {
			delete(props(l, "Lmi2048Hello"), "CapacityProviderConfig")
		}, []string{"0 hello functions on the capacity provider", "3 hello functions: want 2"}},
		{"unknown stack", func(m, l Template, bins map[string][]byte) {
			delete(mapOf(l["Resources"]), "CapacityProvider")
			for _, id := range []string{"Default128Hello", "Default2048Hello", "Lmi2048Hello"} {
				props(l, id)["Handler"] = "other"
			}
		}, []string{"handler other", "handler other", "handler other", "neither the matrix stack"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, l, bins := matrixTemplate(), lmiTemplate(), goodBins()
			tt.change(m, l, bins)
			dir := assembly(t, map[string]Template{"GoLambdaBenchMatrix": m, "GoLambdaBenchLmi": l}, bins)
			a, err := LoadAssembly(dir)
			if err != nil {
				t.Fatal(err)
			}
			got := a.Check()
			if len(got) != len(tt.want) {
				t.Fatalf("%d findings, want %d:\n%s", len(got), len(tt.want), joinFindings(got))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("finding %d = %q, want one containing %q\nall:\n%s", i, got[i], w, joinFindings(got))
				}
			}
		})
	}
}

func TestLoadAssemblyErrors(t *testing.T) {
	if _, err := LoadAssembly(t.TempDir()); err == nil || !strings.Contains(err.Error(), "run cdk synth first") {
		t.Errorf("empty directory: %v, want a hint to synth", err)
	}
	dir := assembly(t, map[string]Template{}, nil)
	if _, err := LoadAssembly(dir); err == nil || !strings.Contains(err.Error(), "holds no stacks") {
		t.Errorf("no stacks: %v", err)
	}
}

func TestCheckBootstrapNotExecutable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(p, elfHeader(t, elf.EM_AARCH64), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkBootstrap(p, "arm64"); err == nil || !strings.Contains(err.Error(), "not executable") {
		t.Errorf("checkBootstrap = %v, want not executable", err)
	}
}

func props(tpl Template, id string) map[string]any {
	return mapOf(mapOf(mapOf(tpl["Resources"])[id])["Properties"])
}

func setKey(tpl Template, id, key string) {
	mapOf(props(tpl, id)["Code"])["S3Key"] = key
}

func joinFindings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	return b.String()
}
