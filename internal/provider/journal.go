package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// The journal (internal/migration) records every batch as it is sent and
// answered. Terraform saves nothing of an operation whose provider process
// died (SIGKILL, out of memory, a lost machine), and Unkey cannot give key
// IDs back, so without it such a death would lose every key ID of the apply.

// journalFor names the journal of one migration into one API of one Unkey.
func journalFor(apiURL, migrationID, apiID string) migration.Journal {
	return migration.For(migration.Dir(), apiURL, migrationID, apiID)
}

// outcomeEntry turns a batch's outcome into a journal entry.
func outcomeEntry(o unkeyclient.MigrateResult) migration.Entry {
	return migration.Entry{KeyIDs: o.KeyIDs, Failed: o.Failed, Unconfirmed: o.Unconfirmed, Answered: o.NotSent}
}

// savedRecordSum sums up the record a key_ids_json state holds, as a seal
// of the journal names it (migration.Journal.Seal); "" for a keys state,
// whose journal is tidied the long way.
func savedRecordSum(m keyMigrationModel) string {
	if !m.keyIDsAsJSON() || m.KeyIDsJSON.IsNull() || m.KeyIDsJSON.IsUnknown() {
		return ""
	}
	h := sha256.New()
	_, _ = io.WriteString(h, m.KeyIDsJSON.ValueString())
	for _, set := range []types.Set{m.FailedHashes, m.UnconfirmedHashes} {
		var hashes []string
		for _, v := range set.Elements() {
			if s, ok := v.(types.String); ok {
				hashes = append(hashes, s.ValueString())
			}
		}
		slices.Sort(hashes)
		_, _ = fmt.Fprintf(h, "\x00%d", len(hashes))
		for _, s := range hashes {
			_, _ = fmt.Fprintf(h, "\x00%s", s)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sealJournal seals the journal of an apply that wrote wrote bytes to it
// and whose every outcome m now holds, so that the next refresh removes it
// without reading it; a journal it cannot seal stays for that refresh to
// tidy the long way.
func sealJournal(j migration.Journal, wrote int64, m keyMigrationModel) {
	if sum := savedRecordSum(m); sum != "" {
		_, _ = j.Seal(wrote, sum)
	}
}

// removeSealedJournal removes a journal sealed for the record state holds,
// and reports whether it did.
func removeSealedJournal(j migration.Journal, state keyMigrationModel) bool {
	sum := savedRecordSum(state)
	if sum == "" {
		return false
	}
	removed, err := j.RemoveIfSealed(sum)
	return removed && err == nil
}
