//go:build !unix

package main

import (
	"os"
	"os/exec"
)

// maxRSSKB is unavailable without wait4.
func maxRSSKB(*os.ProcessState) int64 { return -1 }

func ownProcessGroup(*exec.Cmd) {}

// killProcessGroup kills Terraform only: its providers exit when it does.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
