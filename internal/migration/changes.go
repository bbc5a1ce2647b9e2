package migration

import "slices"

// Changes is what bringing a resource from its saved state to its plan
// takes, by hash.
type Changes struct {
	Send   []string // configured, never answered for: to migrate
	Update []string // migrated, with changed settings
	Remove []string // recorded, no longer configured
}

// PlanChanges compares the configured hashes with the record. changed
// reports whether a migrated hash's settings differ; it is asked about
// migrated hashes only. A hash Unkey answered for is never sent again, and
// failed and unconfirmed hashes are never updated: their keys are not this
// resource's, or their key IDs are unknown.
func PlanChanges(configured []string, rec Record, changed func(hash string) bool) Changes {
	var c Changes
	configured = sortedSet(configured)
	for _, h := range configured {
		if !rec.Accounted(h) {
			c.Send = append(c.Send, h)
			continue
		}
		if _, migrated := rec.KeyIDs[h]; migrated && changed(h) {
			c.Update = append(c.Update, h)
		}
	}
	// Both sorted: the recorded hashes not configured are found in one
	// pass, without a set of 100,000 hashes.
	i := 0
	for _, h := range rec.Hashes() {
		for i < len(configured) && configured[i] < h {
			i++
		}
		if i == len(configured) || configured[i] != h {
			c.Remove = append(c.Remove, h)
		}
	}
	return c
}

// sortedSet is hashes sorted, each once; hashes itself when it already is
// (the callers' usually are), else a sorted copy.
func sortedSet(hashes []string) []string {
	if slices.IsSorted(hashes) && !hasAdjacentDuplicate(hashes) {
		return hashes
	}
	return slices.Compact(slices.Sorted(slices.Values(hashes)))
}

func hasAdjacentDuplicate(hashes []string) bool {
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			return true
		}
	}
	return false
}
