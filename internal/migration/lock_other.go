//go:build !unix

package migration

// lockAcrossProcesses does not lock where flock is unavailable; within one
// process, the journal's mutex still serialises its users.
func lockAcrossProcesses(string) func() { return func() {} }
