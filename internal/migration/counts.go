package migration

import (
	"fmt"
	"strings"
)

// Counts splits the hashes of a configuration by what Unkey answered for
// them. Migrated + Failed + Unconfirmed + Pending = Total, always; hashes the
// record still holds that the configuration no longer has are counted apart,
// in Removed.
type Counts struct {
	Total, Migrated, Failed, Unconfirmed, Pending int
	// InDoubt pending hashes were sent in a request whose answer was lost.
	InDoubt int
	// Removed hashes are in the record but not in the configuration.
	Removed int
}

// Tally counts the configuration's hashes against the record; inDoubt names
// hashes whose request lost its answer.
func Tally(config []string, rec Record, inDoubt map[string]bool) Counts {
	c := Counts{Total: len(config)}
	inConfig := make(map[string]bool, len(config))
	for _, h := range config {
		inConfig[h] = true
		switch _, migrated := rec.KeyIDs[h]; {
		case migrated:
			c.Migrated++
		case rec.Failed[h]:
			c.Failed++
		case rec.Unconfirmed[h]:
			c.Unconfirmed++
		default:
			c.Pending++
			if inDoubt[h] {
				c.InDoubt++
			}
		}
	}
	for _, h := range rec.Hashes() {
		if !inConfig[h] {
			c.Removed++
		}
	}
	return c
}

// String is the counts as a sentence, without its final period.
func (c Counts) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Of %s: %d migrated (their key IDs are saved in state), %d failed as already existing, %d unconfirmed, %d still pending",
		Plural(c.Total, "hash", "hashes"), c.Migrated, c.Failed, c.Unconfirmed, c.Pending)
	if c.InDoubt > 0 {
		fmt.Fprintf(&b, " (%d of them in a request whose answer was lost; %s sent again and checked)", c.InDoubt, Agree(c.InDoubt == 1, "it will be", "they will be"))
	}
	if c.Removed > 0 {
		one := c.Removed == 1
		fmt.Fprintf(&b, "; %s removed from the configuration %s still in state until %s removal succeeds",
			Plural(c.Removed, "hash", "hashes"), Agree(one, "is", "are"), Agree(one, "its", "their"))
	}
	return b.String()
}

// Plural writes a count with the noun agreeing with it: "1 hash", "2 hashes".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Agree picks the word that agrees with a count of one or of many.
func Agree(one bool, single, many string) string {
	if one {
		return single
	}
	return many
}
