package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestCheckHash(t *testing.T) {
	sum := sha256.Sum256([]byte("sk_live_123"))
	b64, hx := base64.StdEncoding.EncodeToString(sum[:]), hex.EncodeToString(sum[:])
	urlSafe := base64.URLEncoding.EncodeToString(sum[:])
	for _, c := range []struct {
		hash, format, want string
	}{
		{b64, hashFormatSHA256Base64, ""},
		{hx, hashFormatSHA256Base64, "is 64 hex characters"},
		{strings.ToUpper(hx), hashFormatSHA256Base64, "is 64 hex characters"},
		{strings.TrimRight(b64, "="), hashFormatSHA256Base64, "not standard base64"},
		{"MDEyMzQ1Njc4OWFiY2RlZg==", hashFormatSHA256Base64, "decodes to 16 bytes"},
		{hx, hashFormatSHA256Hex, ""},
		{b64, hashFormatSHA256Hex, "not 64 hex characters"},
		{"anything", "", ""},
	} {
		got := checkHash(c.hash, c.format)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("checkHash(%q, %q) = %q, want %q", c.hash, c.format, got, c.want)
		}
	}
	if strings.ContainsAny(b64, "-_") || urlSafe == b64 {
		// Only meaningful when the digest has '+' or '/': pick one that does.
		t.Logf("digest has no URL-unsafe characters")
	} else if checkHash(urlSafe, hashFormatSHA256Base64) == "" {
		t.Errorf("URL-safe base64 accepted")
	}
}
