//go:build !unix

package benchhooks

// WriteRusage does nothing where getrusage is missing (Windows); see
// rusage_unix.go.
func WriteRusage() {}
