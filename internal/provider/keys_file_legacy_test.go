package provider_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
)

// A keys_file migration whose private state holds the digests as an earlier
// build wrote them (rows of 16 bytes in base64, under "digests") plans a
// change of one key as one update, updates that key alone, and is saved
// with the new packing: reading the rows is what keeps such a state from
// planning every key as changed.
func TestAccKeyMigration_keysFileDigestRowsFromEarlierBuild(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	keys := generatedJSONKeys("rows", 20)
	path := filepath.Join(w.Dir, "keys.json")
	w.WriteConfig(u.fileMigrationConfig("", path, writeKeysFile(t, path, keys)))
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("create: %v\n%s", err, o)
	}
	statePath := filepath.Join(w.Dir, "terraform.tfstate")
	editKeysFileRecord(t, statePath, digestColumnsToRows)

	changed := slices.Clone(keys)
	changed[3] = jsonKey{"hash": keys[3]["hash"], "name": "renamed"}
	w.WriteConfig(u.fileMigrationConfig("", path, writeKeysFile(t, path, changed)))
	u.ResetRequests()
	o, err := w.Run("apply", "-auto-approve")
	if err != nil {
		t.Fatalf("apply of one renamed key: %v\n%s", err, o)
	}
	if !strings.Contains(o, "0 to migrate, 1 to update, 0 to remove") {
		t.Errorf("the plan does not update exactly one key:\n%s", o)
	}
	k, _ := u.KeyByHash(keys[3]["hash"].(string))
	if k.Name != "renamed" {
		t.Errorf("the renamed key is named %q in the server", k.Name)
	}
	if err := onlyTouches(u, k.ID, "/v2/keys.updateKey"); err != nil {
		t.Error(err)
	}
	editKeysFileRecord(t, statePath, func(t *testing.T, record map[string]any) {
		if _, rows := record["digests"]; rows || record["digest_columns"] == nil {
			t.Errorf("the apply saved the record %v, want digest_columns only", record)
		}
	})
	if o, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan after the apply is not empty: %v\n%s", err, o)
	}
}

// editKeysFileRecord passes the keys_file record of the only resource's
// private state in the state file at path to edit, and saves what edit
// leaves. Private state is base64 of a JSON object whose values are the
// provider's JSON, base64 again.
func editKeysFileRecord(t *testing.T, path string, edit func(t *testing.T, record map[string]any)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	instance := state["resources"].([]any)[0].(map[string]any)["instances"].([]any)[0].(map[string]any)
	private, err := base64.StdEncoding.DecodeString(instance["private"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string][]byte
	if err := json.Unmarshal(private, &values); err != nil {
		t.Fatal(err)
	}
	var record map[string]any
	if err := json.Unmarshal(values["keys_file"], &record); err != nil {
		t.Fatalf("keys_file record: %v", err)
	}
	edit(t, record)
	if values["keys_file"], err = json.Marshal(record); err != nil {
		t.Fatal(err)
	}
	if private, err = json.Marshal(values); err != nil {
		t.Fatal(err)
	}
	instance["private"] = base64.StdEncoding.EncodeToString(private)
	if raw, err = json.Marshal(state); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// digestColumnsToRows rewrites a record's digests as the earlier build kept
// them: 16 bytes per hash side by side (4 parts of 4 bytes), in base64.
func digestColumnsToRows(t *testing.T, record map[string]any) {
	t.Helper()
	compressed, err := base64.StdEncoding.DecodeString(record["digest_columns"].(string))
	if err != nil {
		t.Fatal(err)
	}
	columns, err := io.ReadAll(flate.NewReader(bytes.NewReader(compressed)))
	if err != nil {
		t.Fatal(err)
	}
	const parts, partLen = 4, 4
	n := len(columns) / (parts * partLen)
	rows := make([]byte, 0, len(columns))
	for i := range n {
		for part := range parts {
			at := (part*n + i) * partLen
			rows = append(rows, columns[at:at+partLen]...)
		}
	}
	delete(record, "digest_columns")
	record["digests"] = base64.StdEncoding.EncodeToString(rows)
}
