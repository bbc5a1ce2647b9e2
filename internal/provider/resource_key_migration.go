package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

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
	return []resource.ConfigValidator{resourcevalidator.ExactlyOneOf(path.MatchRoot("keys"), path.MatchRoot("keys_json"))}
}

// ValidateConfig checks every hash against hash_format, and all of
// keys_json, at plan time.
func (r *keyMigrationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var format, keysJSON types.String
	var keys types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("hash_format"), &format)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("keys"), &keys)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("keys_json"), &keysJSON)...)
	if resp.Diagnostics.HasError() || format.IsUnknown() {
		return
	}
	if !keysJSON.IsNull() && !keysJSON.IsUnknown() {
		if _, problems := parseKeysJSON(keysJSON.ValueString(), format.ValueString()); problems != nil {
			resp.Diagnostics.AddAttributeError(path.Root("keys_json"), "Invalid keys_json", problems.Error())
		}
	}
	if keys.IsNull() || keys.IsUnknown() {
		return
	}
	warnIfKeysMapIsLarge(len(keys.Elements()), &resp.Diagnostics)
	if format.IsNull() {
		return
	}
	const maxReported = 20
	var bad int
	for _, hash := range sortedKeys(keys.Elements()) {
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

// largeKeysMap is the size from which keys_json is the better input.
const largeKeysMap = 1000

// warnIfKeysMapIsLarge points users of a large keys map to keys_json:
// terraform-plugin-framework spends about 14 ms of CPU per key of a map of
// nested objects on every apply (hashicorp/terraform-plugin-framework#775),
// seven times Terraform's own cost for the same map, and nothing in this
// provider can avoid it.
func warnIfKeysMapIsLarge(n int, diags *diag.Diagnostics) {
	if n <= largeKeysMap {
		return
	}
	diags.AddAttributeWarning(path.Root("keys"), "Large keys map: use keys_json",
		fmt.Sprintf("keys holds %s keys. Above %s keys, Terraform and its plugin framework spend far longer on a map of objects than Unkey "+
			"takes to migrate the keys: measured on 2 CPU cores, about 14 ms per key on every apply and 10 ms per key on every plan "+
			"(10,000 keys: 137 s per apply, 98 s per plan that changes nothing, 2.3 GB of memory). keys_json takes the same keys as one JSON array "+
			"in Unkey's migrateKeys format, for example keys_json = file(\"keys.json\"), and handles 100,000 keys in seconds. "+
			"Switching from keys to keys_json in place keeps every key already migrated; see the guide \"Migrating existing API keys\".",
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
type privateState struct {
	// IncompleteCreate: the create failed part-way, so Terraform has marked
	// the resource tainted and would replace it, re-sending every hash.
	IncompleteCreate bool `json:"incomplete_create,omitempty"`
	// Unanswered hashes were sent in a request whose outcome is unknown.
	Unanswered []string `json:"unanswered,omitempty"`
}

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
	var ps privateState
	raw, diags := p.GetKey(ctx, privateKey)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &ps); err != nil {
			diags.AddError("Unreadable private state", "This is a bug in the provider: "+err.Error())
		}
	}
	return ps, diags
}

func writePrivate(ctx context.Context, p privateSetter, ps privateState) diag.Diagnostics {
	if !ps.IncompleteCreate && len(ps.Unanswered) == 0 {
		return p.SetKey(ctx, privateKey, nil)
	}
	raw, err := json.Marshal(ps)
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
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
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
	rec := migrationRecord{keyIDs: map[string]string{}, failed: map[string]bool{}, unconfirmed: map[string]bool{}}
	var ps privateState
	recovered, migrateErr := r.migrate(ctx, client, plan, desired, sortedKeys(desired), nil, &rec, &ps)
	recoveredWarning(&resp.Diagnostics, recovered)
	if migrateErr != nil && len(rec.keyIDs)+len(rec.failed)+len(rec.unconfirmed)+len(ps.Unanswered) == 0 {
		// Nothing reached Unkey: no resource, nothing to remember.
		resp.Diagnostics.AddError("Could not migrate the keys", migrateErr.Error())
		return
	}
	plan.ID = types.StringValue(plan.MigrationID.ValueString() + "/" + plan.APIID.ValueString())
	resp.Diagnostics.Append(rec.setOn(ctx, &plan)...)
	ps.IncompleteCreate = migrateErr != nil
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, ps)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	addOutcomeWarnings(&resp.Diagnostics, rec, nil)
	if migrateErr != nil {
		resp.Diagnostics.AddError("Key migration incomplete", incompleteMessage(migrateErr, len(desired), rec, ps, true))
	}
}

// migrate sends the hashes not yet sent, in order, and records every
// outcome, journaling each batch. Outcomes a killed earlier apply journaled
// are taken from the journal instead of being sent again; it returns how
// many.
func (r *keyMigrationResource) migrate(ctx context.Context, client *unkeyclient.Client, plan keyMigrationModel, desired map[string]unkeyclient.Key, hashes []string, previouslyUnanswered map[string]bool, rec *migrationRecord, ps *privateState) (int, error) {
	if len(hashes) == 0 {
		return 0, nil
	}
	if previouslyUnanswered == nil {
		previouslyUnanswered = map[string]bool{}
	}
	j := journalFor(r.data.apiURL, plan.MigrationID.ValueString(), plan.APIID.ValueString())
	hashes, recovered := recoverFromJournal(ctx, j, hashes, previouslyUnanswered, rec)
	keys := make([]unkeyclient.Key, 0, len(hashes))
	for _, h := range hashes {
		keys = append(keys, desired[h])
	}
	journalWarn := func(err error) {
		if err != nil {
			tflog.Warn(ctx, "Could not write the migration journal; a killed apply could lose key IDs", map[string]any{"error": err.Error()})
		}
	}
	tflog.Info(ctx, "Migrating keys", map[string]any{"keys": len(keys), "batch_size": plan.BatchSize.ValueInt64()})
	res, err := client.Migrate(ctx, unkeyclient.MigrateRequest{
		MigrationID: plan.MigrationID.ValueString(), APIID: plan.APIID.ValueString(), Keys: keys, BatchSize: int(plan.BatchSize.ValueInt64()),
		Parallel:    r.data.parallel,
		BeforeBatch: func(hashes []string) { journalWarn(j.append(journalEntry{Sending: hashes})) },
		AfterBatch:  func(o unkeyclient.MigrateResult) { journalWarn(j.append(outcomeEntry(o))) },
	})
	for h, id := range res.KeyIDs {
		rec.keyIDs[h] = id
	}
	for _, h := range res.Failed {
		// A hash whose earlier request lost its answer and that now "already
		// exists" was most likely created by that request.
		if previouslyUnanswered[h] {
			rec.unconfirmed[h] = true
		} else {
			rec.failed[h] = true
		}
	}
	for _, h := range res.Unconfirmed {
		rec.unconfirmed[h] = true
	}
	ps.Unanswered = res.Unanswered
	return recovered, err
}

// recoverFromJournal takes the outcomes a killed earlier apply journaled for
// these hashes, and returns the hashes still to send. Hashes that were in
// flight when it died are sent again, as hashes whose answer was lost.
func recoverFromJournal(ctx context.Context, j journal, hashes []string, previouslyUnanswered map[string]bool, rec *migrationRecord) ([]string, int) {
	journaled, err := j.read()
	if err != nil {
		tflog.Warn(ctx, "Could not read the migration journal", map[string]any{"error": err.Error()})
	}
	if journaled.empty() {
		return hashes, 0
	}
	toSend := hashes[:0:0]
	recovered := 0
	for _, h := range hashes {
		switch id, ok := journaled.keyIDs[h]; {
		case ok:
			rec.keyIDs[h] = id
		case journaled.failed[h]:
			rec.failed[h] = true
		case journaled.unconfirmed[h]:
			rec.unconfirmed[h] = true
		default:
			if journaled.inDoubt[h] {
				previouslyUnanswered[h] = true
			}
			toSend = append(toSend, h)
			continue
		}
		recovered++
	}
	return toSend, recovered
}

func recoveredWarning(diags *diag.Diagnostics, n int) {
	if n > 0 {
		diags.AddWarning("Recovered the outcome of an interrupted apply",
			fmt.Sprintf("An earlier apply of this migration ended without Terraform saving its result (its provider process was killed). "+
				"The outcome of %d hashes was taken from the provider's journal (.terraform/unkey-journal) instead of sending them again.", n))
	}
}

func addOutcomeWarnings(diags *diag.Diagnostics, rec migrationRecord, before *migrationRecord) {
	newFailed, newUnconfirmed := countNew(rec.failed, before, func(r migrationRecord) map[string]bool { return r.failed }),
		countNew(rec.unconfirmed, before, func(r migrationRecord) map[string]bool { return r.unconfirmed })
	if newFailed > 0 {
		diags.AddWarning("Some hashes already exist in Unkey",
			fmt.Sprintf("Unkey did not migrate %d hashes because keys with those hashes already exist (from another migration, an earlier run whose state was lost, "+
				"or keys created in Unkey). They are listed in failed_hashes and were not changed. If they should belong to this resource, find their keys in the Unkey dashboard.", newFailed))
	}
	if newUnconfirmed > 0 {
		diags.AddWarning("Some key IDs are unknown",
			fmt.Sprintf("%d hashes were sent in a request whose answer was lost, and a retry found them already existing: that request most likely migrated them, "+
				"but Unkey never returned their key IDs. They are listed in unconfirmed_hashes and will not be sent again. "+
				"Their keys work; to manage them from Terraform, find their key IDs in the Unkey dashboard.", newUnconfirmed))
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

func incompleteMessage(err error, total int, rec migrationRecord, ps privateState, create bool) string {
	pending := total - len(rec.keyIDs) - len(rec.failed) - len(rec.unconfirmed)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", err)
	fmt.Fprintf(&b, "Of %d hashes: %d migrated (their key IDs are saved in state), %d failed as already existing, %d unconfirmed, %d still pending",
		total, len(rec.keyIDs), len(rec.failed), len(rec.unconfirmed), pending)
	if len(ps.Unanswered) > 0 {
		fmt.Fprintf(&b, " (%d of them in a request whose answer was lost; they will be sent again and checked)", len(ps.Unanswered))
	}
	b.WriteString(".\n\n")
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
	var state keyMigrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	ps, diags := readPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if ps.IncompleteCreate {
		resp.Diagnostics.AddWarning("Key migration incomplete: untaint before applying",
			fmt.Sprintf("The create of the migration %s failed part-way, so Terraform marked it tainted and plans to replace it. "+
				"Replacing would send every hash again and lose the key IDs already saved, so the provider will refuse the replacement. "+
				"Run `terraform untaint` on this resource, then `terraform apply` to send only the pending hashes.", state.ID.ValueString()))
	}
	if r.data == nil || r.data.client == nil {
		return
	}
	r.forgetJournalOnceSaved(ctx, state)
	// Keys are not read back one by one: at 100,000 keys that would be
	// 100,000 requests per plan. Only the API's existence is checked.
	_, err := r.data.client.GetAPI(ctx, state.APIID.ValueString())
	switch {
	case err == nil, unkeyclient.IsForbidden(err):
		// A root key without read_api permission can still migrate keys.
	case unkeyclient.IsNotFound(err):
		resp.Diagnostics.AddWarning("Unkey API no longer exists",
			fmt.Sprintf("The API %s was not found in Unkey, so its keys are gone too; unkey_key_migration %s is removed from state. %s",
				state.APIID.ValueString(), state.ID.ValueString(), err))
		resp.State.RemoveResource(ctx)
	default:
		resp.Diagnostics.AddError("Could not read the Unkey API", err.Error())
	}
}

// forgetJournalOnceSaved removes the migration's journal once the saved
// state holds everything it recorded.
func (r *keyMigrationResource) forgetJournalOnceSaved(ctx context.Context, state keyMigrationModel) {
	j := journalFor(r.data.apiURL, state.MigrationID.ValueString(), state.APIID.ValueString())
	journaled, err := j.read()
	if err != nil || journaled.empty() {
		return
	}
	rec, diags := recordFrom(ctx, state)
	if diags.HasError() {
		return
	}
	inState := map[string]bool{}
	for _, h := range hashesOf(state) {
		inState[h] = true
	}
	if journaled.coveredBy(rec, inState) {
		if err := j.remove(); err != nil {
			tflog.Warn(ctx, "Could not remove the migration journal", map[string]any{"error": err.Error()})
		}
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
// returns the planned keys with it.
func changesFrom(ctx context.Context, state, plan keyMigrationModel, rec migrationRecord) (map[string]unkeyclient.Key, keyMigrationChanges, diag.Diagnostics) {
	planned, diags := desiredKeys(ctx, plan)
	old, d := desiredKeys(ctx, state)
	diags.Append(d...)
	if diags.HasError() {
		return nil, keyMigrationChanges{}, diags
	}
	return planned, planChanges(old, planned, rec, sameEntries(plan, state)), diags
}

// planChanges compares by hash. unchanged, when not nil, reports hashes whose
// entries are identical as written, which spares comparing their settings.
func planChanges(state, plan map[string]unkeyclient.Key, rec migrationRecord, unchanged func(hash string) bool) keyMigrationChanges {
	c := keyMigrationChanges{changes: map[string]settingsChange{}}
	for _, h := range sortedKeys(plan) {
		if !rec.accounted(h) {
			c.send = append(c.send, h)
			continue
		}
		if _, migrated := rec.keyIDs[h]; !migrated {
			continue // not ours to change
		}
		old, ok := state[h]
		if !ok || (unchanged != nil && unchanged(h)) {
			continue
		}
		if ch := diffSettings(old, plan[h]); !ch.empty() {
			c.update = append(c.update, h)
			c.changes[h] = ch
		}
	}
	for _, h := range allRecorded(rec) {
		if _, kept := plan[h]; !kept {
			c.remove = append(c.remove, h)
		}
	}
	return c
}

func allRecorded(rec migrationRecord) []string {
	all := map[string]bool{}
	for h := range rec.keyIDs {
		all[h] = true
	}
	for h := range rec.failed {
		all[h] = true
	}
	for h := range rec.unconfirmed {
		all[h] = true
	}
	return sortedKeys(all)
}

func (r *keyMigrationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		// Only a planned destroy passes through here; the delete half of a
		// replacement does not, which lets Delete tell the two apart.
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, plannedDestroyKey, []byte("true"))...)
		return
	}
	var plan, state keyMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !plan.inputKnown(ctx) {
		return // known at apply; the computed attributes stay unknown
	}
	if req.State.Raw.IsNull() {
		// A create: the key IDs are unknown until apply, but not how many
		// keys, nor which attribute will hold their IDs.
		plan.ChangeSummary = types.StringValue(changeSummary(keyMigrationChanges{send: hashesOf(plan)}))
		plan.unknownKeyIDs()
		resp.Diagnostics.Append(checkRootKeyAndAPI(ctx, r.data, plan.APIID)...)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	rec, diags := recordFrom(ctx, state)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	var changes keyMigrationChanges
	if !sameInput(plan, state) || pendingHashes(state, rec) > 0 {
		_, changes, diags = changesFrom(ctx, state, plan, rec)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	if changeCallsUnkey(plan, changes) {
		resp.Diagnostics.Append(checkRootKeyAndAPI(ctx, r.data, plan.APIID)...)
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
			rec.forget(h)
		}
		resp.Diagnostics.Append(rec.setOn(ctx, &plan)...)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *keyMigrationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state keyMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	ps, diags := readPrivate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	rec, diags := recordFrom(ctx, state)
	resp.Diagnostics.Append(diags...)
	before, _ := recordFrom(ctx, state)
	planned, changes, diags := changesFrom(ctx, state, plan, rec)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.ChangeSummary.IsUnknown() {
		plan.ChangeSummary = types.StringValue(changeSummary(changes))
	}

	unanswered := map[string]bool{}
	for _, h := range ps.Unanswered {
		unanswered[h] = true
	}
	var notDone []string // hashes whose state entry must keep its old value
	recovered, opErr := r.migrate(ctx, client, plan, planned, changes.send, unanswered, &rec, &ps)
	recoveredWarning(&resp.Diagnostics, recovered)
	if opErr != nil {
		notDone = append(changes.update, changes.remove...)
	} else {
		var left []string
		left, opErr = r.applySettings(ctx, client, planned, rec, changes)
		notDone = append(left, changes.remove...)
		if opErr == nil {
			notDone, opErr = r.removeHashes(ctx, client, plan.DeletionPolicy.ValueString(), rec, changes.remove)
		}
	}

	plan.ID = state.ID
	resp.Diagnostics.Append(plan.takeEntries(state, notDone)...)
	resp.Diagnostics.Append(rec.setOn(ctx, &plan)...)
	if opErr == nil {
		ps.IncompleteCreate = false
	}
	resp.Diagnostics.Append(writePrivate(ctx, resp.Private, ps)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	addOutcomeWarnings(&resp.Diagnostics, rec, &before)
	if opErr != nil {
		resp.Diagnostics.AddError("Key migration update incomplete", incompleteMessage(opErr, len(planned), rec, ps, false))
	}
}

// applySettings updates the migrated keys whose settings changed. It returns
// the hashes not brought up to date when it stops on an error.
func (r *keyMigrationResource) applySettings(ctx context.Context, client *unkeyclient.Client, planned map[string]unkeyclient.Key, rec migrationRecord, changes keyMigrationChanges) ([]string, error) {
	for i, h := range changes.update {
		if err := updateKey(ctx, client, rec.keyIDs[h], planned[h], changes.changes[h]); err != nil {
			return changes.update[i:], fmt.Errorf("updating the key of hash %q (%s): %w", h, rec.keyIDs[h], err)
		}
		tflog.Debug(ctx, "Updated key settings", map[string]any{"key_id": rec.keyIDs[h], "updated": i + 1, "of": len(changes.update)})
	}
	return nil, nil
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
func (r *keyMigrationResource) removeHashes(ctx context.Context, client *unkeyclient.Client, policy string, rec migrationRecord, hashes []string) ([]string, error) {
	for i, h := range hashes {
		if id, migrated := rec.keyIDs[h]; migrated && policy == deletionPolicyDelete {
			if err := client.DeleteKey(ctx, id); err != nil {
				return hashes[i:], fmt.Errorf("deleting the key of removed hash %q (%s): %w", h, id, err)
			}
		}
		rec.forget(h)
	}
	return nil, nil
}

// pendingHashes counts the hashes of the state's keys that Unkey has not
// answered for yet.
func pendingHashes(state keyMigrationModel, rec migrationRecord) int {
	n := 0
	for _, h := range hashesOf(state) {
		if !rec.accounted(h) {
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
	pending := pendingHashes(state, rec)
	destroyPlanned, diags := req.Private.GetKey(ctx, plannedDestroyKey)
	resp.Diagnostics.Append(diags...)
	if pending > 0 && len(destroyPlanned) == 0 {
		resp.Diagnostics.AddError("Refusing to replace an incomplete key migration",
			fmt.Sprintf("%s still has %d hashes pending, and %d key IDs saved in its state that exist nowhere else. Replacing it would send every hash again; "+
				"Unkey would refuse the migrated ones as already existing, and their key IDs would be lost. "+
				"If the create failed part-way, Terraform has marked the resource tainted: run `terraform untaint` on it, then `terraform apply` to send only the pending hashes. "+
				"Otherwise finish the migration with `terraform apply` before changing migration_id or api_id. `terraform destroy` is not refused.",
				state.ID.ValueString(), pending, len(rec.keyIDs)))
		return
	}
	if state.DeletionPolicy.ValueString() != deletionPolicyDelete {
		if len(rec.keyIDs) > 0 {
			tflog.Info(ctx, "Leaving migrated keys in Unkey (deletion_policy = abandon)", map[string]any{"keys": len(rec.keyIDs)})
		}
		r.removeJournal(ctx, state)
		return
	}
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	left, err := r.removeHashes(ctx, client, deletionPolicyDelete, rec, sortedKeys(rec.keyIDs))
	if err == nil {
		r.removeJournal(ctx, state)
		return
	}
	// Keep only the keys not deleted yet, so that a retry finishes the job.
	clear(rec.failed)
	clear(rec.unconfirmed)
	if state.usesKeysJSON() {
		all, _ := parseKeysJSON(state.KeysJSON.ValueString(), "")
		state.KeysJSON = types.StringValue(bulkKeys{}.withEntries(all, left))
	} else {
		state.Keys, diags = withEntries(types.MapValueMust(state.Keys.ElementType(ctx), nil), state.Keys, left)
		resp.Diagnostics.Append(diags...)
	}
	resp.Diagnostics.Append(rec.setOn(ctx, &state)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.AddError("Could not delete every migrated key",
		fmt.Sprintf("%s\n\n%d keys are still in Unkey and in state; run `terraform destroy` (or apply) again to delete them.", err, len(left)))
}

func (r *keyMigrationResource) removeJournal(ctx context.Context, state keyMigrationModel) {
	if r.data == nil {
		return
	}
	if err := journalFor(r.data.apiURL, state.MigrationID.ValueString(), state.APIID.ValueString()).remove(); err != nil {
		tflog.Warn(ctx, "Could not remove the migration journal", map[string]any{"error": err.Error()})
	}
}
