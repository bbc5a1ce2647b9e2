package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

var (
	_ resource.ResourceWithConfigure        = (*keyMigrationResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*keyMigrationResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*keyMigrationResource)(nil)
	_ resource.ResourceWithConfigValidators = (*keyMigrationResource)(nil)
)

// NewKeyMigrationResource is the unkey_key_migration resource.
func NewKeyMigrationResource() resource.Resource { return &keyMigrationResource{} }

type keyMigrationResource struct {
	data *providerData
}

func (r *keyMigrationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_key_migration"
}

func (r *keyMigrationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	r.data = data
}

func (r *keyMigrationResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{resourcevalidator.ExactlyOneOf(path.MatchRoot("keys"), path.MatchRoot("keys_json"), path.MatchRoot("keys_file"))}
}

// ValidateConfig checks every hash against hash_format, and all of
// keys_json, at plan time.
func (r *keyMigrationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var format, keysJSON types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("hash_format"), &format)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("keys_json"), &keysJSON)...)
	hashes, err := hashesToValidate(ctx, req.Config.Raw)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("keys"), "Unreadable keys", "This is a bug in the provider: "+err.Error())
	}
	if resp.Diagnostics.HasError() || format.IsUnknown() {
		return
	}
	if !keysJSON.IsNull() && !keysJSON.IsUnknown() {
		if _, problems := parseKeysJSON(keysJSON.ValueString(), format.ValueString()); problems != nil {
			resp.Diagnostics.AddAttributeError(path.Root("keys_json"), "Invalid keys_json", problems.Error())
		}
	}
	if hashes == nil {
		return
	}
	warnIfKeysMapIsLarge(len(hashes), &resp.Diagnostics)
	if format.IsNull() {
		return
	}
	const maxReported = 20
	var bad int
	for _, hash := range hashes {
		problem := checkHash(hash, format.ValueString())
		if problem == "" {
			continue
		}
		if bad++; bad <= maxReported {
			resp.Diagnostics.AddAttributeError(path.Root("keys").AtMapKey(hash), "Hash does not match hash_format",
				fmt.Sprintf("keys[%q]: the hash %s.", hash, problem))
		}
	}
	if bad > maxReported {
		resp.Diagnostics.AddAttributeError(path.Root("keys"), "More hashes do not match hash_format",
			fmt.Sprintf("%d hashes in all do not match hash_format %q; the first %d are shown above.", bad, format.ValueString(), maxReported))
	}
}

// configuredHashes is the hashes of the keys map, sorted, read straight
// from a configuration's (or plan's) Terraform value; nil when keys is null or
// unknown. Reading keys through the framework would turn every setting of
// every key into a framework value only to count and sort the hashes.
func configuredHashes(config tftypes.Value) ([]string, error) {
	v, _, err := tftypes.WalkAttributePath(config, tftypes.NewAttributePath().WithAttributeName("keys"))
	if err != nil {
		return nil, err
	}
	keys, ok := v.(tftypes.Value)
	if !ok {
		return nil, fmt.Errorf("keys is a %T", v)
	}
	if keys.IsNull() || !keys.IsKnown() {
		return nil, nil
	}
	return keysOf(keys)
}

// largeKeysMap is the size from which keys_file is the better input.
const largeKeysMap = 1000

// warnIfKeysMapIsLarge points users of a large keys map to keys_file:
// Terraform core's own conversion of a map of nested objects to the schema
// grows with the square of the keys (BenchmarkCoreConvertsKeysMap), whatever
// the provider does.
func warnIfKeysMapIsLarge(n int, diags *diag.Diagnostics) {
	if n <= largeKeysMap {
		return
	}
	diags.AddAttributeWarning(path.Root("keys"), "Large keys map: use keys_file",
		fmt.Sprintf("keys holds %s keys. Above %s keys, Terraform and its plugin framework spend far longer on a map of objects than Unkey "+
			"takes to migrate the keys, and the cost per key grows with the number of keys: measured on 2 CPU cores at 10,000 keys, "+
			"83 s per apply, 96 s to add one key, 57 s per plan that changes nothing, 1.4 GB of memory, most of it Terraform's own. keys_file takes the same keys as a JSON file "+
			"in Unkey's migrateKeys format that the provider reads itself, for example keys_file = \"${path.module}/keys.json\" with "+
			"keys_file_sha256 = filesha256(\"${path.module}/keys.json\"): measured with Unkey's server time, 100,000 keys apply in about 12 s "+
			"(Unkey's own share about 8 s), and a plan that changes nothing does not read the file. "+
			"Switching from keys to keys_file in place keeps every key already migrated; see the guide \"Migrating existing API keys\".",
			humanize(n), humanize(largeKeysMap)))
}

// humanize writes a count with thousands separators: 1,000.
func humanize(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// privateState is what the resource keeps beside its state, out of sight.
type privateState = migration.Private

const (
	privateKey        = "migration"
	plannedDestroyKey = "planned_destroy"
)

type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

func readPrivate(ctx context.Context, p privateGetter) (privateState, diag.Diagnostics) {
	raw, diags := p.GetKey(ctx, privateKey)
	ps, err := migration.DecodePrivate(raw)
	if err != nil {
		diags.AddError("Unreadable private state", "This is a bug in the provider: "+err.Error())
	}
	return ps, diags
}

func writePrivate(ctx context.Context, p privateSetter, ps privateState) diag.Diagnostics {
	raw, err := migration.EncodePrivate(ps)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Could not save private state", err.Error())
		return diags
	}
	return p.SetKey(ctx, privateKey, raw)
}

func (r *keyMigrationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan keyMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !attachKeys(ctx, &plan, nil) {
		resp.Diagnostics.AddError("Unreadable keys", "This is a bug in the provider: keys taken out of the request cannot be read.")
	}
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(checkPlannedKeysFile(plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	desired, diags := desiredKeys(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.ChangeSummary.IsUnknown() {
		plan.ChangeSummary = types.StringValue(changeSummary(keyMigrationChanges{send: sortedKeys(desired)}))
	}
	rec := migration.NewRecord()
	var ps privateState
	var migrateErr error
	var journaled int64
	send := func(sending func()) {
		journaled, migrateErr = r.migrate(ctx, client, plan, desired, sortedKeys(desired), nil, &rec, &ps, sending, &resp.Diagnostics)
	}
	var digest func(hash string) string
	if plan.usesKeysFile() {
		digest = digestsWhile(plan, desired, send)
	} else {
		send(nil)
	}
	if migrateErr != nil && len(rec.KeyIDs)+len(rec.Failed)+len(rec.Unconfirmed)+len(ps.Unanswered) == 0 {
		// Nothing reached Unkey: no resource, nothing to remember.
		resp.Diagnostics.AddError("Could not migrate the keys", migrateErr.Error())
		return
	}
	plan.ID = types.StringValue(plan.MigrationID.ValueString() + "/" + plan.APIID.ValueString())
	resp.Diagnostics.Append(setRecordOn(ctx, rec, &plan)...)
	ps.IncompleteCreate = migrateErr != nil
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, ps)...)
	if plan.usesKeysFile() {
		fr := newKeysFileRecord(rec, desired, digest, nil, nil)
		resp.Diagnostics.Append(writeKeysFileRecord(ctx, resp.Private, &fr, rec)...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	handBackKeys(ctx, plan)
	if migrateErr == nil && len(ps.Unanswered) == 0 && !resp.Diagnostics.HasError() {
		sealJournal(journalFor(r.data.apiURL, plan.MigrationID.ValueString(), plan.APIID.ValueString()), journaled, plan)
	}
	addOutcomeWarnings(&resp.Diagnostics, rec, nil)
	if migrateErr != nil {
		resp.Diagnostics.AddError("Key migration incomplete", incompleteMessage(migrateErr, sortedKeys(desired), rec, ps, true))
	}
}

// migrate sends the hashes not yet sent, in order, and records every
// outcome, journaling each batch. Outcomes a killed earlier apply journaled
// are taken from the journal instead of being sent again. sending, when
// set, is called as each batch leaves. It returns the bytes it journaled,
// for sealJournal.
func (r *keyMigrationResource) migrate(ctx context.Context, client *unkeyclient.Client, plan keyMigrationModel, desired map[string]unkeyclient.Key, hashes []string, previouslyUnanswered map[string]bool, rec *migrationRecord, ps *privateState, sending func(), diags *diag.Diagnostics) (journaled int64, _ error) {
	if len(hashes) == 0 {
		return 0, nil
	}
	if previouslyUnanswered == nil {
		previouslyUnanswered = map[string]bool{}
	}
	j := journalFor(r.data.apiURL, plan.MigrationID.ValueString(), plan.APIID.ValueString())
	hashes, err := recoverFromJournal(j, hashes, previouslyUnanswered, rec, diags)
	if err != nil {
		return 0, err
	}
	keys := make([]unkeyclient.Key, 0, len(hashes))
	for _, h := range hashes {
		keys = append(keys, desired[h])
	}
	var journalErr error
	var mu sync.Mutex // batches are answered concurrently
	journal := func(e migration.Entry) {
		n, err := j.AppendCounted(e)
		mu.Lock()
		journaled += n
		journalErr = cmp.Or(journalErr, err)
		mu.Unlock()
	}
	tflog.Info(ctx, "Migrating keys", map[string]any{"keys": len(keys), "batch_size": plan.BatchSize.ValueInt64()})
	res, err := client.Migrate(ctx, unkeyclient.MigrateRequest{
		MigrationID: plan.MigrationID.ValueString(), APIID: plan.APIID.ValueString(), Keys: keys, BatchSize: int(plan.BatchSize.ValueInt64()),
		Parallel: r.data.parallel,
		BeforeBatch: func(hashes []string) {
			journal(migration.Entry{Sending: hashes})
			if sending != nil {
				sending()
			}
		},
		AfterBatch: func(o unkeyclient.MigrateResult) { journal(outcomeEntry(o)) },
	})
	if journalErr != nil {
		diags.AddWarning("The migration journal could not be written",
			fmt.Sprintf("The provider journals every batch in %s so that a killed apply loses no key ID. Writing it failed (%s), so during this apply that "+
				"safety net was off: had the provider process been killed, key IDs returned by Unkey could have been lost. "+
				"Make the directory writable, or point UNKEY_PROVIDER_JOURNAL_DIR (or TF_DATA_DIR) at one that is.", migration.Dir(), journalErr))
	}
	for h, id := range res.KeyIDs {
		rec.KeyIDs[h] = id
	}
	for _, h := range res.Failed {
		// A hash whose earlier request lost its answer and that now "already
		// exists" was most likely created by that request.
		if previouslyUnanswered[h] {
			rec.Unconfirmed[h] = true
		} else {
			rec.Failed[h] = true
		}
	}
	for _, h := range res.Unconfirmed {
		rec.Unconfirmed[h] = true
	}
	ps.Unanswered = res.Unanswered
	if journalErr != nil {
		journaled = 0 // a journal missing a line must not be sealed
	}
	return journaled, err
}

// recoverFromJournal takes the outcomes a killed earlier apply journaled for
// these hashes, and returns the hashes still to send. Hashes that were in
// flight when it died are sent again, as hashes whose answer was lost. A
// journal that exists but cannot be read stops the apply: sending its hashes
// again would turn their key IDs into failed hashes for good.
func recoverFromJournal(j migration.Journal, hashes []string, previouslyUnanswered map[string]bool, rec *migrationRecord, diags *diag.Diagnostics) ([]string, error) {
	journaled, err := j.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the migration journal %s: %w. It may hold key IDs of an apply whose provider was killed, so nothing was sent. "+
			"Make the file readable and apply again; delete it only if no earlier apply of this migration was killed", j.Path(), err)
	}
	if journaled.Empty() {
		return hashes, nil
	}
	toSend := hashes[:0:0]
	recovered := 0
	for _, h := range hashes {
		switch id, ok := journaled.KeyIDs[h]; {
		case ok:
			rec.KeyIDs[h] = id
		case journaled.Failed[h]:
			rec.Failed[h] = true
		case journaled.Unconfirmed[h]:
			rec.Unconfirmed[h] = true
		default:
			if journaled.InDoubt[h] {
				previouslyUnanswered[h] = true
			}
			toSend = append(toSend, h)
			continue
		}
		recovered++
	}
	recoveredWarning(diags, recovered)
	return toSend, nil
}

func recoveredWarning(diags *diag.Diagnostics, n int) {
	if n > 0 {
		diags.AddWarning("Recovered the outcome of an interrupted apply",
			fmt.Sprintf("An earlier apply of this migration ended without Terraform saving its result (its provider process was killed). "+
				"The outcome of %s was taken from the provider's journal (%s) instead of sending them again.", migration.Plural(n, "hash", "hashes"), migration.Dir()))
	}
}

func addOutcomeWarnings(diags *diag.Diagnostics, rec migrationRecord, before *migrationRecord) {
	newFailed, newUnconfirmed := countNew(rec.Failed, before, func(r migrationRecord) map[string]bool { return r.Failed }),
		countNew(rec.Unconfirmed, before, func(r migrationRecord) map[string]bool { return r.Unconfirmed })
	if newFailed > 0 {
		diags.AddWarning("Some hashes already exist in Unkey",
			fmt.Sprintf("Unkey did not migrate %s because keys with those hashes already exist (from another migration, an earlier run whose state was lost, "+
				"or keys created in Unkey). They are listed in failed_hashes and were not changed. If they should belong to this resource, find their keys in the Unkey dashboard.", migration.Plural(newFailed, "hash", "hashes")))
	}
	if newUnconfirmed > 0 {
		diags.AddWarning("Some key IDs are unknown",
			fmt.Sprintf("%s sent in a request whose answer was lost, and a retry found them already existing: that request most likely migrated them, "+
				"but Unkey never returned their key IDs. They are listed in unconfirmed_hashes and will not be sent again. "+
				"Their keys work; to manage them from Terraform, find their key IDs in the Unkey dashboard.", migration.Plural(newUnconfirmed, "hash was", "hashes were")))
	}
}

func countNew(now map[string]bool, before *migrationRecord, pick func(migrationRecord) map[string]bool) int {
	if before == nil {
		return len(now)
	}
	n := 0
	for h := range now {
		if !pick(*before)[h] {
			n++
		}
	}
	return n
}

// incompleteMessage explains a failed apply: the error, what became of every
// hash of the configuration, and how to resume.
func incompleteMessage(err error, config []string, rec migrationRecord, ps privateState, create bool) string {
	unanswered := map[string]bool{}
	for _, h := range ps.Unanswered {
		unanswered[h] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s.\n\n", err, migration.Tally(config, rec, unanswered))
	if create {
		b.WriteString("To resume, fix the cause above, then run `terraform untaint` on this resource and `terraform apply`: only the pending hashes will be sent. " +
			"Terraform marks a resource whose create failed as tainted and would replace it, which would send every hash again and lose the saved key IDs, " +
			"so this provider refuses that replacement.")
	} else {
		b.WriteString("To resume, fix the cause above and run `terraform apply` again: only what is still pending will be sent.")
	}
	return b.String()
}

func (r *keyMigrationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	state, diags := modelWithoutKeys(ctx, req.State)
	resp.Diagnostics.Append(diags...)
	state.resolveKeyIDsJSON(ctx)
	ps, diags := readPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The framework keeps the planned private state of a failed Delete; a
	// destroy that did not happen must not count as planned later.
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, plannedDestroyKey, nil)...)
	if ps.IncompleteCreate {
		resp.Diagnostics.AddWarning("Key migration incomplete: untaint before applying",
			fmt.Sprintf("The create of the migration %s failed part-way, so Terraform marked it tainted and plans to replace it. "+
				"Replacing would send every hash again and lose the key IDs already saved, so the provider will refuse the replacement. "+
				"Run `terraform untaint` on this resource, then `terraform apply` to send only the pending hashes.", state.ID.ValueString()))
	}
	if r.data == nil || r.data.client == nil {
		return
	}
	// The record is read only when needed: at 100,000 keys, key_ids_json
	// takes a large part of a refresh to decode.
	var rec migrationRecord
	if j := journalFor(r.data.apiURL, state.MigrationID.ValueString(), state.APIID.ValueString()); j.Exists() && !removeSealedJournal(j, state) {
		rec, diags = recordFrom(ctx, state)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
		r.forgetJournalOnceSaved(state, rec, &resp.Diagnostics)
	}
	// Keys are not read back one by one: at 100,000 keys that would be
	// 100,000 requests per plan. Only the API's existence is checked. Nothing
	// Unkey answers here removes the resource: a 404 never proves a deletion.
	_, err := r.data.client.GetAPI(ctx, state.APIID.ValueString())
	switch {
	case err == nil, unkeyclient.IsForbidden(err):
		// A root key without read_api permission can still migrate keys.
		ps.APINotFound = false
	case unkeyclient.IsNotFound(err):
		ps.APINotFound = true
		if rec.KeyIDs == nil {
			rec, _ = recordFrom(ctx, state)
		}
		resp.Diagnostics.AddWarning(apiNotFoundSummary, apiNotFoundDetail(state, rec, err, false))
	default:
		resp.Diagnostics.AddError("Could not read the Unkey API",
			fmt.Sprintf("%s\n\nThe state of %s is kept as it was, with every key ID.", err, state.ID.ValueString()))
	}
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, ps)...)
}

const apiNotFoundSummary = "Unkey API not found with this root key"

// apiNotFoundDetail explains a 404 for the migration's API. Unkey answers an
// API of another workspace exactly like a deleted one, so both causes are
// named, and only a deliberate act of the user lets go of the key IDs.
func apiNotFoundDetail(state keyMigrationModel, rec migrationRecord, err error, applying bool) string {
	api := state.APIID.ValueString()
	var b strings.Builder
	fmt.Fprintf(&b, "The API %s was not found with this root key: Unkey answered that it does not exist (%s).\n\n", api, err)
	b.WriteString("Unkey answers the same in two cases, and nothing in its answer tells them apart:\n")
	fmt.Fprintf(&b, "- The root key belongs to another workspace than the API (for example a staging root key in a production pipeline): "+
		"configure the root key of the workspace that holds %s (root_key, UNKEY_ROOT_KEY or the Unkey CLI config file). Nothing else needs to change.\n", api)
	b.WriteString("- The API was deleted in Unkey, and its keys with it: to let go of this migration and its key IDs deliberately, run " +
		"`terraform state rm` on this unkey_key_migration, or replace its resource block with a `removed` block (Terraform 1.7+).\n\n")
	fmt.Fprintf(&b, "Meanwhile %s keeps in state every key ID it holds (%s), and every failed and unconfirmed hash: a 404 never removes it. ",
		state.ID.ValueString(), migration.Plural(len(rec.KeyIDs), "key ID", "key IDs"))
	if applying {
		b.WriteString("Nothing was sent to Unkey.")
	} else {
		b.WriteString("Any apply that would call Unkey for this migration fails until the API is found with the root key.")
	}
	return b.String()
}

// forgetJournalOnceSaved drops from the journal what the saved state holds,
// removing the journal once it holds nothing else.
func (r *keyMigrationResource) forgetJournalOnceSaved(state keyMigrationModel, rec migrationRecord, diags *diag.Diagnostics) {
	j := journalFor(r.data.apiURL, state.MigrationID.ValueString(), state.APIID.ValueString())
	if _, err := j.ForgetSaved(rec); err != nil {
		diags.AddWarning("Could not tidy the migration journal",
			fmt.Sprintf("Removing saved outcomes from %s failed (%s). Nothing is lost: the journal only keeps what the state already holds.", j.Path(), err))
	}
}

// keyMigrationChanges is what an update must do, by hash.
type keyMigrationChanges struct {
	send    []string
	update  []string
	changes map[string]settingsChange
	remove  []string
}

// changesFrom works out, by hash, what bringing state to plan takes, and
// returns the planned keys with it; none from one keys_file to another,
// where Update asks fileChanges for the few it sends or updates.
// A state of keys_file has digests of its keys' settings instead of the keys.
func changesFrom(ctx context.Context, state, plan keyMigrationModel, rec migrationRecord, fr keysFileRecord) (map[string]unkeyclient.Key, keyMigrationChanges, diag.Diagnostics) {
	if plan.usesKeysFile() && state.usesKeysFile() {
		return fileChanges(plan, state, rec, fr, false)
	}
	planned, diags := desiredKeys(ctx, plan)
	if state.usesKeysFile() {
		if diags.HasError() {
			return nil, keyMigrationChanges{}, diags
		}
		return planned, rememberedChanges(plan, state, fr, func() keyMigrationChanges {
			return planChangesByDigest(sortedKeys(planned), digestOf(plan, planned), rec, fr.digestLookup(rec))
		}), diags
	}
	old, d := desiredKeys(ctx, state)
	diags.Append(d...)
	if diags.HasError() {
		return nil, keyMigrationChanges{}, diags
	}
	return planned, planChanges(old, planned, rec, sameEntries(plan, state)), diags
}

// planChanges compares by hash (the rules are migration.PlanChanges').
// unchanged, when not nil, reports hashes whose entries are identical as
// written, which spares comparing their settings.
func planChanges(state, plan map[string]unkeyclient.Key, rec migrationRecord, unchanged func(hash string) bool) keyMigrationChanges {
	c := keyMigrationChanges{changes: map[string]settingsChange{}}
	mc := migration.PlanChanges(sortedKeys(plan), rec, func(h string) bool {
		old, ok := state[h]
		if !ok || (unchanged != nil && unchanged(h)) {
			return false
		}
		ch := diffSettings(old, plan[h])
		if ch.empty() {
			return false
		}
		c.changes[h] = ch
		return true
	})
	c.send, c.update, c.remove = mc.Send, mc.Update, mc.Remove
	return c
}

func (r *keyMigrationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		// Only a planned destroy passes through here; the delete half of a
		// replacement does not, which lets Delete tell the two apart.
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, plannedDestroyKey, []byte("true"))...)
		return
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, plannedDestroyKey, nil)...)
	if !req.State.Raw.IsNull() && unchangedKeysShortcut(r, ctx, req, resp) {
		return
	}
	var plan, state keyMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	plan.resolveKeyIDsJSON(ctx)
	state.resolveKeyIDsJSON(ctx)
	if !attachKeys(ctx, &plan, &state) {
		keysToldBy(ctx).declined = true // keysMapServer plans the request again whole
		return
	}
	if !req.State.Raw.IsNull() {
		if !resp.Diagnostics.HasError() && replaces(plan, state) {
			resp.Diagnostics.Append(r.refuseReplacingUnseen(ctx, state)...)
		}
	}
	if resp.Diagnostics.HasError() || !plan.inputKnown(ctx) {
		return // known at apply; the computed attributes stay unknown
	}
	if req.State.Raw.IsNull() {
		// A create: the key IDs are unknown until apply, but not how many
		// keys, nor which attribute will hold their IDs.
		if plan.usesKeysFile() {
			_, err := readKeysFile(plan)
			if resp.Diagnostics.Append(keysFileDiags(err, false)...); err != nil {
				return
			}
		}
		plan.ChangeSummary = types.StringValue(changeSummary(keyMigrationChanges{send: hashesOf(plan)}))
		plan.unknownKeyIDs()
		resp.Diagnostics.Append(checkRootKeyAndAPI(ctx, r.data, plan.APIID, nil)...)
		resp.Diagnostics.Append(setPlannedComputed(ctx, &resp.Plan, plan)...)
		return
	}
	ps, diags := readPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	fr, diags := readKeysFileRecord(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if keysFileUnchanged(plan, state, fr) && len(ps.Unanswered) == 0 {
		// Nothing to compare, nothing to read: the plan is the state's record.
		plan.ChangeSummary, plan.KeyIDs, plan.KeyIDsJSON = state.ChangeSummary, state.KeyIDs, state.KeyIDsJSON
		plan.FailedHashes, plan.UnconfirmedHashes = state.FailedHashes, state.UnconfirmedHashes
		resp.Diagnostics.Append(setPlannedComputed(ctx, &resp.Plan, plan)...)
		return
	}
	rec, diags := recordFrom(ctx, state)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	var changes keyMigrationChanges
	if !upToDate(plan, state, rec, fr) {
		_, changes, diags = changesFrom(ctx, state, plan, rec, fr)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
		warnUnansweredRemoved(&resp.Diagnostics, ps.Unanswered, plan)
	}
	if changeCallsUnkey(plan, changes) {
		resp.Diagnostics.Append(checkRootKeyAndAPI(ctx, r.data, plan.APIID, func(err error) (string, string) {
			return apiNotFoundSummary, apiNotFoundDetail(state, rec, err, true)
		})...)
	}
	plan.ChangeSummary = state.ChangeSummary
	if len(changes.send)+len(changes.update)+len(changes.remove) > 0 {
		plan.ChangeSummary = types.StringValue(changeSummary(changes))
	}
	if len(changes.send) > 0 {
		plan.unknownKeyIDs()
		plan.FailedHashes = types.SetUnknown(types.StringType)
		plan.UnconfirmedHashes = types.SetUnknown(types.StringType)
	} else {
		for _, h := range changes.remove {
			rec.Forget(h)
		}
		resp.Diagnostics.Append(setRecordOn(ctx, rec, &plan)...)
	}
	resp.Diagnostics.Append(setPlannedComputed(ctx, &resp.Plan, plan)...)
}

// unchangedKeysShortcut is ModifyPlan's way round converting a keys map that
// has not changed; tests replace it to run the full path and compare.
var unchangedKeysShortcut = (*keyMigrationResource).planUnchangedKeys

// planUnchangedKeys plans, without converting the keys map, a migration whose
// keys are exactly the state's and all accounted for: then the full path
// finds nothing to do and plans the state's record, and so does this
// (TestPlanUnchangedKeysAsTheFullPath). It returns false, having planned
// nothing, in any other case.
func (r *keyMigrationResource) planUnchangedKeys(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) bool {
	hashes, ok := unchangedHashes(ctx, req)
	if !ok {
		return false
	}
	var diags diag.Diagnostics
	plan, d := modelWithoutKeys(ctx, req.Plan)
	diags.Append(d...)
	state, d := modelWithoutKeys(ctx, req.State)
	diags.Append(d...)
	plan.resolveKeyIDsJSON(ctx)
	state.resolveKeyIDsJSON(ctx)
	if diags.HasError() || replaces(plan, state) || plan.keyIDsAsJSON() || state.keyIDsAsJSON() || !plan.KeysFileSHA256.IsNull() || !state.KeysFileSHA256.IsNull() {
		return false // keys is not the only input in both
	}
	// Private state the full path cannot read, it reports: leave that to it.
	_, d = readPrivate(ctx, req.Private)
	diags.Append(d...)
	_, d = readKeysFileRecord(ctx, req.Private)
	diags.Append(d...)
	rec, d := recordFrom(ctx, state)
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	for _, h := range hashes {
		if !rec.Accounted(h) {
			return false // hashes to send: the full path plans them
		}
	}
	plan.ChangeSummary = state.ChangeSummary
	resp.Diagnostics.Append(setRecordOn(ctx, rec, &plan)...)
	resp.Diagnostics.Append(setPlannedComputed(ctx, &resp.Plan, plan)...)
	if told := keysToldBy(ctx); told != nil {
		told.plannedUnchanged = true
	}
	return true
}

// unchangedHashes is the configured hashes of a plan whose keys map is
// known and exactly the state's. keysMapServer, having checked that, takes
// the map out of the request and tells them through ctx.
func unchangedHashes(ctx context.Context, req resource.ModifyPlanRequest) ([]string, bool) {
	if told := keysToldBy(ctx); told != nil {
		return told.hashes, told.unchanged
	}
	keys := tftypes.NewAttributePath().WithAttributeName("keys")
	planned, _, err1 := tftypes.WalkAttributePath(req.Plan.Raw, keys)
	prior, _, err2 := tftypes.WalkAttributePath(req.State.Raw, keys)
	plannedKeys, ok1 := planned.(tftypes.Value)
	priorKeys, ok2 := prior.(tftypes.Value)
	if err1 != nil || err2 != nil || !ok1 || !ok2 || plannedKeys.IsNull() || !plannedKeys.IsFullyKnown() || !plannedKeys.Equal(priorKeys) {
		return nil, false
	}
	hashes, err := configuredHashes(req.Plan.Raw)
	return hashes, err == nil
}

// setPlannedComputed writes into p, which holds the plan ModifyPlan read
// plan from, the attributes ModifyPlan plans: only computed ones, replaced in
// p's Terraform value. Setting the whole model would convert every key's
// settings back, and SetAttribute walks the whole value once per attribute,
// for nothing (TestSetPlannedComputedAsSettingTheModel).
func setPlannedComputed(ctx context.Context, p *tfsdk.Plan, plan keyMigrationModel) diag.Diagnostics {
	var diags diag.Diagnostics
	var attrs map[string]tftypes.Value
	if err := p.Raw.As(&attrs); err != nil {
		diags.AddError("Could not plan the computed attributes", "This is a bug in the provider: "+err.Error())
		return diags
	}
	attrs = maps.Clone(attrs) // As shares the map with the request's plan
	for name, v := range map[string]attr.Value{
		"change_summary": plan.ChangeSummary, "key_ids": plan.KeyIDs, "key_ids_json": keyIDsJSONForFramework(ctx, plan.KeyIDsJSON),
		"failed_hashes": plan.FailedHashes, "unconfirmed_hashes": plan.UnconfirmedHashes,
	} {
		tv, err := v.ToTerraformValue(ctx)
		if err != nil {
			diags.AddAttributeError(path.Root(name), "Could not plan "+name, "This is a bug in the provider: "+err.Error())
			return diags
		}
		attrs[name] = tv
	}
	if err := tftypes.ValidateValue(p.Raw.Type(), attrs); err != nil {
		diags.AddError("Could not plan the computed attributes", "This is a bug in the provider: "+err.Error())
		return diags
	}
	p.Raw = tftypes.NewValue(p.Raw.Type(), attrs)
	return diags
}

// replaces reports whether the plan replaces the migration: migration_id
// and api_id require replacement, and an unknown one may change.
func replaces(plan, state keyMigrationModel) bool {
	return !plan.APIID.Equal(state.APIID) || !plan.MigrationID.Equal(state.MigrationID)
}

const refuseReplacingSummary = "Refusing to replace a key migration whose API the root key does not see"

// refuseReplacingUnseen refuses at plan time to replace a migration whose
// API the root key does not see: with a root key of another workspace, the
// replacement would forget every key ID (its Delete under "abandon" deletes
// nothing) and migrate into an API of the wrong workspace. A refresh has
// usually asked already, so this costs no request.
func (r *keyMigrationResource) refuseReplacingUnseen(ctx context.Context, state keyMigrationModel) diag.Diagnostics {
	var diags diag.Diagnostics
	if r.data == nil || r.data.client == nil {
		return diags
	}
	err := r.data.client.CheckAPI(ctx, state.APIID.ValueString())
	var apiErr *unkeyclient.APIError
	if !errors.As(err, &apiErr) || (!apiErr.IsAPINotFound() && !unkeyclient.IsForbidden(err)) {
		return diags // a replacement the root key can see through is the user's choice
	}
	rec, d := recordFrom(ctx, state)
	if diags.Append(d...); diags.HasError() || len(rec.KeyIDs) == 0 {
		return diags
	}
	diags.AddError(refuseReplacingSummary, replacingUnseenDetail(state, rec, err))
	return diags
}

func replacingUnseenDetail(state keyMigrationModel, rec migrationRecord, err error) string {
	if unkeyclient.IsForbidden(err) {
		return fmt.Sprintf("This plan replaces %s (its migration_id or api_id changes, or is not known until apply), which would forget the %s it holds. "+
			"The root key may not read its API %s (apis.getApi answered 403: no read_api permission), and Unkey checks that permission before it looks the API up, "+
			"so the provider cannot tell whether the root key is of the API's workspace. Grant the root key api.*.read_api (or api.%s.read_api), "+
			"or let go of the migration deliberately with `terraform state rm` or a `removed` block. Nothing has been sent.\n\n%s",
			state.ID.ValueString(), migration.Plural(len(rec.KeyIDs), "key ID", "key IDs"), state.APIID.ValueString(), state.APIID.ValueString(), err)
	}
	return fmt.Sprintf("This plan replaces %s (its migration_id or api_id changes, or is not known until apply, as when the unkey_api it refers to is to be created). "+
		"Replacing it would forget the key IDs it holds. A key ID that is not recorded is lost for good: Unkey cannot find a key by its hash.\n\n"+
		"If the API was not deleted and the root key is of another workspace, configure the right root key; if an unkey_api this migration refers to left the state, "+
		"bring it back with `terraform import` (with that root key) instead of creating it again.\n\n%s",
		state.ID.ValueString(), apiNotFoundDetail(state, rec, err, true))
}

// warnUnansweredRemoved says when hashes removed from the configuration were
// sent in a request whose answer was lost: Unkey may hold keys for them, but
// without their key IDs the provider can neither record nor delete them.
func warnUnansweredRemoved(diags *diag.Diagnostics, unanswered []string, plan keyMigrationModel) {
	if len(unanswered) == 0 {
		return
	}
	kept := map[string]bool{}
	for _, h := range hashesOf(plan) {
		kept[h] = true
	}
	var removed []string
	for _, h := range unanswered {
		if !kept[h] {
			removed = append(removed, h)
		}
	}
	if len(removed) == 0 {
		return
	}
	one := len(removed) == 1
	it, was := migration.Agree(one, "it", "them"), migration.Agree(one, "was", "were")
	diags.AddWarning("Removed hashes may have keys in Unkey",
		fmt.Sprintf("%s removed from the configuration %s sent in a request whose answer was lost, so Unkey may have migrated %s, but never returned the key IDs. "+
			"The provider forgets %s without deleting anything, whatever deletion_policy says: without a key ID it cannot find the key. "+
			"To find out, put the %s back and apply: one that then comes back in unconfirmed_hashes has a key in Unkey, to be found and, if unwanted, "+
			"deleted in the Unkey dashboard. %s: %s.",
			migration.Plural(len(removed), "hash", "hashes"), was, it, it, migration.Agree(one, "hash", "hashes"),
			migration.Agree(one, "Hash", "Hashes"), strings.Join(removed, ", ")))
}

func (r *keyMigrationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state keyMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if !attachKeys(ctx, &plan, &state) {
		resp.Diagnostics.AddError("Unreadable keys", "This is a bug in the provider: keys taken out of the request cannot be read.")
	}
	ps, diags := readPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	fr, diags := readKeysFileRecord(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	rec, diags := recordFrom(ctx, state)
	resp.Diagnostics.Append(diags...)
	before := cloneRecord(rec)
	var planned map[string]unkeyclient.Key
	var changes keyMigrationChanges
	partial := plan.usesKeysFile() && state.usesKeysFile() // planned holds only the keys sent or updated
	// A keys_file of the same hash, fully applied, is not read at all.
	if !keysFileUnchanged(plan, state, fr) || len(ps.Unanswered) > 0 {
		if partial {
			planned, changes, diags = fileChanges(plan, state, rec, fr, true)
			resp.Diagnostics.Append(diags...)
		} else {
			resp.Diagnostics.Append(checkPlannedKeysFile(plan)...)
			if resp.Diagnostics.HasError() {
				return
			}
			planned, changes, diags = changesFrom(ctx, state, plan, rec, fr)
			resp.Diagnostics.Append(diags...)
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if ps.APINotFound {
		// The refresh found no API with this root key: send nothing until it does.
		if _, err := confirmAPIVisible(ctx, client, state, rec); err != nil {
			resp.Diagnostics.AddError(apiNotFoundSummary, err.Error())
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			handBackKeys(ctx, state)
			return
		}
		ps.APINotFound = false
	}
	if plan.ChangeSummary.IsUnknown() {
		plan.ChangeSummary = types.StringValue(changeSummary(changes))
	}

	unanswered := map[string]bool{}
	for _, h := range ps.Unanswered {
		unanswered[h] = true
	}
	var notDone []string // hashes whose state entry must keep its old value
	journaled, opErr := r.migrate(ctx, client, plan, planned, changes.send, unanswered, &rec, &ps, nil, &resp.Diagnostics)
	ps.Unanswered = migration.StillConfigured(ps.Unanswered, func(h string) bool { _, ok := planned[h]; return ok })
	if opErr != nil {
		notDone = append(changes.update, changes.remove...)
	} else {
		var left []string
		left, opErr = r.applySettings(ctx, client, state, planned, rec, changes)
		notDone = append(left, changes.remove...)
		if opErr == nil {
			notDone, opErr = r.removeHashes(ctx, client, plan.DeletionPolicy.ValueString(), state, rec, changes.remove)
		}
	}

	plan.ID = state.ID
	resp.Diagnostics.Append(plan.takeEntries(state, notDone)...)
	resp.Diagnostics.Append(setRecordOn(ctx, rec, &plan)...)
	if opErr == nil {
		ps.IncompleteCreate = false
	}
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, ps)...)
	switch {
	case !plan.usesKeysFile():
		resp.Diagnostics.Append(writeKeysFileRecord(ctx, resp.Private, nil, rec)...)
	case planned != nil:
		digest := func(h string) string { return settingsDigest(planned[h]) } // the few keys sent or updated
		if !partial {
			digest = digestOf(plan, planned)
		}
		newFR := newKeysFileRecord(rec, planned, digest, oldDigests(ctx, state, &fr, before), notDone)
		resp.Diagnostics.Append(writeKeysFileRecord(ctx, resp.Private, &newFR, rec)...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	handBackKeys(ctx, plan)
	if opErr == nil && len(ps.Unanswered) == 0 && !resp.Diagnostics.HasError() {
		sealJournal(journalFor(r.data.apiURL, plan.MigrationID.ValueString(), plan.APIID.ValueString()), journaled, plan)
	}
	addOutcomeWarnings(&resp.Diagnostics, rec, &before)
	if opErr != nil {
		configured := sortedKeys(planned)
		if partial && planned != nil {
			configured = hashesOf(plan)
		}
		resp.Diagnostics.AddError("Key migration update incomplete", incompleteMessage(explainAPINotFound(opErr, state, rec), configured, rec, ps, false))
	}
}

// confirmAPIVisible fails when the root key does not see the migration's
// API. seen is true only when apis.getApi answered: Unkey checks read_api
// before it looks the API up, so a 403 says nothing of the root key's
// workspace (svc/api/routes/v2_apis_get_api/handler.go), and only a seen
// API makes a 404 for one of its keys prove the key gone.
func confirmAPIVisible(ctx context.Context, client *unkeyclient.Client, state keyMigrationModel, rec migrationRecord) (seen bool, err error) {
	_, err = client.GetAPI(ctx, state.APIID.ValueString())
	switch {
	case err == nil:
		return true, nil
	case unkeyclient.IsForbidden(err):
		return false, nil
	case unkeyclient.IsNotFound(err):
		return false, errors.New(apiNotFoundDetail(state, rec, err, true))
	default:
		return false, fmt.Errorf("checking that the API %s is visible with this root key: %w", state.APIID.ValueString(), err)
	}
}

// explainAPINotFound adds both possible causes to a 404 for the API.
func explainAPINotFound(err error, state keyMigrationModel, rec migrationRecord) error {
	var apiErr *unkeyclient.APIError
	if !errors.As(err, &apiErr) || !apiErr.IsAPINotFound() {
		return err
	}
	return fmt.Errorf("%w\n\n%s", err, apiNotFoundDetail(state, rec, err, false))
}

// applySettings updates the migrated keys whose settings changed. It returns
// the hashes not brought up to date when it stops on an error.
func (r *keyMigrationResource) applySettings(ctx context.Context, client *unkeyclient.Client, state keyMigrationModel, planned map[string]unkeyclient.Key, rec migrationRecord, changes keyMigrationChanges) ([]string, error) {
	for i, h := range changes.update {
		if err := updateKey(ctx, client, rec.KeyIDs[h], planned[h], changes.changes[h]); err != nil {
			err = fmt.Errorf("updating the key of hash %q (%s): %w", h, rec.KeyIDs[h], err)
			if isKeyNotFound(err) {
				err = fmt.Errorf("%w\n\n%s", err, keyNotFoundExplanation(ctx, client, state, h, rec.KeyIDs[h]))
			}
			return changes.update[i:], err
		}
		tflog.Debug(ctx, "Updated key settings", map[string]any{"key_id": rec.KeyIDs[h], "updated": i + 1, "of": len(changes.update)})
	}
	return nil, nil
}

func isKeyNotFound(err error) bool {
	var apiErr *unkeyclient.APIError
	return errors.As(err, &apiErr) && apiErr.IsKeyNotFound()
}

// keyNotFoundExplanation explains a 404 for a migrated key: deleted outside
// Terraform, or a root key of another workspace. Whether the root key sees
// the API tells which is likely.
func keyNotFoundExplanation(ctx context.Context, client *unkeyclient.Client, state keyMigrationModel, hash, keyID string) string {
	api := state.APIID.ValueString()
	likely := ""
	if _, apiErr := client.GetAPI(ctx, api); apiErr == nil {
		likely = fmt.Sprintf("The root key does see the API %s, so the first is the likely cause. ", api)
	} else if unkeyclient.IsNotFound(apiErr) {
		likely = fmt.Sprintf("The root key does not see the API %s either, so the second is the likely cause. ", api)
	}
	return fmt.Sprintf("Unkey has no key %s for hash %q with this root key. It answers the same in two cases:\n"+
		"- The key was deleted outside Terraform (in the Unkey dashboard or through the API): remove the hash %q from the configuration and apply. "+
		"The provider then forgets the hash and its key ID; under deletion_policy = \"delete\" it first checks that the root key sees the API, "+
		"then takes Unkey's 404 for the key as already deleted. (A key deleted without `permanent` keeps its hash taken in Unkey: the hash cannot be migrated again.)\n"+
		"- The root key belongs to another workspace than the API: configure the root key of the workspace that holds %s. Nothing else needs to change.\n\n"+
		"%sThe key ID stays in state either way.", keyID, hash, hash, api, likely)
}

func updateKey(ctx context.Context, client *unkeyclient.Client, keyID string, key unkeyclient.Key, ch settingsChange) error {
	if err := client.UpdateKey(ctx, keyID, key, ch.fields); err != nil {
		return err
	}
	if ch.rolesChanged {
		if err := client.SetRoles(ctx, keyID, key.Roles); err != nil {
			return err
		}
	}
	if ch.permissionsChanged {
		return client.SetPermissions(ctx, keyID, key.Permissions)
	}
	return nil
}

// removeHashes forgets removed hashes, deleting their keys first under the
// delete policy. It returns the hashes still held when it stops on an error.
// A 404 from keys.deleteKey means the key is already deleted only when the
// root key is of the API's workspace: that is checked first.
func (r *keyMigrationResource) removeHashes(ctx context.Context, client *unkeyclient.Client, policy string, state keyMigrationModel, rec migrationRecord, hashes []string) ([]string, error) {
	seen := false
	if policy == deletionPolicyDelete && anyMigrated(rec, hashes) {
		var err error
		if seen, err = confirmAPIVisible(ctx, client, state, rec); err != nil {
			return hashes, err
		}
	}
	for i, h := range hashes {
		if id, migrated := rec.KeyIDs[h]; migrated && policy == deletionPolicyDelete {
			err := client.DeleteKey(ctx, id)
			if isKeyNotFound(err) && !seen {
				err = fmt.Errorf("%w\n\nThe root key may not read the API %s (apis.getApi answered 403: no read_api permission), so this 404 cannot be told from the answer "+
					"for a key of another workspace, and the key ID is kept. Grant the root key api.*.read_api (or api.%s.read_api) and apply again", err, state.APIID.ValueString(), state.APIID.ValueString())
			} else if isKeyNotFound(err) {
				err = nil // the root key sees the API: the key is gone already
			}
			if err != nil {
				return hashes[i:], fmt.Errorf("deleting the key of removed hash %q (%s): %w", h, id, err)
			}
		}
		rec.Forget(h)
	}
	return nil, nil
}

func anyMigrated(rec migrationRecord, hashes []string) bool {
	for _, h := range hashes {
		if _, ok := rec.KeyIDs[h]; ok {
			return true
		}
	}
	return false
}

// pendingHashes counts the hashes of the state's keys that Unkey has not
// answered for yet; for keys_file, as the last apply counted them.
func pendingHashes(state keyMigrationModel, rec migrationRecord, fr keysFileRecord) int {
	if state.usesKeysFile() {
		return fr.Pending
	}
	n := 0
	for _, h := range hashesOf(state) {
		if !rec.Accounted(h) {
			n++
		}
	}
	return n
}

func (r *keyMigrationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state keyMigrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rec, diags := recordFrom(ctx, state)
	resp.Diagnostics.Append(diags...)
	fr, diags := readKeysFileRecord(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if state.usesKeysFile() {
		fr.digestsBy(rec) // before removals change the record
	}
	pending := pendingHashes(state, rec, fr)
	destroyPlanned, diags := req.Private.GetKey(ctx, plannedDestroyKey)
	resp.Diagnostics.Append(diags...)
	// The framework saves the planned private state when Delete fails: a
	// failed destroy must not leave a flag that lets a later replacement by.
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, plannedDestroyKey, nil)...)
	if pending > 0 && len(destroyPlanned) == 0 {
		resp.Diagnostics.AddError("Refusing to replace an incomplete key migration",
			fmt.Sprintf("%s still has %s pending, and %s saved in its state that exist nowhere else. Replacing it would send every hash again; "+
				"Unkey would refuse the migrated ones as already existing, and their key IDs would be lost. "+
				"If the create failed part-way, Terraform has marked the resource tainted: run `terraform untaint` on it, then `terraform apply` to send only the pending hashes. "+
				"Otherwise finish the migration with `terraform apply` before changing migration_id or api_id. `terraform destroy` is not refused.",
				state.ID.ValueString(), migration.Plural(pending, "hash", "hashes"), migration.Plural(len(rec.KeyIDs), "key ID", "key IDs")))
		return
	}
	if len(destroyPlanned) == 0 && len(rec.KeyIDs) > 0 && state.DeletionPolicy.ValueString() != deletionPolicyDelete {
		// A replacement planned without a refresh (under "delete", removeHashes checks).
		client, diags := clientFrom(r.data)
		if resp.Diagnostics.Append(diags...); diags.HasError() {
			return
		}
		_, err := client.GetAPI(ctx, state.APIID.ValueString())
		switch {
		case unkeyclient.IsNotFound(err), unkeyclient.IsForbidden(err):
			resp.Diagnostics.AddError(refuseReplacingSummary, replacingUnseenDetail(state, rec, err))
			return
		case err != nil:
			resp.Diagnostics.AddError("Could not check the migration's API before replacing it",
				fmt.Sprintf("%s\n\nNothing was forgotten: the state of %s is unchanged. Apply again once Unkey answers.", err, state.ID.ValueString()))
			return
		}
	}
	if state.DeletionPolicy.ValueString() != deletionPolicyDelete {
		if len(rec.KeyIDs) > 0 {
			tflog.Info(ctx, "Leaving migrated keys in Unkey (deletion_policy = abandon)", map[string]any{"keys": len(rec.KeyIDs)})
		}
		r.forgetJournal(state, rec, &resp.Diagnostics)
		return
	}
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	left, err := r.removeHashes(ctx, client, deletionPolicyDelete, state, rec, sortedKeys(rec.KeyIDs))
	if err == nil {
		r.forgetJournal(state, rec, &resp.Diagnostics)
		return
	}
	if len(left) == len(rec.KeyIDs) {
		// Nothing was deleted: the state stays as it was, every hash with it.
		resp.Diagnostics.AddError("Could not delete the migrated keys", fmt.Sprintf("%s\n\nNothing was deleted; the state is unchanged.", err))
		return
	}
	// Keep only the keys not deleted yet, so that a retry finishes the job.
	clear(rec.Failed)
	clear(rec.Unconfirmed)
	switch {
	case state.usesKeysFile():
		// The file still lists the deleted keys: the next plan reads it.
		fr.Stale = true
		resp.Diagnostics.Append(writeKeysFileRecord(ctx, resp.Private, &fr, rec)...)
	case state.usesKeysJSON():
		all, _ := parseKeysJSON(state.KeysJSON.ValueString(), "")
		state.KeysJSON = types.StringValue(bulkKeys{}.withEntries(all, left))
	default:
		state.Keys, diags = withEntries(types.MapValueMust(state.Keys.ElementType(ctx), nil), state.Keys, left)
		resp.Diagnostics.Append(diags...)
	}
	resp.Diagnostics.Append(setRecordOn(ctx, rec, &state)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.AddError("Could not delete every migrated key",
		fmt.Sprintf("%s\n\n%s still in Unkey and in state; run `terraform destroy` (or apply) again to delete them.", err, migration.Plural(len(left), "key is", "keys are")))
}

// forgetJournal drops a destroyed migration's hashes from the journal it may
// share with other resources (shards of one export).
func (r *keyMigrationResource) forgetJournal(state keyMigrationModel, rec migrationRecord, diags *diag.Diagnostics) {
	if r.data == nil {
		return
	}
	j := journalFor(r.data.apiURL, state.MigrationID.ValueString(), state.APIID.ValueString())
	if err := j.Forget(append(hashesOf(state), rec.Hashes()...)); err != nil {
		diags.AddWarning("Could not tidy the migration journal",
			fmt.Sprintf("Removing this migration's entries from %s failed (%s). Nothing is lost; the file can be deleted by hand.", j.Path(), err))
	}
}
