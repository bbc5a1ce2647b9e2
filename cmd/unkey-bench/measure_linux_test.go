//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunMeasuredReportsExitCodeAndPeak(t *testing.T) {
	st := runMeasured(exec.Command("sh", "-c", "sleep 0.2; exit 3"), limits{timeout: time.Minute})
	if st.Err != nil || st.ExitCode != 3 {
		t.Fatalf("err %v, exit %d; want exit 3 and no error", st.Err, st.ExitCode)
	}
	if st.HWMKB <= 0 || st.WaitMaxRSSKB <= 0 || st.Wall < 200*time.Millisecond {
		t.Errorf("peak %d kB, wait4 %d kB, wall %s: not measured", st.HWMKB, st.WaitMaxRSSKB, st.Wall)
	}
}

// A command killed at the timeout takes its children along, as Terraform's
// providers must not outlive a killed Terraform.
func TestRunMeasuredKillsTheWholeGroupAtTheTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child")
	cmd := exec.Command("sh", "-c", `sleep 60 & echo $! > "$0"; wait`, pidFile)
	st := runMeasured(cmd, limits{timeout: 300 * time.Millisecond})
	if !st.TimedOut || st.Err == nil || st.Wall > 10*time.Second {
		t.Fatalf("timed out %v, err %v, wall %s", st.TimedOut, st.Err, st.Wall)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(5 * time.Second)
	for alive(child) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still running after its parent was killed", child)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRunMeasuredKillsAtTheMemoryCap(t *testing.T) {
	st := runMeasured(exec.Command("sleep", "30"), limits{timeout: time.Minute, maxRSSKB: 1})
	if !st.MemKilled || st.Err == nil || st.Wall > 10*time.Second {
		t.Fatalf("mem killed %v, err %v, wall %s", st.MemKilled, st.Err, st.Wall)
	}
}

// alive reports whether pid runs (a zombie counts as dead).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || !strings.HasPrefix(strings.TrimSpace(string(b[i+1:])), "Z")
}
