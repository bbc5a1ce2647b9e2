package migration

import (
	"slices"
	"sync"
)

// sortedMemo keeps the last few sorted key lists of large maps: one
// provider process sorts the same 100,000 hashes four or five times
// (planning, comparing, key_ids_json, the packed digests), 60 ms each.
var sortedMemo struct {
	sync.Mutex
	lists [][]string // each sorted, without duplicates
}

const (
	sortedMemoMin  = 1024 // smaller maps sort faster than they are checked
	sortedMemoKept = 4
)

// SortedKeys is the keys of m, sorted, in a slice the caller owns. A list
// remembered from an earlier call (or RememberSorted) is used when it holds
// exactly m's keys: as many, and each of them in m.
func SortedKeys[V any](m map[string]V) []string {
	if len(m) >= sortedMemoMin {
		sortedMemo.Lock()
		defer sortedMemo.Unlock()
		for _, l := range sortedMemo.lists {
			if sameKeys(l, m) {
				return slices.Clone(l)
			}
		}
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	if len(m) >= sortedMemoMin {
		remember(slices.Clone(out))
	}
	return out
}

// RememberSorted offers SortedKeys a list already known sorted (as
// key_ids_json is written); one that is not strictly increasing is ignored.
func RememberSorted(keys []string) {
	if len(keys) < sortedMemoMin {
		return
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			return
		}
	}
	sortedMemo.Lock()
	defer sortedMemo.Unlock()
	remember(keys)
}

// remember keeps l, dropping the oldest list; sortedMemo is locked.
func remember(l []string) {
	if len(sortedMemo.lists) == sortedMemoKept {
		sortedMemo.lists = slices.Delete(sortedMemo.lists, 0, 1)
	}
	sortedMemo.lists = append(sortedMemo.lists, l)
}

// sameKeys reports whether the distinct keys of l are exactly m's.
func sameKeys[V any](l []string, m map[string]V) bool {
	if len(l) != len(m) {
		return false
	}
	for _, k := range l {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}
