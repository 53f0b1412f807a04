package itcheck

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every reason has a kind and its own sentence, so callers can map kinds to
// codes and still show distinct messages.
func TestReasonsHaveKinds(t *testing.T) {
	seen := map[string]bool{}
	for _, err := range All() {
		k := KindOf(err)
		assert.True(t, k >= KindLength && k <= KindBase64, "%q has kind %d", err, k)
		assert.False(t, seen[err.Error()], "duplicate sentence %q", err)
		seen[err.Error()] = true
		var r *Reason
		assert.True(t, errors.As(err, &r))
		assert.Equal(t, k, r.Kind())
	}
	assert.Zero(t, KindOf(errors.New("other")))
	assert.Zero(t, KindOf(nil))
}

func TestKindsOfChecks(t *testing.T) {
	tests := []struct {
		err  error
		want Kind
	}{
		{CodiceFiscalePersona("RSSMRA80A01H501A"), KindCheck},
		{CodiceFiscalePersona("RSSMRA01B29H501Z"), KindBirthDate},
		{CodiceFiscalePersona("RSSMRA80Z99H501U"), KindBirthDate},
		{CodiceFiscalePersona("RSSMRA80A01H501"), KindLength},
		{CodiceFiscalePersona("R5SMRA80A01H501U"), KindFormat},
		{PartitaIVA("12345678901"), KindCheck},
		{PartitaIVA("IT12345678903"), KindLength},
		{CodiceFiscale("0234252015X"), KindFormat},
		{Email("a"), KindEmail},
		{Date("31-02-2024"), KindDate},
		{CodComune("H50"), KindFormat},
		{FileValue("a|data:text/plain;base64,aGVsbG8", 10), KindBase64},
		{FileValue("a|data:text/plain;base64,", 10), KindEmpty},
		{FileValue("a|data:text/plain;base64,"+"AAAA", 2), KindTooLarge},
		{FileValue("|data:text/plain;base64,AAAA", 10), KindFileName},
		{FileValue("a|data:text;base64,AAAA", 10), KindMIME},
		{FileValue("a", 10), KindFormat},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, KindOf(tt.err), "%v", tt.err)
	}
}

func TestFileName(t *testing.T) {
	for _, s := range []string{"a.pdf", "documento d'identità.pdf", "scan 1;2.jpg", "x"} {
		assert.NoError(t, FileName(s), "%q", s)
	}
	assert.Equal(t, ErrFileName, FileName(""))
	for _, s := range []string{"a|b.pdf", "a\nb", "a\x00", "a\x7f", "a\u0085b", "fattura\u202efdp.exe", "a\u200bb", "a\xffb"} {
		assert.Equal(t, ErrFileNameChars, FileName(s), "%q", s)
	}
}

func TestMIME(t *testing.T) {
	for _, s := range []string{"application/pdf", "image/jpeg", "application/vnd.ms-excel", "text/x-c++"} {
		assert.NoError(t, MIME(s), "%q", s)
	}
	for _, s := range []string{"", "pdf", "a|b/c", "text/plain|x", "text/plain;charset=utf-8", "text/plain,x", "a/b/c", "/b", "a/"} {
		assert.Equal(t, ErrFileMIME, MIME(s), "%q", s)
	}
}
