package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// keysFiles holds each keys_file as read, by path: one provider process
// needs the same file in several calls (planning, the prior state's
// hashes), and an export of 100,000 keys is 40 MB.
var keysFiles struct {
	sync.Mutex
	byPath map[string]loadedKeysFile
}

type loadedKeysFile struct {
	sha256 string // hex, as filesha256() writes it
	doc    string
}

// loadKeysFile reads keys_file once per process and returns its content and
// SHA-256.
func loadKeysFile(name string) (loadedKeysFile, error) {
	keysFiles.Lock()
	defer keysFiles.Unlock()
	if f, ok := keysFiles.byPath[name]; ok {
		return f, nil
	}
	raw, err := os.ReadFile(name) // #nosec G304 -- reading the file the user names is the point of keys_file
	if err != nil {
		return loadedKeysFile{}, err
	}
	sum := sha256.Sum256(raw)
	f := loadedKeysFile{sha256: hex.EncodeToString(sum[:]), doc: string(raw)}
	if keysFiles.byPath == nil {
		keysFiles.byPath = map[string]loadedKeysFile{}
	}
	keysFiles.byPath[name] = f
	return f, nil
}

// keysFileError says what is wrong with keys_file; changed is set when the
// file is readable but is not the one keys_file_sha256 names.
type keysFileError struct {
	msg     string
	changed bool
}

func (e *keysFileError) Error() string { return e.msg }

// readKeysFile reads and checks the keys of m's keys_file, which must be the
// file keys_file_sha256 names.
func readKeysFile(m keyMigrationModel) (bulkKeys, *keysFileError) {
	name, want := m.KeysFile.ValueString(), m.KeysFileSHA256.ValueString()
	f, err := loadKeysFile(name)
	if err != nil {
		return bulkKeys{}, &keysFileError{msg: fmt.Sprintf("Could not read keys_file %q: %s. keys_file is read by the provider itself, "+
			"relative to the directory Terraform runs in; write it as \"${path.module}/keys.json\".", name, err)}
	}
	if f.sha256 != want {
		return bulkKeys{}, &keysFileError{changed: true, msg: fmt.Sprintf("The SHA-256 of keys_file %q is %s, but keys_file_sha256 is %q. Nothing was sent to Unkey. "+
			"If this is the apply of a saved plan, the file changed between plan and apply: run `terraform plan` again to plan from the file as it is now. "+
			"Otherwise set keys_file_sha256 = filesha256(%q), so that Terraform sees every change of the file.", name, f.sha256, want, name)}
	}
	bulk, problems := parseKeysDoc(f.doc, m.HashFormat.ValueString(), name)
	if problems != nil {
		return bulk, &keysFileError{msg: fmt.Sprintf("keys_file %q is not valid:\n%s", name, problems.Error())}
	}
	return bulk, nil
}

// keysFileDiags reports a keys_file problem on the attribute. At apply, a
// hash that differs from the planned one means the file changed after the
// plan, and nothing may be sent: the plan described another file.
func keysFileDiags(err *keysFileError, applying bool) diag.Diagnostics {
	var diags diag.Diagnostics
	switch {
	case err == nil:
	case applying && err.changed:
		diags.AddAttributeError(path.Root("keys_file"), "keys_file changed between plan and apply", err.msg)
	case err.changed:
		diags.AddAttributeError(path.Root("keys_file"), "keys_file does not match keys_file_sha256", err.msg)
	default:
		diags.AddAttributeError(path.Root("keys_file"), "Invalid keys_file", err.msg)
	}
	return diags
}

// keysFileRecord is what a migration from keys_file keeps in private state
// instead of the file: enough to send only added hashes and update only
// changed keys without the file the state was applied from.
type keysFileRecord struct {
	// Digests holds settingsDigest of every migrated hash's key as last
	// applied.
	Digests map[string]string `json:"digests,omitempty"`
	// Pending counts the file's hashes Unkey has not answered for.
	Pending int `json:"pending,omitempty"`
	// Stale: an update or removal was not applied, so Unkey does not match
	// the file keys_file_sha256 names, and the next plan must read it.
	Stale bool `json:"stale,omitempty"`
}

// keysFilePrivateKey is kept apart from privateKey: a refresh reads and
// writes that one, and needs nothing of this one, which holds a digest per
// key (megabytes at 100,000 keys).
const keysFilePrivateKey = "keys_file"

// incomplete reports whether Unkey may not match the file of the state.
func (r keysFileRecord) incomplete() bool { return r.Pending > 0 || r.Stale }

func readKeysFileRecord(ctx context.Context, p privateGetter) (keysFileRecord, diag.Diagnostics) {
	raw, diags := p.GetKey(ctx, keysFilePrivateKey)
	var r keysFileRecord
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r); err != nil {
			diags.AddError("Unreadable private state", "This is a bug in the provider: "+err.Error())
		}
	}
	return r, diags
}

func writeKeysFileRecord(ctx context.Context, p privateSetter, r *keysFileRecord) diag.Diagnostics {
	if r == nil {
		return p.SetKey(ctx, keysFilePrivateKey, nil)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Could not save private state", err.Error())
		return diags
	}
	return p.SetKey(ctx, keysFilePrivateKey, raw)
}

// digestFields are the parts of a key's settings digested one by one, in
// order, so that a changed key is updated in the changed parts only (an
// update of credits resets the remaining count: it must not be sent for a
// new name).
var digestFields = []func(k unkeyclient.Key) any{
	func(k unkeyclient.Key) any { return k.Name },
	func(k unkeyclient.Key) any { return k.ExternalID },
	func(k unkeyclient.Key) any { return k.Meta },
	func(k unkeyclient.Key) any { return k.ExpiresMs },
	func(k unkeyclient.Key) any { return k.Enabled },
	func(k unkeyclient.Key) any { return k.Credits },
	func(k unkeyclient.Key) any { return k.Ratelimits },
	func(k unkeyclient.Key) any { return k.Roles },
	func(k unkeyclient.Key) any { return k.Permissions },
}

// digestFieldNames name the update each part of a digest stands for; roles
// and permissions, the last two, have requests of their own.
var digestFieldNames = []unkeyclient.Field{
	unkeyclient.FieldName, unkeyclient.FieldExternalID, unkeyclient.FieldMeta, unkeyclient.FieldExpires,
	unkeyclient.FieldEnabled, unkeyclient.FieldCredits, unkeyclient.FieldRatelimits,
}

// digestPartLen is 4 bytes of SHA-256 per part: a change goes unnoticed
// with a chance of one in four billion.
const digestPartLen = 4

// settingsDigest is a short digest of a key's settings, part by part.
func settingsDigest(k unkeyclient.Key) string {
	sum := make([]byte, 0, len(digestFields)*digestPartLen)
	for _, field := range digestFields {
		raw, _ := json.Marshal(field(k)) // settings are plain values: no error
		h := sha256.Sum256(raw)
		sum = append(sum, h[:digestPartLen]...)
	}
	return base64.RawStdEncoding.EncodeToString(sum)
}

// changeFromDigest is what must be sent to bring a key whose settings had
// the digest old to want. A digest that cannot be read sends everything.
func changeFromDigest(old string, want unkeyclient.Key) settingsChange {
	before, err := base64.RawStdEncoding.DecodeString(old)
	after, _ := base64.RawStdEncoding.DecodeString(settingsDigest(want))
	if err != nil || len(before) != len(after) {
		return settingsChange{fields: digestFieldNames, rolesChanged: true, permissionsChanged: true}
	}
	differs := func(i int) bool {
		return string(before[i*digestPartLen:(i+1)*digestPartLen]) != string(after[i*digestPartLen:(i+1)*digestPartLen])
	}
	var c settingsChange
	for i, f := range digestFieldNames {
		if differs(i) {
			c.fields = append(c.fields, f)
		}
	}
	c.rolesChanged = differs(len(digestFieldNames))
	c.permissionsChanged = differs(len(digestFieldNames) + 1)
	return c
}

// checkPlannedKeysFile refuses, at apply, a keys_file that is not the file
// planned.
func checkPlannedKeysFile(plan keyMigrationModel) diag.Diagnostics {
	if !plan.usesKeysFile() {
		return nil
	}
	_, err := readKeysFile(plan)
	return keysFileDiags(err, true)
}

// upToDate reports whether the plan asks for exactly what the state holds,
// fully applied: then nothing is compared, and a keys_file is not read.
func upToDate(plan, state keyMigrationModel, rec migrationRecord, fr keysFileRecord) bool {
	if !sameInput(plan, state) || pendingHashes(state, rec, fr) > 0 {
		return false
	}
	return !state.usesKeysFile() || !fr.Stale
}

// planChangesByDigest compares the planned keys with the digests of the
// keys as last applied from a keys_file.
func planChangesByDigest(planned map[string]unkeyclient.Key, rec migrationRecord, digests map[string]string) keyMigrationChanges {
	c := keyMigrationChanges{changes: map[string]settingsChange{}}
	mc := migration.PlanChanges(sortedKeys(planned), rec, func(h string) bool {
		ch := changeFromDigest(digests[h], planned[h])
		if ch.empty() {
			return false
		}
		c.changes[h] = ch
		return true
	})
	c.send, c.update, c.remove = mc.Send, mc.Update, mc.Remove
	return c
}

// newKeysFileRecord is the keys_file record after an apply of planned:
// every migrated hash's digest is its planned key's, except for the hashes
// in notDone (updates or removals not applied), which keep their old one.
func newKeysFileRecord(rec migrationRecord, planned map[string]unkeyclient.Key, old func(hash string) string, notDone []string) keysFileRecord {
	kept := make(map[string]bool, len(notDone))
	for _, h := range notDone {
		kept[h] = true
	}
	r := keysFileRecord{Digests: make(map[string]string, len(rec.KeyIDs)), Stale: len(notDone) > 0}
	for h := range rec.KeyIDs {
		k, ok := planned[h]
		switch {
		case ok && !kept[h]:
			r.Digests[h] = settingsDigest(k)
		case old != nil:
			if d := old(h); d != "" {
				r.Digests[h] = d
			}
		}
	}
	for h := range planned {
		if !rec.Accounted(h) {
			r.Pending++
		}
	}
	return r
}

// oldDigests gives the digest of a key's settings as the state holds them.
func oldDigests(ctx context.Context, state keyMigrationModel, fr keysFileRecord) func(hash string) string {
	if state.usesKeysFile() {
		return func(h string) string { return fr.Digests[h] }
	}
	var old map[string]unkeyclient.Key
	return func(h string) string {
		if old == nil {
			old, _ = desiredKeys(ctx, state)
		}
		k, ok := old[h]
		if !ok {
			return ""
		}
		return settingsDigest(k)
	}
}
