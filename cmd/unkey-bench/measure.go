package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// procStats is what one measured command cost.
type procStats struct {
	Wall     time.Duration
	ExitCode int
	// Err is set when the command could not run or was killed at the
	// timeout (then TimedOut is set too); a non-zero exit alone is in
	// ExitCode.
	Err      error
	TimedOut bool
	// MemKilled is set when the command was killed for passing the memory
	// cap (Terraform and its providers together).
	MemKilled bool
	// WaitCPU is user+system time from wait4: the process and every child
	// it waited for (Terraform waits for its provider processes).
	WaitCPU time.Duration
	// WaitMaxRSSKB is wait4's ru_maxrss: the largest peak of the process
	// and its waited-for children; -1 where unavailable.
	WaitMaxRSSKB int64
	// HWMKB is the process's own peak resident set (VmHWM from
	// /proc/<pid>/status, polled); -1 where unavailable (not Linux).
	HWMKB int64
}

// hwmPollInterval is how often VmHWM is read while a command runs.
const hwmPollInterval = 50 * time.Millisecond

// limits bound one command: it is killed, with its provider processes,
// after timeout or once Terraform and its providers hold more than
// maxRSSKB together (0: no cap; Linux only).
type limits struct {
	timeout  time.Duration
	maxRSSKB int64
}

// memPollEvery is how many VmHWM polls pass between two checks of the
// memory cap, which scans /proc for the providers.
const memPollEvery = 5

// runMeasured runs cmd to completion and measures it. cmd runs in a process
// group of its own, so that killing it also kills the providers it started.
func runMeasured(cmd *exec.Cmd, lim limits) procStats {
	st := procStats{WaitMaxRSSKB: -1, HWMKB: -1}
	ownProcessGroup(cmd)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		st.Err, st.ExitCode = err, -1
		return st
	}
	running.set(cmd)
	defer running.set(nil)
	var hwm atomic.Int64
	hwm.Store(-1)
	var memKilled, timedOut atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pid := cmd.Process.Pid
		path := fmt.Sprintf("/proc/%d/status", pid)
		tick := time.NewTicker(hwmPollInterval)
		defer tick.Stop()
		for i := 0; ; i++ {
			if b, err := os.ReadFile(path); err == nil {
				if kb, ok := parseVmHWM(b); ok && kb > hwm.Load() {
					hwm.Store(kb)
				}
			}
			if lim.maxRSSKB > 0 && i%memPollEvery == 0 && treeRSSKB(pid) > lim.maxRSSKB {
				memKilled.Store(true)
				killProcessGroup(cmd)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	if lim.timeout > 0 {
		timer := time.AfterFunc(lim.timeout, func() {
			timedOut.Store(true)
			killProcessGroup(cmd)
		})
		defer timer.Stop()
	}
	err := cmd.Wait()
	st.Wall = time.Since(start)
	close(stop)
	wg.Wait()
	if timedOut.Load() || memKilled.Load() {
		killProcessGroup(cmd) // the providers a killed Terraform left behind
	}
	st.HWMKB = hwm.Load()
	if ps := cmd.ProcessState; ps != nil {
		st.ExitCode = ps.ExitCode()
		st.WaitCPU = ps.UserTime() + ps.SystemTime()
		st.WaitMaxRSSKB = maxRSSKB(ps)
	}
	var exitErr *exec.ExitError
	switch {
	case memKilled.Load():
		st.Err, st.MemKilled = fmt.Errorf("killed: Terraform and its providers passed %s", fmtMB(lim.maxRSSKB)), true
	case timedOut.Load():
		st.Err, st.TimedOut = fmt.Errorf("killed after %s", lim.timeout), true
	case err != nil && !errors.As(err, &exitErr):
		st.Err = err
	}
	return st
}

// running is the command in flight, for the interrupt handler.
var running runningCmd

type runningCmd struct {
	mu  sync.Mutex
	cmd *exec.Cmd
}

func (r *runningCmd) set(c *exec.Cmd) {
	r.mu.Lock()
	r.cmd = c
	r.mu.Unlock()
}

// kill kills the command in flight and its providers, if any.
func (r *runningCmd) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		killProcessGroup(r.cmd)
	}
}

// treeRSSKB is the resident memory of pid and its children, from /proc
// (0 where there is no /proc).
func treeRSSKB(pid int) int64 {
	total := int64(0)
	for _, p := range append(childrenOf(pid), pid) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p)); err == nil {
			if kb, ok := statusField(b, "VmRSS:"); ok {
				total += kb
			}
		}
	}
	return total
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if ppid, ok := parseStatPPID(b); ok && ppid == pid {
				out = append(out, p)
			}
		}
	}
	return out
}

// parseStatPPID reads the parent PID from /proc/<pid>/stat: "pid (comm)
// state ppid ...", where comm may itself hold spaces and parentheses.
func parseStatPPID(stat []byte) (int, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// parseVmHWM reads the VmHWM line (peak resident set, kB) of a
// /proc/<pid>/status file.
func parseVmHWM(status []byte) (int64, bool) { return statusField(status, "VmHWM:") }

// statusField reads a "Name:  123 kB" line of a /proc/<pid>/status file.
func statusField(status []byte, name string) (int64, bool) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(name))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		return kb, err == nil
	}
	return 0, false
}

// providerUsage sums what the provider processes of one command reported
// through TF_PROVIDER_UNKEY_RUSAGE_FILE (see internal/benchhooks).
type providerUsage struct {
	Procs    int
	CPU      time.Duration // user+system, summed over the processes
	MaxRSSKB int64         // the largest peak of any one process
}

// parseRusage reads the JSON lines the provider processes appended.
func parseRusage(r io.Reader) (providerUsage, error) {
	var u providerUsage
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var l struct {
			PID      *int   `json:"pid"`
			UserMS   *int64 `json:"user_ms"`
			SysMS    *int64 `json:"sys_ms"`
			MaxRSSKB *int64 `json:"max_rss_kb"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			return u, fmt.Errorf("rusage line %d: %w", n, err)
		}
		if l.PID == nil || l.UserMS == nil || l.SysMS == nil || l.MaxRSSKB == nil {
			return u, fmt.Errorf("rusage line %d: missing fields: %s", n, line)
		}
		u.Procs++
		u.CPU += time.Duration(*l.UserMS+*l.SysMS) * time.Millisecond
		u.MaxRSSKB = max(u.MaxRSSKB, *l.MaxRSSKB)
	}
	return u, sc.Err()
}

func readRusageFile(path string) (providerUsage, error) {
	f, err := os.Open(path) //nolint:gosec // a file this program named
	if errors.Is(err, os.ErrNotExist) {
		return providerUsage{}, nil
	}
	if err != nil {
		return providerUsage{}, err
	}
	defer func() { _ = f.Close() }()
	return parseRusage(f)
}
