package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchTB lets this program use internal/acctest's helpers (BuildProvider,
// NewWorkdir), which take a testing.TB. They call only Helper, Fatal,
// Fatalf and TempDir, implemented here; any other method would hit the nil
// embedded interface and panic, which guard turns into an error like Fatal.
type benchTB struct {
	testing.TB
	root string // TempDir makes directories here
	next string // the name TempDir gives its next directory
}

// tbFatal is what Fatal and Fatalf panic with.
type tbFatal struct{ msg string }

func (b *benchTB) Helper()                   {}
func (b *benchTB) Fatal(args ...any)         { panic(tbFatal{fmt.Sprint(args...)}) }
func (b *benchTB) Fatalf(f string, a ...any) { panic(tbFatal{fmt.Sprintf(f, a...)}) }

func (b *benchTB) TempDir() string {
	dir := filepath.Join(b.root, b.next)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	return dir
}

// guard runs f, turning a Fatal (or any panic) inside it into an error.
func guard(f func()) (err error) {
	defer func() {
		switch p := recover().(type) {
		case nil:
		case tbFatal:
			err = fmt.Errorf("%s", p.msg)
		default:
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	f()
	return nil
}
