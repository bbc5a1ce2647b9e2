// Package migration is the bookkeeping of one unkey_key_migration, free of
// Terraform: what the resource knows of every hash, how it counts them, and
// the journal that keeps key IDs through a killed provider.
//
// The protocol, whose one aim is that a key ID Unkey returned is never lost
// (Unkey cannot map a hash back to its key):
//
//   - A Record holds, for every hash Unkey answered for, its key ID, or that
//     it failed (a key with that hash already exists), or that it is
//     unconfirmed (its request lost its answer and a retry found it
//     existing). A hash in none of these is pending: it may be sent. A hash
//     in any of them is never sent again.
//   - An update (PlanChanges) sends the configured hashes without an
//     outcome, updates the settings of migrated hashes only, and removes
//     recorded hashes no longer configured.
//   - Before a batch is sent, its hashes are appended to the Journal as in
//     doubt; once answered, their outcomes are appended. Every append is
//     synced to disk, so a provider killed at any point leaves a journal
//     that says, per hash, what Unkey answered or that the answer is unknown.
//   - The next apply takes from the journal the outcomes of the hashes it is
//     about to send instead of sending them again; hashes in doubt are sent
//     once more and, if they then already exist, recorded as unconfirmed.
//   - Entries are per hash, and a hash belongs to at most one resource
//     (Unkey's hashes are unique), so several resources may share a journal
//     (shards of one export: the same migration and API). A resource forgets
//     from the journal only hashes whose outcome its saved state holds
//     identically (Journal.ForgetSaved, on refresh), or its own hashes when
//     destroyed. A journal with nothing left is removed.
//   - A 404 from Unkey never proves a deletion: Unkey answers an API or key
//     of another workspace exactly like a deleted one. Nothing is forgotten
//     because of a 404 unless the API was confirmed visible with the same
//     root key, which proves the workspace is the right one.
//   - Private, kept beside the state, carries what the next operation needs
//     and the user does not: that the create failed part-way (Terraform
//     would replace the tainted resource, re-sending every hash: refused),
//     the hashes whose request lost its answer (a retry that finds them
//     existing records them unconfirmed, not failed; removed from the
//     configuration, they are named in a warning), and that the last refresh
//     found no API (nothing is sent until the root key sees it again).
//   - Every count given to the user adds up: the migrated, failed,
//     unconfirmed and pending hashes make the hashes in the configuration
//     (Tally).
package migration
