//go:build benchhooks && !unix

package benchhooks

// writeRusage does nothing where getrusage is missing (Windows); see
// rusage_unix.go.
func writeRusage() {}
