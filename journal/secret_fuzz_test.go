package journal

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzParseSecret: any content gives a secret of 32 to 128 bytes that
// round-trips through hex, or an error that does not quote it.
func FuzzParseSecret(f *testing.F) {
	f.Add([]byte(strings.Repeat("ab", 32) + "\n"))
	f.Add([]byte(strings.Repeat("0", 63)))
	f.Add([]byte("not hex at all"))
	f.Add([]byte(" \t" + strings.Repeat("F", 256) + "\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSecret(data)
		if err != nil {
			if len(data) >= 8 && strings.Contains(err.Error(), string(data)) {
				t.Fatalf("error quotes the content: %v", err)
			}
			return
		}
		if len(s) < 32 || len(s) > 128 {
			t.Fatalf("secret of %d bytes", len(s))
		}
		back, err := hex.DecodeString(strings.ToLower(strings.TrimSpace(string(data))))
		if err != nil || !bytes.Equal(back, s) {
			t.Fatalf("does not round-trip")
		}
	})
}
