package migration

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"testing/quick"
)

// changeScenario is a random record, a random configuration overlapping it,
// and random settings changes.
type changeScenario struct {
	configured []string
	rec        Record
	changed    map[string]bool
}

func (changeScenario) Generate(r *rand.Rand, size int) reflect.Value {
	s := changeScenario{rec: NewRecord(), changed: map[string]bool{}}
	for i := range r.Intn(size + 1) {
		h := fmt.Sprint("h", i)
		if r.Intn(4) != 0 {
			s.configured = append(s.configured, h)
		}
		if r.Intn(16) == 0 { // listed twice, or out of order
			s.configured = append(s.configured, fmt.Sprint("h", r.Intn(i+1)))
		}
		switch r.Intn(4) {
		case 0:
			s.rec.KeyIDs[h] = "key_" + h
		case 1:
			s.rec.Failed[h] = true
		case 2:
			s.rec.Unconfirmed[h] = true
		}
		s.changed[h] = r.Intn(2) == 0
	}
	return reflect.ValueOf(s)
}

// The invariants of an update: every configured hash without an outcome is
// sent, none with one is; only migrated, changed hashes are updated; what is
// recorded and no longer configured is removed, nothing else.
func TestPlanChangesInvariants(t *testing.T) {
	prop := func(s changeScenario) bool {
		asked := map[string]bool{}
		c := PlanChanges(s.configured, s.rec, func(h string) bool { asked[h] = true; return s.changed[h] })
		for h := range asked {
			if _, migrated := s.rec.KeyIDs[h]; !migrated {
				t.Logf("asked whether %s changed, which is not migrated", h)
				return false
			}
		}
		for _, h := range s.configured {
			_, migrated := s.rec.KeyIDs[h]
			if slices.Contains(c.Send, h) == s.rec.Accounted(h) {
				t.Logf("%s: sent %v, accounted %v", h, slices.Contains(c.Send, h), s.rec.Accounted(h))
				return false
			}
			if slices.Contains(c.Update, h) != (migrated && s.changed[h]) {
				t.Logf("%s: updated %v, migrated %v, changed %v", h, slices.Contains(c.Update, h), migrated, s.changed[h])
				return false
			}
		}
		for _, h := range s.rec.Hashes() {
			if slices.Contains(c.Remove, h) == slices.Contains(s.configured, h) {
				t.Logf("%s: removed %v, configured %v", h, slices.Contains(c.Remove, h), slices.Contains(s.configured, h))
				return false
			}
		}
		return slices.IsSorted(c.Send) && slices.IsSorted(c.Update) && slices.IsSorted(c.Remove) && !hasAdjacentDuplicate(c.Send) && !hasAdjacentDuplicate(c.Update)
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
}
