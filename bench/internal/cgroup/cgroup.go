// Package cgroup confines groups of processes with Linux control groups: a CPU quota (CFS bandwidth)
// and a memory limit per group, under one parent group that is removed when the owner closes it.
//
// Both cgroup v1 (separate cpu and memory hierarchies, as on most VMs and older hosts) and cgroup v2
// (the unified hierarchy) are supported. Groups are created below the calling process's own cgroup,
// so delegated hierarchies (containers, systemd user slices) work when they grant write access.
package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultPeriod is the CFS bandwidth period of a Manager's groups until
// SetPeriod changes it: the kernel's own default.
const DefaultPeriod = 100 * time.Millisecond

// The kernel's bounds for cpu.cfs_period_us (and cpu.max's period).
const (
	MinPeriod = time.Millisecond
	MaxPeriod = time.Second
)

// Manager owns a parent control group (one directory per controller hierarchy) and the groups
// created below it. It is safe for concurrent use.
type Manager struct {
	version int      // 1 or 2
	cpuDir  string   // v1: parent in the cpu hierarchy; v2: the parent group
	memDir  string   // v1: parent in the memory hierarchy; v2: same as cpuDir
	dirs    []string // parent directories to remove at Close, deepest last

	mu       sync.Mutex
	groups   map[*Group]struct{}
	closed   bool
	periodUS int64 // the CFS period of every group's quota, in microseconds
}

// Group is one control group (one per execution environment): processes added to it share its
// CPU quota and memory limit.
type Group struct {
	m      *Manager
	cpuDir string
	memDir string
}

// New creates the parent group named name, "<prefix>-<pid>" or "<prefix>-<pid>.<n>" (e.g.
// "locallambda-1234.1"), below the calling process's own cgroup, for the cpu and memory
// controllers. It fails when the machine has no writable cgroup hierarchy with both controllers;
// callers then run unconfined. Leftover parents with the same prefix whose process is gone (it was
// killed before it could remove them) are removed first.
func New(name string) (*Manager, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read own cgroup: %w", err)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	v1 := parseV1(string(self), string(mounts))
	if v1.cpu != "" && v1.mem != "" {
		return newV1(name, v1.cpu, v1.mem)
	}
	if v2 := parseV2(string(self), string(mounts)); v2 != "" {
		return newV2(name, v2)
	}
	return nil, errors.New("no cgroup hierarchy with the cpu and memory controllers is mounted")
}

func newV1(name, cpuBase, memBase string) (*Manager, error) {
	m := &Manager{version: 1, groups: map[*Group]struct{}{}, periodUS: DefaultPeriod.Microseconds()}
	sweepStale(cpuBase, name)
	sweepStale(memBase, name)
	m.cpuDir = filepath.Join(cpuBase, name)
	m.memDir = filepath.Join(memBase, name)
	for _, d := range []string{m.cpuDir, m.memDir} {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			m.Close()
			return nil, fmt.Errorf("create cgroup %s: %w", d, err)
		}
		m.dirs = append(m.dirs, d)
	}
	// Probe that the files we need are there and writable.
	if err := writeFile(m.cpuDir, "cpu.cfs_quota_us", "-1"); err != nil {
		m.Close()
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(m.memDir, "memory.limit_in_bytes")); err != nil {
		m.Close()
		return nil, fmt.Errorf("memory controller: %w", err)
	}
	return m, nil
}

func newV2(name, base string) (*Manager, error) {
	m := &Manager{version: 2, groups: map[*Group]struct{}{}, periodUS: DefaultPeriod.Microseconds()}
	sweepStale(base, name)
	// Controllers must be enabled in the subtree of the group that holds our new parent.
	if err := enableControllers(base); err != nil {
		return nil, err
	}
	dir := filepath.Join(base, name)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	m.dirs = append(m.dirs, dir)
	m.cpuDir, m.memDir = dir, dir
	if err := enableControllers(dir); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func enableControllers(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return fmt.Errorf("read subtree_control: %w", err)
	}
	have := strings.Fields(string(b))
	var want []string
	for _, c := range []string{"cpu", "memory"} {
		if !contains(have, c) {
			want = append(want, "+"+c)
		}
	}
	if len(want) == 0 {
		return nil
	}
	return writeFile(dir, "cgroup.subtree_control", strings.Join(want, " "))
}

// Version is the cgroup version in use: 1 or 2.
func (m *Manager) Version() int { return m.version }

// Dir is the parent group's directory (the cpu hierarchy's, under cgroup v1).
func (m *Manager) Dir() string { return m.cpuDir }

// NewGroup creates a group below the parent with the given memory limit (0 = none) and no CPU quota.
func (m *Manager) NewGroup(name string, memoryLimitBytes int64) (*Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("cgroup manager closed")
	}
	g := &Group{m: m, cpuDir: filepath.Join(m.cpuDir, name), memDir: filepath.Join(m.memDir, name)}
	if err := os.Mkdir(g.cpuDir, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup %s: %w", g.cpuDir, err)
	}
	if g.memDir != g.cpuDir {
		if err := os.Mkdir(g.memDir, 0o755); err != nil {
			_ = os.Remove(g.cpuDir)
			return nil, fmt.Errorf("create cgroup %s: %w", g.memDir, err)
		}
	}
	if memoryLimitBytes > 0 {
		if err := g.setMemory(memoryLimitBytes); err != nil {
			for _, d := range uniq(g.cpuDir, g.memDir) {
				_ = os.Remove(d)
			}
			return nil, err
		}
	}
	m.groups[g] = struct{}{}
	return g, nil
}

// Close removes every group and the parent. Processes still in them are killed first.
// It is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	groups := make([]*Group, 0, len(m.groups))
	for g := range m.groups {
		groups = append(groups, g)
	}
	m.closed = true
	m.mu.Unlock()
	var errs []error
	for _, g := range groups {
		errs = append(errs, g.Remove())
	}
	for i := len(m.dirs) - 1; i >= 0; i-- {
		errs = append(errs, removeDir(m.dirs[i]))
	}
	m.dirs = nil
	return errors.Join(errs...)
}

func (g *Group) setMemory(limit int64) error {
	v := strconv.FormatInt(limit, 10)
	if g.m.version == 1 {
		if err := writeFile(g.memDir, "memory.limit_in_bytes", v); err != nil {
			return err
		}
		// Without swap accounting the file is absent; with it, forbid swapping past the limit.
		if _, err := os.Stat(filepath.Join(g.memDir, "memory.memsw.limit_in_bytes")); err == nil {
			_ = writeFile(g.memDir, "memory.memsw.limit_in_bytes", v)
		}
		return nil
	}
	if err := writeFile(g.memDir, "memory.max", v); err != nil {
		return err
	}
	_ = writeFile(g.memDir, "memory.swap.max", "0")
	return nil
}

// Add moves a process (all its threads) into the group.
func (g *Group) Add(pid int) error {
	p := strconv.Itoa(pid)
	if err := writeFile(g.cpuDir, "cgroup.procs", p); err != nil {
		return err
	}
	if g.memDir != g.cpuDir {
		return writeFile(g.memDir, "cgroup.procs", p)
	}
	return nil
}

// SetPeriod sets the CFS bandwidth period of the quotas SetCPU sets from
// now on: a group gets its quota of CPU time in every period and waits for
// the next one once it has used it, so the period decides how long those
// waits are. It must lie within MinPeriod and MaxPeriod.
func (m *Manager) SetPeriod(d time.Duration) error {
	if d < MinPeriod || d > MaxPeriod {
		return fmt.Errorf("CPU period %s: the kernel takes %s to %s", d, MinPeriod, MaxPeriod)
	}
	m.mu.Lock()
	m.periodUS = d.Microseconds()
	m.mu.Unlock()
	return nil
}

// Period is the CFS bandwidth period of the groups' quotas.
func (m *Manager) Period() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return time.Duration(m.periodUS) * time.Microsecond
}

// SetCPU sets the group's CPU quota in vCPUs (e.g. 0.868 = 17.4 ms of CPU time in every 20 ms
// period); vcpus <= 0 removes the quota.
func (g *Group) SetCPU(vcpus float64) error {
	g.m.mu.Lock()
	period := g.m.periodUS
	g.m.mu.Unlock()
	quota := int64(-1)
	if vcpus > 0 {
		quota = max(int64(math.Round(vcpus*float64(period))), 1000) // the kernel's smallest quota: 1 ms
	}
	p := strconv.FormatInt(period, 10)
	if g.m.version == 1 {
		// The kernel checks each write against the other value: lift the quota, set the
		// period, then the new quota.
		if err := writeFile(g.cpuDir, "cpu.cfs_quota_us", "-1"); err != nil {
			return err
		}
		if err := writeFile(g.cpuDir, "cpu.cfs_period_us", p); err != nil {
			return err
		}
		return writeFile(g.cpuDir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10))
	}
	v := "max " + p
	if quota > 0 {
		v = strconv.FormatInt(quota, 10) + " " + p
	}
	return writeFile(g.cpuDir, "cpu.max", v)
}

// SetWeight sets the group's CPU weight under contention to that of vcpus busy threads
// (cgroup v1 cpu.shares = 1024 per vCPU; v2 cpu.weight = 100 per vCPU). Without it a group,
// however many threads it runs, weighs as much as one thread of a process outside it.
func (g *Group) SetWeight(vcpus float64) error {
	return setWeight(g.m.version, g.cpuDir, vcpus)
}

// SetWeight sets the parent group's CPU weight: all groups together compete with the rest of
// the machine like vcpus busy threads.
func (m *Manager) SetWeight(vcpus float64) error {
	return setWeight(m.version, m.cpuDir, vcpus)
}

func setWeight(version int, dir string, vcpus float64) error {
	if version == 1 {
		shares := min(max(int64(math.Round(1024*vcpus)), 2), 262144)
		return writeFile(dir, "cpu.shares", strconv.FormatInt(shares, 10))
	}
	weight := min(max(int64(math.Round(100*vcpus)), 1), 10000)
	return writeFile(dir, "cpu.weight", strconv.FormatInt(weight, 10))
}

// MaxMemoryBytes is the group's peak memory use so far.
func (g *Group) MaxMemoryBytes() (int64, error) {
	name := "memory.max_usage_in_bytes"
	if g.m.version == 2 {
		name = "memory.peak"
	}
	b, err := os.ReadFile(filepath.Join(g.memDir, name))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// HasCPUAccounting reports whether groups keep a CPU usage counter (see CPUUsage).
func (m *Manager) HasCPUAccounting() bool {
	if m.version == 2 {
		return true
	}
	_, err := os.Stat(filepath.Join(m.cpuDir, "cpuacct.usage"))
	return err == nil
}

// ErrNoCPUAccounting is returned by CPUUsage when the group's hierarchy keeps no CPU usage counter
// (cgroup v1 with cpuacct mounted apart from cpu).
var ErrNoCPUAccounting = errors.New("no CPU accounting in the cpu hierarchy (cpuacct mounted separately)")

// CPUUsage is the CPU time the group's processes have used since it was created: cgroup v2
// cpu.stat usage_usec, or cgroup v1 cpuacct.usage where cpuacct shares the cpu hierarchy.
func (g *Group) CPUUsage() (time.Duration, error) {
	if g.m.version == 2 {
		b, err := os.ReadFile(filepath.Join(g.cpuDir, "cpu.stat"))
		if err != nil {
			return 0, fmt.Errorf("read cpu.stat: %w", err)
		}
		return parseUsageUsec(string(b))
	}
	b, err := os.ReadFile(filepath.Join(g.cpuDir, "cpuacct.usage"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, ErrNoCPUAccounting
	}
	if err != nil {
		return 0, fmt.Errorf("read cpuacct.usage: %w", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cpuacct.usage: %w", err)
	}
	return time.Duration(ns), nil
}

// parseUsageUsec reads usage_usec from a cgroup v2 cpu.stat.
func parseUsageUsec(stat string) (time.Duration, error) {
	for line := range strings.SplitSeq(stat, "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("cpu.stat usage_usec: %w", err)
			}
			return time.Duration(us) * time.Microsecond, nil
		}
	}
	return 0, errors.New("cpu.stat has no usage_usec")
}

// OOMKills is how many processes of the group the kernel killed for exceeding the memory limit.
func (g *Group) OOMKills() (int, error) {
	name := "memory.oom_control"
	if g.m.version == 2 {
		name = "memory.events"
	}
	b, err := os.ReadFile(filepath.Join(g.memDir, name))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, nil
}

// Remove kills any process left in the group and removes it. It is idempotent.
func (g *Group) Remove() error {
	g.m.mu.Lock()
	delete(g.m.groups, g)
	g.m.mu.Unlock()
	var errs []error
	for _, d := range uniq(g.cpuDir, g.memDir) {
		killAll(d)
		errs = append(errs, removeDir(d))
	}
	return errors.Join(errs...)
}

func killAll(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for f := range strings.FieldsSeq(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeDir removes a cgroup directory, retrying briefly while killed processes are being reaped.
func removeDir(dir string) error {
	var err error
	for range 50 {
		err = os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) {
			break
		}
		killAll(dir)
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup: %w", err)
}

// sweepStale removes empty leftover parents "<prefix>-<pid>[.<n>]" (with their empty children) whose
// owning process no longer exists: a parent killed with SIGKILL cannot remove its groups itself.
func sweepStale(base, name string) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return
	}
	prefix := name[:i+1]
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() || e.Name() == name {
			continue
		}
		pidText, _, _ := strings.Cut(rest, ".")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) == nil {
			continue
		}
		dir := filepath.Join(base, e.Name())
		children, _ := os.ReadDir(dir)
		for _, c := range children {
			if c.IsDir() {
				_ = os.Remove(filepath.Join(dir, c.Name()))
			}
		}
		_ = os.Remove(dir)
	}
}

type v1Dirs struct{ cpu, mem string }

// parseV1 finds, for the cpu and memory controllers, the directory of the caller's own group in
// each v1 hierarchy.
func parseV1(self, mountinfo string) v1Dirs {
	own := map[string]string{} // controller -> own path
	for line := range strings.SplitSeq(self, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || parts[0] == "0" {
			continue
		}
		for c := range strings.SplitSeq(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	var d v1Dirs
	for _, mnt := range parseMounts(mountinfo) {
		if mnt.fstype != "cgroup" {
			continue
		}
		for _, opt := range strings.Split(mnt.super, ",") {
			if opt != "cpu" && opt != "memory" {
				continue
			}
			p, ok := own[opt]
			if !ok {
				continue
			}
			rel, err := filepath.Rel(mnt.root, p)
			if err != nil || strings.HasPrefix(rel, "..") {
				rel = "."
			}
			dir := filepath.Join(mnt.point, rel)
			if opt == "cpu" {
				d.cpu = dir
			} else {
				d.mem = dir
			}
		}
	}
	return d
}

// parseV2 finds the caller's own group in a unified hierarchy with the cpu and memory controllers.
func parseV2(self, mountinfo string) string {
	own := ""
	for line := range strings.SplitSeq(self, "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			own = p
		}
	}
	if own == "" {
		return ""
	}
	for _, mnt := range parseMounts(mountinfo) {
		if mnt.fstype != "cgroup2" {
			continue
		}
		rel, err := filepath.Rel(mnt.root, own)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = "."
		}
		dir := filepath.Join(mnt.point, rel)
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
		if err != nil {
			continue
		}
		ctl := strings.Fields(string(b))
		if contains(ctl, "cpu") && contains(ctl, "memory") {
			return dir
		}
	}
	return ""
}

type mount struct{ root, point, fstype, super string }

func parseMounts(mountinfo string) []mount {
	var out []mount
	sc := bufio.NewScanner(strings.NewReader(mountinfo))
	for sc.Scan() {
		// id parent major:minor root point options [optional...] - fstype source super
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		out = append(out, mount{root: f[3], point: f[4], fstype: g[0], super: g[2]})
	}
	return out
}

func writeFile(dir, name, value string) error {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}
