// Package acctest holds what the acceptance tests need beyond
// terraform-plugin-testing: the Terraform CLI, installed when missing, and
// working directories driven through the real CLI.
package acctest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	goversion "github.com/hashicorp/go-version"
)

const (
	// TerraformVersion is the Terraform CLI installed when none is found: the
	// newest release that `go install` can build (later ones are BUSL and
	// carry replace directives).
	TerraformVersion = "1.5.7"
	// MinTerraformVersion is the oldest Terraform CLI the acceptance tests
	// accept from PATH, the cache or GOPATH/bin.
	MinTerraformVersion = "1.5.0"
	// OpenTofuVersion is the OpenTofu CLI that EnsureOpenTofuCLI builds.
	OpenTofuVersion = "1.12.6"
	// MinOpenTofuVersion is the oldest OpenTofu CLI EnsureOpenTofuCLI
	// accepts from PATH.
	MinOpenTofuVersion = "1.6.0"
)

// RequireAcc skips the test unless TF_ACC is set, as terraform-plugin-testing
// does for resource.Test, for tests that drive the CLI themselves.
func RequireAcc(t testing.TB) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 to run it")
	}
}

// EnsureTerraformCLI returns a usable Terraform CLI and points
// terraform-plugin-testing at it by setting TF_ACC_TERRAFORM_PATH. (It does
// not set TF_ACC.) It uses, in order:
//
//  1. TF_ACC_TERRAFORM_PATH, when it names an executable (any version, so it
//     may point at OpenTofu);
//  2. `terraform` on PATH, when `terraform version -json` reports
//     MinTerraformVersion or later;
//  3. the cached build, ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-unkey/terraform-1.5.7/terraform;
//  4. $(go env GOPATH)/bin/terraform, when recent enough;
//  5. otherwise it builds TerraformVersion with `go install` into the cache
//     (about three minutes, once per machine; its output goes to stderr;
//     concurrent callers wait on a file lock).
func EnsureTerraformCLI() (string, error) {
	dropMissingCLIConfigFile()
	e := realCLIEnv()
	path, source := e.findTerraform()
	if path == "" {
		path = e.terraformCachePath()
		why := fmt.Sprintf("no Terraform CLI %s or later found (TF_ACC_TERRAFORM_PATH, PATH, %s, GOPATH/bin)",
			MinTerraformVersion, filepath.Dir(path))
		if err := installTerraform(path, why); err != nil {
			return "", err
		}
		source = "freshly installed"
	}
	if os.Getenv("ACCTEST_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, "acctest: using Terraform CLI %s (%s)\n", path, source)
	}
	return path, os.Setenv("TF_ACC_TERRAFORM_PATH", path)
}

// EnsureOldestTerraformCLI returns Terraform TerraformVersion, the oldest
// release the provider supports, from the cache, building it there first
// when missing, whatever CLI is on PATH: scripts/test.sh runs the provider's
// acceptance tests on it as well when the main pass used a newer CLI. Like
// EnsureOpenTofuCLI it sets no environment.
func EnsureOldestTerraformCLI() (string, error) {
	dropMissingCLIConfigFile()
	e := realCLIEnv()
	path := e.terraformCachePath()
	if v, err := e.version(path); err == nil && v == TerraformVersion {
		return path, nil
	}
	return path, installTerraform(path, "the oldest supported Terraform is not in "+filepath.Dir(path))
}

// cliEnv is what the CLI selection looks at, replaceable in tests.
type cliEnv struct {
	getenv     func(string) string
	lookPath   func(string) (string, error)
	executable func(string) bool
	// version runs `<path> version -json` and returns the version reported.
	version   func(string) (string, error)
	cacheRoot func() string
	gopathBin func() string
	warn      func(format string, args ...any)
}

func realCLIEnv() cliEnv {
	return cliEnv{
		getenv:     os.Getenv,
		lookPath:   exec.LookPath,
		executable: isExecutable,
		version:    cliVersion,
		cacheRoot:  func() string { return cacheRoot(os.Getenv, os.UserHomeDir) },
		gopathBin:  goPathBin,
		warn: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "acctest: "+format+"\n", args...)
		},
	}
}

// findTerraform returns the first usable Terraform CLI and where it came
// from, or "" when one must be installed at terraformCachePath.
func (e cliEnv) findTerraform() (path, source string) {
	if p := e.getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		if e.executable(p) {
			return p, "TF_ACC_TERRAFORM_PATH"
		}
		e.warn("ignoring TF_ACC_TERRAFORM_PATH=%s: not an executable file", p)
	}
	if p, err := e.lookPath("terraform"); err == nil && e.recentEnough(p, MinTerraformVersion) {
		return p, "PATH"
	}
	if p := e.terraformCachePath(); e.executable(p) && e.recentEnough(p, MinTerraformVersion) {
		return p, "cache"
	}
	if dir := e.gopathBin(); dir != "" {
		if p := filepath.Join(dir, "terraform"+exeSuffix()); e.executable(p) && e.recentEnough(p, MinTerraformVersion) {
			return p, "GOPATH/bin"
		}
	}
	return "", ""
}

func (e cliEnv) terraformCachePath() string {
	return filepath.Join(e.cacheRoot(), "terraform-"+TerraformVersion, "terraform"+exeSuffix())
}

func (e cliEnv) tofuCachePath() string {
	return filepath.Join(e.cacheRoot(), "tofu-"+OpenTofuVersion, "tofu"+exeSuffix())
}

func (e cliEnv) recentEnough(path, minimum string) bool {
	v, err := e.version(path)
	if err != nil {
		return false
	}
	return versionAtLeast(v, minimum)
}

// cacheRoot is the project's directory in the user's cache, shared by every
// checkout: ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-unkey.
func cacheRoot(getenv func(string) string, home func() (string, error)) string {
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "terraform-provider-unkey")
	}
	if h, err := home(); err == nil && h != "" {
		return filepath.Join(h, ".cache", "terraform-provider-unkey")
	}
	return filepath.Join(os.TempDir(), "terraform-provider-unkey-cache")
}

func goPathBin() string {
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	// GOPATH may be a list; `go install` uses the first entry's bin.
	first := strings.SplitN(strings.TrimSpace(string(out)), string(os.PathListSeparator), 2)[0]
	if first == "" {
		return ""
	}
	return filepath.Join(first, "bin")
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	return runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0
}

// cliVersion asks a terraform (or tofu) binary for its version.
func cliVersion(path string) (string, error) {
	cmd := exec.Command(path, "version", "-json")
	// Keep the user's CLI configuration warnings and checkpoint calls out.
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s version -json: %w", path, err)
	}
	return parseVersionJSON(out)
}

// parseVersionJSON reads the version from `terraform version -json` (or
// `tofu version -json`, which uses the same field). OpenTofu prints CLI
// configuration warnings on stdout before the JSON, so the JSON is taken
// from the first line that starts with "{".
func parseVersionJSON(out []byte) (string, error) {
	start := 0
	if !bytes.HasPrefix(out, []byte("{")) {
		if i := bytes.Index(out, []byte("\n{")); i >= 0 {
			start = i + 1
		}
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.NewDecoder(bytes.NewReader(out[start:])).Decode(&v); err != nil {
		return "", fmt.Errorf("unexpected `version -json` output: %w", err)
	}
	if v.Version == "" {
		return "", errors.New("unexpected `version -json` output: no terraform_version")
	}
	return v.Version, nil
}

// versionAtLeast reports whether version v is minimum or later; a
// pre-release of a later version counts (1.6.0-beta1 >= 1.5.0).
func versionAtLeast(v, minimum string) bool {
	got, err := goversion.NewVersion(v)
	if err != nil {
		return false
	}
	want := goversion.Must(goversion.NewVersion(minimum))
	return got.Core().GreaterThanOrEqual(want)
}

// installTerraform builds TerraformVersion with `go install` and puts the
// binary at target, unless another process has done so meanwhile.
// why says what the build is for.
func installTerraform(target, why string) error {
	return installLocked(target, MinTerraformVersion, func(stage string) (string, error) {
		pkg := "github.com/hashicorp/terraform@v" + TerraformVersion
		fmt.Fprintf(os.Stderr, "acctest: %s;\n"+
			"acctest: building Terraform %s with `go install %s` (about three minutes, once per machine)...\n",
			why, TerraformVersion, pkg)
		cmd := exec.Command("go", "install", pkg)
		cmd.Env = append(os.Environ(), "GOBIN="+stage, "GOFLAGS=-mod=mod", "GOWORK=off")
		if err := runWithProgress(cmd, "go install "+pkg); err != nil {
			return "", err
		}
		return filepath.Join(stage, "terraform"+exeSuffix()), nil
	})
}

// EnsureOpenTofuCLI returns an OpenTofu CLI: `tofu` on PATH when it reports
// MinOpenTofuVersion or later, else OpenTofuVersion built from source with
// the Go toolchain into ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-unkey/tofu-1.12.6/tofu
// (about four minutes, once per machine). Unlike EnsureTerraformCLI it sets
// no environment: to run the acceptance tests with it, set
// TF_ACC_TERRAFORM_PATH to the path returned (and TF_ACC_PROVIDER_HOST to
// registry.opentofu.org if the tests need OpenTofu's registry address).
func EnsureOpenTofuCLI() (string, error) {
	dropMissingCLIConfigFile()
	e := realCLIEnv()
	if p, err := e.lookPath("tofu"); err == nil && e.recentEnough(p, MinOpenTofuVersion) {
		return p, nil
	}
	target := e.tofuCachePath()
	if e.executable(target) && e.recentEnough(target, MinOpenTofuVersion) {
		return target, nil
	}
	err := installLocked(target, MinOpenTofuVersion, func(stage string) (string, error) {
		return buildOpenTofu(stage)
	})
	return target, err
}

// buildOpenTofu downloads OpenTofu's module and builds ./cmd/tofu into stage.
// OpenTofu cannot be built with `go install module@version` (its go.mod has
// replace directives), so it is built inside its module: in place in the
// read-only module cache when that works, else in a writable copy.
func buildOpenTofu(stage string) (string, error) {
	mod := "github.com/opentofu/opentofu@v" + OpenTofuVersion
	fmt.Fprintf(os.Stderr, "acctest: building OpenTofu %s from source (about four minutes, once per machine)...\n", OpenTofuVersion)
	dl := exec.Command("go", "mod", "download", "-json", mod)
	dl.Dir = os.TempDir()
	dl.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	dl.Stderr = os.Stderr
	out, err := dl.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w\n%s", mod, err, out)
	}
	var m struct {
		Dir   string
		Error string
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", mod, err)
	}
	if m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", mod, m.Error)
	}
	bin := filepath.Join(stage, "tofu"+exeSuffix())
	build := func(dir string) error {
		// dev=no makes it report 1.12.6 rather than 1.12.6-dev, as releases do.
		cmd := exec.Command("go", "build", "-ldflags=-X github.com/opentofu/opentofu/version.dev=no", "-o", bin, "./cmd/tofu")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
		return runWithProgress(cmd, "go build ./cmd/tofu")
	}
	err = build(m.Dir)
	if err == nil {
		return bin, nil
	}
	fmt.Fprintf(os.Stderr, "acctest: building in the module cache failed (%v); retrying in a writable copy\n", err)
	src := filepath.Join(stage, "src")
	if err := copyTree(m.Dir, src); err != nil {
		return "", fmt.Errorf("copying %s: %w", m.Dir, err)
	}
	if err := build(src); err != nil {
		return "", err
	}
	return bin, nil
}

// installLocked runs build, which leaves a binary in a staging directory,
// and moves that binary to target, holding a lock next to target's
// directory so that concurrent test processes build it once. If target is
// already usable once the lock is held, it does nothing.
func installLocked(target, minimum string, build func(stage string) (string, error)) error {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return fmt.Errorf("locking %s.lock: %w", dir, err)
	}
	defer unlock()

	e := realCLIEnv()
	if e.executable(target) && e.recentEnough(target, minimum) {
		return nil // another process installed it while we waited
	}
	stage, err := os.MkdirTemp(filepath.Dir(dir), ".stage-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(stage) }()
	built, err := build(stage)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Rename(built, target); err != nil {
		return err
	}
	v, err := cliVersion(target)
	if err != nil {
		return fmt.Errorf("the CLI just built does not run: %w", err)
	}
	fmt.Fprintf(os.Stderr, "acctest: installed %s (version %s)\n", target, v)
	return nil
}

// runWithProgress runs cmd with its output on stderr, printing a line every
// half minute so that a human watching knows the long build is alive.
func runWithProgress(cmd *exec.Cmd, what string) error {
	if cmd.Dir == "" {
		cmd.Dir = os.TempDir() // outside any module, so no go.mod interferes
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(30 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprintf(os.Stderr, "acctest: still running %s (%s so far)...\n", what, time.Since(start).Round(time.Second))
			}
		}
	}()
	err := cmd.Run()
	close(done)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// copyTree copies the regular files and directories under src to dst,
// making them writable (the module cache is read-only).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
}

// dropMissingCLIConfigFile unsets TF_CLI_CONFIG_FILE when it names a file
// that does not exist: both CLIs then print a warning on stdout, before the
// output of `version -json`, which breaks terraform-plugin-testing's
// version check.
func dropMissingCLIConfigFile() {
	if f := os.Getenv("TF_CLI_CONFIG_FILE"); f != "" {
		if _, err := os.Stat(f); err != nil {
			_ = os.Unsetenv("TF_CLI_CONFIG_FILE")
		}
	}
}
