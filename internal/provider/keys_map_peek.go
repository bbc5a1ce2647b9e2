package provider

import (
	"bytes"
	"encoding/binary"
	"io"

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
// skipping every other value. A null object (a create's prior state, a
// destroy's plan) has null keys: nothing to take out. ok is false for
// anything it cannot read that way: JSON, an unknown object, malformed bytes.
func peekKeysNull(dv *tfprotov6.DynamicValue) (null, ok bool) {
	if dv == nil || dv.JSON != nil || dv.MsgPack == nil {
		return false, false
	}
	if len(dv.MsgPack) > 0 && dv.MsgPack[0] == msgpcode.Nil {
		return true, true
	}
	at, ok := findAttribute(dv, "keys")
	if !ok {
		return false, false
	}
	return at.code == msgpcode.Nil, true
}

// attributeAt is where a top-level attribute's value starts in an encoded
// object, and the reader positioned there.
type attributeAt struct {
	dec  *msgpack.Decoder
	r    *bytes.Reader
	data []byte
	code byte // the value's first byte
}

// start is the offset of the value in data.
func (a attributeAt) start() int { return len(a.data) - a.r.Len() }

// end is the offset just past the value, found by skipping it.
func (a attributeAt) end() (int, bool) {
	if err := skipValue(a.dec, a.r, a.data, a.code); err != nil {
		return 0, false
	}
	return len(a.data) - a.r.Len(), true
}

// findAttribute reads the object dv encodes as tftypes does in msgpack (a
// map from attribute name to value) up to the value of the attribute name,
// skipping every value before it; false when dv is not a known object
// holding it, or cannot be read that way.
func findAttribute(dv *tfprotov6.DynamicValue, name string) (attributeAt, bool) {
	if dv == nil || dv.JSON != nil || dv.MsgPack == nil {
		return attributeAt{}, false
	}
	r := bytes.NewReader(dv.MsgPack)
	dec := msgpack.NewDecoder(r)
	n, err := dec.DecodeMapLen()
	if err != nil || n < 0 {
		return attributeAt{}, false
	}
	for range n {
		key, err := dec.DecodeString()
		if err != nil {
			return attributeAt{}, false
		}
		code, err := dec.PeekCode()
		if err != nil {
			return attributeAt{}, false
		}
		if key == name {
			return attributeAt{dec: dec, r: r, data: dv.MsgPack, code: code}, true
		}
		if err := skipValue(dec, r, dv.MsgPack, code); err != nil {
			return attributeAt{}, false
		}
	}
	return attributeAt{}, false
}

// skipValue skips the value starting with code. The decoder reads straight
// from r (a bytes.Reader needs no buffer), so a long string (keys_json,
// key_ids_json) is passed by moving r past it: Decoder.Skip would copy it.
func skipValue(dec *msgpack.Decoder, r *bytes.Reader, data []byte, code byte) error {
	if span, ok := stringSpan(code, data[len(data)-r.Len():]); ok {
		_, err := r.Seek(int64(span), io.SeekCurrent)
		return err
	}
	return dec.Skip()
}

// stringSpan is the encoded length of the str or bin value of 8, 16 or 32
// bit length at the start of b; false for any other value, or one that b
// does not hold whole.
func stringSpan(code byte, b []byte) (int, bool) {
	var head, size int
	switch code {
	case msgpcode.Str8, msgpcode.Bin8:
		if head = 2; len(b) >= head {
			size = int(b[1])
		}
	case msgpcode.Str16, msgpcode.Bin16:
		if head = 3; len(b) >= head {
			size = int(binary.BigEndian.Uint16(b[1:3]))
		}
	case msgpcode.Str32, msgpcode.Bin32:
		if head = 5; len(b) >= head {
			size = int(binary.BigEndian.Uint32(b[1:5]))
		}
	default:
		return 0, false
	}
	if len(b) < head || size > len(b)-head {
		return 0, false
	}
	return head + size, true
}
