// Package acctest holds what the acceptance tests need beyond
// terraform-plugin-testing: the Terraform CLI, installed when missing, and
// working directories driven through the real CLI.
package acctest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// TerraformVersion is the Terraform CLI installed when none is found; it is
// the newest release that `go install` can build.
const TerraformVersion = "1.5.7"

// EnsureTerraformCLI finds a Terraform CLI of 1.5 or later, installing
// TerraformVersion with `go install` into a cache directory when there is
// none, and points terraform-plugin-testing at it through
// TF_ACC_TERRAFORM_PATH.
func EnsureTerraformCLI() (string, error) {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		if _, err := cliVersion(p); err != nil {
			return "", fmt.Errorf("TF_ACC_TERRAFORM_PATH=%s: %w", p, err)
		}
		return p, nil
	}
	cached := filepath.Join(cacheDir(), "terraform-"+TerraformVersion, "terraform")
	candidates := []string{cached}
	if p, err := exec.LookPath("terraform"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		if v, err := cliVersion(p); err == nil && atLeast(v, 1, 5) {
			return p, os.Setenv("TF_ACC_TERRAFORM_PATH", p)
		}
	}
	if err := goInstall("github.com/hashicorp/terraform@v"+TerraformVersion, filepath.Dir(cached)); err != nil {
		return "", err
	}
	return cached, os.Setenv("TF_ACC_TERRAFORM_PATH", cached)
}

func cacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "terraform-provider-unkey")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "terraform-provider-unkey")
	}
	return filepath.Join(os.TempDir(), "terraform-provider-unkey-cache")
}

func goInstall(pkg, dir string) error {
	fmt.Fprintf(os.Stderr, "acctest: installing %s into %s (a few minutes)...\n", pkg, dir)
	cmd := exec.Command("go", "install", pkg)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go install %s: %w", pkg, err)
	}
	return nil
}

// cliVersion asks a terraform (or tofu) binary for its version.
func cliVersion(path string) (string, error) {
	out, err := exec.Command(path, "version", "-json").Output()
	if err != nil {
		return "", err
	}
	return parseVersionJSON(out)
}

func parseVersionJSON(out []byte) (string, error) {
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.Version == "" {
		return "", errors.New("unexpected `version -json` output")
	}
	return v.Version, nil
}

// atLeast reports whether version v is major.minor or later.
func atLeast(v string, major, minor int) bool {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err1 := strconv.Atoi(parts[0])
	mnr, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return maj > major || (maj == major && mnr >= minor)
}
