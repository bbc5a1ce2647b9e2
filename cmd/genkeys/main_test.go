package main

import (
	"crypto/sha256"
	"encoding/base64"
	"reflect"
	"testing"
)

func TestGenerateIsDeterministicAndHashesAreNative(t *testing.T) {
	raws, settings := Generate(50, 7)
	again, _ := Generate(50, 7)
	if !reflect.DeepEqual(raws, again) {
		t.Fatal("the same seed gave different keys")
	}
	if len(settings) != 50 {
		t.Fatalf("%d distinct hashes for 50 keys", len(settings))
	}
	for _, r := range raws {
		sum := sha256.Sum256([]byte(r.Key))
		if r.Hash != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Fatalf("hash of %s is not the standard base64 SHA-256", r.Key)
		}
		if _, ok := settings[r.Hash]; !ok {
			t.Fatalf("no settings for %s", r.Hash)
		}
	}
}
