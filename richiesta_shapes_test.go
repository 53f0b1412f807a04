package visengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 21: a value the SDK does not understand is never read as a zero
// value. The shapes whose meaning is clear are read; the others are refused
// with a *ShapeError naming the key (and never quoting the value).

// rome is the wall clock of Italy in the tests' examples: winter CET, summer CEST.
var (
	winter = time.Date(2024, time.January, 31, 9, 30, 0, 0, time.UTC) // 10:30 in Rome
	summer = time.Date(2024, time.July, 31, 8, 30, 0, 0, time.UTC)    // 10:30 in Rome
)

func TestRichiestaShapesRead(t *testing.T) {
	cases := []struct {
		key, value string
		check      func(t *testing.T, r *Richiesta)
	}{
		{"timestamp_creation", `"2024-01-31 10:30:00"`, func(t *testing.T, r *Richiesta) { assert.Equal(t, winter, r.TimestampCreation) }},
		{"timestamp_creation", `"2024-07-31 10:30:00"`, func(t *testing.T, r *Richiesta) { assert.Equal(t, summer, r.TimestampCreation) }},
		{"timestamp_creation", `"2024-01-31T10:30:00+01:00"`, func(t *testing.T, r *Richiesta) { assert.Equal(t, winter, r.TimestampCreation) }},
		{"timestamp_creation", `"2024-07-31T08:30:00Z"`, func(t *testing.T, r *Richiesta) { assert.Equal(t, summer, r.TimestampCreation) }},
		{"timestamp_creation", `"2024-01-31T10:30:00"`, func(t *testing.T, r *Richiesta) { assert.Equal(t, winter, r.TimestampCreation) }},
		{"timestamp_creation", `"31-01-2024 10:30:00"`, func(t *testing.T, r *Richiesta) { assert.Equal(t, winter, r.TimestampCreation) }},
		{"timestamp_creation", `"31/07/2024 10:30"`, func(t *testing.T, r *Richiesta) { assert.Equal(t, summer, r.TimestampCreation) }},
		{"timestamp_creation", `"1706693400"`, func(t *testing.T, r *Richiesta) { assert.Equal(t, winter, r.TimestampCreation) }},
		{"timestamp_last_update", `"2024-07-31 10:30:00.123456"`, func(t *testing.T, r *Richiesta) {
			assert.Equal(t, summer.Add(123456*time.Microsecond), r.TimestampLastUpdate)
		}},
		{"timestamp_stati", `{"in_ricerca":"2024-01-31 10:30:00","visura_evasa":1722414600}`, func(t *testing.T, r *Richiesta) {
			assert.Equal(t, TimestampStati{InRicerca: winter, VisuraEvasa: summer}, r.TimestampStati)
		}},
		{"allegati", `{"0":"a.pdf","1":"b.p7m"}`, func(t *testing.T, r *Richiesta) { assert.Equal(t, []string{"a.pdf", "b.p7m"}, r.Allegati) }},
		{"allegati", `{"10":"k.pdf","2":"c.pdf","0":"a.pdf"}`, func(t *testing.T, r *Richiesta) {
			assert.Equal(t, []string{"a.pdf", "c.pdf", "k.pdf"}, r.Allegati, "in key order, as numbers")
		}},
		{"ricerche", `{"1":{"id_ricerca":"x_1"},"0":{"id_ricerca":"x_0"}}`, func(t *testing.T, r *Richiesta) {
			require.Len(t, r.Ricerche, 2)
			assert.Equal(t, "x_0", r.Ricerche[0].IDRicerca)
			assert.Equal(t, "x_1", r.Ricerche[1].IDRicerca)
		}},
		{"callback_data", `"{\"url\":\"https://x.it/cb\",\"method\":\"JSON\",\"data\":{\"k\":\"v\"}}"`, func(t *testing.T, r *Richiesta) {
			assert.Equal(t, &Callback{URL: "https://x.it/cb", Method: "JSON", Data: map[string]any{"k": "v"}}, r.CallbackData)
		}},
		{"callback_data", `{"url":"https://x.it/cb","data":"{\"k\":\"v\"}"}`, func(t *testing.T, r *Richiesta) {
			assert.Equal(t, &Callback{URL: "https://x.it/cb", Data: map[string]any{"k": "v"}}, r.CallbackData)
		}},
		{"ricerca", `"1"`, func(t *testing.T, r *Richiesta) { assert.True(t, r.HasRicerca) }},
		{"prezzo_visura", `"4.78"`, func(t *testing.T, r *Richiesta) { assert.Equal(t, Cents(478), r.PrezzoVisura) }},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			var r Richiesta
			require.NoError(t, json.Unmarshal([]byte(richiestaWith(tc.key, tc.value)), &r))
			tc.check(t, &r)
		})
	}
}

func TestRichiestaShapesRefused(t *testing.T) {
	cases := []struct {
		key, value, named string
		summary           bool // a list entry reads the key too
	}{
		{"ricerca", `"yes"`, "ricerca", true},
		{"ricerca", `2`, "ricerca", true},
		{"sincrona", `"no"`, "sincrona", true},
		{"prezzo_visura", `false`, "prezzo_visura", true},
		{"prezzo_visura", `""`, "prezzo_visura", true},
		{"prezzo_ricerca", `[]`, "prezzo_ricerca", true},
		{"timestamp_creation", `"yesterday"`, "timestamp_creation", true},
		{"timestamp_creation", `-5`, "timestamp_creation", true},
		{"timestamp_creation", `4.5`, "timestamp_creation", true},
		{"timestamp_last_update", `"2024-13-45 10:00:00"`, "timestamp_last_update", true},
		{"timestamp_stati", `{"annullata":"x"}`, "timestamp_stati.annullata", false},
		{"timestamp_stati", `"x"`, "timestamp_stati", false},
		{"allegati", `"a.pdf"`, "allegati", false},
		{"allegati", `{"first":"a.pdf"}`, "allegati", false},
		{"allegati", `[{"nome":"a.pdf"}]`, "allegati", false},
		{"callback_data", `"x"`, "callback_data", false},
		{"callback_data", `0`, "callback_data", false},
		{"callback_data", `"[1]"`, "callback_data", false},
		{"callback_data", `"{\"url\":[1]}"`, "callback_data.url", false},
		{"callback_data", `{"url":"https://x.it","data":7}`, "callback_data.data", false},
		{"callback_data", `{"url":"https://x.it","data":"x"}`, "callback_data.data", false},
		{"esito", `"OK"`, "esito", false},
		{"ricerche", `"x"`, "ricerche", false},
		{"ricerche", `[1]`, "ricerche", false},
		{"ricerche", `[{"json_mappato":"x"}]`, "ricerche.json_mappato", false},
		{"ricerche", `[{"json_ricerca":5}]`, "ricerche.json_ricerca", false},
		{"opzioni", `{"opzione_0":"maybe"}`, "opzioni", false},
		{"opzioni", `"x"`, "opzioni", false},
		{"nome", `true`, "nome", true},
		{"owner", `["a"]`, "owner", true},
		{"email_target", `{"a":1}`, "email_target", true},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			raw := []byte(richiestaWith(tc.key, tc.value))
			var r Richiesta
			err := json.Unmarshal(raw, &r)
			var shape *ShapeError
			require.ErrorAs(t, err, &shape)
			assert.Equal(t, tc.named, shape.Key)
			assert.ErrorIs(t, err, ErrUnexpectedResponse)
			assert.Contains(t, err.Error(), `"`+tc.named+`"`)
			var s RichiestaSummary
			if sErr := json.Unmarshal(raw, &s); tc.summary {
				assert.ErrorAs(t, sErr, &shape)
			} else {
				assert.NoError(t, sErr)
			}
		})
	}
	t.Run("a price keeps its cause", func(t *testing.T) {
		var r Richiesta
		assert.ErrorIs(t, json.Unmarshal([]byte(richiestaWith("prezzo_visura", `false`)), &r), ErrBadPrice)
	})
	t.Run("the value is never quoted", func(t *testing.T) {
		var r Richiesta
		err := json.Unmarshal([]byte(richiestaWith("owner", `["mario.rossi@example.it"]`)), &r)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "mario")
	})
}

// TestRichiestaShapesOnTheWire decodes every shape through the client, as
// GET /richiesta/{id} answers it: read shapes give the value, refused ones an
// *APIError that unwraps to the *ShapeError; a list keeps the other entries.
func TestRichiestaShapesOnTheWire(t *testing.T) {
	var body string
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, body) })
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	const id = "5f2829ce065afc21cc60ad0e"

	body = string(envelopeAround(`{"_id":"` + id + `","state":1,"allegati":{"0":"a.pdf"},` +
		`"timestamp_creation":"2024-01-31 10:30:00","callback_data":"{\"url\":\"https://x.it/cb\",\"data\":{}}"}`))
	r, err := c.GetRichiesta(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, []string{"a.pdf"}, r.Allegati)
	assert.Equal(t, winter, r.TimestampCreation)
	require.NotNil(t, r.CallbackData)
	assert.Equal(t, "https://x.it/cb", r.CallbackData.URL)

	for _, kv := range [][2]string{{"ricerca", `"yes"`}, {"prezzo_visura", `false`}, {"timestamp_creation", `"soon"`},
		{"allegati", `"a.pdf"`}, {"callback_data", `"x"`}} {
		body = string(envelopeAround(richiestaWith(kv[0], kv[1])))
		_, err := c.GetRichiesta(ctx, id)
		var shape *ShapeError
		require.ErrorAs(t, err, &shape, kv[0])
		assert.Equal(t, kv[0], shape.Key)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.ErrorIs(t, err, ErrUnexpectedResponse)
	}

	body = string(envelopeAround("[" + richiestaWith("ricerca", `"yes"`) + "," + richiestaWith("ricerca", `true`) + "]"))
	list, err := c.ListRichieste(ctx)
	require.Error(t, err, "one entry is unreadable")
	require.Len(t, list, 1, "the other is returned")
	assert.True(t, list[0].HasRicerca)
}

// TestShapesOfOtherTypes: a Visura and a document refuse what they do not
// understand, as a richiesta does, rather than read a zero.
func TestShapesOfOtherTypes(t *testing.T) {
	for _, raw := range []string{`{"ricerca":"yes"}`, `{"sincrona":2}`} {
		var v Visura
		assert.ErrorIs(t, json.Unmarshal([]byte(raw), &v), ErrUnexpectedResponse, raw)
	}
	var v Visura
	err := json.Unmarshal([]byte(`{"prezzo_visura":false}`), &v)
	assert.ErrorIs(t, err, ErrBadPrice)

	for _, data := range []string{`{"nome":false,"dimensione":3,"file":"YWJj"}`, `{"nome":"x.zip","dimensione":"3","file":"YWJj"}`,
		`{"nome":"x.zip","dimensione":3,"file":false}`, `{"nome":"x.zip","dimensione":3,"file":["YWJj"]}`} {
		srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, `{"data":`+data+`,"success":true,"message":"","error":null}`)
		})
		var sb strings.Builder
		_, err := newTestClient(t, srv.URL).DownloadDocumento(context.Background(), "5f2829ce065afc21cc60ad0e", &sb)
		assert.ErrorIs(t, err, ErrUnexpectedResponse, data)
		assert.Empty(t, sb.String(), data)
	}

	// A callback delivery whose callback_data is JSON text is read: its
	// secret is found (covered end to end in callback_test.go).
	var msg struct{ Data *Richiesta }
	require.NoError(t, json.Unmarshal([]byte(`{"data":`+richiestaWith("callback_data",
		`"{\"url\":\"https://x.it/cb\",\"data\":{\"visengine_secret\":\"s\"}}"`)+`}`), &msg))
	assert.Equal(t, "s", msg.Data.CallbackData.Secret())
}

func TestAddRicercaOnADraftIsNotNotFound(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 404, `{"success":false,"message":"the request is in state 0, not yet finalized","error":221,"data":null}`)
	})
	_, err := newTestClient(t, srv.URL).AddRicerca(context.Background(), "5f2829ce065afc21cc60ad0e", Values{"$0": "x"})
	require.ErrorIs(t, err, ErrNotFinalized)
	assert.ErrorIs(t, err, ErrConflict)
	assert.False(t, errors.Is(err, ErrNotFound), "the richiesta exists")
}

func TestCallbackSendsAnObjectForData(t *testing.T) {
	b, err := json.Marshal(Callback{URL: "https://x.it/cb", Method: CallbackJSON})
	require.NoError(t, err)
	assert.JSONEq(t, `{"url":"https://x.it/cb","method":"JSON","data":{}}`, string(b))
	b, err = json.Marshal(&Callback{URL: "https://x.it/cb", Data: map[string]any{"k": "v"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"url":"https://x.it/cb","data":{"k":"v"}}`, string(b))
}

// romeOffset is Italy's offset from UTC at t, as the decoder reckons it.
func romeOffset(t time.Time) time.Duration {
	wall := t.UTC()
	return wall.Sub(italianToUTC(wall)).Round(time.Hour)
}

// FuzzParseWireTime: any value is read or refused, never a panic, and a
// time that is read is the zero time or in the Unix era, in UTC.
func FuzzParseWireTime(f *testing.F) {
	for _, s := range []string{`1596127010`, `"1596127010"`, `"2024-01-31 10:30:00"`, `"2024-07-31T08:30:00Z"`, `"31/07/2024 10:30"`,
		`"31-01-2024"`, `"2024-03-31 02:30:00"`, `"2024-10-27 02:30:00.5"`, `false`, `null`, `[]`, `{}`, `""`, `-5`, `4.5`, `"x"`, `"0"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		tm, ok := parseWireTime(bytes.TrimSpace(raw))
		if !ok && !tm.IsZero() {
			t.Fatalf("%q refused but read as %v", raw, tm)
		}
		if ok && !tm.IsZero() && tm.Location() != time.UTC {
			t.Fatalf("%q read in %v, not UTC", raw, tm.Location())
		}
	})
}

// Italy's clock: the switches to and from summer time (last Sundays of
// March and October, at 01:00 UTC).
func TestItalianToUTC(t *testing.T) {
	cases := map[string]string{
		"2024-03-31 01:59:00": "2024-03-31T00:59:00Z", // CET, just before the switch
		"2024-03-31 03:00:00": "2024-03-31T01:00:00Z", // CEST from 01:00 UTC
		"2024-10-27 01:30:00": "2024-10-26T23:30:00Z", // still CEST
		"2024-10-27 03:30:00": "2024-10-27T02:30:00Z", // CET again
		"2024-12-31 23:59:59": "2024-12-31T22:59:59Z",
	}
	for wall, want := range cases {
		got, ok := parseDate(wall)
		require.True(t, ok, wall)
		assert.Equal(t, want, got.Format(time.RFC3339), wall)
	}
}

// A Visura refuses what it cannot read with the key named, never the value,
// as a Richiesta does.
func TestVisuraShapeErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ data, key string }{
		{`{"hash_visura":"h","ricerca":"yes"}`, "ricerca"},
		{`{"hash_visura":"h","sincrona":"sometimes"}`, "sincrona"},
		{`{"hash_visura":"h","prezzo_visura":false}`, "prezzo_visura"},
		{`{"hash_visura":"h","opzioni":[{"tipo":"urgenza","nome":"opzione_0","prezzo":"four"}]}`, "opzioni.prezzo"},
	} {
		var v Visura
		_, err := interpret(context.Background(), 200, strings.NewReader(`{"data":`+tc.data+`,"success":true,"message":"","error":null}`),
			maxResponseBody, &v)
		var se *ShapeError
		require.ErrorAs(t, err, &se, tc.data)
		assert.Equal(t, tc.key, se.Key, tc.data)
		assert.ErrorIs(t, err, ErrUnexpectedResponse, tc.data)
		for _, secret := range []string{"yes", "sometimes", "four"} {
			assert.NotContains(t, err.Error(), secret, "the value is never quoted")
		}
	}
}
