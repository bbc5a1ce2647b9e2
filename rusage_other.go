//go:build !unix

package main

// writeRusage does nothing where getrusage is missing (Windows); see
// rusage_unix.go.
func writeRusage() {}
