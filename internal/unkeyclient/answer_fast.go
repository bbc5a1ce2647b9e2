package unkeyclient

import (
	"github.com/unkeyed/sdks/api/go/v2/models/components"

	"github.com/unkeyed/terraform-provider-unkey/internal/plainjson"
)

// decodeMigrateAnswerFast reads a keys.migrateKeys answer as the SDK
// decodes it, without reflection: at 100,000 keys the SDK's decoding took a
// second of CPU while Unkey was answering the next batches. It reads only
// the plain form Unkey writes ({"meta":{"requestId"},"data":{"migrated":
// [{"hash","keyId"}],"failed"}}, each member once, plain strings) and says
// ok = false for anything else, which the SDK then decodes and judges.
// FuzzMigrateAnswerFast keeps the two equal.
func decodeMigrateAnswerFast(body string) (a components.V2KeysMigrateKeysResponseBody, ok bool) {
	d := plainjson.New(body)
	var seen uint16
	ok = d.Object(func(name string) bool {
		switch plainjson.Once(&seen, name, "meta", "data") {
		case 1:
			return decodeMeta(d, &a.Meta)
		case 2:
			return decodeMigrateData(d, &a.Data)
		}
		return false
	})
	return a, ok && seen == 3 && d.End()
}

func decodeMeta(d *plainjson.Decoder, m *components.Meta) bool {
	var seen uint16
	return d.Object(func(name string) bool {
		if plainjson.Once(&seen, name, "requestId") != 1 {
			return false
		}
		var ok bool
		m.RequestID, ok = d.Str()
		return ok
	}) && seen == 1
}

func decodeMigrateData(d *plainjson.Decoder, data *components.V2KeysMigrateKeysResponseData) bool {
	var seen uint16
	return d.Object(func(name string) bool {
		switch plainjson.Once(&seen, name, "migrated", "failed") {
		case 1:
			data.Migrated = []components.V2KeysMigrateKeysMigration{}
			return d.Array(func() bool {
				var m components.V2KeysMigrateKeysMigration
				var fields uint16
				ok := d.Object(func(name string) bool {
					var ok bool
					switch plainjson.Once(&fields, name, "hash", "keyId") {
					case 1:
						m.Hash, ok = d.Str()
					case 2:
						m.KeyID, ok = d.Str()
					}
					return ok
				})
				data.Migrated = append(data.Migrated, m)
				return ok && fields == 3
			})
		case 2:
			if d.Peek() == 'n' {
				return d.Null()
			}
			var ok bool
			data.Failed, ok = d.Strings()
			return ok
		}
		return false
	}) && seen&1 != 0
}
