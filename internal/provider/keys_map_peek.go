package provider

import (
	"bytes"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// keysNullInAll tells whether every one of dvs is an object whose keys
// attribute is null, peeked from the msgpack without decoding the rest:
// then keysMapServer has nothing to take out, and decoding a keys_json or
// keys_file state (48 MB at 100,000 keys) once more would be wasted.
// False whenever it cannot tell; the caller then decodes in full.
func keysNullInAll(dvs ...*tfprotov6.DynamicValue) bool {
	for _, dv := range dvs {
		if null, ok := peekKeysNull(dv); !ok || !null {
			return false
		}
	}
	return true
}

// peekKeysNull reads the top-level keys attribute of an object encoded as
// tftypes encodes it in msgpack (a map from attribute name to value),
// skipping every other value by its length. ok is false for anything it
// cannot read that way: JSON, a null or unknown object, malformed bytes.
func peekKeysNull(dv *tfprotov6.DynamicValue) (null, ok bool) {
	if dv == nil || dv.JSON != nil || dv.MsgPack == nil {
		return false, false
	}
	dec := msgpack.NewDecoder(bytes.NewReader(dv.MsgPack))
	n, err := dec.DecodeMapLen()
	if err != nil || n < 0 {
		return false, false
	}
	for range n {
		name, err := dec.DecodeString()
		if err != nil {
			return false, false
		}
		if name == "keys" {
			code, err := dec.PeekCode()
			return code == msgpcode.Nil, err == nil
		}
		if err := dec.Skip(); err != nil {
			return false, false
		}
	}
	return false, false
}
