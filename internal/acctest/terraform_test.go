package acctest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseVersionJSON(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		wantErr  bool
	}{
		{in: `{"terraform_version":"1.5.7","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}`, want: "1.5.7"},
		{in: `{"terraform_version": "1.12.6", "platform": "linux_amd64"}`, want: "1.12.6"}, // tofu
		{in: `{"terraform_version":"1.6.0-beta1"}`, want: "1.6.0-beta1"},
		{in: "\nWarning: Unable to open CLI configuration file\n\nThe CLI configuration file at \"/x\" does not exist.\n{\n  \"terraform_version\": \"1.12.6\"\n}\n", want: "1.12.6"}, // tofu's warnings go to stdout
		{in: `{"platform":"linux_amd64"}`, wantErr: true},
		{in: `Terraform v0.11.14`, wantErr: true},
		{in: ``, wantErr: true},
	} {
		got, err := parseVersionJSON([]byte(tc.in))
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseVersionJSON(%q) = %q, %v; want %q (error: %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"1.5.0", true},
		{"1.5.7", true},
		{"1.10.0", true}, // not a string comparison
		{"2.0.0", true},
		{"v1.6.2", true},
		{"1.6.0-beta1", true},
		{"1.5.0-alpha1", true}, // a pre-release of the minimum is close enough
		{"1.4.7", false},
		{"0.15.5", false},
		{"", false},
		{"nonsense", false},
	} {
		if got := versionAtLeast(tc.v, MinTerraformVersion); got != tc.want {
			t.Errorf("versionAtLeast(%q, %s) = %v, want %v", tc.v, MinTerraformVersion, got, tc.want)
		}
	}
}

func TestCacheRoot(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	if got, want := cacheRoot(env(map[string]string{"XDG_CACHE_HOME": "/xdg"}), home), filepath.Join("/xdg", "terraform-provider-unkey"); got != want {
		t.Errorf("with XDG_CACHE_HOME: %s, want %s", got, want)
	}
	if got, want := cacheRoot(env(nil), home), filepath.Join("/home/u", ".cache", "terraform-provider-unkey"); got != want {
		t.Errorf("without XDG_CACHE_HOME: %s, want %s", got, want)
	}
	noHome := func() (string, error) { return "", errors.New("no home") }
	if got := cacheRoot(env(nil), noHome); filepath.Dir(got) != filepath.Clean(os.TempDir()) {
		t.Errorf("without a home: %s, want a directory in %s", got, os.TempDir())
	}
}

// fakeCLIs describes the binaries a fake cliEnv sees: path => the version it
// reports ("" for a binary whose `version -json` fails).
type fakeCLIs struct {
	env      map[string]string
	onPath   string // what LookPath("terraform") finds
	binaries map[string]string
	gopath   string
	warnings int
}

func (f *fakeCLIs) cliEnv() cliEnv {
	return cliEnv{
		getenv: func(k string) string { return f.env[k] },
		lookPath: func(name string) (string, error) {
			if name == "terraform" && f.onPath != "" {
				return f.onPath, nil
			}
			return "", errors.New("not found")
		},
		executable: func(p string) bool { _, ok := f.binaries[p]; return ok },
		version: func(p string) (string, error) {
			if v := f.binaries[p]; v != "" {
				return v, nil
			}
			return "", errors.New("does not run")
		},
		cacheRoot: func() string { return "/cache/terraform-provider-unkey" },
		gopathBin: func() string { return f.gopath },
		warn:      func(string, ...any) { f.warnings++ },
	}
}

func TestFindTerraform(t *testing.T) {
	cached := filepath.Join("/cache/terraform-provider-unkey", "terraform-"+TerraformVersion, "terraform"+exeSuffix())
	gopathTF := filepath.Join("/go/bin", "terraform"+exeSuffix())

	for _, tc := range []struct {
		name       string
		fake       fakeCLIs
		want       string
		wantSource string
		warnings   int
	}{
		{
			name:       "TF_ACC_TERRAFORM_PATH wins, whatever its version",
			fake:       fakeCLIs{env: map[string]string{"TF_ACC_TERRAFORM_PATH": "/opt/tofu"}, onPath: "/usr/bin/terraform", binaries: map[string]string{"/opt/tofu": "1.4.0", "/usr/bin/terraform": "1.9.0"}},
			want:       "/opt/tofu",
			wantSource: "TF_ACC_TERRAFORM_PATH",
		},
		{
			name:       "TF_ACC_TERRAFORM_PATH that is not executable is ignored with a warning",
			fake:       fakeCLIs{env: map[string]string{"TF_ACC_TERRAFORM_PATH": "/missing"}, onPath: "/usr/bin/terraform", binaries: map[string]string{"/usr/bin/terraform": "1.9.0"}},
			want:       "/usr/bin/terraform",
			wantSource: "PATH",
			warnings:   1,
		},
		{
			name:       "terraform on PATH that is recent enough",
			fake:       fakeCLIs{onPath: "/usr/bin/terraform", binaries: map[string]string{"/usr/bin/terraform": "1.5.0", cached: TerraformVersion}},
			want:       "/usr/bin/terraform",
			wantSource: "PATH",
		},
		{
			name:       "too old terraform on PATH falls back to the cache",
			fake:       fakeCLIs{onPath: "/usr/bin/terraform", binaries: map[string]string{"/usr/bin/terraform": "1.4.6", cached: TerraformVersion}},
			want:       cached,
			wantSource: "cache",
		},
		{
			name:       "broken terraform on PATH falls back to the cache",
			fake:       fakeCLIs{onPath: "/usr/bin/terraform", binaries: map[string]string{"/usr/bin/terraform": "", cached: TerraformVersion}},
			want:       cached,
			wantSource: "cache",
		},
		{
			name:       "GOPATH/bin after the cache",
			fake:       fakeCLIs{gopath: "/go/bin", binaries: map[string]string{gopathTF: "1.5.7"}},
			want:       gopathTF,
			wantSource: "GOPATH/bin",
		},
		{
			name: "too old GOPATH/bin terraform is not used",
			fake: fakeCLIs{gopath: "/go/bin", binaries: map[string]string{gopathTF: "1.3.0"}},
		},
		{
			name: "a broken cached binary means installing again",
			fake: fakeCLIs{binaries: map[string]string{cached: ""}},
		},
		{
			name: "nothing at all means installing",
			fake: fakeCLIs{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.fake.cliEnv()
			got, source := e.findTerraform()
			if got != tc.want || source != tc.wantSource {
				t.Errorf("findTerraform() = %q (%s), want %q (%s)", got, source, tc.want, tc.wantSource)
			}
			if tc.fake.warnings != tc.warnings {
				t.Errorf("%d warnings, want %d", tc.fake.warnings, tc.warnings)
			}
			if got == "" && e.terraformCachePath() != cached {
				t.Errorf("would install at %s, want %s", e.terraformCachePath(), cached)
			}
		})
	}
}

func TestIsExecutable(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe")
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !isExecutable(exe) {
		t.Error("an executable file is not executable")
	}
	if isExecutable(dir) {
		t.Error("a directory is executable")
	}
	if isExecutable(filepath.Join(dir, "missing")) {
		t.Error("a missing file is executable")
	}
	if exeSuffix() == "" && isExecutable(plain) {
		t.Error("a file without execute bits is executable")
	}
}

func TestInstallLockedSkipsWhenAlreadyInstalled(t *testing.T) {
	if exeSuffix() != "" {
		t.Skip("uses a shell script as the fake CLI")
	}
	target := filepath.Join(t.TempDir(), "terraform-"+TerraformVersion, "terraform")
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho '{\"terraform_version\":\"" + TerraformVersion + "\"}'\n"
	if err := os.WriteFile(target, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	err := installLocked(target, MinTerraformVersion, func(string) (string, error) {
		t.Fatal("built although the target is already installed")
		return "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInstallLockedMovesTheBuiltBinaryIntoPlace(t *testing.T) {
	if exeSuffix() != "" {
		t.Skip("uses a shell script as the fake CLI")
	}
	target := filepath.Join(t.TempDir(), "terraform-"+TerraformVersion, "terraform")
	err := installLocked(target, MinTerraformVersion, func(stage string) (string, error) {
		p := filepath.Join(stage, "terraform")
		script := "#!/bin/sh\necho '{\"terraform_version\":\"" + TerraformVersion + "\"}'\n"
		return p, os.WriteFile(p, []byte(script), 0o755)
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := cliVersion(target); err != nil || v != TerraformVersion {
		t.Fatalf("installed CLI reports %q, %v", v, err)
	}
	// The staging directory is gone; only the install and its lock remain.
	entries, err := os.ReadDir(filepath.Dir(filepath.Dir(target)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "terraform-"+TerraformVersion && e.Name() != "terraform-"+TerraformVersion+".lock" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestEnsureOpenTofuCLI really builds OpenTofu (minutes), so only on request.
func TestEnsureOpenTofuCLI(t *testing.T) {
	if os.Getenv("ACCTEST_BUILD_TOFU") == "" {
		t.Skip("builds OpenTofu from source; set ACCTEST_BUILD_TOFU=1 to run")
	}
	path, err := EnsureOpenTofuCLI()
	if err != nil {
		t.Fatal(err)
	}
	v, err := cliVersion(path)
	if err != nil || !versionAtLeast(v, MinOpenTofuVersion) {
		t.Fatalf("%s reports %q, %v", path, v, err)
	}
	t.Logf("%s: OpenTofu %s", path, v)
}
