package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ThreadID returns the id of the OS thread the calling goroutine runs on
// (gettid). It is only meaningful for a goroutine locked to its thread with
// runtime.LockOSThread; otherwise the goroutine may move at any moment.
func ThreadID() int { return syscall.Gettid() }

// ResidentKB returns the resident set size of the process in KiB, from the
// second field of /proc/self/statm (resident pages).
func ResidentKB() (int64, error) {
	// Plain syscalls into a stack buffer: os.ReadFile's stat and growing
	// buffer triple the cost of this call, which every batch makes.
	fd, err := syscall.Open("/proc/self/statm", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("open statm: %w", err)
	}
	var buf [128]byte
	n, err := syscall.Read(fd, buf[:])
	syscall.Close(fd)
	if err != nil {
		return 0, fmt.Errorf("read statm: %w", err)
	}
	b := buf[:max(n, 0)]
	// size resident shared text lib data dt, in pages
	_, rest, ok := bytes.Cut(b, []byte{' '})
	resident, _, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok || !ok2 {
		return 0, fmt.Errorf("parse statm %q: too few fields", b)
	}
	pages, err := strconv.ParseInt(string(resident), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse statm resident pages: %w", err)
	}
	return pages * int64(os.Getpagesize()) / 1024, nil
}

// CPUTime returns the user plus system CPU time consumed so far by all threads
// of the process (getrusage RUSAGE_SELF).
func CPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// cgroupCPUQuota returns the smallest CPU bandwidth limit (in CPUs) on the
// path from the process's cgroup to the root of the cpu controller's
// hierarchy, for cgroup v1 (cpu.cfs_quota_us ÷ cpu.cfs_period_us) and v2
// (cpu.max). It returns 0 when there is no limit or it cannot be read.
func cgroupCPUQuota() float64 {
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return 0
	}
	return quotaFromFS(os.DirFS("/"), cg, mi)
}

// quotaFromFS does the work of cgroupCPUQuota on root, a file system rooted at
// "/", given the contents of /proc/self/cgroup and /proc/self/mountinfo.
func quotaFromFS(root fs.FS, procCgroup, mountinfo []byte) float64 {
	read := func(p string) (string, bool) {
		b, err := fs.ReadFile(root, strings.TrimPrefix(p, "/"))
		if err != nil {
			return "", false
		}
		return strings.TrimSpace(string(b)), true
	}
	mounts := parseMountinfo(mountinfo)
	best := 0.0
	consider := func(q float64) {
		if q > 0 && (best == 0 || q < best) {
			best = q
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(procCgroup)), "\n") {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		v2 := parts[0] == "0" && parts[1] == ""
		if !v2 && !hasController(parts[1], "cpu") {
			continue
		}
		for _, m := range mounts {
			if v2 != (m.fstype == "cgroup2") || (!v2 && !hasController(m.options, "cpu")) {
				continue
			}
			rel, err := relPath(m.root, parts[2])
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			for dir := path.Join(m.point, rel); ; dir = path.Dir(dir) {
				if v2 {
					if s, ok := read(path.Join(dir, "cpu.max")); ok {
						consider(parseCPUMax(s))
					}
				} else {
					q, ok1 := read(path.Join(dir, "cpu.cfs_quota_us"))
					p, ok2 := read(path.Join(dir, "cpu.cfs_period_us"))
					if ok1 && ok2 {
						consider(ratio(q, p))
					}
				}
				if dir == m.point || dir == "/" || dir == "." {
					break
				}
			}
		}
	}
	return best
}

type mount struct{ root, point, fstype, options string }

// parseMountinfo returns the cgroup and cgroup2 mounts listed in /proc/self/mountinfo.
func parseMountinfo(b []byte) []mount {
	var out []mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		out = append(out, mount{root: f[3], point: f[4], fstype: g[0], options: g[2]})
	}
	return out
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// parseCPUMax parses cgroup v2 cpu.max ("max 100000" or "50000 100000").
func parseCPUMax(s string) float64 {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0
	}
	return ratio(f[0], f[1])
}

func ratio(quota, period string) float64 {
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0
	}
	return q / p
}

// relPath returns target relative to base (both absolute, slash-separated),
// or an error when target is not inside base.
func relPath(base, target string) (string, error) {
	base, target = path.Clean(base), path.Clean(target)
	if base == target {
		return ".", nil
	}
	prefix := strings.TrimSuffix(base, "/") + "/"
	if !strings.HasPrefix(target, prefix) {
		return "", fmt.Errorf("%s is not under %s", target, base)
	}
	return strings.TrimPrefix(target, prefix), nil
}
