package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// Targets from the issues.
const (
	targetN            = 100_000
	targetProviderCPU  = 0.10 // provider CPU over wall time
	sequentialBatch    = 100  // Unkey's guide: sequential batches of 100
	sequentialInFlight = 1

	// keys_file at targetN keys (issue 12).
	targetFileVsSDK  = 1.3 // apply within 1.3× the best raw client
	targetFilePlan   = 2 * time.Second
	targetFileAdd    = 5 * time.Second
	targetFilePeakMB = 600.0 // Terraform + provider, decimal MB

	// keys_json at targetN keys no worse than before issue 12 (BENCHMARKS.md
	// of 2026-11-23, on loopback without latency): 12.5 s to apply against a
	// raw client's 2.35 s, so 10.2 s of its own; 12.5 s to plan; 4.0 GB.
	beforeJSONOwnApply = 10150 * time.Millisecond
	beforeJSONPlan     = 12500 * time.Millisecond
	beforeJSONPeakMB   = 3996.0

	// The typed keys map (issue 12 §1): apply and no-op plan at
	// targetKeysN within targetKeysVsFloor of the terraform_data floor
	// holding the same map; cost per key flat (within keysFlatTolerance)
	// from keysFlatFrom to keysFlatTo keys; keysCompletesN keys complete.
	targetKeysN       = 10_000
	targetKeysVsFloor = 1.5
	keysFlatFrom      = 1_000
	keysFlatTo        = 30_000
	keysFlatTolerance = 1.3
	keysCompletesN    = 100_000
)

// results is everything one benchmark run measured.
type results struct {
	ns       []int
	inputs   []string
	keysMax  int    // the keys input runs only at N up to this
	floorMax int    // its floors run at N up to this too
	mix      string // of the generated keys: full or light
	latency  string // the local API's time model: unkey or none

	sweepN int
	sweep  []sdkResult
	best   sdkResult // the fastest sweep entry

	sdkSeq, sdkBest map[int]sdkResult
	floors          []floorResult
	schemaFloors    []tfResult // the keys and keys_file inputs against the schema floor provider
	runs            []tfResult

	batchSize, parallel int // as configured for the provider (0: default)
}

// inputsAt is the inputs measured at n.
func (r *results) inputsAt(n int) []string {
	var out []string
	for _, in := range r.inputs {
		if in != inputKeys || n <= r.keysMax {
			out = append(out, in)
		}
	}
	return out
}

// floorInputsAt is the inputs whose terraform_data floor is measured at n.
// keys_file has none: Terraform holds only a path and a hash; its floors are
// the raw client and the schema floor (schemaFloorInputsAt).
func (r *results) floorInputsAt(n int) []string {
	var out []string
	for _, in := range r.inputs {
		switch {
		case in == inputKeysFile:
		case in == inputKeys && n > max(r.keysMax, r.floorMax):
		default:
			out = append(out, in)
		}
	}
	return out
}

// schemaFloorInputsAt is the inputs measured against the schema floor at n:
// keys wherever its floors are, keys_file always (its state of n key IDs is
// Terraform's own cost). keys_json's terraform_data floor already holds what
// Terraform holds.
func (r *results) schemaFloorInputsAt(n int) []string {
	var out []string
	for _, in := range r.inputs {
		if in == inputKeysFile || (in == inputKeys && n <= max(r.keysMax, r.floorMax)) {
			out = append(out, in)
		}
	}
	return out
}

// nsFor is the Ns at which input is measured.
func (r *results) nsFor(input string) []int {
	var out []int
	for _, n := range r.ns {
		if slices.Contains(r.inputsAt(n), input) {
			out = append(out, n)
		}
	}
	return out
}

func (r *results) floor(n int, input string) *floorResult {
	for i := range r.floors {
		if r.floors[i].N == n && r.floors[i].Input == input {
			return &r.floors[i]
		}
	}
	return nil
}

func (r *results) schemaFloor(n int, input string) *tfResult {
	for i := range r.schemaFloors {
		if r.schemaFloors[i].N == n && r.schemaFloors[i].Input == input {
			return &r.schemaFloors[i]
		}
	}
	return nil
}

func (r *results) run(n int, input string) *tfResult {
	for i := range r.runs {
		if r.runs[i].N == n && r.runs[i].Input == input {
			return &r.runs[i]
		}
	}
	return nil
}

func sdkBestLabel(b sdkResult) string {
	return fmt.Sprintf("SDK best (batch %d × %d in flight)", b.Batch, b.Conc)
}

func cellDur(s stepResult) string {
	if !s.Ran {
		return "–"
	}
	if s.TimedOut {
		return "> " + fmtDur(s.Wall) + " (killed)"
	}
	if s.MemKilled {
		return "killed at " + fmtMB(s.tfPeakKB()) + "+"
	}
	if !s.ok() {
		return "failed"
	}
	return fmtDur(s.Wall)
}

func sdkCell(s sdkResult, ok bool) string {
	if !ok {
		return "–"
	}
	if s.Err != nil {
		return "failed"
	}
	return fmtDur(s.Wall)
}

// createTable: the first apply, against the baselines.
func (r *results) createTable() table {
	t := table{header: []string{"N", "run", "create", "µs/key", "× SDK best", "provider CPU", "of wall", "Terraform CPU", "Terraform peak", "provider peak", "TF + provider peak", "wait4 max RSS"}}
	for _, n := range r.ns {
		best, hasBest := r.sdkBest[n]
		vs := func(d time.Duration) string {
			if !hasBest || best.Err != nil || best.Wall <= 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f×", float64(d)/float64(best.Wall))
		}
		if s, ok := r.sdkSeq[n]; ok {
			t.add(fmtN(n), fmt.Sprintf("SDK sequential, batch %d", s.Batch), sdkCell(s, true), fmtUS(perKeyUS(s.Wall, n)), vs(s.Wall), "–", "–", "–", "–", "–", "–", "–")
		}
		if hasBest {
			t.add(fmtN(n), sdkBestLabel(best), sdkCell(best, true), fmtUS(perKeyUS(best.Wall, n)), vs(best.Wall), "–", "–", "–", "–", "–", "–", "–")
		}
		for _, in := range r.inputs {
			if f := r.floor(n, in); f != nil {
				a := f.Apply
				t.add(fmtN(n), "terraform_data floor, "+in+" input", cellDur(a), fmtUS(perKeyUS(a.Wall, n)), vs(a.Wall),
					"–", "–", fmtDur(a.WaitCPU), fmtMB(a.tfPeakKB()), "–", fmtMB(a.tfPeakKB()), fmtMB(a.WaitMaxRSSKB))
			}
		}
		providerRow := func(label string, a stepResult) {
			t.add(fmtN(n), label, cellDur(a), fmtUS(perKeyUS(a.Wall, n)), vs(a.Wall),
				fmtDur(a.Prov.CPU), fmtPct(a.providerCPUShare()), fmtDur(a.terraformCPU()), fmtMB(a.tfPeakKB()), fmtMB(a.Prov.MaxRSSKB), fmtMB(a.peakKB()), fmtMB(a.WaitMaxRSSKB))
		}
		for _, in := range r.inputs {
			if f := r.schemaFloor(n, in); f != nil {
				providerRow(schemaFloorLabel(in), f.Apply)
			}
		}
		for _, in := range r.inputs {
			if x := r.run(n, in); x != nil {
				providerRow("unkey_key_migration, "+in, x.Apply)
			}
		}
	}
	return t
}

// schemaFloorLabel names the schema floor's rows of an input (floor.go).
func schemaFloorLabel(input string) string {
	return "schema floor (no-op provider, same schema), " + input + " input"
}

// laterTable: what follows the create, with N keys in state.
func (r *results) laterTable() table {
	t := table{header: []string{"N", "run", "no-op plan", "plan API calls", "plan peak", "add 1 key", "keys received", "change 1 key", "API calls", "keys touched", "peak (all steps)"}}
	for _, n := range r.ns {
		for _, in := range r.inputs {
			if f := r.floor(n, in); f != nil {
				t.add(fmtN(n), "terraform_data floor, "+in+" input", cellDur(f.Plan), "–", fmtMB(f.Plan.tfPeakKB()), "–", "–", "–", "–", "–",
					fmtMB(max(f.Apply.tfPeakKB(), f.Plan.tfPeakKB())))
			}
		}
		for _, in := range r.inputs {
			if f := r.schemaFloor(n, in); f != nil {
				t.add(fmtN(n), schemaFloorLabel(in), cellDur(f.Plan), "–", fmtMB(f.Plan.peakKB()), cellDur(f.Add), "–", cellDur(f.Change), "–", "–", fmtMB(f.maxPeakKB()))
			}
		}
		for _, in := range r.inputs {
			x := r.run(n, in)
			if x == nil {
				continue
			}
			received, calls, touched := "–", "–", "–"
			if x.Add.ok() {
				received = itoa(len(x.Add.Calls.MigrateHashes))
			}
			if x.Change.ok() {
				c := x.Change.Calls
				calls = fmt.Sprintf("%d (%s)", c.Calls, strings.Join(c.paths(), ", "))
				touched = itoa(len(c.KeyIDs) + len(c.MigrateHashes))
				if changeTouchedOnly(*x) {
					touched += " (the changed key)"
				}
			}
			planCalls := "–"
			if x.Plan.ok() {
				planCalls = itoa(x.Plan.Calls.Calls)
			}
			t.add(fmtN(n), "unkey_key_migration, "+in, cellDur(x.Plan), planCalls, fmtMB(x.Plan.peakKB()),
				cellDur(x.Add), received, cellDur(x.Change), calls, touched, fmtMB(x.maxPeakKB()))
		}
	}
	return t
}

// maxPeakKB is the largest Terraform + provider peak of the run's steps.
func (x tfResult) maxPeakKB() int64 {
	p := int64(-1)
	for _, s := range []stepResult{x.Apply, x.Plan, x.Add, x.Change} {
		if s.Ran {
			p = max(p, s.peakKB())
		}
	}
	return p
}

// costCell is one create's cost at one N, for the cost table.
type costCell struct {
	n        int
	wall     time.Duration
	ok       bool
	timedOut bool // wall is then a lower bound
	ran      bool
}

// costTable shows the cost per key of each create across N, and the
// marginal cost of each key added between Ns. A create killed at the
// timeout shows its lower bound; a failed one "failed".
func (r *results) costTable() table {
	h := []string{"run"}
	for _, n := range r.ns {
		h = append(h, "µs/key at "+fmtN(n))
	}
	for i := 1; i < len(r.ns); i++ {
		h = append(h, fmt.Sprintf("marginal %s→%s", fmtN(r.ns[i-1]), fmtN(r.ns[i])))
	}
	t := table{header: h}
	row := func(name string, cell func(n int) costCell) {
		cells := []string{name}
		var cs []costCell
		for _, n := range r.ns {
			c := cell(n)
			cs = append(cs, c)
			switch {
			case c.ok:
				cells = append(cells, fmtUS(perKeyUS(c.wall, n)))
			case c.timedOut:
				cells = append(cells, "> "+fmtUS(perKeyUS(c.wall, n)))
			case c.ran:
				cells = append(cells, "failed")
			default:
				cells = append(cells, "–")
			}
		}
		for i := 1; i < len(cs); i++ {
			if cs[i-1].ok && cs[i].ok {
				cells = append(cells, fmtUS(marginalUS([]costPoint{{cs[i-1].n, cs[i-1].wall}, {cs[i].n, cs[i].wall}})[0]))
			} else {
				cells = append(cells, "–")
			}
		}
		t.add(cells...)
	}
	sdk := func(m map[int]sdkResult) func(int) costCell {
		return func(n int) costCell {
			s, ok := m[n]
			return costCell{n: n, wall: s.Wall, ran: ok, ok: ok && s.Err == nil}
		}
	}
	step := func(n int, s stepResult) costCell {
		return costCell{n: n, wall: s.Wall, ran: s.Ran, ok: s.ok(), timedOut: s.TimedOut}
	}
	row(fmt.Sprintf("SDK sequential, batch %d", sequentialBatch), sdk(r.sdkSeq))
	row(sdkBestLabel(r.best), sdk(r.sdkBest))
	for _, in := range r.inputs {
		row("terraform_data floor, "+in+" input", func(n int) costCell {
			if f := r.floor(n, in); f != nil {
				return step(n, f.Apply)
			}
			return costCell{n: n}
		})
	}
	if len(r.schemaFloors) > 0 {
		row(schemaFloorLabel(inputKeys), func(n int) costCell {
			if f := r.schemaFloor(n, inputKeys); f != nil {
				return step(n, f.Apply)
			}
			return costCell{n: n}
		})
	}
	for _, in := range r.inputs {
		row("unkey_key_migration, "+in, func(n int) costCell {
			if x := r.run(n, in); x != nil {
				return step(n, x.Apply)
			}
			return costCell{n: n}
		})
	}
	return t
}

func (r *results) runPoints(in string) []costPoint {
	var out []costPoint
	for _, n := range r.nsFor(in) {
		if x := r.run(n, in); x != nil && x.Apply.ok() {
			out = append(out, costPoint{n, x.Apply.Wall})
		}
	}
	return out
}

// sweepTable: wall time of the SDK at sweepN keys, per batch size and
// requests in flight.
func (r *results) sweepTable() table {
	var batches, concs []int
	for _, s := range r.sweep {
		if !slices.Contains(batches, s.Batch) {
			batches = append(batches, s.Batch)
		}
		if !slices.Contains(concs, s.Conc) {
			concs = append(concs, s.Conc)
		}
	}
	h := []string{"batch size \\ in flight"}
	for _, c := range concs {
		h = append(h, itoa(c))
	}
	t := table{header: h}
	for _, b := range batches {
		cells := []string{itoa(b)}
		for _, c := range concs {
			cell := "–"
			for _, s := range r.sweep {
				if s.Batch == b && s.Conc == c {
					cell = sdkCell(s, true)
					if s.Err == nil && s.Batch == r.best.Batch && s.Conc == r.best.Conc {
						cell = "**" + cell + "**"
					}
				}
			}
			cells = append(cells, cell)
		}
		t.add(cells...)
	}
	return t
}

// changeTouchedOnly reports whether the change step touched the changed
// key and nothing else: no key migrated, every call about that key ID, and
// every call answered 200.
func changeTouchedOnly(x tfResult) bool {
	c := x.Change.Calls
	return x.ChangedKeyID != "" && c.Calls > 0 && c.Failed == 0 && len(c.MigrateHashes) == 0 &&
		slices.Equal(c.KeyIDs, []string{x.ChangedKeyID})
}

// check is one target, decided from the numbers, or not run (notRun
// says why).
type check struct {
	pass   bool
	text   string
	notRun string
}

func (c check) String() string {
	if c.notRun != "" {
		return "SKIP " + c.text + ": not run (" + c.notRun + ")"
	}
	if c.pass {
		return "PASS " + c.text
	}
	return "FAIL " + c.text
}

// checks decides every target the issue sets.
func (r *results) checks() []check {
	var out []check
	add := func(pass bool, format string, args ...any) {
		out = append(out, check{pass: pass, text: fmt.Sprintf(format, args...)})
	}
	for _, x := range r.runs {
		if x.Err != nil {
			add(false, "N=%s %s: the run failed: %s", fmtN(x.N), x.Input, firstLine(x.Err.Error()))
		}
	}
	for _, f := range r.floors {
		if f.Err != nil {
			add(false, "N=%s terraform_data floor, %s input: failed: %s", fmtN(f.N), f.Input, firstLine(f.Err.Error()))
		}
	}
	for _, f := range r.schemaFloors {
		if f.Err != nil {
			add(false, "N=%s %s: failed: %s", fmtN(f.N), schemaFloorLabel(f.Input), firstLine(f.Err.Error()))
		}
	}
	for _, n := range r.ns {
		for _, s := range []sdkResult{r.sdkSeq[n], r.sdkBest[n]} {
			if s.Err != nil {
				add(false, "N=%s SDK batch %d × %d: failed: %s", fmtN(n), s.Batch, s.Conc, firstLine(s.Err.Error()))
			}
		}
	}

	// At 100,000 keys through keys_json (or the largest N measured).
	big := slices.Max(r.ns)
	at := fmtN(big) + " keys"
	if big != targetN {
		at += fmt.Sprintf(" (the largest N run; the targets are set for %s)", fmtN(targetN))
	}
	if slices.Contains(r.inputs, inputKeysFile) {
		out = append(out, r.keysFileChecks(big, at)...)
	}
	if slices.Contains(r.inputs, inputKeysJSON) {
		out = append(out, r.keysJSONChecks(big, at)...)
	}
	if slices.Contains(r.inputs, inputKeys) {
		out = append(out, r.keysMapChecks()...)
	}

	// Through either input.
	for _, in := range r.inputs {
		for _, n := range r.ns {
			x := r.run(n, in)
			if x == nil || !x.Apply.ok() {
				continue
			}
			if x.Apply.ProvErr != nil || x.Apply.Prov.Procs == 0 {
				add(false, "%s create at N=%s: provider CPU not measured (%v)", in, fmtN(n), x.Apply.ProvErr)
				continue
			}
			share := x.Apply.providerCPUShare()
			add(share < targetProviderCPU, "%s create at N=%s: provider CPU %s = %s of the wall time %s (under %s)",
				in, fmtN(n), fmtDur(x.Apply.Prov.CPU), fmtPct(share), fmtDur(x.Apply.Wall), fmtPct(targetProviderCPU))
		}
		if ns := r.nsFor(in); len(ns) >= 2 && in != inputKeys { // keys: keysMapChecks
			if pts := r.runPoints(in); len(pts) != len(ns) {
				add(false, "%s cost per key flat: not measured at every N (a create failed or was killed)", in)
			} else {
				ok, why := flatness(pts)
				add(ok, "%s cost per key flat from %s to %s: %s", in, fmtN(ns[0]), fmtN(ns[len(ns)-1]), why)
			}
		}
		for _, n := range r.ns {
			x := r.run(n, in)
			if x == nil {
				continue
			}
			if x.Add.ok() {
				h := x.Add.Calls.MigrateHashes
				add(len(h) == 1 && h[0] == x.AddedHash, "%s add 1 key at N=%s: %d key(s) received by keys.migrateKeys (want exactly the new one)",
					in, fmtN(n), len(h))
			}
			if x.Change.ok() {
				c := x.Change.Calls
				add(changeTouchedOnly(*x), "%s change 1 key at N=%s: %d API call(s) (%s), touching %d key(s) (want only the changed key)",
					in, fmtN(n), c.Calls, strings.Join(c.paths(), ", "), len(c.KeyIDs)+len(c.MigrateHashes))
			}
		}
	}
	return out
}

// keysFileChecks are issue 12's targets for keys_file at n keys, each with
// the raw client and the schema floor beside it: Terraform's own cost of
// this schema and of a state holding n key IDs, with a provider that does
// nothing.
func (r *results) keysFileChecks(n int, at string) []check {
	var out []check
	add := func(pass bool, format string, args ...any) {
		out = append(out, check{pass: pass, text: fmt.Sprintf(format, args...)})
	}
	x, best := r.run(n, inputKeysFile), r.sdkBest[n]
	sf := r.schemaFloor(n, inputKeysFile)
	floorNote := func(s func(tfResult) stepResult) string {
		if sf == nil || !s(*sf).ok() {
			return "schema floor: not measured"
		}
		return "schema floor " + fmtDur(s(*sf).Wall)
	}
	switch {
	case x == nil || !x.Apply.ok() || best.Err != nil || best.Wall <= 0:
		add(false, "keys_file apply at %s within %.1f× the best raw client: not measured", at, targetFileVsSDK)
	default:
		ratio := float64(x.Apply.Wall) / float64(best.Wall)
		add(ratio <= targetFileVsSDK, "keys_file apply at %s within %.1f× the best raw client: %s vs %s (%s, the floor), %.2f×; %s",
			at, targetFileVsSDK, fmtDur(x.Apply.Wall), fmtDur(best.Wall), sdkBestLabel(best), ratio, floorNote(func(f tfResult) stepResult { return f.Apply }))
	}
	if x == nil || !x.Plan.ok() {
		add(false, "keys_file no-op plan at %s under %s: not measured", at, targetFilePlan)
	} else {
		add(x.Plan.Wall < targetFilePlan, "keys_file no-op plan at %s under %s: %s (raw client: no plan); %s", at, targetFilePlan, fmtDur(x.Plan.Wall),
			floorNote(func(f tfResult) stepResult { return f.Plan }))
	}
	if x == nil || !x.Add.ok() {
		add(false, "keys_file add 1 key at %s under %s, exactly 1 key sent: not measured", at, targetFileAdd)
	} else {
		h := x.Add.Calls.MigrateHashes
		one := len(h) == 1 && h[0] == x.AddedHash
		add(one && x.Add.Wall < targetFileAdd, "keys_file add 1 key at %s under %s, exactly 1 key sent: %s, %d key(s) sent (raw client: one request); %s",
			at, targetFileAdd, fmtDur(x.Add.Wall), len(h), floorNote(func(f tfResult) stepResult { return f.Add }))
	}
	if x == nil || x.maxPeakKB() < 0 {
		add(false, "keys_file Terraform + provider peak at %s under %.0f MB: not measured", at, targetFilePeakMB)
	} else {
		floorPeak := "schema floor: not measured"
		if sf != nil && sf.maxPeakKB() >= 0 {
			floorPeak = "schema floor " + fmtMB(sf.maxPeakKB())
		}
		add(mb(x.maxPeakKB()) < targetFilePeakMB, "keys_file Terraform + provider peak at %s under %.0f MB: %s (largest of create, plan, add, change); %s",
			at, targetFilePeakMB, fmtMB(x.maxPeakKB()), floorPeak)
	}
	return out
}

// keysJSONChecks hold keys_json at n keys to what it measured before issue
// 12. The apply is compared by the time it takes beyond the raw client's,
// which is the server's time: the measurement before had none.
func (r *results) keysJSONChecks(n int, at string) []check {
	var out []check
	add := func(pass bool, format string, args ...any) {
		out = append(out, check{pass: pass, text: fmt.Sprintf(format, args...)})
	}
	x, best := r.run(n, inputKeysJSON), r.sdkBest[n]
	floor := r.floor(n, inputKeysJSON)
	floorNote := func(s func(floorResult) stepResult) string {
		if floor == nil || !s(*floor).ok() {
			return "terraform_data floor: not measured"
		}
		return "terraform_data floor " + fmtDur(s(*floor).Wall)
	}
	switch {
	case x == nil || !x.Apply.ok() || best.Err != nil || best.Wall <= 0:
		add(false, "keys_json apply at %s no worse than before (%s beyond the best raw client): not measured", at, fmtDur(beforeJSONOwnApply))
	default:
		own := x.Apply.Wall - best.Wall
		add(own <= beforeJSONOwnApply, "keys_json apply at %s no worse than before (%s beyond the best raw client): %s, %s beyond %s (%s); %s",
			at, fmtDur(beforeJSONOwnApply), fmtDur(x.Apply.Wall), fmtDur(own), fmtDur(best.Wall), sdkBestLabel(best), floorNote(func(f floorResult) stepResult { return f.Apply }))
	}
	if x == nil || !x.Plan.ok() {
		add(false, "keys_json no-op plan at %s no worse than before (%s): not measured", at, fmtDur(beforeJSONPlan))
	} else {
		add(x.Plan.Wall <= beforeJSONPlan, "keys_json no-op plan at %s no worse than before (%s): %s; %s",
			at, fmtDur(beforeJSONPlan), fmtDur(x.Plan.Wall), floorNote(func(f floorResult) stepResult { return f.Plan }))
	}
	if x == nil || x.maxPeakKB() < 0 {
		add(false, "keys_json Terraform + provider peak at %s no worse than before (%.0f MB): not measured", at, beforeJSONPeakMB)
	} else {
		add(mb(x.maxPeakKB()) <= beforeJSONPeakMB, "keys_json Terraform + provider peak at %s no worse than before (%.0f MB): %s (largest of create, plan, add, change)",
			at, beforeJSONPeakMB, fmtMB(x.maxPeakKB()))
	}
	return out
}

// keysMapChecks are issue 12's targets for the typed keys map, each with
// both floors beside it: the terraform_data floor (Terraform core holding
// the same map) and the schema floor (Terraform core on
// unkey_key_migration's own schema with a provider doing next to nothing),
// so that the gap shows how much of it is core's and how much the
// provider's.
func (r *results) keysMapChecks() []check {
	var out []check
	add := func(pass bool, format string, args ...any) {
		out = append(out, check{pass: pass, text: fmt.Sprintf(format, args...)})
	}
	skip := func(why, format string, args ...any) {
		out = append(out, check{text: fmt.Sprintf(format, args...), notRun: why})
	}
	at := fmtN(targetKeysN) + " keys"
	for _, step := range []struct {
		name string
		of   func(stepResult, stepResult) stepResult // of the (apply, plan) pair
	}{
		{"apply", func(a, _ stepResult) stepResult { return a }},
		{"no-op plan", func(_, p stepResult) stepResult { return p }},
	} {
		text := fmt.Sprintf("keys %s at %s within %.1f× the terraform_data floor", step.name, at, targetKeysVsFloor)
		if why := r.keysNotRun(targetKeysN); why != "" {
			skip(why, "%s%s", text, r.floorsNote(targetKeysN, step.of))
			continue
		}
		x, f := r.run(targetKeysN, inputKeys), r.floor(targetKeysN, inputKeys)
		if x == nil || f == nil || !step.of(x.Apply, x.Plan).ok() || !step.of(f.Apply, f.Plan).ok() {
			add(false, "%s: not measured (a run failed or was killed)%s", text, r.floorsNote(targetKeysN, step.of))
			continue
		}
		got, floor := step.of(x.Apply, x.Plan).Wall, step.of(f.Apply, f.Plan).Wall
		ratio := float64(got) / float64(floor)
		add(ratio <= targetKeysVsFloor, "%s: %s, %.2f×%s", text, fmtDur(got), ratio, r.floorsNote(targetKeysN, step.of))
	}

	text := fmt.Sprintf("keys cost per key flat from %s to %s within %.1f×", fmtN(keysFlatFrom), fmtN(keysFlatTo), keysFlatTolerance)
	floorsFlat := r.floorsFlatNote()
	switch why := r.keysNotRun(keysFlatFrom, keysFlatTo); {
	case why != "":
		skip(why, "%s%s", text, floorsFlat)
	default:
		var pts []costPoint
		for _, n := range r.nsFor(inputKeys) {
			x := r.run(n, inputKeys)
			if n >= keysFlatFrom && n <= keysFlatTo && x != nil && x.Apply.ok() {
				pts = append(pts, costPoint{n, x.Apply.Wall})
			}
		}
		if len(pts) < 2 || pts[0].N != keysFlatFrom || pts[len(pts)-1].N != keysFlatTo {
			add(false, "%s: not measured at every N (a create failed or was killed)%s", text, floorsFlat)
			break
		}
		ok, why := flatnessWithin(pts, keysFlatTolerance)
		add(ok, "%s: %s%s", text, why, floorsFlat)
	}

	text = fmt.Sprintf("keys at %s keys completes (create, no-op plan, add 1 key, change 1 key)", fmtN(keysCompletesN))
	if why := r.keysNotRun(keysCompletesN); why != "" {
		skip(why, "%s", text)
	} else {
		x := r.run(keysCompletesN, inputKeys)
		done := x != nil && x.Err == nil && x.Apply.ok() && x.Plan.ok() && x.Add.ok() && x.Change.ok()
		if done {
			add(true, "%s: create %s, no-op plan %s, add %s, change %s", text, fmtDur(x.Apply.Wall), fmtDur(x.Plan.Wall), fmtDur(x.Add.Wall), fmtDur(x.Change.Wall))
		} else {
			add(false, "%s: it did not", text)
		}
	}
	return out
}

// keysNotRun says why the keys input was not run at some of ns, or "".
func (r *results) keysNotRun(ns ...int) string {
	for _, n := range ns {
		switch {
		case !slices.Contains(r.ns, n):
			return fmt.Sprintf("-n has no %s", fmtN(n))
		case n > r.keysMax:
			return fmt.Sprintf("-keys-max %s", fmtN(r.keysMax))
		}
	}
	return ""
}

// floorsNote is "; terraform_data floor X; schema floor Y (Z× terraform_data)"
// for one step at n, with whatever of it was measured.
func (r *results) floorsNote(n int, of func(stepResult, stepResult) stepResult) string {
	var td time.Duration
	note := "; terraform_data floor: not measured"
	if f := r.floor(n, inputKeys); f != nil && of(f.Apply, f.Plan).ok() {
		td = of(f.Apply, f.Plan).Wall
		note = "; terraform_data floor " + fmtDur(td)
	}
	sf := r.schemaFloor(n, inputKeys)
	if sf == nil || !of(sf.Apply, sf.Plan).ok() {
		return note + "; schema floor: not measured"
	}
	s := of(sf.Apply, sf.Plan).Wall
	note += "; schema floor " + fmtDur(s)
	if td > 0 {
		note += fmt.Sprintf(" (%.2f× terraform_data)", float64(s)/float64(td))
	}
	return note
}

// floorsFlatNote is both floors' cost per key from keysFlatFrom to
// keysFlatTo, where measured.
func (r *results) floorsFlatNote() string {
	var note string
	for _, fl := range []struct {
		name string
		wall func(n int) (time.Duration, bool)
	}{
		{"terraform_data floor", func(n int) (time.Duration, bool) {
			f := r.floor(n, inputKeys)
			return stepWall(f != nil, func() stepResult { return f.Apply })
		}},
		{"schema floor", func(n int) (time.Duration, bool) {
			f := r.schemaFloor(n, inputKeys)
			return stepWall(f != nil, func() stepResult { return f.Apply })
		}},
	} {
		var pts []costPoint
		for _, n := range r.ns {
			if w, ok := fl.wall(n); ok && n >= keysFlatFrom && n <= keysFlatTo {
				pts = append(pts, costPoint{n, w})
			}
		}
		if len(pts) < 2 {
			note += fmt.Sprintf("; %s: not measured", fl.name)
			continue
		}
		_, why := flatnessWithin(pts, keysFlatTolerance)
		note += fmt.Sprintf("; %s: %s", fl.name, why)
	}
	return note
}

func stepWall(exists bool, s func() stepResult) (time.Duration, bool) {
	if !exists || !s().ok() {
		return 0, false
	}
	return s().Wall, true
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// summary is the machine and the two main tables, for the README.
func (r *results) summary(machineInfo string, date time.Time, reportPath string) string {
	return fmt.Sprintf("%s, %s; provider batch_size %s; full report in %s.\n\n%s\n%s",
		machineInfo, date.UTC().Format("2006-01-02"), r.batchLabel(), reportPath, r.createTable().render(), r.laterTable().render())
}

func (r *results) batchLabel() string {
	if r.batchSize > 0 {
		return itoa(r.batchSize)
	}
	return "default"
}

// report is the whole markdown document.
func (r *results) report(machineInfo string, date time.Time, total time.Duration, load string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# unkey_key_migration benchmark\n\n")
	fmt.Fprintf(&b, "- Machine: %s\n", machineInfo)
	fmt.Fprintf(&b, "- Date: %s\n", date.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Total benchmark duration: %s\n", total.Round(time.Second))
	fmt.Fprintf(&b, "- Load average (1 min) at the start and the end: %s\n", load)
	if r.mix == mixLight {
		fmt.Fprintf(&b, "- Generated keys (internal/keygen, -mix light): names and meta only.\n")
	} else {
		fmt.Fprintf(&b, "- Generated keys (internal/keygen, as cmd/genkeys): names, external IDs, meta, some roles, permissions, ratelimits, credits, expiries.\n")
	}
	fmt.Fprintf(&b, "- Server: the local Unkey-compatible API (internal/unkeylocal) in this process on 127.0.0.1, a fresh one per run")
	if r.latency == latencyUnkey {
		fmt.Fprintf(&b, ", taking Unkey's time (-latency unkey: %s plus %s per key of a keys.migrateKeys request, %d requests served at once, "+
			"fitted to Unkey's own server on this machine; the baselines and every run wait the same).\n",
			unkeylocal.UnkeyLatency.PerRequest, unkeylocal.UnkeyLatency.PerKey, unkeylocal.UnkeyLatency.Concurrency)
	} else {
		fmt.Fprintf(&b, ", answering at once (-latency none).\n")
	}
	par := "default"
	if r.parallel > 0 {
		par = itoa(r.parallel)
	}
	fmt.Fprintf(&b, "- Provider: batch_size %s, parallel_requests %s. `keys` is given as `keys = jsondecode(file(\"keys-map.json\"))` "+
		"(a map hash => settings, every attribute present, null when absent, as cmd/genkeys writes it); `keys_json` as `file(\"keys.json\")` in Unkey's migrateKeys format; "+
		"`keys_file` as `\"keys.json\"` with `keys_file_sha256 = filesha256(\"keys.json\")` (no terraform_data floor: Terraform holds a path and a hash, and the key IDs, whose cost the schema floor measures; its other floor is the raw client).\n", r.batchLabel(), par)
	fmt.Fprintf(&b, "- SDK baselines: github.com/unkeyed/sdks/api/go/v2, keys already in memory in the SDK's types; only sending is timed (encoding included). No body over 5 MiB.\n")
	fmt.Fprintf(&b, "- Peaks: Terraform's own VmHWM (polled every %s) plus the largest provider process's own peak (its VmHWM, written by the provider "+
		"through TF_PROVIDER_UNKEY_RUSAGE_FILE); provider CPU is summed over every provider process of the command (Terraform starts 3–4 per command). "+
		"wait4 max RSS is Terraform's ru_maxrss as its parent sees it, the largest of Terraform and its providers; on Linux it also counts the address space "+
		"of the process that started it (this benchmark) up to exec, so it overstates.\n", hwmPollInterval)
	fmt.Fprintf(&b, "- terraform_data floors: `input = sensitive(file(\"keys.json\"))` (sensitive like keys_json, so Terraform does not print 40 MB of plan) "+
		"and `input = jsondecode(file(\"keys-map.json\"))`.\n")
	if len(r.schemaFloors) > 0 {
		fmt.Fprintf(&b, "- schema floors (no-op provider, same schema): an input's configuration and steps against a provider serving unkey_key_migration's real schema (taken from the provider in process) "+
			"that validates nothing, plans the proposed state (computed attributes unknown on create), applies it with cheap values (a key ID per hash; for keys_file, "+
			"key_ids_json of the same size as the provider's, the hashes found in the file without decoding it) "+
			"and calls no API (cmd/unkey-bench/floor.go): what Terraform core costs for this schema and this state whatever the provider does.\n")
	}
	if slices.Contains(r.inputs, inputKeys) && len(r.nsFor(inputKeys)) < len(r.ns) {
		fmt.Fprintf(&b, "- `keys` not run at N above %s (-keys-max), its floors not above %s (-keys-floor-max): %s; "+
			"see the README's \"Which input for how many keys\".\n", fmtN(r.keysMax), fmtN(max(r.keysMax, r.floorMax)), keysCostNote)
	}
	b.WriteString("\n")

	fmt.Fprintf(&b, "## Create: `terraform apply` of N new keys, and the baselines\n\n%s\n", r.createTable().render())
	fmt.Fprintf(&b, "## With N keys in state: no-op plan, add 1 key, change 1 key's name\n\n%s\n", r.laterTable().render())
	fmt.Fprintf(&b, "## Cost per key of the create (wall / N) and marginal cost per added key, µs\n\n%s\n", r.costTable().render())
	fmt.Fprintf(&b, "## SDK sweep at N=%s (wall time; fastest in bold)\n\n%s\n", fmtN(r.sweepN), r.sweepTable().render())
	fmt.Fprintf(&b, "## Targets\n\n```\n")
	for _, c := range r.checks() {
		fmt.Fprintln(&b, c)
	}
	fmt.Fprintf(&b, "```\n")
	return b.String()
}
