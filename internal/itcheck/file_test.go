package itcheck

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileValue(t *testing.T) {
	const max = 10
	tests := []struct {
		name, in string
		want     error
	}{
		{"ok", "doc.pdf|data:application/pdf;base64,aGVsbG8=", nil},
		{"ok png", "test_file|data:image/png;base64,abcdefghijklmnopqrstuvwxyz0123456789", ErrFileTooBig},
		{"ok no padding", "a|data:text/plain;base64,aGVs", nil},
		{"ok two pads", "a|data:text/plain;base64,aA==", nil},
		{"exactly max", "a|data:text/plain;base64," + base64.StdEncoding.EncodeToString(make([]byte, max)), nil},
		{"over max", "a|data:text/plain;base64," + base64.StdEncoding.EncodeToString(make([]byte, max+1)), ErrFileTooBig},
		{"no name", "|data:application/pdf;base64,aGVsbG8=", ErrFileName},
		{"no pipe", "doc.pdf data:application/pdf;base64,aGVsbG8=", ErrFileForm},
		{"no base64 marker", "a|data:application/pdf,aGVsbG8=", ErrFileForm},
		{"empty mime", "a|data:;base64,aGVsbG8=", ErrFileMIME},
		{"mime no subtype", "a|data:application;base64,aGVsbG8=", ErrFileMIME},
		{"mime empty subtype", "a|data:application/;base64,aGVsbG8=", ErrFileMIME},
		{"mime empty type", "a|data:/pdf;base64,aGVsbG8=", ErrFileMIME},
		{"mime two slashes", "a|data:a/b/c;base64,aGVsbG8=", ErrFileMIME},
		{"mime params", "a|data:text/plain;charset=utf-8;base64,aGVsbG8=", ErrFileMIME},
		{"mime blank", "a|data:text /plain;base64,aGVsbG8=", ErrFileMIME},
		{"empty content", "a|data:text/plain;base64,", ErrFileEmpty},
		{"bad length", "a|data:text/plain;base64,aGVsbG8", ErrBase64Shape},
		{"bad char", "a|data:text/plain;base64,aGV*bG8=", ErrBase64},
		{"url alphabet", "a|data:text/plain;base64,aGV-bG8_", ErrBase64},
		{"newline", "a|data:text/plain;base64,aGVs\nbG8=", ErrBase64Shape},
		{"pad in middle", "a|data:text/plain;base64,aG=sbG8=", ErrBase64},
		{"three pads", "a|data:text/plain;base64,a===", ErrBase64},
		{"all pads", "a|data:text/plain;base64,====", ErrBase64},
		{"non-ASCII", "a|data:text/plain;base64,aGVs\xc3\x80G8", ErrBase64},
		{"pipe in name", "a|b|data:text/plain;base64,aGVsbG8=", ErrFileNameChars},
		{"newline in name", "a\nb|data:text/plain;base64,aGVsbG8=", ErrFileNameChars},
		{"pipe in mime", "a|data:text/pl|ain;base64,aGVsbG8=", ErrFileMIME},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, FileValue(tt.in, max))
		})
	}
}

// Base64 agrees with encoding/base64 on every byte value in every position of
// a long input (exercising both the 8-byte and the tail loop).
func TestBase64AgreesWithStdlib(t *testing.T) {
	src := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("visengine!", 7)))
	for pos := 0; pos < len(src); pos++ {
		for c := 0; c < 256; c++ {
			b := []byte(src)
			b[pos] = byte(c)
			checkAgainstStdlib(t, string(b))
		}
	}
}

func checkAgainstStdlib(t *testing.T, s string) {
	t.Helper()
	n, err := Base64(s)
	dec, stdErr := base64.StdEncoding.DecodeString(s)
	if strings.ContainsAny(s, "\r\n") {
		require.Error(t, err, "%q", s)
		return
	}
	require.Equal(t, stdErr == nil, err == nil, "%q: ours %v, stdlib %v", s, err, stdErr)
	if err == nil {
		require.Equal(t, int64(len(dec)), n)
	}
}

func TestBase64DoesNotAllocate(t *testing.T) {
	s := "a|data:application/pdf;base64," + base64.StdEncoding.EncodeToString(make([]byte, 100<<10))
	assert.Zero(t, testing.AllocsPerRun(10, func() { _ = FileValue(s, 10<<20) }))
}

func BenchmarkFileValue100KiB(b *testing.B) {
	s := "a|data:application/pdf;base64," + base64.StdEncoding.EncodeToString(make([]byte, 100<<10))
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if FileValue(s, 10<<20) != nil {
			b.Fatal("invalid")
		}
	}
}
