package visengine

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every type that holds personal data, document bytes, the token or the
// callback secret logs without them through slog's JSON and text handlers.
func TestSlogNeverLogsSensitiveValues(t *testing.T) {
	const cf, mail, owner, doc = "RSSMRA80A01H501U", "mario.rossi@example.com", "owner@caf.example", "PK-document-bytes"
	cb, err := NewCallback("https://hooks.example.com/v", CallbackJSON)
	require.NoError(t, err)
	r := decodeRichiesta(t, "spec/get_richiesta_id_200.json")
	r.Owner, r.EmailTarget, r.CallbackData = owner, mail, cb
	r.Ricerche[0].JSONRicerca = `{"$0":"` + cf + `"}`
	r.Ricerche[0].JSONMappato = []byte(`{"Codice Fiscale":"` + cf + `"}`)
	c, err := NewClient(canaryToken)
	require.NoError(t, err)
	values := []any{
		r, *r, r.Ricerche[0],
		RichiestaSummary{ID: "abc", EmailTarget: mail, Owner: owner},
		&RichiestaParams{HashVisura: "abc", JSONVisura: Values{"$4": cf}, EmailTarget: mail, CallbackData: cb},
		UpdateParams{Fields: Values{"$4": cf}, EmailTarget: mail},
		cb, *cb, Values{"$4": cf, "$2": mail},
		&Documento{DocumentoInfo: DocumentoInfo{Nome: "x.zip"}, Data: []byte(doc)},
		c,
	}
	for _, handler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		for _, v := range values {
			var buf bytes.Buffer
			slog.New(handler(&buf)).Log(context.Background(), slog.LevelInfo, "event", "value", v)
			out := buf.String()
			for _, secret := range []string{cf, mail, owner, doc, cb.Secret(), canaryToken, "UEstZG9jdW1lbnQtYnl0ZXM"} {
				assert.NotContains(t, out, secret, "%T", v)
			}
		}
	}
}
