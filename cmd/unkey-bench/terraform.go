package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/keygen"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// The three inputs of unkey_key_migration.
const (
	inputKeys     = "keys"
	inputKeysJSON = "keys_json"
	inputKeysFile = "keys_file"
)

// Input files, next to main.tf.
const (
	keysJSONFile = "keys.json"     // Unkey's migrateKeys array, for keys_json and keys_file
	keysMapFile  = "keys-map.json" // hash => settings, for keys
)

// dataset is the generated keys for one N: N keys plus one more for the
// "add one key" step, in both shapes.
type dataset struct {
	n        int
	migrate  []keygen.MigrateKey // n+1 keys, in order
	settings map[string]keygen.Settings
	changed  int // index of the key whose name the "change" step changes
}

// Key mixes: full is keygen's realistic mix (about 400 bytes of JSON a
// key); light keeps only each key's name and meta (about 150 bytes), the
// shape of the measurements in the issue that set the targets.
const (
	mixFull  = "full"
	mixLight = "light"
)

func newDataset(n int, seed uint64, mix string) (*dataset, error) {
	raws, settings := keygen.Generate(n+1, seed)
	if mix == mixLight {
		for h, s := range settings {
			settings[h] = keygen.Settings{Name: s.Name, Meta: s.Meta, Enabled: true}
		}
	}
	migrate, err := keygen.MigrateKeys(raws, settings)
	if err != nil {
		return nil, err
	}
	return &dataset{n: n, migrate: migrate, settings: settings, changed: n / 2}, nil
}

const renamedSuffix = " (renamed)"

// keysJSON is the first count keys as Unkey's migrateKeys array, with the
// changed key renamed when rename is set.
func (d *dataset) keysJSON(count int, rename bool) ([]byte, error) {
	keys := d.migrate[:count]
	if rename {
		keys = slices.Clone(keys)
		keys[d.changed].Name = ptr(*keys[d.changed].Name + renamedSuffix)
	}
	return json.Marshal(keys)
}

// keysMap is the first count keys as the provider's map, hash => settings
// with every attribute present, as cmd/genkeys writes it.
func (d *dataset) keysMap(count int, rename bool) ([]byte, error) {
	m := make(map[string]keygen.Settings, count)
	for _, k := range d.migrate[:count] {
		m[k.Hash] = d.settings[k.Hash]
	}
	if rename {
		h := d.migrate[d.changed].Hash
		s := m[h]
		s.Name = ptr(*s.Name + renamedSuffix)
		m[h] = s
	}
	return json.Marshal(m)
}

// inputFile writes the keys of one input into dir.
func (d *dataset) writeInput(dir, input string, count int, rename bool) error {
	var b []byte
	var err error
	name := keysJSONFile
	if input == inputKeys {
		name = keysMapFile
		b, err = d.keysMap(count, rename)
	} else {
		b, err = d.keysJSON(count, rename)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), b, 0o600)
}

// migrationConfig is the configuration of one provider run. keys is read
// the way cmd/genkeys and the demo do: jsondecode of a hash => settings
// file; keys_json is the file as is; keys_file is its path and filesha256.
func migrationConfig(input string, seed unkeylocal.Seed, batchSize, parallel int) string {
	var b strings.Builder
	b.WriteString("# api_url and root_key come from UNKEY_API_URL and UNKEY_ROOT_KEY.\n")
	if parallel > 0 {
		fmt.Fprintf(&b, "provider \"unkey\" {\n  parallel_requests = %d\n}\n\n", parallel)
	} else {
		b.WriteString("provider \"unkey\" {}\n\n")
	}
	fmt.Fprintf(&b, "resource \"unkey_key_migration\" \"bench\" {\n  migration_id = %q\n  api_id       = %q\n  hash_format  = \"sha256_base64\"\n",
		seed.MigrationID, seed.APIID)
	if batchSize > 0 {
		fmt.Fprintf(&b, "  batch_size   = %d\n", batchSize)
	}
	switch input {
	case inputKeys:
		fmt.Fprintf(&b, "  keys         = jsondecode(file(\"${path.module}/%s\"))\n", keysMapFile)
	case inputKeysFile:
		fmt.Fprintf(&b, "  keys_file        = \"${path.module}/%s\"\n  keys_file_sha256 = filesha256(\"${path.module}/%s\")\n", keysJSONFile, keysJSONFile)
	default:
		fmt.Fprintf(&b, "  keys_json    = file(\"${path.module}/%s\")\n", keysJSONFile)
	}
	b.WriteString("}\n")
	return b.String()
}

// floorConfig holds the same input in terraform_data: what Terraform core
// alone costs for it. The keys_json string is wrapped in sensitive(), as the
// provider's keys_json attribute is sensitive: otherwise Terraform would
// spend its time printing the whole file in the plan, which the provider's
// run never does.
func floorConfig(input string) string {
	if input == inputKeys {
		return fmt.Sprintf("resource \"terraform_data\" \"keys\" {\n  input = jsondecode(file(\"${path.module}/%s\"))\n}\n", keysMapFile)
	}
	return fmt.Sprintf("resource \"terraform_data\" \"keys\" {\n  input = sensitive(file(\"${path.module}/%s\"))\n}\n", keysJSONFile)
}

// stepResult is one measured terraform command.
type stepResult struct {
	procStats
	Ran     bool
	Prov    providerUsage
	ProvErr error
	Calls   apiCalls
}

func (s stepResult) ok() bool { return s.Ran && s.Err == nil && s.ExitCode == 0 }

// tfPeakKB is Terraform's own peak: VmHWM, else wait4's (which includes
// the providers), else -1.
func (s stepResult) tfPeakKB() int64 {
	if s.HWMKB >= 0 {
		return s.HWMKB
	}
	return s.WaitMaxRSSKB
}

// peakKB is Terraform's peak plus the provider's: an upper bound of what
// the two need at once.
func (s stepResult) peakKB() int64 {
	if s.tfPeakKB() < 0 {
		return -1
	}
	return s.tfPeakKB() + s.Prov.MaxRSSKB
}

// providerCPUShare is the provider's CPU time over the command's wall time.
func (s stepResult) providerCPUShare() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.Prov.CPU) / float64(s.Wall)
}

// split is the step's CPU and peak memory, Terraform's apart from the
// providers', for the progress log.
func (s stepResult) split() string {
	return fmt.Sprintf(" (Terraform CPU %s, peak %s; provider CPU %s over %d processes, peak %s)",
		fmtDur(s.terraformCPU()), fmtMB(s.tfPeakKB()), fmtDur(s.Prov.CPU), s.Prov.Procs, fmtMB(s.Prov.MaxRSSKB))
}

// terraformCPU is Terraform's own CPU: wait4's total less the providers'.
func (s stepResult) terraformCPU() time.Duration { return max(s.WaitCPU-s.Prov.CPU, 0) }

// tfRunner runs Terraform in work directories made by internal/acctest.
type tfRunner struct {
	tb         *benchTB
	pluginDir  string
	floorDir   string // the schema floor provider, for dev_overrides (floor.go)
	limits     limits
	cpuprofile string // a directory for provider CPU profiles, or ""
	batchSize  int
	parallel   int
	keep       bool
	log        func(format string, args ...any)
}

// workdir makes a fresh work directory named name, whose unkey provider is
// the one in pluginDir.
func (r *tfRunner) workdir(name, pluginDir string) (*acctest.Workdir, error) {
	r.tb.next = name
	var w *acctest.Workdir
	err := guard(func() { w = acctest.NewWorkdir(r.tb, pluginDir) })
	return w, err
}

func (r *tfRunner) done(w *acctest.Workdir) {
	if w != nil && !r.keep {
		_ = os.RemoveAll(w.Dir)
	}
}

// step runs one terraform command, measured, with its output in
// <dir>/<name>.log.
func (r *tfRunner) step(w *acctest.Workdir, api *localAPI, name string, args ...string) stepResult {
	res := stepResult{Ran: true}
	logf, err := os.Create(filepath.Join(w.Dir, name+".log"))
	if err != nil {
		res.Err = err
		return res
	}
	defer func() { _ = logf.Close() }()
	rusage := filepath.Join(w.Dir, name+".rusage.jsonl")
	cmd := w.Command(args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(cmd.Env, "TF_PROVIDER_UNKEY_RUSAGE_FILE="+rusage)
	if api != nil {
		cmd.Env = append(cmd.Env, "UNKEY_API_URL="+api.url, "UNKEY_ROOT_KEY="+api.seed.RootKey)
		api.srv.ResetRequests()
	}
	if r.cpuprofile != "" {
		cmd.Env = append(cmd.Env, "TF_PROVIDER_UNKEY_CPUPROFILE="+filepath.Join(r.cpuprofile, filepath.Base(w.Dir)+"-"+name))
	}
	res.procStats = runMeasured(cmd, r.limits)
	res.Prov, res.ProvErr = readRusageFile(rusage)
	if api != nil {
		res.Calls = summarize(api.srv.Requests())
	}
	return res
}

// stepErr describes a failed step, with the end of its log.
func stepErr(w *acctest.Workdir, name string, s stepResult) error {
	if s.Err == nil && s.ExitCode == 0 {
		return nil
	}
	b, _ := os.ReadFile(filepath.Join(w.Dir, name+".log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	tail := strings.Join(lines[max(len(lines)-15, 0):], "\n")
	if s.Err != nil {
		return fmt.Errorf("%s: %w\n%s", name, s.Err, tail)
	}
	return fmt.Errorf("%s: exit code %d, want 0\n%s", name, s.ExitCode, tail)
}

var (
	applyArgs = []string{"apply", "-auto-approve", "-input=false", "-no-color"}
	planArgs  = []string{"plan", "-detailed-exitcode", "-input=false", "-no-color"}
)

// floorResult is the terraform_data floor for one N and input.
type floorResult struct {
	N           int
	Input       string
	Apply, Plan stepResult
	Err         error
}

func (r *tfRunner) runFloor(d *dataset, input string) (res floorResult) {
	res = floorResult{N: d.n, Input: input}
	w, err := r.workdir(fmt.Sprintf("n%d-%s-floor", d.n, input), r.pluginDir)
	if err != nil {
		res.Err = err
		return res
	}
	defer r.done(w)
	// No unkey provider here: terraform_data is built in.
	if err := os.WriteFile(filepath.Join(w.Dir, "providers.tf"), []byte("# terraform_data only\n"), 0o600); err != nil {
		res.Err = err
		return res
	}
	if err := os.WriteFile(filepath.Join(w.Dir, "main.tf"), []byte(floorConfig(input)), 0o600); err != nil {
		res.Err = err
		return res
	}
	if err := d.writeInput(w.Dir, input, d.n, false); err != nil {
		res.Err = err
		return res
	}
	res.Apply = r.step(w, nil, "apply", applyArgs...)
	r.log("n=%d %s floor apply %s", d.n, input, fmtDur(res.Apply.Wall))
	if res.Err = stepErr(w, "apply", res.Apply); res.Err != nil {
		return res
	}
	res.Plan = r.step(w, nil, "plan", planArgs...)
	r.log("n=%d %s floor plan %s", d.n, input, fmtDur(res.Plan.Wall))
	res.Err = stepErr(w, "plan", res.Plan)
	return res
}

// tfResult is the provider run for one N and input.
type tfResult struct {
	N                        int
	Input                    string
	Apply, Plan, Add, Change stepResult
	// Stored is how many keys the server held after the first apply.
	Stored int
	// AddedHash and ChangedKeyID are what the add and change steps should
	// touch, and nothing else.
	AddedHash, ChangedKeyID string
	Err                     error
}

func (r *tfRunner) runProvider(d *dataset, input string) (res tfResult) {
	res = tfResult{N: d.n, Input: input, AddedHash: d.migrate[d.n].Hash}
	api, err := startLocalAPI()
	if err != nil {
		res.Err = err
		return res
	}
	defer api.Close()
	w, err := r.workdir(fmt.Sprintf("n%d-%s", d.n, input), r.pluginDir)
	if err != nil {
		res.Err = err
		return res
	}
	defer r.done(w)
	if err := os.WriteFile(filepath.Join(w.Dir, "main.tf"), []byte(migrationConfig(input, api.seed, r.batchSize, r.parallel)), 0o600); err != nil {
		res.Err = err
		return res
	}
	write := func(count int, rename bool) bool {
		if err := d.writeInput(w.Dir, input, count, rename); err != nil {
			res.Err = err
			return false
		}
		return true
	}
	tag := fmt.Sprintf("n=%d %s", d.n, input)

	if !write(d.n, false) {
		return res
	}
	res.Apply = r.step(w, api, "apply", applyArgs...)
	res.Stored = api.srv.KeyCount()
	r.log("%s apply %s%s", tag, fmtDur(res.Apply.Wall), res.Apply.split())
	if res.Err = stepErr(w, "apply", res.Apply); res.Err != nil {
		return res
	}
	if res.Stored != d.n {
		res.Err = fmt.Errorf("apply: the server holds %d keys, want %d", res.Stored, d.n)
		return res
	}
	if k, ok := api.srv.KeyByHash(d.migrate[d.changed].Hash); ok {
		res.ChangedKeyID = k.ID
	}

	res.Plan = r.step(w, api, "plan", planArgs...)
	r.log("%s no-op plan %s%s", tag, fmtDur(res.Plan.Wall), res.Plan.split())
	if res.Err = stepErr(w, "plan", res.Plan); res.Err != nil {
		return res
	}

	if !write(d.n+1, false) {
		return res
	}
	res.Add = r.step(w, api, "add", applyArgs...)
	r.log("%s add 1 %s%s", tag, fmtDur(res.Add.Wall), res.Add.split())
	if res.Err = stepErr(w, "add", res.Add); res.Err != nil {
		return res
	}

	if !write(d.n+1, true) {
		return res
	}
	res.Change = r.step(w, api, "change", applyArgs...)
	r.log("%s change 1 %s%s", tag, fmtDur(res.Change.Wall), res.Change.split())
	if res.Err = stepErr(w, "change", res.Change); res.Err != nil {
		return res
	}
	if k, ok := api.srv.KeyByHash(d.migrate[d.changed].Hash); !ok || !strings.HasSuffix(k.Name, renamedSuffix) {
		res.Err = errors.New("change: the key was not renamed in the server")
	}
	return res
}

// floorSeed names the schema floor's migration; nothing is sent anywhere.
var floorSeed = unkeylocal.Seed{MigrationID: "mig_schema_floor", APIID: "api_schema_floor"}

// runSchemaFloor runs the provider's configuration of input and its steps
// (create, no-op plan, add one key, change one key) against the schema floor
// provider: Terraform core's cost for unkey_key_migration's schema and
// state with next to no provider work (floor.go).
func (r *tfRunner) runSchemaFloor(d *dataset, input string) (res tfResult) {
	res = tfResult{N: d.n, Input: input, AddedHash: d.migrate[d.n].Hash}
	w, err := r.workdir(fmt.Sprintf("n%d-%s-schema-floor", d.n, input), r.floorDir)
	if err != nil {
		res.Err = err
		return res
	}
	defer r.done(w)
	w.SetEnv(floorProviderEnv, "1")
	if err := os.WriteFile(filepath.Join(w.Dir, "main.tf"), []byte(migrationConfig(input, floorSeed, r.batchSize, r.parallel)), 0o600); err != nil {
		res.Err = err
		return res
	}
	steps := []struct {
		name   string
		count  int
		rename bool
		args   []string
		out    *stepResult
	}{
		{"apply", d.n, false, applyArgs, &res.Apply},
		{"plan", d.n, false, planArgs, &res.Plan},
		{"add", d.n + 1, false, applyArgs, &res.Add},
		{"change", d.n + 1, true, applyArgs, &res.Change},
	}
	for _, s := range steps {
		if err := d.writeInput(w.Dir, input, s.count, s.rename); err != nil {
			res.Err = err
			return res
		}
		*s.out = r.step(w, nil, s.name, s.args...)
		r.log("n=%d %s schema floor %s %s", d.n, input, s.name, fmtDur(s.out.Wall))
		if res.Err = stepErr(w, s.name, *s.out); res.Err != nil {
			return res
		}
	}
	return res
}
