package procstat

import (
	"runtime"
	"testing"
	"testing/fstest"
	"time"
)

func TestDetectCPUs(t *testing.T) {
	c := DetectCPUs()
	if c.Affinity != runtime.NumCPU() || c.Usable < 1 || c.Usable > c.Affinity {
		t.Fatalf("implausible %+v", c)
	}
	t.Logf("%+v gomaxprocs=%d", c, runtime.GOMAXPROCS(0))
}

func TestQuotaFromFS(t *testing.T) {
	const v1Mounts = "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
		"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	const v2Mounts = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
	tests := []struct {
		name           string
		cgroup, mounts string
		files          map[string]string
		want           float64
	}{
		{"v1 no limit", "1:cpu:/\n0::/\n", v1Mounts, map[string]string{
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1", "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000"}, 0},
		{"v1 nested limit", "1:cpu,cpuacct:/env/a\n", "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n", map[string]string{
			"sys/fs/cgroup/cpu,cpuacct/env/a/cpu.cfs_quota_us": "150000", "sys/fs/cgroup/cpu,cpuacct/env/a/cpu.cfs_period_us": "100000",
			"sys/fs/cgroup/cpu,cpuacct/env/cpu.cfs_quota_us": "80000", "sys/fs/cgroup/cpu,cpuacct/env/cpu.cfs_period_us": "100000"}, 0.8},
		{"v2 limit", "0::/lambda/env1\n", v2Mounts, map[string]string{
			"sys/fs/cgroup/lambda/env1/cpu.max": "250000 100000", "sys/fs/cgroup/lambda/cpu.max": "max 100000"}, 2.5},
		{"v2 no files", "0::/x\n", v2Mounts, map[string]string{}, 0},
		{"garbage", "nonsense", "nonsense", map[string]string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, c := range tt.files {
				fsys[p] = &fstest.MapFile{Data: []byte(c + "\n")}
			}
			if got := quotaFromFS(fsys, []byte(tt.cgroup), []byte(tt.mounts)); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResidentAndCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	kb, err := ResidentKB()
	if err != nil || kb <= 0 {
		t.Fatalf("ResidentKB = %d, %v", kb, err)
	}
	before, err := CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(20 * time.Millisecond); time.Now().Before(end); {
	}
	after, _ := CPUTime()
	if after-before < 5*time.Millisecond {
		t.Fatalf("CPU time grew by %v over 20 ms of spinning", after-before)
	}
	if ThreadID() <= 0 {
		t.Fatal("ThreadID <= 0")
	}
}
