//go:build !unix

package acctest

// lockFile does not lock where flock is unavailable: installs stay correct
// (the binary is built in a staging directory and renamed into place), only
// possibly duplicated.
func lockFile(string) (func(), error) { return func() {}, nil }
