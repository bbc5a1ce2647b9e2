package migration

import "sort"

// Record is what a resource knows of every hash it was given.
type Record struct {
	KeyIDs      map[string]string
	Failed      map[string]bool
	Unconfirmed map[string]bool
}

// NewRecord is an empty record.
func NewRecord() Record {
	return Record{KeyIDs: map[string]string{}, Failed: map[string]bool{}, Unconfirmed: map[string]bool{}}
}

// Accounted reports whether Unkey has given an outcome for hash.
func (r Record) Accounted(hash string) bool {
	_, migrated := r.KeyIDs[hash]
	return migrated || r.Failed[hash] || r.Unconfirmed[hash]
}

// Forget drops everything known of hash.
func (r Record) Forget(hash string) {
	delete(r.KeyIDs, hash)
	delete(r.Failed, hash)
	delete(r.Unconfirmed, hash)
}

// Hashes is every hash with an outcome, sorted.
func (r Record) Hashes() []string {
	if len(r.Failed)+len(r.Unconfirmed) == 0 {
		return SortedKeys(r.KeyIDs)
	}
	all := make(map[string]bool, len(r.KeyIDs)+len(r.Failed)+len(r.Unconfirmed))
	for h := range r.KeyIDs {
		all[h] = true
	}
	for h := range r.Failed {
		all[h] = true
	}
	for h := range r.Unconfirmed {
		all[h] = true
	}
	out := make([]string, 0, len(all))
	for h := range all {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Empty reports whether the record knows nothing.
func (r Record) Empty() bool { return len(r.KeyIDs)+len(r.Failed)+len(r.Unconfirmed) == 0 }
