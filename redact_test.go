package visengine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Canaries: personal data, secrets and bytes that must never be logged.
const (
	canaryCF        = "RSSMRA80A01H501U"
	canaryMail      = "mario.rossi@example.com"
	canaryOwnerAddr = "owner@caf.example"
	canaryPhone     = "+393331234567"
	canaryFile      = "PK-CANARY-document-bytes"
	canaryQuery     = "Q5ECRETQ"
	canaryPass      = "pa55w0rd"
)

var canarySecret = strings.Repeat("S3", MinCallbackSecretLen)

// canaries lists every form a canary may take in a log line: as is, JSON-
// or URL-escaped, and a file's bytes in base64 (whole and from the start).
func canaries() []string {
	b64 := base64.StdEncoding.EncodeToString([]byte(canaryFile))
	list := []string{canaryCF, canaryMail, canaryOwnerAddr, canaryPhone, canaryFile, canaryQuery, canaryPass,
		canarySecret, canaryToken, b64, b64[:16], url.QueryEscape(canaryPhone), "mario.rossi", "owner@caf"}
	return list
}

// canaryRichiesta holds every canary a richiesta can hold.
func canaryRichiesta() *Richiesta {
	cb := &Callback{URL: "https://user:" + canaryPass + "@hooks.example.com/v?token=" + canaryQuery,
		Method: CallbackJSON, Data: map[string]any{CallbackSecretKey: canarySecret}}
	idx := 0
	values := Values{"$0": "Mario", "$2": canaryMail, "$3": canaryPhone, "$4": canaryCF,
		"$5": FileValue("doc.pdf", "application/pdf", []byte(canaryFile))}
	return &Richiesta{
		ID: cbID, State: StateSubmitted, HashVisura: "2631ec9b62135de4186f509fea7d954b", Nome: "Domanda A2",
		PrezzoVisura: Cents(2000), IndiceRicerca: &idx, StatoRichiesta: StatoAnnullata, EmailTarget: canaryMail,
		Allegati: []string{"visura_" + canaryCF + ".pdf"}, TimestampCreation: time.Unix(1596127010, 0),
		CallbackData: cb, Opzioni: []Opzione{{Tipo: "urgenza", Prezzo: Cents(400), Nome: "opzione_0"}},
		Owner: canaryOwnerAddr, MotivoAnnullamento: "codice fiscale " + canaryCF + " non valido",
		Esito: Esito{Codice: "9", Info: "nessun risultato per " + canaryCF},
		Ricerche: []Ricerca{{IDRicerca: cbID + "_0", StatoRicerca: RicercaEvasa, JSONRicerca: string(jsonOf(values)),
			JSONMappato:   jsonOf(map[string]any{"Codice Fiscale": canaryCF, "Email": canaryMail}),
			JSONRisultato: string(jsonOf(map[string]any{"indice_0": map[string]any{"CodFisc": canaryCF, "Denominazione": canaryOwnerAddr}}))}},
	}
}

// jsonOf is v's JSON; v is made of maps and strings, which always encode.
func jsonOf(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// logBoth logs v through slog's JSON and text handlers and returns both
// lines.
func logBoth(v any) map[string]string {
	out := map[string]string{}
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Log(context.Background(), slog.LevelInfo, "event", "value", v)
		out[name] = buf.String()
	}
	return out
}

func assertNoCanary(t *testing.T, label, out string) {
	t.Helper()
	for _, c := range canaries() {
		assert.NotContains(t, out, c, "%s leaks %q:\n%s", label, c, out)
	}
}

// Every exported type that holds personal data, document bytes, the token
// or a secret logs without them through slog's JSON and text handlers, and
// prints without them through every fmt verb.
func TestSlogNeverLogsSensitiveValues(t *testing.T) {
	r := canaryRichiesta()
	cb := r.CallbackData
	values := r.Ricerche[0].Valori()
	c, err := NewClient(canaryToken)
	require.NoError(t, err)
	summary := &RichiestaSummary{ID: cbID, EmailTarget: canaryMail, Owner: canaryOwnerAddr}
	params := &RichiestaParams{HashVisura: "abc", JSONVisura: values, EmailTarget: canaryMail, CallbackData: cb}
	update := &UpdateParams{JSONVisura: values, Fields: values, EmailTarget: canaryMail}
	doc := &Documento{DocumentoInfo: DocumentoInfo{Nome: "x.zip"}, Data: []byte(canaryFile)}
	dry := &DryRunResult{Echo: r, Message: "Test Request, deleting"}
	token := &Token{Value: canaryToken, Scopes: []string{"GET:visengine2.altravia.com/visure"}}
	v := &Visura{HashVisura: "2631ec9b62135de4186f509fea7d954b", JSONStruttura: Struttura{
		Campi:       map[string]Campo{"$2": {Nome: "Email", Tipo: "email"}, "$4": {Nome: "CODICE FISCALE", Tipo: "codice_fiscale_persona_fisica"}},
		Validazione: "$2 && $4 && $9"}}
	bad := Values{"$2": canaryMail + "@", "$4": canaryCF[:15] + "X", canaryPhone: "misplaced"}
	validation := v.Validate(bad)
	require.Error(t, validation)
	var ve *ValidationError
	require.ErrorAs(t, validation, &ve)
	api412 := &APIError{Method: "POST", Path: "/richiesta", StatusCode: 412, Code: CodeInsufficientData,
		Message: "Insufficient data to validate the request: " + canaryCF + " " + canaryMail}
	cases := map[string]any{
		"*Richiesta": r, "Richiesta": *r, "Ricerca": r.Ricerche[0], "*Ricerca": &r.Ricerche[0],
		"*RichiestaSummary": summary, "RichiestaSummary": *summary,
		"*RichiestaParams": params, "RichiestaParams": *params, "*UpdateParams": update, "UpdateParams": *update,
		"*Callback": cb, "Callback": *cb, "Values": values, "*Documento": doc, "Documento": *doc, "*Client": c,
		"*CallbackEvent": &CallbackEvent{Richiesta: r}, "CallbackEvent": CallbackEvent{Richiesta: r, FromAPI: true},
		"*DryRunResult": dry, "DryRunResult": *dry, "*Token": token, "Token": *token,
		"Esito": r.Esito, "Risultato": r.Ricerche[0].Risultati()[0], "*ValidationError": ve, "[]Problem": ve.Problems(),
		"*SubmitError":          &SubmitError{Step: StepDraft, Err: api412},
		"*APIError (412)":       api412,
		"*CancelledError":       &CancelledError{Richiesta: r},
		"*SearchFailedError":    &SearchFailedError{Richiesta: r},
		"*OutcomeUnknownError":  &OutcomeUnknownError{Method: "PUT", Path: "/richiesta/" + cbID, Err: api412},
		"*PartialDownloadError": &PartialDownloadError{Written: 3, Err: errors.New("cut")},
		"JournalEntry":          JournalEntry{Ref: "r", Digest: JournalDigest("h", values, nil)},
		"Visura":                *v,
		"*Resolution":           &Resolution{Status: ResolutionFailed, DraftID: cbID, Err: api412, Richiesta: r},
		"Resolution":            Resolution{Status: ResolutionCompleted, DraftID: cbID, Err: api412, Richiesta: r},
		"RecoverReport":         RecoverReport{Resolutions: []Resolution{{Status: ResolutionFailed, Err: api412, Richiesta: r}}},
		"*RecoverReport":        &RecoverReport{Resolutions: []Resolution{{Status: ResolutionUnknown, Err: api412, Richiesta: r}}},
	}
	for name, val := range cases {
		for handler, out := range logBoth(val) {
			assertNoCanary(t, name+" through slog's "+handler+" handler", out)
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			assertNoCanary(t, name+" with "+verb, fmt.Sprintf(verb, val))
		}
	}
}

// slog asks only the value it is given for its LogValue: collections and
// the caller's own structs are marshalled field by field by the JSON
// handler. Their Redacted copies log nothing sensitive through either
// handler; the text handler prints with %+v, which uses Format at every
// depth.
func TestRedactedCopiesLogSafelyInCollections(t *testing.T) {
	r := canaryRichiesta()
	values := r.Ricerche[0].Valori()
	summary := &RichiestaSummary{ID: cbID, EmailTarget: canaryMail, Owner: canaryOwnerAddr}
	type mine struct {
		Who string
		R   *Richiesta
		V   Values
	}
	safe := map[string]any{
		"[]*Richiesta":        []*Richiesta{r.Redacted()},
		"[]Richiesta":         []Richiesta{*r.Redacted()},
		"map[string]Values":   map[string]Values{"applicant": values.Redacted()},
		"struct":              mine{Who: "x", R: r.Redacted(), V: values.Redacted()},
		"[]*RichiestaSummary": []*RichiestaSummary{summary.Redacted()},
	}
	for name, val := range safe {
		for handler, out := range logBoth(val) {
			assertNoCanary(t, name+" through slog's "+handler+" handler", out)
		}
	}
	// What the README says: without Redacted, the JSON handler marshals
	// nested values whole; the text handler does not.
	raw := logBoth([]Richiesta{*r})
	assert.Contains(t, raw["json"], canaryOwnerAddr, "a nested Richiesta is marshalled whole by the JSON handler")
	assertNoCanary(t, "[]Richiesta through slog's text handler", raw["text"])
	assertNoCanary(t, "map[string]Values through slog's text handler", logBoth(map[string]Values{"a": values})["text"])
}

// Redacted keeps exactly what its doc says, and shares nothing with the
// original.
func TestRichiestaRedacted(t *testing.T) {
	r := canaryRichiesta()
	red := r.Redacted()
	assert.Equal(t, []any{r.ID, r.State, r.HashVisura, r.Nome, r.PrezzoVisura, *r.IndiceRicerca, r.StatoRichiesta, r.TimestampCreation, r.Opzioni, r.Esito.Codice},
		[]any{red.ID, red.State, red.HashVisura, red.Nome, red.PrezzoVisura, *red.IndiceRicerca, red.StatoRichiesta, red.TimestampCreation, red.Opzioni, red.Esito.Codice})
	assert.Equal(t, []string{"", "", "", ""}, []string{red.EmailTarget, red.Owner, red.MotivoAnnullamento, red.Esito.Info})
	assert.Equal(t, []string{"[redacted]"}, red.Allegati)
	assert.Equal(t, []Ricerca{{IDRicerca: cbID + "_0", StatoRicerca: RicercaEvasa}}, red.Ricerche)
	assert.Equal(t, &Callback{URL: "https://hooks.example.com/v", Method: CallbackJSON}, red.CallbackData)
	total, err := red.Total()
	require.NoError(t, err)
	assert.Equal(t, Cents(2400), total, "prices and options are kept")

	*red.IndiceRicerca, red.Opzioni[0].Prezzo = 7, Cents(1)
	assert.Equal(t, 0, *r.IndiceRicerca, "the copy shares nothing")
	assert.Equal(t, Cents(400), r.Opzioni[0].Prezzo)
	assert.Equal(t, canaryOwnerAddr, r.Owner, "the original is untouched")
	assert.Nil(t, (*Richiesta)(nil).Redacted())

	s := &RichiestaSummary{ID: cbID, EmailTarget: canaryMail, Owner: canaryOwnerAddr, PrezzoVisura: Cents(500)}
	rs := s.Redacted()
	assert.Equal(t, RichiestaSummary{ID: cbID, PrezzoVisura: Cents(500)}, *rs)
	assert.Nil(t, (*RichiestaSummary)(nil).Redacted())
}

func TestValuesRedacted(t *testing.T) {
	vs := Values{"$0": "Mario", "$3": "  ", "$10": canaryCF, canaryPhone: "x", canaryMail: ""}
	assert.Equal(t, Values{"$0": "[redacted]", "$3": "  ", "$10": "[redacted]", "?1": "[redacted]", "?2": ""}, vs.Redacted(),
		"keys not of the form $N are hidden too, in sorted order")
	assert.Equal(t, "Mario", vs["$0"], "the original is untouched")
	assert.Nil(t, Values(nil).Redacted())
	assert.Equal(t, "visengine.Values{5 keys: $0 $10 $3 (2 not of the form $N)}", fmt.Sprint(vs),
		"Format shows only keys of the form $N")
}
