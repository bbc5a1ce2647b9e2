package main

import (
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/keygen"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tterraform\nVmPeak:\t 2000000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 100 kB\n"
	if kb, ok := parseVmHWM([]byte(status)); !ok || kb != 123456 {
		t.Fatalf("got %d, %v; want 123456", kb, ok)
	}
	for _, bad := range []string{"Name:\tx\n", "VmHWM:\t12 MB\n", "VmHWM:\tlots kB\n", ""} {
		if kb, ok := parseVmHWM([]byte(bad)); ok {
			t.Errorf("%q: got %d, want no value", bad, kb)
		}
	}
}

func TestParseRusageSumsCPUAndTakesTheLargestPeak(t *testing.T) {
	in := `{"pid":1,"user_ms":40,"sys_ms":10,"max_rss_kb":50000}

{"pid":2,"user_ms":1500,"sys_ms":500,"max_rss_kb":900000}
{"pid":3,"user_ms":100,"sys_ms":0,"max_rss_kb":60000}
`
	u, err := parseRusage(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := providerUsage{Procs: 3, CPU: 2150 * time.Millisecond, MaxRSSKB: 900000}
	if u != want {
		t.Fatalf("got %+v, want %+v", u, want)
	}
	for _, bad := range []string{`{"pid":1,"user_ms":40}`, `not json`, `{"pid":1,"user_ms":"x","sys_ms":1,"max_rss_kb":1}`} {
		if _, err := parseRusage(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if u, err := readRusageFile(t.TempDir() + "/missing"); err != nil || u.Procs != 0 {
		t.Errorf("a missing file: %+v, %v; want nothing measured and no error", u, err)
	}
}

func TestSplitBatchesByCountAndBytes(t *testing.T) {
	sizes := []int{10, 10, 10, 10, 10}
	if got, want := splitBatches(sizes, 2, 1000), [][2]int{{0, 2}, {2, 4}, {4, 5}}; !reflect.DeepEqual(got, want) {
		t.Errorf("by count: got %v, want %v", got, want)
	}
	if got, want := splitBatches(sizes, 100, 25), [][2]int{{0, 2}, {2, 4}, {4, 5}}; !reflect.DeepEqual(got, want) {
		t.Errorf("by bytes: got %v, want %v", got, want)
	}
	// A key bigger than the cap still goes, alone.
	if got, want := splitBatches([]int{5, 50, 5}, 100, 20), [][2]int{{0, 1}, {1, 2}, {2, 3}}; !reflect.DeepEqual(got, want) {
		t.Errorf("oversized: got %v, want %v", got, want)
	}
	if got := splitBatches(nil, 100, 100); len(got) != 0 {
		t.Errorf("no keys: got %v", got)
	}
	// Every key in exactly one batch, in order, none over either limit.
	sizes = make([]int, 2345)
	for i := range sizes {
		sizes[i] = 100 + i%300
	}
	next := 0
	for _, b := range splitBatches(sizes, 100, 20000) {
		if b[0] != next || b[1] <= b[0] || b[1]-b[0] > 100 {
			t.Fatalf("batch %v after %d", b, next)
		}
		total := 0
		for _, s := range sizes[b[0]:b[1]] {
			total += s
		}
		if total > 20000 {
			t.Fatalf("batch %v has %d bytes", b, total)
		}
		next = b[1]
	}
	if next != len(sizes) {
		t.Fatalf("batches end at %d of %d", next, len(sizes))
	}
}

func TestSummarizeCountsMigratedHashesAndTouchedKeys(t *testing.T) {
	reqs := []unkeylocal.Request{
		{Path: "/v2/apis.getApi", Status: 200},
		{Path: "/v2/keys.migrateKeys", Status: 200, Hashes: []string{"h1", "h2"}},
		{Path: "/v2/keys.migrateKeys", Status: 200, Hashes: []string{"h3"}},
		{Path: "/v2/keys.updateKey", Status: 200, KeyID: "key_b"},
		{Path: "/v2/keys.setRoles", Status: 404, KeyID: "key_a"},
		{Path: "/v2/keys.updateKey", Status: 200, KeyID: "key_b"},
	}
	c := summarize(reqs)
	if c.Calls != 6 || c.Failed != 1 {
		t.Errorf("calls %d, failed %d; want 6, 1", c.Calls, c.Failed)
	}
	if !reflect.DeepEqual(c.MigrateHashes, []string{"h1", "h2", "h3"}) {
		t.Errorf("hashes %v", c.MigrateHashes)
	}
	if !reflect.DeepEqual(c.KeyIDs, []string{"key_a", "key_b"}) {
		t.Errorf("key IDs %v", c.KeyIDs)
	}
	if got, want := strings.Join(c.paths(), ", "), "apis.getApi×1, keys.migrateKeys×2, keys.setRoles×1, keys.updateKey×2"; got != want {
		t.Errorf("paths %q, want %q", got, want)
	}
}

func TestTableRendersAlignedMarkdown(t *testing.T) {
	tb := table{header: []string{"N", "µs/key"}}
	tb.add("1,000", "12.5")
	tb.add("100,000", "7.0")
	want := "| N       | µs/key |\n" +
		"|---------|-------:|\n" +
		"| 1,000   |   12.5 |\n" +
		"| 100,000 |    7.0 |\n"
	if got := tb.render(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := fmtN(n); got != want {
			t.Errorf("fmtN(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{420 * time.Millisecond: "0.42 s", 12340 * time.Millisecond: "12.3 s", 123 * time.Second: "123 s"} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%s) = %q, want %q", d, got, want)
		}
	}
	if got := fmtMB(1_000_000); got != "1024 MB" {
		t.Errorf("fmtMB = %q", got)
	}
	if got := fmtMB(-1); got != "n/a" {
		t.Errorf("fmtMB(-1) = %q", got)
	}
}

func pts(fixed time.Duration, perKey func(n int) time.Duration, ns ...int) []costPoint {
	var out []costPoint
	for _, n := range ns {
		out = append(out, costPoint{N: n, Wall: fixed + perKey(n)})
	}
	return out
}

func TestFlatnessAcceptsLinearCostAndRejectsQuadratic(t *testing.T) {
	linear := func(n int) time.Duration { return time.Duration(n) * 50 * time.Microsecond }
	quadratic := func(n int) time.Duration { return time.Duration(n) * time.Duration(n) * time.Nanosecond }

	if m := marginalUS(pts(time.Second, linear, 100000, 1000, 10000)); len(m) != 2 || m[0] != 50 || m[1] != 50 {
		t.Errorf("marginal cost of a linear run: %v, want [50 50]", m)
	}
	if ok, why := flatness(pts(2*time.Second, linear, 1000, 10000, 100000)); !ok {
		t.Errorf("linear cost with a fixed start-up cost judged not flat: %s", why)
	}
	if ok, why := flatness(pts(2*time.Second, quadratic, 1000, 10000, 100000)); ok {
		t.Errorf("quadratic cost judged flat: %s", why)
	}
	// With two Ns only wall/N is compared.
	if ok, why := flatness(pts(0, quadratic, 1000, 10000)); ok {
		t.Errorf("quadratic cost on two points judged flat: %s", why)
	}
	if ok, _ := flatness(pts(0, linear, 1000)); ok {
		t.Error("one point judged flat")
	}
}

// passing is a results whose every number meets its target.
func passing() *results {
	r := &results{
		ns: []int{1000, 100000}, inputs: []string{inputKeys, inputKeysJSON, inputKeysFile}, keysMax: 100000,
		sdkSeq: map[int]sdkResult{}, sdkBest: map[int]sdkResult{},
		best: sdkResult{Batch: 1000, Conc: 4, Wall: time.Second},
	}
	for _, n := range r.ns {
		r.sdkSeq[n] = sdkResult{N: n, Batch: 100, Conc: 1, Wall: time.Duration(n) * 100 * time.Microsecond}
		r.sdkBest[n] = sdkResult{N: n, Batch: 1000, Conc: 4, Wall: time.Duration(n) * 50 * time.Microsecond}
		for _, in := range r.inputs {
			step := func(wall time.Duration) stepResult {
				return stepResult{Ran: true, procStats: procStats{Wall: wall, HWMKB: 300_000, WaitMaxRSSKB: 300_000},
					Prov: providerUsage{Procs: 4, CPU: wall / 20, MaxRSSKB: 200_000}}
			}
			apply := time.Duration(n) * 80 * time.Microsecond
			if in == inputKeysFile {
				apply = time.Duration(n) * 60 * time.Microsecond // within 1.3× the best raw client
			}
			x := tfResult{N: n, Input: in, AddedHash: "new", ChangedKeyID: "key_x",
				Apply: step(apply), Plan: step(time.Second), Add: step(time.Second), Change: step(time.Second)}
			x.Add.Calls = apiCalls{Calls: 2, MigrateHashes: []string{"new"}}
			x.Change.Calls = apiCalls{Calls: 2, KeyIDs: []string{"key_x"}}
			r.runs = append(r.runs, x)
		}
	}
	return r
}

func failing(cs []check) []string {
	var out []string
	for _, c := range cs {
		if !c.pass && c.notRun == "" {
			out = append(out, c.text)
		}
	}
	return out
}

func TestChecksPassWhenEveryTargetIsMet(t *testing.T) {
	cs := passing().checks()
	if f := failing(cs); len(f) > 0 {
		t.Fatalf("failed:\n%s", strings.Join(f, "\n"))
	}
	// 4 keys_file, 3 keys_json and 4 keys targets; per input 2 CPU checks,
	// 2 adds, 2 changes, and flatness but for keys (one of its 4 targets).
	if want := 4 + 3 + 4 + 3*6 + 2; len(cs) != want {
		t.Errorf("%d checks, want %d", len(cs), want)
	}
}

func TestChecksFailOnEachMissedTarget(t *testing.T) {
	cases := map[string]struct {
		mutate func(r *results)
		want   string
	}{
		"slow apply":         {func(r *results) { r.run(100000, inputKeysJSON).Apply.Wall = 16 * time.Second }, "keys_json apply at 100,000 keys no worse than before"},
		"slow plan":          {func(r *results) { r.run(100000, inputKeysJSON).Plan.Wall = 13 * time.Second }, "keys_json no-op plan"},
		"big peak":           {func(r *results) { r.run(100000, inputKeysJSON).Plan.HWMKB = 4_000_000 }, "keys_json Terraform + provider peak"},
		"slow file apply":    {func(r *results) { r.run(100000, inputKeysFile).Apply.Wall = 7 * time.Second }, "keys_file apply at 100,000 keys within 1.3× the best raw client"},
		"slow file plan":     {func(r *results) { r.run(100000, inputKeysFile).Plan.Wall = 2 * time.Second }, "keys_file no-op plan"},
		"slow file add":      {func(r *results) { r.run(100000, inputKeysFile).Add.Wall = 5 * time.Second }, "keys_file add 1 key at 100,000 keys under 5s"},
		"file add sends two": {func(r *results) { r.run(100000, inputKeysFile).Add.Calls.MigrateHashes = []string{"new", "old"} }, "keys_file add 1 key at 100,000 keys under 5s"},
		"big file peak":      {func(r *results) { r.run(100000, inputKeysFile).Change.HWMKB = 450_000 }, "keys_file Terraform + provider peak"},
		"busy provider": {func(r *results) {
			x := r.run(1000, inputKeys)
			x.Apply.Prov.CPU = x.Apply.Wall / 5
		}, "keys create at N=1,000: provider CPU"},
		"unmeasured provider": {func(r *results) { r.run(1000, inputKeysJSON).Apply.Prov = providerUsage{} }, "provider CPU not measured"},
		"superlinear":         {func(r *results) { r.run(100000, inputKeysFile).Apply.Wall = 100 * time.Second }, "keys_file cost per key flat"},
		"two keys added": {func(r *results) {
			r.run(1000, inputKeys).Add.Calls.MigrateHashes = []string{"new", "old"}
		}, "keys add 1 key at N=1,000"},
		"wrong key added": {func(r *results) {
			r.run(1000, inputKeys).Add.Calls.MigrateHashes = []string{"old"}
		}, "keys add 1 key at N=1,000"},
		"other key touched": {func(r *results) {
			r.run(100000, inputKeysJSON).Change.Calls.KeyIDs = []string{"key_x", "key_y"}
		}, "keys_json change 1 key at N=100,000"},
		"key re-sent": {func(r *results) {
			r.run(100000, inputKeysJSON).Change.Calls.MigrateHashes = []string{"h"}
		}, "keys_json change 1 key at N=100,000"},
		"failed call": {func(r *results) { r.run(1000, inputKeysJSON).Change.Calls.Failed = 1 }, "keys_json change 1 key at N=1,000"},
		"failed run": {func(r *results) {
			x := r.run(1000, inputKeys)
			x.Err = errString("apply: exit code 1, want 0\nError: boom")
		}, "the run failed: apply: exit code 1"},
		"timed out": {func(r *results) {
			x := r.run(100000, inputKeysJSON)
			x.Apply.TimedOut, x.Apply.Err = true, errString("killed")
		}, "not measured"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := passing()
			c.mutate(r)
			f := failing(r.checks())
			if len(f) == 0 {
				t.Fatal("every check passed")
			}
			found := false
			for _, line := range f {
				found = found || strings.Contains(line, c.want)
			}
			if !found {
				t.Fatalf("no failed check mentions %q; failed:\n%s", c.want, strings.Join(f, "\n"))
			}
		})
	}
}

func TestKeysMaxLeavesTheKeysInputOutAboveIt(t *testing.T) {
	r := passing()
	r.keysMax = 1000
	r.runs = slices.DeleteFunc(r.runs, func(x tfResult) bool { return x.Input == inputKeys && x.N > 1000 })
	if got := r.inputsAt(100000); !slices.Equal(got, []string{inputKeysJSON, inputKeysFile}) {
		t.Errorf("inputs at 100,000: %v", got)
	}
	if got := r.nsFor(inputKeys); !slices.Equal(got, []int{1000}) {
		t.Errorf("Ns of keys: %v", got)
	}
	cs := r.checks()
	if f := failing(cs); len(f) > 0 {
		t.Fatalf("a run skipped on purpose failed a check:\n%s", strings.Join(f, "\n"))
	}
	for _, c := range cs {
		if strings.Contains(c.text, "keys cost per key flat") && c.notRun == "" {
			t.Errorf("flatness judged from one N: %s", c)
		}
	}
	out := r.report("m", time.Now(), time.Minute, "0, 0")
	if !strings.Contains(out, "not run at N above 1,000 (-keys-max)") {
		t.Error("the report does not say keys was left out above -keys-max")
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestReportHasEveryTableAndTheChecks(t *testing.T) {
	r := passing()
	r.sweepN = 10000
	r.sweep = []sdkResult{{Batch: 100, Conc: 1, Wall: 2 * time.Second}, {Batch: 1000, Conc: 4, Wall: time.Second}}
	r.floors = []floorResult{{N: 1000, Input: inputKeysJSON, Apply: stepResult{Ran: true, procStats: procStats{Wall: time.Second, HWMKB: 1000}}}}
	out := r.report("a machine", time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), 3*time.Minute, "0.5, 1.0")
	for _, want := range []string{
		"a machine", "2026-01-02 03:04 UTC", "3m0s", `keys = jsondecode(file(\"keys-map.json\"))`,
		"SDK best (batch 1000 × 4 in flight)", "terraform_data floor, keys_json input", "unkey_key_migration, keys_json",
		"**1.00 s**", "µs/key at 100,000", "marginal 1,000→100,000", "PASS keys_json apply at 100,000 keys",
		"unkey_key_migration, keys_file", "PASS keys_file apply at 100,000 keys within 1.3× the best raw client",
	} {
		if !strings.Contains(out, strings.ReplaceAll(want, `\"`, `"`)) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Error("a passing run reported a FAIL")
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-n", "10_000,1000,1000", "-inputs", "keys_json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.ns, []int{1000, 10000}) || !reflect.DeepEqual(c.inputs, []string{"keys_json"}) {
		t.Errorf("ns %v inputs %v", c.ns, c.inputs)
	}
	c, err = parseFlags([]string{"-quick"}, io.Discard)
	if err != nil || !reflect.DeepEqual(c.ns, []int{1000, 10000}) || !reflect.DeepEqual(c.inputs, []string{"keys", "keys_json", "keys_file"}) || c.latency != "unkey" {
		t.Errorf("-quick: %v %v %v", c.ns, c.inputs, err)
	}
	if c.keysMax != 1000 {
		t.Errorf("keys measured up to %d by default, want 1000", c.keysMax)
	}
	for _, bad := range [][]string{{"-n", "0"}, {"-n", "x"}, {"-inputs", "keys,map"}, {"-sweep-batches", "2000"}, {"extra"}, {"-batch-size", "1001"}, {"-keys-max", "-1"}, {"-mix", "heavy"}, {"-latency", "slow"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestDatasetShapesHoldTheSameKeys(t *testing.T) {
	d, err := newDataset(20, 3, mixFull)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.migrate) != 21 {
		t.Fatalf("%d keys generated, want N+1", len(d.migrate))
	}
	var arr []keygen.MigrateKey
	b, _ := d.keysJSON(20, false)
	if err := json.Unmarshal(b, &arr); err != nil || len(arr) != 20 {
		t.Fatalf("keys.json: %d keys, %v", len(arr), err)
	}
	b, _ = d.keysJSON(21, true)
	_ = json.Unmarshal(b, &arr)
	if len(arr) != 21 || !strings.HasSuffix(*arr[d.changed].Name, renamedSuffix) || strings.HasSuffix(*d.migrate[d.changed].Name, renamedSuffix) {
		t.Fatal("keys.json: the rename is missing, or leaked into the dataset")
	}
	var m map[string]map[string]any
	b, _ = d.keysMap(21, true)
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 21 {
		t.Fatalf("keys-map.json: %d keys, %v", len(m), err)
	}
	for h, s := range m {
		if len(s) != 9 {
			t.Fatalf("%s has %d attributes, want all 9", h, len(s))
		}
	}
	if name := m[d.migrate[d.changed].Hash]["name"].(string); !strings.HasSuffix(name, renamedSuffix) {
		t.Fatalf("keys-map.json: changed key named %q", name)
	}
	if name := *d.settings[d.migrate[d.changed].Hash].Name; strings.HasSuffix(name, renamedSuffix) {
		t.Fatal("the rename leaked into the dataset's settings")
	}
}

func TestMigrationConfig(t *testing.T) {
	seed := unkeylocal.DefaultSeed
	c := migrationConfig(inputKeysJSON, seed, 1000, 0)
	for _, want := range []string{`keys_json    = file("${path.module}/keys.json")`, "batch_size   = 1000", `provider "unkey" {}`, seed.MigrationID, seed.APIID} {
		if !strings.Contains(c, want) {
			t.Errorf("keys_json config lacks %q:\n%s", want, c)
		}
	}
	c = migrationConfig(inputKeys, seed, 0, 8)
	for _, want := range []string{`keys         = jsondecode(file("${path.module}/keys-map.json"))`, "parallel_requests = 8"} {
		if !strings.Contains(c, want) {
			t.Errorf("keys config lacks %q:\n%s", want, c)
		}
	}
	if strings.Contains(c, "batch_size") {
		t.Error("batch_size 0 should leave the provider's default")
	}
	if !strings.Contains(floorConfig(inputKeysJSON), "sensitive(file(") || !strings.Contains(floorConfig(inputKeys), "jsondecode(file(") {
		t.Error("floor configurations")
	}
}

// The SDK baselines must send what keys_json holds.
func TestToSDKSendsTheSameKeysAsKeysJSON(t *testing.T) {
	d, err := newDataset(300, 5, mixFull)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := toSDK(d.migrate)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range d.migrate {
		want, _ := json.Marshal(k)
		got, err := sk.keys[i].MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		_ = json.Unmarshal(want, &a)
		_ = json.Unmarshal(got, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("key %d:\nSDK       %s\nkeys.json %s", i, got, want)
		}
		if sk.sizes[i] != len(want)+1 {
			t.Fatalf("key %d: size %d, want %d", i, sk.sizes[i], len(want)+1)
		}
	}
}

func TestMachineParsers(t *testing.T) {
	if got := cpuModel("processor\t: 0\nvendor_id\t: X\nmodel name\t: Intel(R) Xeon(R) @ 2.50GHz\n"); got != "Intel(R) Xeon(R) @ 2.50GHz" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := memTotalKB("MemTotal:       24576000 kB\nMemFree: 1 kB\n"); got != 24576000 {
		t.Errorf("memTotalKB = %d", got)
	}
	if got := osRelease("NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"); got != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("osRelease = %q", got)
	}
}

func TestGuardTurnsFatalIntoAnError(t *testing.T) {
	tb := &benchTB{root: t.TempDir()}
	if err := guard(func() { tb.Fatalf("no %s", "luck") }); err == nil || err.Error() != "no luck" {
		t.Errorf("got %v", err)
	}
	if err := guard(func() { tb.Cleanup(func() {}) }); err == nil {
		t.Error("an unimplemented testing.TB method did not become an error")
	}
	if err := guard(func() {}); err != nil {
		t.Error(err)
	}
	tb.next = "w"
	if dir := tb.TempDir(); !strings.HasSuffix(dir, "/w") {
		t.Errorf("TempDir = %s", dir)
	}
}

func TestParseStatPPID(t *testing.T) {
	if ppid, ok := parseStatPPID([]byte("4242 (terraform-provider-unkey) S 4200 4242 1 0 -1 4194560 ...")); !ok || ppid != 4200 {
		t.Errorf("got %d, %v", ppid, ok)
	}
	// comm may hold spaces and parentheses.
	if ppid, ok := parseStatPPID([]byte("7 (a (b) c) R 1 7 7 0")); !ok || ppid != 1 {
		t.Errorf("tricky comm: got %d, %v", ppid, ok)
	}
	for _, bad := range []string{"", "7 (x", "7 (x) R"} {
		if _, ok := parseStatPPID([]byte(bad)); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCostTableShowsKilledAndFailedCreates(t *testing.T) {
	r := passing()
	x := r.run(100000, inputKeys)
	x.Apply.TimedOut, x.Apply.Err, x.Apply.Wall = true, errString("killed"), 600*time.Second
	y := r.run(100000, inputKeysJSON)
	y.Apply.ExitCode = 1
	out := r.costTable().render()
	for _, want := range []string{"> 6000.0", "failed", "80.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("cost table lacks %q:\n%s", want, out)
		}
	}
	// No marginal cost from a killed or failed create.
	for _, line := range strings.Split(out, "\n") {
		killedOrFailed := strings.Contains(line, "unkey_key_migration, keys ") || strings.Contains(line, "unkey_key_migration, keys_json")
		if killedOrFailed && !strings.HasSuffix(strings.TrimSpace(line), "– |") {
			t.Errorf("marginal cost shown for a killed or failed create: %s", line)
		}
	}
}

func TestReplaceBetweenMarkersKeepsTheRestOfTheDocument(t *testing.T) {
	doc := "# Title\n\n" + readmeStart + "\nold table\n" + readmeEnd + "\n\nafter\n"
	got, err := replaceBetweenMarkers(doc, "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\n\n" + readmeStart + "\nnew table\n" + readmeEnd + "\n\nafter\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	again, _ := replaceBetweenMarkers(got, "new table\n")
	if again != got {
		t.Error("replacing twice is not stable")
	}
	for _, bad := range []string{"no markers", readmeEnd + "\n" + readmeStart + "\n", readmeStart + "\n"} {
		if _, err := replaceBetweenMarkers(bad, "x\n"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSummaryHasTheMachineAndBothTables(t *testing.T) {
	s := passing().summary("a machine", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "BENCHMARKS.md")
	for _, want := range []string{"a machine, 2026-01-02", "BENCHMARKS.md", "| create |", "| no-op plan |"} {
		if !strings.Contains(s, want) {
			t.Errorf("the summary lacks %q:\n%s", want, s)
		}
	}
}

func TestLightMixKeepsOnlyNamesAndMeta(t *testing.T) {
	full, err := newDataset(50, 7, mixFull)
	if err != nil {
		t.Fatal(err)
	}
	light, err := newDataset(50, 7, mixLight)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range light.migrate {
		f := full.migrate[i]
		if k.Hash != f.Hash || *k.Name != *f.Name || string(k.Meta) != string(f.Meta) {
			t.Fatalf("key %d differs from the full mix in hash, name or meta", i)
		}
		if k.ExternalID != nil || k.Roles != nil || k.Permissions != nil || k.Expires != nil || k.Credits != nil || k.Ratelimits != nil || !k.Enabled {
			t.Fatalf("key %d of the light mix has more than a name and meta: %+v", i, k)
		}
	}
	a, _ := full.keysJSON(50, false)
	b, _ := light.keysJSON(50, false)
	if len(b)*2 > len(a) {
		t.Errorf("the light mix is %d bytes against %d for the full one; want under half", len(b), len(a))
	}
}

// keysMapRun is a results with the keys input and both its floors at ns,
// the provider's apply and plan at ratio times the terraform_data floor's.
func keysMapRun(ratio float64, ns ...int) *results {
	r := &results{ns: ns, inputs: []string{inputKeys}, keysMax: slices.Max(ns), sdkSeq: map[int]sdkResult{}, sdkBest: map[int]sdkResult{}}
	step := func(d time.Duration) stepResult { return stepResult{Ran: true, procStats: procStats{Wall: d}} }
	for _, n := range ns {
		floor := time.Duration(n) * time.Millisecond
		r.floors = append(r.floors, floorResult{N: n, Input: inputKeys, Apply: step(floor), Plan: step(floor)})
		r.schemaFloors = append(r.schemaFloors, tfResult{N: n, Input: inputKeys,
			Apply: step(floor * 6 / 5), Plan: step(floor * 6 / 5), Add: step(floor), Change: step(floor)})
		own := time.Duration(float64(floor) * ratio)
		r.runs = append(r.runs, tfResult{N: n, Input: inputKeys, Apply: step(own), Plan: step(own), Add: step(own), Change: step(own)})
	}
	return r
}

func keysMapCheck(t *testing.T, cs []check, prefix string) check {
	t.Helper()
	for _, c := range cs {
		if strings.HasPrefix(c.text, prefix) {
			return c
		}
	}
	t.Fatalf("no check starts with %q", prefix)
	return check{}
}

func TestKeysMapTargetsAgainstTheFloors(t *testing.T) {
	r := keysMapRun(1.4, 1000, 10000, 30000, 100000)
	cs := r.keysMapChecks()
	if len(cs) != 4 {
		t.Fatalf("%d checks, want 4: %v", len(cs), cs)
	}
	for _, c := range cs {
		if !c.pass || c.notRun != "" {
			t.Errorf("want PASS: %s", c)
		}
	}
	apply := keysMapCheck(t, cs, "keys apply at 10,000 keys within 1.5×").String()
	for _, want := range []string{"14.0 s, 1.40×", "terraform_data floor 10.0 s", "schema floor 12.0 s (1.20× terraform_data)"} {
		if !strings.Contains(apply, want) {
			t.Errorf("%q lacks %q", apply, want)
		}
	}
	flat := keysMapCheck(t, cs, "keys cost per key flat").String()
	if !strings.Contains(flat, "terraform_data floor: 1000.0 µs/key at 1,000") || !strings.Contains(flat, "schema floor: 1200.0 µs/key") {
		t.Errorf("the floors' cost per key is not beside the target: %s", flat)
	}

	r = keysMapRun(1.6, 1000, 10000, 30000, 100000)
	for _, prefix := range []string{"keys apply at 10,000", "keys no-op plan at 10,000"} {
		if c := keysMapCheck(t, r.keysMapChecks(), prefix); c.pass {
			t.Errorf("1.6× the floor passed: %s", c)
		}
	}

	r = keysMapRun(1.4, 1000, 10000, 30000, 100000)
	r.run(30000, inputKeys).Apply.Wall = 60 * time.Second // 2,000 µs/key against 1,400
	if c := keysMapCheck(t, r.keysMapChecks(), "keys cost per key flat"); c.pass {
		t.Errorf("a cost per key growing 1.43× passed: %s", c)
	}
	r.run(100000, inputKeys).Change.ExitCode = 1
	if c := keysMapCheck(t, r.keysMapChecks(), "keys at 100,000 keys completes"); c.pass {
		t.Errorf("a failed change passed: %s", c)
	}
}

func TestKeysMapTargetsNotRunSayWhy(t *testing.T) {
	r := keysMapRun(1.4, 1000, 3000, 10000)
	r.keysMax = 3000
	r.runs = slices.DeleteFunc(r.runs, func(x tfResult) bool { return x.N > 3000 })
	cs := r.keysMapChecks()
	apply := keysMapCheck(t, cs, "keys apply at 10,000 keys").String()
	if !strings.HasPrefix(apply, "SKIP ") || !strings.HasSuffix(apply, "not run (-keys-max 3,000)") || !strings.Contains(apply, "schema floor 12.0 s (1.20× terraform_data)") {
		t.Errorf("got %q; want it not run for -keys-max, with both floors", apply)
	}
	if c := keysMapCheck(t, cs, "keys cost per key flat").String(); !strings.HasSuffix(c, "not run (-n has no 30,000)") {
		t.Errorf("got %q", c)
	}
	if c := keysMapCheck(t, cs, "keys at 100,000").String(); !strings.HasSuffix(c, "not run (-n has no 100,000)") {
		t.Errorf("got %q", c)
	}
	out := r.report("m", time.Now(), time.Minute, "0, 0")
	for _, want := range []string{schemaFloorLabel(inputKeys), "SKIP keys apply at 10,000 keys"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// keys_file's targets carry its schema floor beside them, and its rows are
// in both tables under their own label.
func TestKeysFileTargetsShowTheSchemaFloor(t *testing.T) {
	step := func(d time.Duration) stepResult { return stepResult{Ran: true, procStats: procStats{Wall: d}} }
	n := 100000
	r := &results{ns: []int{n}, inputs: []string{inputKeysFile}, sdkSeq: map[int]sdkResult{}, sdkBest: map[int]sdkResult{n: {Batch: 1000, Conc: 4, Wall: 8 * time.Second}}}
	r.schemaFloors = append(r.schemaFloors, tfResult{N: n, Input: inputKeysFile, Apply: step(3 * time.Second), Plan: step(2500 * time.Millisecond), Add: step(4 * time.Second), Change: step(4 * time.Second)})
	r.runs = append(r.runs, tfResult{N: n, Input: inputKeysFile, Apply: step(11 * time.Second), Plan: step(3 * time.Second), Add: step(6 * time.Second), Change: step(6 * time.Second)})
	cs := r.keysFileChecks(n, "100,000 keys")
	for prefix, want := range map[string]string{
		"keys_file apply":       "schema floor 3.00 s",
		"keys_file no-op plan":  "schema floor 2.50 s",
		"keys_file add 1 key":   "schema floor 4.00 s",
		"keys_file Terraform +": "schema floor",
	} {
		if c := keysMapCheck(t, cs, prefix).String(); !strings.Contains(c, want) {
			t.Errorf("%q lacks %q", c, want)
		}
	}
	out := r.report("m", time.Now(), time.Minute, "0, 0")
	if got := strings.Count(out, schemaFloorLabel(inputKeysFile)); got != 2 {
		t.Errorf("the keys_file schema floor is in %d rows of the report, want 2 (create, later steps)", got)
	}
}
