// Command genkeys generates synthetic legacy API keys for the demo and the
// benchmarks: the raw keys (to verify with) and their Unkey hashes with a
// realistic mix of settings (see internal/keygen), in the shapes
// unkey_key_migration takes.
//
//	go run ./cmd/genkeys -n 3000 -seed 1 -out-keys raw-keys.json -out-tf keys.json -out-json keys-unkey.json
//
// -out-keys gets [{"key":"legacy_…","hash":"…"}, …]. -out-tf gets a JSON
// object hash => settings for `keys = jsondecode(file("keys.json"))`; if its
// name ends in .tf.json it is instead a Terraform JSON configuration defining
// local.legacy_keys (see -tf-local). Every key has every attribute, null when
// absent, so that the decoded values share one object type. -out-json gets
// the same keys as an array in Unkey's own keys.migrateKeys format, for
// `keys_json = file("keys-unkey.json")`.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/unkeyed/terraform-provider-unkey/internal/keygen"
)

func main() {
	n := flag.Int("n", 1000, "how many keys")
	seed := flag.Uint64("seed", 1, "seed; the same seed gives the same keys")
	outKeys := flag.String("out-keys", "", `write the raw keys and hashes here: [{"key":…,"hash":…}]`)
	outTF := flag.String("out-tf", "", "write hash => settings here (JSON for jsondecode; a .tf.json name writes a Terraform configuration with a local)")
	tfLocal := flag.String("tf-local", "legacy_keys", "the local a .tf.json -out-tf defines")
	outJSON := flag.String("out-json", "", "write the keys here as a JSON array in Unkey's keys.migrateKeys format (for keys_json)")
	flag.Parse()
	if err := run(options{n: *n, seed: *seed, outKeys: *outKeys, outTF: *outTF, tfLocal: *tfLocal, outJSON: *outJSON}); err != nil {
		fmt.Fprintln(os.Stderr, "genkeys:", err)
		os.Exit(1)
	}
}

type options struct {
	n                                int
	seed                             uint64
	outKeys, outTF, tfLocal, outJSON string
}

func run(o options) error {
	if o.n < 1 {
		return errors.New("-n must be at least 1")
	}
	if o.outKeys == "" && o.outTF == "" && o.outJSON == "" {
		return errors.New("nothing to do: give -out-keys, -out-tf and/or -out-json")
	}
	raws, settings := keygen.Generate(o.n, o.seed)
	if err := writeJSON(o.outKeys, raws); err != nil {
		return err
	}
	var tf any = settings
	if strings.HasSuffix(o.outTF, ".tf.json") {
		tf = map[string]any{"locals": map[string]any{o.tfLocal: settings}}
	}
	if err := writeJSON(o.outTF, tf); err != nil {
		return err
	}
	if o.outJSON == "" {
		return nil
	}
	keys, err := keygen.MigrateKeys(raws, settings)
	if err != nil {
		return err
	}
	return writeJSON(o.outJSON, keys)
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
