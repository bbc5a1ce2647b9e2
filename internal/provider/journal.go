package provider

import (
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
