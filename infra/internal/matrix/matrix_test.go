package matrix

import (
	"strings"
	"testing"
)

func TestDefaultMatrix(t *testing.T) {
	want := []struct {
		arch    Arch
		mb      int
		workers int
		name    string
		key     string
	}{
		{Arm64, 1536, 1, "go-bench-arm64-1vcpu-1536mb", "Arm64Mem1536"},
		{Arm64, 2048, 2, "go-bench-arm64-2vcpu-2048mb", "Arm64Mem2048"},
		{Arm64, 4096, 3, "go-bench-arm64-3vcpu-4096mb", "Arm64Mem4096"},
		{Arm64, 6144, 4, "go-bench-arm64-4vcpu-6144mb", "Arm64Mem6144"},
		{Arm64, 8192, 5, "go-bench-arm64-5vcpu-8192mb", "Arm64Mem8192"},
		{Arm64, 10240, 6, "go-bench-arm64-6vcpu-10240mb", "Arm64Mem10240"},
		{X8664, 1536, 1, "go-bench-x86-1vcpu-1536mb", "X8664Mem1536"},
		{X8664, 2048, 2, "go-bench-x86-2vcpu-2048mb", "X8664Mem2048"},
		{X8664, 4096, 3, "go-bench-x86-3vcpu-4096mb", "X8664Mem4096"},
		{X8664, 6144, 4, "go-bench-x86-4vcpu-6144mb", "X8664Mem6144"},
		{X8664, 8192, 5, "go-bench-x86-5vcpu-8192mb", "X8664Mem8192"},
		{X8664, 10240, 6, "go-bench-x86-6vcpu-10240mb", "X8664Mem10240"},
	}
	got := Default()
	if len(got) != len(want) {
		t.Fatalf("%d configurations, want %d", len(got), len(want))
	}
	for i, w := range want {
		c := got[i]
		if c.Arch != w.arch || c.MemoryMB != w.mb || c.Workers != w.workers {
			t.Errorf("config %d = %+v, want %s %d MB %d workers", i, c, w.arch, w.mb, w.workers)
		}
		if n := c.FunctionName(DefaultPrefix); n != w.name {
			t.Errorf("name %s, want %s", n, w.name)
		}
		if c.FunctionNameOutput() != w.key+"FunctionName" || c.FunctionArnOutput() != w.key+"FunctionArn" {
			t.Errorf("output keys %s, %s", c.FunctionNameOutput(), c.FunctionArnOutput())
		}
	}
}

func TestVCPUs(t *testing.T) {
	for mb, want := range map[int]int{128: 1, 1769: 1, 1770: 2, 3008: 2, 3539: 3, 5307: 3, 5308: 4, 10240: 6} {
		if got := VCPUs(mb); got != want {
			t.Errorf("VCPUs(%d) = %d, want %d", mb, got, want)
		}
	}
}

func TestParseArch(t *testing.T) {
	for in, want := range map[string]Arch{"arm64": Arm64, " ARM64 ": Arm64, "aarch64": Arm64, "x86_64": X8664, "amd64": X8664, "x86": X8664} {
		if got, err := ParseArch(in); err != nil || got != want {
			t.Errorf("ParseArch(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseArch("sparc"); err == nil || !strings.Contains(err.Error(), `unknown architecture "sparc"`) {
		t.Errorf("ParseArch(sparc) error %v", err)
	}
	if Arm64.GOARCH() != "arm64" || X8664.GOARCH() != "amd64" {
		t.Error("GOARCH")
	}
}

func TestBuild(t *testing.T) {
	cfgs, err := Build([]Arch{X8664}, []int{1536, 2048}, []int{6, 1})
	if err != nil || len(cfgs) != 2 || cfgs[0].Workers != 6 || cfgs[1].Workers != 1 {
		t.Errorf("Build per-size workers: %+v, %v", cfgs, err)
	}
	bad := []struct {
		archs   []Arch
		mbs     []int
		workers []int
		want    string
	}{
		{nil, []int{1536}, nil, "no architectures"},
		{[]Arch{Arm64}, nil, nil, "no memory sizes"},
		{[]Arch{Arm64}, []int{127}, nil, "memory size 127 MB outside 128-10240 MB"},
		{[]Arch{Arm64}, []int{10241}, nil, "memory size 10241 MB outside 128-10240 MB"},
		{[]Arch{Arm64}, []int{1536, 2048}, []int{1, 2, 3}, "3 worker counts for 2 memory sizes"},
		{[]Arch{Arm64}, []int{1536}, []int{0}, "worker count 0 outside 1-6"},
		{[]Arch{Arm64, Arm64}, []int{1536}, nil, "Arm64Mem1536 appears twice"},
	}
	for _, b := range bad {
		if _, err := Build(b.archs, b.mbs, b.workers); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Build(%v, %v, %v) error %v, want %q", b.archs, b.mbs, b.workers, err, b.want)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for p, ok := range map[string]bool{"go-bench": true, "a": true, "A_1": true, "": false, "-x": false, "my bench": false,
		strings.Repeat("x", 32): true, strings.Repeat("x", 33): false} {
		if err := ValidatePrefix(p); (err == nil) != ok {
			t.Errorf("ValidatePrefix(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}
