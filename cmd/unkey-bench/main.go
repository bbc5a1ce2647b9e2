// Command unkey-bench measures unkey_key_migration at scale against the
// local Unkey-compatible API (internal/unkeylocal) on loopback, with the
// real Terraform CLI and the provider built from this checkout.
//
//	go run ./cmd/unkey-bench [-n 1000,10000,100000] [-inputs keys,keys_json,keys_file] [-keys-max 1000] [-keys-floor-max N] [-mix full|light] [-latency unkey|none] [-out BENCHMARKS.md] [-quick] [-keep]
//
// Every local API takes Unkey's time (unkeylocal.UnkeyLatency: about 4 ms
// plus 0.14 ms per key of a migrateKeys request, two requests served at
// once) unless -latency none: on bare loopback it answers 100,000 keys in a
// fraction of a second, which no real server does.
//
// For every N it generates N keys (internal/keygen) and measures:
//
//  1. baselines: the official Go SDK sending them sequentially in batches of
//     100 (as Unkey's guide does) and with the best batch size and
//     concurrency of a sweep run first at -sweep-n keys; and Terraform
//     core's floor, a terraform_data holding the same input;
//  2. terraform apply creating the migration through each input: wall time,
//     the provider processes' CPU time and peak memory (reported by the
//     provider through TF_PROVIDER_UNKEY_RUSAGE_FILE), Terraform's peak;
//  3. a no-op terraform plan with the N keys in state (must exit 0);
//  4. adding one key: wall time and keys received by the server (must be 1);
//  5. renaming one key: wall time and the API calls made (must touch only it).
//
// The keys input is measured only up to -keys-max keys (keysCostNote), its
// floors up to -keys-floor-max: larger runs of it would take the benchmark
// from minutes to hours. Beside the terraform_data floor, the keys input
// has a schema floor: Terraform core on unkey_key_migration's own schema
// with a provider that does next to nothing (floor.go).
//
// It prints the tables and the target checks (PASS/FAIL) and writes them,
// with a description of the machine, to -out.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

type config struct {
	ns         []int
	inputs     []string
	keysMax    int
	floorMax   int
	mix        string
	out        string
	readme     string
	keep       bool
	sweepN     int
	batches    []int
	concs      []int
	batchSize  int
	parallel   int
	seed       uint64
	timeout    time.Duration
	maxRSSMB   int64
	cpuprofile string
	latency    string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("unkey-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("n", "1000,10000,100000", "comma-separated key counts")
	inputs := fs.String("inputs", "keys,keys_json,keys_file", "comma-separated inputs of unkey_key_migration to measure: keys, keys_json, keys_file")
	fs.StringVar(&c.latency, "latency", latencyUnkey, "the local API's time model: unkey (Unkey's measured server time, unkeylocal.UnkeyLatency) or none (answer at once)")
	fs.IntVar(&c.keysMax, "keys-max", 1000, "measure the keys input only at N up to this: "+keysCostNote)
	fs.IntVar(&c.floorMax, "keys-floor-max", 0, "measure the keys input's floors (terraform_data and the schema floor) at N up to this too (0: -keys-max)")
	fs.StringVar(&c.mix, "mix", mixFull, "generated keys: full (names, external IDs, meta, roles, permissions, ratelimits, credits, expiries) or light (names and meta only)")
	quick := fs.Bool("quick", false, "only N=1000,10000 (overrides -n), for fast iteration")
	fs.StringVar(&c.out, "out", "BENCHMARKS.md", "write the report (markdown) here")
	fs.StringVar(&c.readme, "readme", "", "also put the machine and the main tables into this file, between its <!-- bench:start --> and <!-- bench:end --> lines")
	fs.BoolVar(&c.keep, "keep", false, "keep the Terraform work directories (their path is printed)")
	fs.IntVar(&c.sweepN, "sweep-n", 10000, "keys in the SDK batch size × concurrency sweep")
	batches := fs.String("sweep-batches", "100,500,1000", "batch sizes of the SDK sweep")
	concs := fs.String("sweep-concurrency", "1,2,4,8", "requests in flight in the SDK sweep")
	fs.IntVar(&c.batchSize, "batch-size", 0, "the provider's batch_size (0: unset, the provider's default)")
	fs.IntVar(&c.parallel, "parallel", 0, "the provider's parallel_requests (0: unset, the provider's default)")
	fs.Uint64Var(&c.seed, "seed", 1, "key generator seed")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "kill any one terraform command (and its providers) after this long; the table shows it as > the time")
	fs.Int64Var(&c.maxRSSMB, "max-rss", 8000, "kill any one terraform command once Terraform and its providers hold more than this many MB (0: no cap; Linux)")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write CPU profiles of every provider process into this directory (TF_PROVIDER_UNKEY_CPUPROFILE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *quick {
		*ns = "1000,10000"
	}
	var err error
	if c.ns, err = parseInts(*ns); err != nil {
		return c, fmt.Errorf("-n: %w", err)
	}
	slices.Sort(c.ns)
	c.ns = slices.Compact(c.ns)
	if c.batches, err = parseInts(*batches); err != nil {
		return c, fmt.Errorf("-sweep-batches: %w", err)
	}
	if c.concs, err = parseInts(*concs); err != nil {
		return c, fmt.Errorf("-sweep-concurrency: %w", err)
	}
	for _, b := range c.batches {
		if b > 1000 {
			return c, fmt.Errorf("-sweep-batches: %d is over Unkey's 1000 keys per request", b)
		}
	}
	if c.timeout <= 0 || c.maxRSSMB < 0 {
		return c, errors.New("-timeout must be positive and -max-rss 0 or more")
	}
	if c.latency != latencyUnkey && c.latency != latencyNone {
		return c, fmt.Errorf("-latency: %q is neither unkey nor none", c.latency)
	}
	if c.mix != mixFull && c.mix != mixLight {
		return c, fmt.Errorf("-mix: %q is neither full nor light", c.mix)
	}
	if c.keysMax < 0 || c.floorMax < 0 {
		return c, errors.New("-keys-max and -keys-floor-max must be 0 or more")
	}
	if c.sweepN < 1 {
		return c, errors.New("-sweep-n must be positive")
	}
	if c.batchSize < 0 || c.batchSize > 1000 || c.parallel < 0 {
		return c, errors.New("-batch-size must be 0–1000 and -parallel 0 or more")
	}
	for _, in := range strings.Split(*inputs, ",") {
		in = strings.TrimSpace(in)
		if in != inputKeys && in != inputKeysJSON && in != inputKeysFile {
			return c, fmt.Errorf("-inputs: %q is none of keys, keys_json, keys_file", in)
		}
		if !slices.Contains(c.inputs, in) {
			c.inputs = append(c.inputs, in)
		}
	}
	return c, nil
}

// parseInts reads "1000,10000" (underscores allowed: 100_000).
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.ReplaceAll(strings.TrimSpace(f), "_", "")
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func main() {
	if os.Getenv(floorProviderEnv) != "" {
		// Started by Terraform as the schema floor's provider (floor.go).
		if err := serveSchemaFloor(); err != nil {
			fmt.Fprintln(os.Stderr, "unkey-bench schema floor:", err)
			os.Exit(1)
		}
		return
	}
	// Terraform runs in a process group of its own, so an interrupt does not
	// reach it: pass it on by killing the command in flight.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		running.kill()
		fmt.Fprintln(os.Stderr, "unkey-bench: interrupted")
		os.Exit(130)
	}()
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err == nil {
		err = run(c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "unkey-bench:", err)
		os.Exit(1)
	}
}

// keysCostNote is why the keys input has its own N limit, from the
// measurements in the README's "Which input for how many keys".
const keysCostNote = "each terraform command on a keys map takes 3 to 10 ms per key from 1,000 to 10,000 keys, most of it Terraform's own " +
	"(10,000 keys, idle: apply 83 s, no-op plan 57 s, adding one key 96 s, the provider's CPU 12 to 13 s of it; BENCHMARKS-keys-map.md): Terraform core's own conversion of the map to the schema grows with N² " +
	"(16 s of CPU per conversion at 10,000 keys, repeated to validate, plan and apply: see the schema floor)"

// The -latency models.
const (
	latencyUnkey = "unkey"
	latencyNone  = "none"
)

func run(c config) error {
	if c.latency == latencyUnkey {
		serverLatency = unkeylocal.UnkeyLatency
	}
	began, loadBefore := time.Now(), loadAverage()
	logf := func(format string, args ...any) {
		fmt.Printf("[%4.0fs] %s\n", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}

	tfPath, err := acctest.EnsureTerraformCLI()
	if err != nil {
		return err
	}
	tfVersion := terraformVersion(tfPath)
	logf("terraform %s (%s)", tfVersion, tfPath)

	root, err := os.MkdirTemp("", "unkey-bench-")
	if err != nil {
		return err
	}
	if c.keep {
		logf("work directories: %s", root)
	} else {
		defer func() { _ = os.RemoveAll(root) }()
	}
	if c.cpuprofile != "" {
		if c.cpuprofile, err = filepath.Abs(c.cpuprofile); err != nil {
			return err
		}
		if err := os.MkdirAll(c.cpuprofile, 0o755); err != nil {
			return err
		}
	}
	tb := &benchTB{root: root}
	var pluginDir string
	tb.next = "build"
	acctest.ProviderBuildTags = "benchhooks" // the provider's CPU profile and rusage (internal/benchhooks)
	if err := guard(func() { pluginDir = acctest.BuildProvider(tb) }); err != nil {
		return err
	}
	logf("provider built")

	res := &results{ns: c.ns, inputs: c.inputs, keysMax: c.keysMax, floorMax: c.floorMax, mix: c.mix, latency: c.latency, sweepN: c.sweepN, sdkSeq: map[int]sdkResult{}, sdkBest: map[int]sdkResult{}, parallel: c.parallel}

	// The SDK sweep, to find the best raw client.
	sweepData, err := newDataset(c.sweepN, c.seed, c.mix)
	if err != nil {
		return err
	}
	sweepKeys, err := toSDK(sweepData.migrate[:c.sweepN])
	if err != nil {
		return err
	}
	for _, b := range c.batches {
		for _, k := range c.concs {
			s := runSDK(sweepKeys, b, k)
			res.sweep = append(res.sweep, s)
			if s.Err != nil {
				logf("sdk sweep batch %d × %d: %v", b, k, s.Err)
				continue
			}
			if res.best.Wall == 0 || s.Wall < res.best.Wall {
				res.best = s
			}
		}
	}
	if res.best.Wall == 0 {
		return errors.New("every SDK sweep run failed")
	}
	logf("sdk sweep at n=%d: best batch %d × %d in flight (%s)", c.sweepN, res.best.Batch, res.best.Conc, fmtDur(res.best.Wall))
	res.batchSize = c.batchSize

	lim := limits{timeout: c.timeout, maxRSSKB: c.maxRSSMB * 1e6 / 1024}
	floorDir, err := floorPluginDir(root)
	if err != nil {
		return err
	}
	runner := &tfRunner{tb: tb, pluginDir: pluginDir, floorDir: floorDir, limits: lim, cpuprofile: c.cpuprofile,
		batchSize: res.batchSize, parallel: c.parallel, keep: c.keep, log: logf}
	for _, n := range c.ns {
		d, err := newDataset(n, c.seed, c.mix)
		if err != nil {
			return err
		}
		if err := runBaselines(res, d, logf); err != nil {
			return err
		}

		for _, in := range res.floorInputsAt(n) {
			f := runner.runFloor(d, in)
			res.floors = append(res.floors, f)
			if f.Err != nil {
				logf("n=%d %s floor failed: %s", n, in, firstLine(f.Err.Error()))
			}
		}
		for _, in := range res.schemaFloorInputsAt(n) {
			sf := runner.runSchemaFloor(d, in)
			res.schemaFloors = append(res.schemaFloors, sf)
			if sf.Err != nil {
				logf("n=%d %s schema floor failed: %s", n, in, firstLine(sf.Err.Error()))
			}
		}
		for _, in := range res.inputsAt(n) {
			x := runner.runProvider(d, in)
			res.runs = append(res.runs, x)
			if x.Err != nil {
				logf("n=%d %s failed: %v", n, in, x.Err)
			}
		}
	}

	total := time.Since(began)
	report := res.report(machine(tfVersion), time.Now(), total, loadBefore+", "+loadAverage())
	fmt.Print("\n" + report)
	if err := os.WriteFile(c.out, []byte(report), 0o644); err != nil { //nolint:gosec // a report, meant to be read
		return err
	}
	if c.readme != "" {
		if err := updateReadme(c.readme, res.summary(machine(tfVersion), time.Now(), c.out)); err != nil {
			return err
		}
	}
	logf("wrote %s; total %s", c.out, total.Round(time.Second))
	return nil
}

const (
	readmeStart = "<!-- bench:start -->"
	readmeEnd   = "<!-- bench:end -->"
)

// updateReadme replaces what stands between the bench markers of path.
func updateReadme(path, summary string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := replaceBetweenMarkers(string(b), summary)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(out), 0o644) //nolint:gosec // a document, meant to be read
}

func replaceBetweenMarkers(doc, summary string) (string, error) {
	before, rest, ok := strings.Cut(doc, readmeStart)
	if !ok {
		return "", fmt.Errorf("no %s line", readmeStart)
	}
	_, after, ok := strings.Cut(rest, readmeEnd)
	if !ok {
		return "", fmt.Errorf("no %s line after %s", readmeEnd, readmeStart)
	}
	return before + readmeStart + "\n" + summary + readmeEnd + after, nil
}

// runBaselines runs the two SDK baselines at one N. (A function of its
// own so that the SDK's copy of the keys is garbage before Terraform runs.)
func runBaselines(res *results, d *dataset, logf func(string, ...any)) error {
	keys, err := toSDK(d.migrate[:d.n])
	if err != nil {
		return err
	}
	s := runSDK(keys, sequentialBatch, sequentialInFlight)
	res.sdkSeq[d.n] = s
	logf("n=%d sdk sequential %s%s", d.n, fmtDur(s.Wall), errSuffix(s.Err))
	s = runSDK(keys, res.best.Batch, res.best.Conc)
	res.sdkBest[d.n] = s
	logf("n=%d sdk best %s%s", d.n, fmtDur(s.Wall), errSuffix(s.Err))
	return nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " FAILED: " + firstLine(err.Error())
}

// terraformVersion asks the CLI for its version.
func terraformVersion(path string) string {
	cmd := exec.Command(path, "version", "-json")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.Version == "" {
		return "unknown"
	}
	return v.Version
}
