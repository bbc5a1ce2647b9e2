package migration

import (
	"fmt"
	"slices"
	"testing"
)

// A remembered list is used only for a map with exactly its keys, and what
// callers do with their copy never reaches the memo.
func TestSortedKeysRemembersOnlyExactlyTheSameKeys(t *testing.T) {
	m := map[string]bool{}
	for i := range 3000 {
		m[fmt.Sprintf("h%05d", i)] = true
	}
	want := make([]string, 0, len(m))
	for k := range m {
		want = append(want, k)
	}
	slices.Sort(want)

	first := SortedKeys(m)
	if !slices.Equal(first, want) {
		t.Fatal("first call: not the sorted keys")
	}
	first[0] = "zzz" // the caller's copy
	if got := SortedKeys(m); !slices.Equal(got, want) {
		t.Fatal("a caller's change reached the remembered list")
	}

	delete(m, "h00042") // same length, one key different
	m["h99999"] = true
	want = slices.DeleteFunc(slices.Clone(want), func(h string) bool { return h == "h00042" })
	want = append(want, "h99999")
	if got := SortedKeys(m); !slices.Equal(got, want) {
		t.Fatal("a remembered list of other keys was used")
	}

	RememberSorted([]string{"b", "a"}) // too short and unsorted: ignored
	other := map[string]bool{}
	var unsorted []string
	for i := range 2000 {
		h := fmt.Sprintf("o%05d", i)
		other[h] = true
		unsorted = append(unsorted, h)
	}
	unsorted[0], unsorted[1] = unsorted[1], unsorted[0]
	RememberSorted(unsorted)
	if got := SortedKeys(other); !slices.IsSorted(got) {
		t.Fatal("an unsorted list was remembered")
	}
}
