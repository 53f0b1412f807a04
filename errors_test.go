package visengine

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each class of character a server could use to forge log lines or
// reverse text is replaced in Error(), and kept in Message.
func TestAPIErrorReplacesEachClass(t *testing.T) {
	classes := map[string][]rune{
		"C0 controls":          {0x00, 0x07, 0x08, '\t', '\n', 0x0b, 0x0c, '\r', 0x1b, 0x1f, 0x7f},
		"C1 controls":          {0x80, 0x85, 0x8d, 0x90, 0x9b, 0x9f},
		"line separator":       {0x2028},
		"paragraph separator":  {0x2029},
		"bidi embeddings":      {0x202a, 0x202b, 0x202c},
		"bidi overrides":       {0x202d, 0x202e},
		"bidi isolates":        {0x2066, 0x2067, 0x2068, 0x2069},
		"bidi and other marks": {0x200e, 0x200f, 0x061c, 0x200b, 0xfeff},
	}
	for name, runes := range classes {
		t.Run(name, func(t *testing.T) {
			for _, r := range runes {
				raw := "before" + string(r) + "after"
				e := &APIError{Method: "GET", Path: "/visure", StatusCode: 400, Code: CodeWrongHash, Message: raw}
				assert.Equal(t, raw, e.Message, "Message stays as sent")
				assert.NotContains(t, e.Error(), string(r), "%U", r)
				assert.True(t, strings.HasSuffix(e.Error(), ": before after"), "%U is replaced by a space: %q", r, e.Error())
				assert.NotContains(t, fmt.Sprintf("%#v", e), string(r), "%%#v cleans too")
			}
		})
	}
}

// Error caps the message at 256 bytes, on a character boundary, and says
// it cut; Message keeps the whole text.
func TestAPIErrorCapsTheMessage(t *testing.T) {
	const maxShown = 256
	for name, raw := range map[string]string{
		"ascii":     strings.Repeat("A", 100000),
		"two-byte":  strings.Repeat("é", 5000),
		"four-byte": strings.Repeat("😀", 5000),
		"mixed":     "x" + strings.Repeat("€", 1000),
	} {
		t.Run(name, func(t *testing.T) {
			e := newAPIError(500, 0, raw)
			assert.Equal(t, raw, e.Message, "the full message stays available")
			prefix := "visengine: HTTP 500: "
			require.True(t, strings.HasPrefix(e.Error(), prefix))
			shown := strings.TrimPrefix(e.Error(), prefix)
			assert.True(t, strings.HasSuffix(shown, "…"), "says it was cut")
			body := strings.TrimSuffix(shown, "…")
			assert.LessOrEqual(t, len(body), maxShown)
			assert.Greater(t, len(body), maxShown-4, "cut no further than the character boundary needs")
			assert.True(t, utf8.ValidString(e.Error()), "never cuts a character in two")
			assert.True(t, strings.HasPrefix(raw, body))
		})
	}
	short := strings.Repeat("B", 256)
	assert.Equal(t, "visengine: HTTP 500: "+short, newAPIError(500, 0, short).Error(), "256 bytes are not cut")
}

// Errors show a URL without userinfo and query wherever one may appear:
// a base URL refused by NewClient, a callback URL refused by NewCallback.
func TestErrorsHideURLCredentials(t *testing.T) {
	const pass, key = "pa55w0rd", "Q5ECRETQ"
	urls := []string{
		"https://user:" + pass + "@example.com/api",
		"https://" + pass + "@example.com/api",
		"https://us%40er:" + pass + "%3A@example.com/api",
		"https://example.com/api?access_token=" + key,
		"https://example.com/api?x=1&key=" + key + "#frag",
		"https://example.com/api#" + key,
		"http://user:" + pass + "@example.com/api?key=" + key,
		"ftp://user:" + pass + "@example.com/?key=" + key,
		"://user:" + pass + "@example.com/?key=" + key,
		"https://user:" + pass + "@[::1/?key=" + key,
	}
	for _, raw := range urls {
		_, err := NewClient(canaryToken, WithBaseURL(raw))
		require.ErrorIs(t, err, ErrInvalidArgument, raw)
		_, cbErr := NewCallback(raw, "XML")
		require.ErrorIs(t, cbErr, ErrInvalidArgument, raw)
		for _, e := range []error{err, cbErr} {
			assert.NotContains(t, e.Error(), pass, raw)
			assert.NotContains(t, e.Error(), key, raw)
			assert.NotContains(t, e.Error(), "user", raw)
		}
	}
}

// A SearchFailedError names the search and the provider's code, both as
// the server sent them: a hostile server must not forge log lines or
// reverse text through them, nor flood the message.
func TestSearchFailedErrorCleansServerText(t *testing.T) {
	forged := "x\nlevel=ERROR msg=forged\u202e" + strings.Repeat("A", 2000)
	r := &Richiesta{ID: "5f2829ce065afc21cc60ad0e", StatoRichiesta: StatoInRicerca, Esito: Esito{Codice: forged},
		Ricerche: []Ricerca{{IDRicerca: forged, StatoRicerca: RicercaErrore}}}
	msg := (&SearchFailedError{Richiesta: r}).Error()
	assert.NotContains(t, msg, "\n")
	assert.NotContains(t, msg, "\u202e")
	assert.Less(t, len(msg), 1000, "capped: %d bytes", len(msg))
	assert.Contains(t, msg, "richiesta 5f2829ce065afc21cc60ad0e")
}
