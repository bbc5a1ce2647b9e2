//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// maxRSSKB is wait4's ru_maxrss in kilobytes.
func maxRSSKB(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return -1
	}
	kb := int64(ru.Maxrss) //nolint:unconvert // int32 on some platforms
	if runtime.GOOS == "darwin" {
		kb /= 1024 // bytes there
	}
	return kb
}

// ownProcessGroup makes cmd the leader of a new process group, which its
// children (the providers) join.
func ownProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// killProcessGroup kills cmd's process group: Terraform and its providers.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// writeOwnRusage appends this process's CPU time and peak memory to
// $TF_PROVIDER_UNKEY_RUSAGE_FILE in the provider's format (see
// internal/benchhooks), for the schema floor provider.
func writeOwnRusage() {
	path := os.Getenv("TF_PROVIDER_UNKEY_RUSAGE_FILE")
	if path == "" {
		return
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return
	}
	peak := int64(-1)
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		if kb, ok := parseVmHWM(b); ok {
			peak = kb
		}
	}
	if peak < 0 {
		peak = int64(ru.Maxrss) //nolint:unconvert // int32 on some platforms
		if runtime.GOOS == "darwin" {
			peak /= 1024 // bytes there
		}
	}
	line := fmt.Sprintf("{\"pid\":%d,\"user_ms\":%d,\"sys_ms\":%d,\"max_rss_kb\":%d}\n",
		os.Getpid(), ru.Utime.Nano()/1e6, ru.Stime.Nano()/1e6, peak)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600) //nolint:gosec // a path the benchmark chose
	if err != nil {
		return
	}
	_, _ = f.WriteString(line)
	_ = f.Close()
}
