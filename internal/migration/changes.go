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
	inConfig := make(map[string]bool, len(configured))
	for _, h := range configured {
		inConfig[h] = true
	}
	for _, h := range sorted(inConfig) {
		if !rec.Accounted(h) {
			c.Send = append(c.Send, h)
			continue
		}
		if _, migrated := rec.KeyIDs[h]; migrated && changed(h) {
			c.Update = append(c.Update, h)
		}
	}
	for _, h := range rec.Hashes() {
		if !inConfig[h] {
			c.Remove = append(c.Remove, h)
		}
	}
	return c
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}
