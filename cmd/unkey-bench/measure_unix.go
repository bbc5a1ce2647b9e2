//go:build unix

package main

import (
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
