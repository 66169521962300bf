package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeAssembly writes a one-stack assembly: an LMI stack without outputs
// (findings) or a matrix stack with one arm64 function whose asset holds
// bootstrap (clean when it is an arm64 ELF).
func writeAssembly(t *testing.T, matrix bool, bootstrap []byte) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, v any) {
		data, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tpl := map[string]any{"Resources": map[string]any{"CapacityProvider": map[string]any{"Type": "AWS::Lambda::CapacityProvider"}}}
	if matrix {
		tpl = map[string]any{
			"Resources": map[string]any{"Arm64Mem2048": map[string]any{"Type": "AWS::Lambda::Function", "Properties": map[string]any{
				"FunctionName": "go-bench-arm64-2vcpu-2048mb", "Handler": "bcrypt", "Architectures": []any{"arm64"}, "MemorySize": 2048,
				"Environment": map[string]any{"Variables": map[string]any{"WORKER_COUNT": "2"}}, "Code": map[string]any{"S3Key": "aaaa.zip"},
			}}},
			"Outputs": map[string]any{
				"Arm64Mem2048FunctionName": map[string]any{"Value": map[string]any{"Ref": "Arm64Mem2048"}},
				"Arm64Mem2048FunctionArn":  map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"Arm64Mem2048", "Arn"}}},
			},
		}
	}
	write("S.template.json", tpl)
	write("S.assets.json", map[string]any{"files": map[string]any{"aaaa": map[string]any{
		"source": map[string]any{"path": "asset.aaaa"}, "destinations": map[string]any{"d": map[string]any{"objectKey": "aaaa.zip"}},
	}}})
	if err := os.MkdirAll(filepath.Join(dir, "asset.aaaa"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "asset.aaaa", "bootstrap"), bootstrap, 0o755); err != nil {
		t.Fatal(err)
	}
	write("manifest.json", map[string]any{"artifacts": map[string]any{
		"S.assets": map[string]any{"type": "cdk:asset-manifest", "properties": map[string]any{"file": "S.assets.json"}},
		"S":        map[string]any{"type": "aws:cloudformation:stack", "properties": map[string]any{"templateFile": "S.template.json"}},
	}})
	return dir
}

func arm64ELF(t *testing.T) []byte {
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_AARCH64), Version: 1, Ehsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"clean assembly", []string{writeAssembly(t, true, arm64ELF(t))}, 0, "ok    S (1 functions, 2 outputs, one code asset each for arm64)"},
		{"wrong binary", []string{writeAssembly(t, true, []byte("#!/bin/sh\n"))}, 1, "not an ELF file"},
		{"missing outputs", []string{writeAssembly(t, false, nil)}, 1, "FAIL  S: 9 findings"},
		{"no arguments", nil, 2, ""},
		{"not an assembly", []string{t.TempDir()}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.out) {
				t.Errorf("stdout %q does not contain %q", &stdout, tt.out)
			}
		})
	}
}
