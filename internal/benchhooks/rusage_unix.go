//go:build unix

package benchhooks

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// WriteRusage appends this process's CPU time and peak memory as
// one JSON line to $TF_PROVIDER_UNKEY_RUSAGE_FILE, when that variable is set:
//
//	{"pid":123,"user_ms":456,"sys_ms":78,"max_rss_kb":91011}
//
// cmd/unkey-bench reads it; Terraform starts several provider processes per
// command, each appends its own line (one write, so lines never interleave).
// Unlike the rest of the package it is built without the benchhooks tag, for
// cmd/unkey-bench's own schema floor provider; the provider calls it only
// through Start.
func WriteRusage() {
	path := os.Getenv("TF_PROVIDER_UNKEY_RUSAGE_FILE")
	if path == "" {
		return
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Printf("rusage: %v", err)
		return
	}
	line := fmt.Sprintf("{\"pid\":%d,\"user_ms\":%d,\"sys_ms\":%d,\"max_rss_kb\":%d}\n",
		os.Getpid(), ru.Utime.Nano()/1e6, ru.Stime.Nano()/1e6, peakRSSKB(&ru))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600) //nolint:gosec // a path the developer chose
	if err != nil {
		log.Printf("rusage: %v", err)
		return
	}
	if _, err := f.WriteString(line); err != nil {
		log.Printf("rusage: %v", err)
	}
	_ = f.Close()
}

// peakRSSKB is this process's peak resident set in kilobytes. On Linux it
// is VmHWM from /proc/self/status: ru_maxrss there also counts the address
// space the process had before exec, which for a child of a Go program
// (Terraform starts providers with vfork) is its parent's, so a provider
// started by a 1 GB Terraform would report at least 1 GB.
func peakRSSKB(ru *syscall.Rusage) int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range bytes.Lines(b) {
			if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
				f := bytes.Fields(rest)
				if len(f) == 2 && string(f[1]) == "kB" {
					if kb, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
						return kb
					}
				}
			}
		}
	}
	kb := int64(ru.Maxrss) //nolint:unconvert // int32 on some platforms
	if runtime.GOOS == "darwin" {
		kb /= 1024 // bytes there, kilobytes elsewhere
	}
	return kb
}
