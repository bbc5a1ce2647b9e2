package migration

import (
	"fmt"
	"math/rand"
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"testing/quick"
)

// scenario is a random configuration and record: hashes in the
// configuration with any outcome, and hashes removed from it that the record
// still holds.
type scenario struct {
	config  []string
	rec     Record
	inDoubt map[string]bool
}

func (scenario) Generate(r *rand.Rand, size int) reflect.Value {
	s := scenario{rec: NewRecord(), inDoubt: map[string]bool{}}
	n := r.Intn(size + 1)
	for i := range n {
		h := fmt.Sprint("h", i)
		removed := r.Intn(5) == 0
		if !removed {
			s.config = append(s.config, h)
		}
		switch r.Intn(5) {
		case 0:
			s.rec.KeyIDs[h] = "key_" + h
		case 1:
			s.rec.Failed[h] = true
		case 2:
			s.rec.Unconfirmed[h] = true
		case 3:
			if !removed {
				s.inDoubt[h] = r.Intn(2) == 0
			}
		default:
			if removed {
				s.rec.KeyIDs[h] = "key_" + h
			}
		}
	}
	return reflect.ValueOf(s)
}

var countsRe = regexp.MustCompile(`^Of (\d+) hash(?:es)?: (\d+) migrated .*?, (\d+) failed as already existing, (\d+) unconfirmed, (\d+) still pending`)

// The counts of every failure message add up to the hashes in the
// configuration, whatever the record holds (issue 11: "Of 2 hashes: 3
// migrated ... -1 still pending").
func TestTallyAddsUp(t *testing.T) {
	prop := func(s scenario) bool {
		c := Tally(s.config, s.rec, s.inDoubt)
		if c.Migrated+c.Failed+c.Unconfirmed+c.Pending != c.Total || c.Total != len(s.config) ||
			c.Migrated < 0 || c.Failed < 0 || c.Unconfirmed < 0 || c.Pending < 0 || c.InDoubt > c.Pending {
			t.Logf("counts %+v for %d hashes", c, len(s.config))
			return false
		}
		m := countsRe.FindStringSubmatch(c.String())
		if m == nil {
			t.Logf("unexpected message %q", c.String())
			return false
		}
		var n [5]int
		for i := range n {
			n[i], _ = strconv.Atoi(m[i+1])
		}
		return n[1]+n[2]+n[3]+n[4] == n[0] && n[0] == len(s.config)
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
}

func TestCountsMessage(t *testing.T) {
	rec := NewRecord()
	rec.KeyIDs["a"], rec.KeyIDs["gone"] = "key_a", "key_gone"
	got := Tally([]string{"a", "b"}, rec, map[string]bool{"b": true}).String()
	want := "Of 2 hashes: 1 migrated (their key IDs are saved in state), 0 failed as already existing, 0 unconfirmed, 1 still pending " +
		"(1 of them in a request whose answer was lost; it will be sent again and checked); 1 hash removed from the configuration is still in state until its removal succeeds"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := Tally([]string{"a"}, rec, nil).String(); !regexp.MustCompile(`^Of 1 hash:`).MatchString(got) {
		t.Errorf("one hash: %q", got)
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 hashes", 1: "1 hash", 2: "2 hashes", 1000: "1000 hashes"} {
		if got := Plural(n, "hash", "hashes"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
}
