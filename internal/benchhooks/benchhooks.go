//go:build benchhooks

// Package benchhooks holds what cmd/unkey-bench needs from a provider
// process: a CPU profile and its CPU time and peak memory. It is compiled in
// only with `-tags benchhooks` (acctest.BuildProvider with
// ProviderBuildTags = "benchhooks", as cmd/unkey-bench does); the provider
// built by `go build`, `make install` and the release has none of it.
package benchhooks

import (
	"fmt"
	"log"
	"os"
	"runtime/pprof"
)

// Start starts the hooks that the environment asks for and returns what
// to run when the provider has served its last request:
//
//   - TF_PROVIDER_UNKEY_CPUPROFILE=prefix writes a CPU profile to
//     prefix.<pid>; Terraform starts one provider process per command, so
//     each gets its own file;
//   - TF_PROVIDER_UNKEY_MEMPROFILE=prefix writes a heap profile, with every
//     allocation the process made, to prefix.<pid> when it ends;
//   - TF_PROVIDER_UNKEY_RUSAGE_FILE=path appends the process's CPU time and
//     peak memory to path (see WriteRusage).
func Start() (stop func()) {
	stopProfile := startCPUProfile()
	return func() {
		stopProfile()
		writeMemProfile()
		WriteRusage()
	}
}

func writeMemProfile() {
	prefix := os.Getenv("TF_PROVIDER_UNKEY_MEMPROFILE")
	if prefix == "" {
		return
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid())) //nolint:gosec // a path the developer chose to profile into
	if err != nil {
		log.Printf("memory profile: %v", err)
		return
	}
	defer func() { _ = f.Close() }()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		log.Printf("memory profile: %v", err)
	}
}

func startCPUProfile() (stop func()) {
	prefix := os.Getenv("TF_PROVIDER_UNKEY_CPUPROFILE")
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid())) //nolint:gosec // a path the developer chose to profile into
	if err != nil {
		log.Printf("cpu profile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Printf("cpu profile: %v", err)
		return func() { _ = f.Close() }
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
