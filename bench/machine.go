package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FreePorts returns n distinct loopback TCP ports that are free, each
// together with port+offset (dynago's cluster port is the client port +
// 10000; pass 0 when there is no second port).
//
// Ports come from below the kernel's ephemeral range: a port picked there
// could be taken as the source port of one of redis-benchmark's outgoing
// connections between this check and the server's bind.
func FreePorts(n, offset int) ([]int, error) {
	lo, hi := 10000, ephemeralLow()-offset
	if hi-lo < 100 {
		lo, hi = 1024, 65536-offset
	}
	taken := map[int]bool{}
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			return nil, fmt.Errorf("bench: found only %d free port pairs of %d in %d..%d", len(ports), n, lo, hi)
		}
		p := lo + rand.IntN(hi-lo)
		if taken[p] || taken[p+offset] || !portFree(p) || offset != 0 && !portFree(p+offset) {
			continue
		}
		taken[p], taken[p+offset] = true, true
		ports = append(ports, p)
	}
	return ports, nil
}

func portFree(p int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768 if
// it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

// CPUModel returns the first "model name" of /proc/cpuinfo's text.
func CPUModel(cpuinfo string) string {
	sc := bufio.NewScanner(strings.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// Memory is a process's resident set, in bytes.
type Memory struct {
	RSS  int64 // VmRSS: now
	Peak int64 // VmHWM: the high-water mark
}

// ParseProcStatus reads VmRSS and VmHWM from /proc/<pid>/status text.
func ParseProcStatus(status string) (Memory, error) {
	var m Memory
	var found int
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != "VmRSS" && k != "VmHWM" {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("bench: /proc status line %q: want N kB", sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("bench: /proc status line %q: %v", sc.Text(), err)
		}
		if k == "VmRSS" {
			m.RSS = n * 1024
		} else {
			m.Peak = n * 1024
		}
		found++
	}
	if found == 0 {
		return m, fmt.Errorf("bench: no VmRSS in /proc status (process gone?)")
	}
	return m, nil
}

// ReadMemory reads a running process's memory from /proc.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	return ParseProcStatus(string(b))
}

// ClockTicks is the unit of utime and stime in /proc/PID/stat, per second:
// USER_HZ, sysconf(_SC_CLK_TCK), which Linux fixes at 100 on every
// architecture whatever the kernel's internal HZ.
const ClockTicks = 100

// ParseProcStat returns utime+stime, in clock ticks, from the text of
// /proc/PID/stat. The second field, comm, is the executable's name in
// parentheses and may itself hold spaces and parentheses, so the fields
// are counted after the last ')': state is field 3, utime 14, stime 15.
func ParseProcStat(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: /proc stat %q: no ')' after comm", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: /proc stat %q: %d fields after comm, want at least 13", stat, len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("bench: /proc stat utime/stime: %v", err)
	}
	return utime + stime, nil
}

// ReadCPU returns the CPU time a running process has used, user and
// system, all its threads together, at the 10 ms resolution of ClockTicks.
func ReadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	ticks, err := ParseProcStat(string(b))
	return time.Duration(ticks) * (time.Second / ClockTicks), err
}

// DirSize is the total apparent size of the regular files under dir.
func DirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// MB formats a byte count in MiB.
func MB(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// Machine describes where a run happened, for the report.
type Machine struct {
	CPUs     int
	CPUModel string
	Kernel   string
	Commit   string // git describe of the checkout, "+dirty" when modified
}

// DescribeMachine gathers the machine facts; missing ones read "unknown".
func DescribeMachine(cpus int, repoDir string) Machine {
	m := Machine{CPUs: cpus, CPUModel: "unknown", Kernel: "unknown", Commit: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = CPUModel(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("git", "-C", repoDir, "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
		// Modified tracked files make the commit dirty; untracked ones
		// (results, logs) do not.
		st, err := exec.Command("git", "-C", repoDir, "status", "--porcelain", "--untracked-files=no").Output()
		if err == nil && len(strings.TrimSpace(string(st))) > 0 {
			m.Commit += "+dirty"
		}
	}
	return m
}
