package cgroup

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const mountinfoV1 = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestParseV1(t *testing.T) {
	self := "4:memory:/jobs/42\n2:cpu,cpuacct:/\n0::/\n"
	got := parseV1(self, mountinfoV1)
	if got.cpu != "/sys/fs/cgroup/cpu,cpuacct" || got.mem != "/sys/fs/cgroup/memory/jobs/42" {
		t.Errorf("parseV1 = %+v", got)
	}
	// A container whose hierarchy root is its own group.
	nested := strings.Replace(mountinfoV1, "34 30 0:31 / ", "34 30 0:31 /jobs/42 ", 1)
	if got := parseV1(self, nested); got.mem != "/sys/fs/cgroup/memory" {
		t.Errorf("parseV1 with a nested root = %+v", got)
	}
	if got := parseV1("0::/user.slice\n", "1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"); got.cpu != "" || got.mem != "" {
		t.Errorf("parseV1 on a v2-only host = %+v", got)
	}
}

func TestParseMounts(t *testing.T) {
	m := parseMounts(mountinfoV1)
	if len(m) != 4 || m[1].point != "/sys/fs/cgroup/cpu,cpuacct" || m[1].fstype != "cgroup" || m[1].super != "rw,cpu,cpuacct" {
		t.Errorf("parseMounts = %+v", m)
	}
}

// TestGroupLifecycle runs where cgroups are writable (as root on most VMs); elsewhere it checks
// that New fails cleanly.
func TestGroupLifecycle(t *testing.T) {
	name := fmt.Sprintf("cgrouptest-%d.1", os.Getpid())
	m, err := New(name)
	if err != nil {
		t.Skipf("no writable cgroups here: %v", err)
	}
	defer m.Close()
	g, err := m.NewGroup("g1", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetCPU(0.5); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill(); <-waited }()
	if err := g.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	quota := "cpu.cfs_quota_us"
	if m.Version() == 2 {
		quota = "cpu.max"
	}
	if b, _ := os.ReadFile(filepath.Join(g.cpuDir, quota)); !strings.HasPrefix(string(b), "50000") {
		t.Errorf("%s = %q", quota, b)
	}
	// The quota follows the period: half a vCPU is 10 ms in every 20 ms.
	if err := m.SetPeriod(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := g.SetCPU(0.5); err != nil {
		t.Fatal(err)
	}
	if m.Version() == 1 {
		q, _ := os.ReadFile(filepath.Join(g.cpuDir, "cpu.cfs_quota_us"))
		p, _ := os.ReadFile(filepath.Join(g.cpuDir, "cpu.cfs_period_us"))
		if strings.TrimSpace(string(q)) != "10000" || strings.TrimSpace(string(p)) != "20000" {
			t.Errorf("quota %q, period %q; want 10000 per 20000", q, p)
		}
	} else if b, _ := os.ReadFile(filepath.Join(g.cpuDir, "cpu.max")); strings.TrimSpace(string(b)) != "10000 20000" {
		t.Errorf("cpu.max = %q", b)
	}
	for _, bad := range []time.Duration{0, 500 * time.Microsecond, 2 * time.Second} {
		if err := m.SetPeriod(bad); err == nil {
			t.Errorf("SetPeriod(%s) accepted", bad)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(g.cpuDir, "cgroup.procs")); strings.TrimSpace(string(b)) != fmt.Sprint(cmd.Process.Pid) {
		t.Errorf("cgroup.procs = %q", b)
	}
	if n, err := g.OOMKills(); err != nil || n != 0 {
		t.Errorf("OOMKills = %d, %v", n, err)
	}
	if b, err := g.MaxMemoryBytes(); err != nil || b < 0 {
		t.Errorf("MaxMemoryBytes = %d, %v", b, err)
	}
	if d, err := g.CPUUsage(); err != nil && !errors.Is(err, ErrNoCPUAccounting) || d < 0 {
		t.Errorf("CPUUsage = %v, %v", d, err)
	}
	// Close kills what is left in the groups and removes them.
	dir := m.Dir()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists", dir)
	}
}

func TestParseUsageUsec(t *testing.T) {
	tests := []struct {
		stat string
		want time.Duration
		ok   bool
	}{
		{"usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n", 1500 * time.Millisecond, true},
		{"user_usec 1\n", 0, false},
		{"usage_usec x\n", 0, false},
	}
	for _, tt := range tests {
		got, err := parseUsageUsec(tt.stat)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseUsageUsec(%q) = %v, %v; want %v (ok %v)", tt.stat, got, err, tt.want, tt.ok)
		}
	}
}
