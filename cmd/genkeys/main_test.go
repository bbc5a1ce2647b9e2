package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/keygen"
)

// Every key has every attribute (null when absent) so that Terraform's
// jsondecode gives all of them the same object type.
func TestOutputHasUniformAttributes(t *testing.T) {
	dir := t.TempDir()
	keysPath, tfPath, tfJSONPath := filepath.Join(dir, "raw.json"), filepath.Join(dir, "keys.json"), filepath.Join(dir, "keys.tf.json")
	unkeyPath := filepath.Join(dir, "keys-unkey.json")
	if err := run(options{n: 100, seed: 5, outKeys: keysPath, outTF: tfPath, tfLocal: "legacy_keys", outJSON: unkeyPath}); err != nil {
		t.Fatal(err)
	}
	if err := run(options{n: 100, seed: 5, outTF: tfJSONPath, tfLocal: "legacy_keys"}); err != nil {
		t.Fatal(err)
	}

	var raws []keygen.RawKey
	readJSON(t, keysPath, &raws)
	if len(raws) != 100 || raws[0].Key == "" || raws[0].Hash == "" {
		t.Fatalf("raw keys file: %+v", raws[:min(len(raws), 1)])
	}

	var byHash map[string]map[string]json.RawMessage
	readJSON(t, tfPath, &byHash)
	want := []string{"credits", "enabled", "expires", "external_id", "meta", "name", "permissions", "ratelimits", "roles"}
	for hash, attrs := range byHash {
		var got []string
		for k := range attrs {
			got = append(got, k)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s has attributes %v, want %v", hash, got, want)
		}
		var meta string
		if err := json.Unmarshal(attrs["meta"], &meta); err != nil {
			t.Fatalf("%s: meta is not a string: %s", hash, attrs["meta"])
		}
	}
	for _, r := range raws {
		if _, ok := byHash[r.Hash]; !ok {
			t.Fatalf("%s missing from %s", r.Hash, tfPath)
		}
	}

	// The same keys, in the same order, in Unkey's format.
	var unkeyKeys []map[string]json.RawMessage
	readJSON(t, unkeyPath, &unkeyKeys)
	if len(unkeyKeys) != len(raws) {
		t.Fatalf("%s has %d keys, want %d", unkeyPath, len(unkeyKeys), len(raws))
	}
	for i, k := range unkeyKeys {
		var hash string
		_ = json.Unmarshal(k["hash"], &hash)
		if hash != raws[i].Hash {
			t.Fatalf("%s key %d is %s, want %s", unkeyPath, i, hash, raws[i].Hash)
		}
		if _, snake := k["external_id"]; snake {
			t.Fatalf("%s uses the provider's attribute names, not Unkey's", unkeyPath)
		}
	}

	var cfg struct {
		Locals map[string]map[string]json.RawMessage `json:"locals"`
	}
	readJSON(t, tfJSONPath, &cfg)
	if len(cfg.Locals["legacy_keys"]) != 100 {
		t.Fatalf("%s does not define local.legacy_keys with 100 keys", tfJSONPath)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	if err := run(options{n: 0, seed: 1, outKeys: "x"}); err == nil {
		t.Error("-n 0 accepted")
	}
	if err := run(options{n: 10, seed: 1}); err == nil {
		t.Error("no outputs accepted")
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
