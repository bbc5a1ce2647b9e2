package acctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ProviderAddress is the provider's registry address.
const ProviderAddress = "registry.terraform.io/unkeyed/unkey"

// ProviderDirEnv names a directory holding an already built
// terraform-provider-unkey that BuildProvider uses instead of building one:
// scripts/test.sh builds the provider once and shares it with every test
// process and every CLI's pass.
const ProviderDirEnv = "ACCTEST_PROVIDER_DIR"

// ProviderBuildTags are the build tags BuildProvider builds with;
// cmd/unkey-bench sets "benchhooks" (see internal/benchhooks). With tags
// set, ProviderDirEnv is ignored: the shared binary has none.
var ProviderBuildTags string

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// BuildProvider builds the provider binary once per test process (or takes
// the one in $ACCTEST_PROVIDER_DIR) and returns the directory holding it,
// for dev_overrides.
func BuildProvider(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if dir := os.Getenv(ProviderDirEnv); dir != "" && ProviderBuildTags == "" {
			buildDir = dir
			if !isExecutable(filepath.Join(dir, "terraform-provider-unkey"+exeSuffix())) {
				buildErr = fmt.Errorf("%s=%s holds no terraform-provider-unkey binary", ProviderDirEnv, dir)
			}
			return
		}
		// Shared by every test of the process, so not a t.TempDir.
		buildDir, buildErr = os.MkdirTemp("", "terraform-provider-unkey-bin-") //nolint:usetesting
		if buildErr != nil {
			return
		}
		buildErr = buildProviderInto(buildDir)
	})
	if buildErr != nil {
		t.Fatalf("building the provider: %v", buildErr)
	}
	return buildDir
}

func buildProviderInto(dir string) error {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return err
	}
	args := []string{"build", "-o", filepath.Join(dir, "terraform-provider-unkey"+exeSuffix())}
	if ProviderBuildTags != "" {
		args = append(args, "-tags", ProviderBuildTags)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = strings.TrimSpace(string(root))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out.String())
	}
	return nil
}

// Workdir is a Terraform working directory driven through the real CLI with
// the freshly built provider, for scenarios terraform-plugin-testing cannot
// express (untaint, interrupts).
type Workdir struct {
	t   testing.TB
	Dir string
	env []string
}

// NewWorkdir makes an empty working directory whose CLI configuration points
// the provider's address at pluginDir.
func NewWorkdir(t testing.TB, pluginDir string) *Workdir {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraform.rc")
	// Both registries' addresses: OpenTofu resolves "unkeyed/unkey" to its own.
	cfg := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n    %q = %q\n  }\n  direct {}\n}\n",
		ProviderAddress, pluginDir, "registry.opentofu.org/unkeyed/unkey", pluginDir)
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	providers := fmt.Sprintf("terraform {\n  required_providers {\n    unkey = { source = %q }\n  }\n}\n", ProviderAddress)
	if err := os.WriteFile(filepath.Join(dir, "providers.tf"), []byte(providers), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0")
	return &Workdir{t: t, Dir: dir, env: env}
}

// SetEnv adds an environment variable to every command.
func (w *Workdir) SetEnv(key, value string) { w.env = append(w.env, key+"="+value) }

// WriteFile writes one file of the configuration.
func (w *Workdir) WriteFile(name, content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.Dir, name), []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// SupportsProviderFunctions reports whether the CLI has provider-defined
// functions: Terraform 1.8+, or OpenTofu (1.7+; only 1.12+ is built here).
func (w *Workdir) SupportsProviderFunctions() bool {
	out, err := w.Command("version", "-json").Output()
	if err != nil {
		return false
	}
	v, err := parseVersionJSON(out)
	if err != nil {
		return false
	}
	// OpenTofu has had them since 1.7; its version numbers are below 1.8 only there.
	tofu, _ := w.Command("version").Output()
	return strings.Contains(string(tofu), "OpenTofu") && versionAtLeast(v, "1.7.0") || versionAtLeast(v, "1.8.0")
}

// WriteConfig replaces the configuration.
func (w *Workdir) WriteConfig(hcl string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.Dir, "main.tf"), []byte(hcl), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// Command builds a terraform command in the working directory.
func (w *Workdir) Command(args ...string) *exec.Cmd {
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		bin = "terraform"
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = w.Dir
	cmd.Env = w.env
	return cmd
}

// Run runs a terraform subcommand without colour and returns its combined
// output and error.
func (w *Workdir) Run(subcommand string, args ...string) (string, error) {
	out, err := w.Command(append([]string{subcommand, "-no-color"}, args...)...).CombinedOutput()
	return string(out), err
}

// State returns the attributes of the resource at addr, or nil if absent.
func (w *Workdir) State(addr string) map[string]any {
	w.t.Helper()
	out, err := w.Command("show", "-json").Output()
	if err != nil {
		w.t.Fatalf("terraform show -json: %v", err)
	}
	var st struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		w.t.Fatalf("terraform show -json: %v", err)
	}
	for _, r := range st.Values.RootModule.Resources {
		if r.Address == addr {
			return r.Values
		}
	}
	return nil
}
