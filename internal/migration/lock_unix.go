//go:build unix

package migration

import (
	"os"
	"path/filepath"
	"syscall"
)

// lockAcrossProcesses takes an exclusive lock on path (created if missing),
// waiting for other processes: terraform runs in other workspaces of the
// same directory share the journal directory. It returns the release; where
// the lock cannot be taken, the journal goes on unlocked.
func lockAcrossProcesses(path string) func() {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return func() {}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600) //nolint:gosec // the journal's lock file, named by the provider
	if err != nil {
		return func() {}
	}
	fd := int(f.Fd())
	if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return func() {}
	}
	return func() {
		_ = syscall.Flock(fd, syscall.LOCK_UN)
		_ = f.Close()
	}
}
