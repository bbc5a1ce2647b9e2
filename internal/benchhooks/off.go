//go:build !benchhooks

// Package benchhooks holds the benchmark's hooks into a provider process,
// compiled in only with `-tags benchhooks`; see benchhooks.go.
package benchhooks

// Start does nothing without the benchhooks build tag.
func Start() (stop func()) { return func() {} }
