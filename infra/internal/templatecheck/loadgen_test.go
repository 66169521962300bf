package templatecheck

import (
	"debug/elf"
	"strings"
	"testing"
)

// loadgenTemplate is a valid load-generator stack.
func loadgenTemplate() Template {
	return Template{
		"Resources": map[string]any{"LoadGen": fn("go-bench-loadgen", "loadgen", "arm64", 1769, armKey, map[string]any{"Timeout": float64(900)})},
		"Outputs":   map[string]any{"LoadGenFunctionName": ref("LoadGen")},
	}
}

func TestCheckLoadGen(t *testing.T) {
	arm := elfHeader(t, elf.EM_AARCH64)
	tests := []struct {
		name   string
		change func(tpl Template)
		want   []string
	}{
		{"clean", func(Template) {}, nil},
		{"less than a vCPU", func(tpl Template) { props(tpl, "LoadGen")["MemorySize"] = float64(1024) }, []string{"memory 1024: want at least 1769 MB"}},
		{"short timeout", func(tpl Template) { props(tpl, "LoadGen")["Timeout"] = float64(30) }, []string{"timeout 30: want 900 s"}},
		{"no output", func(tpl Template) { delete(mapOf(tpl["Outputs"]), "LoadGenFunctionName") }, []string{"Outputs.LoadGenFunctionName: want the output"}},
		{"two generators", func(tpl Template) {
			mapOf(tpl["Resources"])["LoadGen2"] = fn("go-bench-loadgen-2", "loadgen", "arm64", 1769, armKey, map[string]any{"Timeout": float64(900)})
		}, []string{"2 load-generator functions: want one"}},
		{"with a benchmark function", func(tpl Template) {
			mapOf(tpl["Resources"])["Hello"] = fn("go-bench-hello-128", "hello", "arm64", 128, armKey, nil)
		}, []string{"a stack of its own"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := loadgenTemplate()
			tt.change(tpl)
			a, err := LoadAssembly(assembly(t, map[string]Template{"GoLambdaBenchLoadGen": tpl}, map[string][]byte{armKey: arm}))
			if err != nil {
				t.Fatal(err)
			}
			got := a.Check()
			if len(got) != len(tt.want) {
				t.Fatalf("%d findings, want %d:\n%s", len(got), len(tt.want), joinFindings(got))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("finding %d = %q, want one containing %q", i, got[i], w)
				}
			}
		})
	}
}
