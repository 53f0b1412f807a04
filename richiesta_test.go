package visengine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decodeRichiesta(t *testing.T, file string) *Richiesta {
	t.Helper()
	return decodeData[Richiesta](t, file)
}

func TestDecodeRichiestaCreated(t *testing.T) {
	r := decodeRichiesta(t, "spec/post_richiesta_200.json")
	assert.Equal(t, "5f2829ce065afc21cc60ad0e", r.ID)
	assert.Equal(t, StateSubmitted, r.State)
	assert.Equal(t, "eccbc87e4b5ce2fe28308fd9f2a7baf3", r.HashVisura)
	assert.Equal(t, "_rib_cam_Ordinaria", r.ProviderRoutine)
	assert.Equal(t, Cents(478), r.PrezzoVisura)
	assert.Equal(t, StatoInErogazione, r.StatoRichiesta)
	assert.Nil(t, r.CallbackData, `"callback_data": false`)
	assert.Nil(t, r.Opzioni)
	assert.Nil(t, r.IndiceRicerca)
	assert.Empty(t, r.IDRicerca)
	assert.Equal(t, time.Unix(1596467662, 0).UTC(), r.TimestampCreation)
	assert.Equal(t, time.Unix(1596467663, 0).UTC(), r.TimestampStati.At(StatoInErogazione))
	assert.True(t, r.TimestampStati.At(StatoDatiDisponibili).IsZero())
	require.Len(t, r.Ricerche, 1)
	assert.Equal(t, Values{"$1": "RM", "$0": "1378273"}, r.Ricerche[0].Valori())
	assert.Equal(t, "1378273", r.Ricerche[0].Mappato()["NRea"])
	assert.Nil(t, r.Ricerche[0].Risultati())
	assert.Equal(t, Esito{Codice: "0", Info: "OK"}, r.Esito)
	assert.False(t, r.DocumentReady())
	assert.False(t, r.SearchResultsReady())
	assert.False(t, r.Terminal())
}

func TestDecodeRichiestaDone(t *testing.T) {
	r := decodeRichiesta(t, "spec/get_richiesta_id_200.json")
	assert.Equal(t, StatoVisuraEvasa, r.StatoRichiesta)
	assert.Equal(t, []string{"5f22f722065afc42223c7131.pdf"}, r.Allegati)
	assert.Equal(t, Cents(500), r.PrezzoVisura)
	ts := r.TimestampStati
	assert.Equal(t, []int64{1596127010, 1596127010, 1596127017, 1596127022},
		[]int64{ts.InRicerca.Unix(), ts.InErogazione.Unix(), ts.DatiDisponibili.Unix(), ts.VisuraEvasa.Unix()})
	assert.True(t, r.DocumentReady())
	assert.True(t, r.Terminal())
	assert.Equal(t, Values{"$0": "SCRLCU73R02H501H"}, r.Ricerche[0].Valori())
}

func TestDecodeRichiestaSearches(t *testing.T) {
	r := decodeRichiesta(t, "spec/post_richiesta_id_200.json")
	assert.Equal(t, StatoInRicerca, r.StatoRichiesta)
	assert.True(t, r.HasRicerca)
	assert.Equal(t, Cents(38), r.PrezzoRicerca)
	require.Len(t, r.Ricerche, 2)
	first, last := r.Ricerche[0], r.LastRicerca()
	assert.Equal(t, RicercaEvasa, first.StatoRicerca)
	assert.Equal(t, []int{0}, first.Indici())
	assert.Equal(t, "12485671007", first.Risultati()[0].Text("CodFisc"))
	assert.Equal(t, RicercaErrore, last.StatoRicerca)
	assert.Nil(t, last.Risultati())
	assert.False(t, r.SearchResultsReady(), "the last search failed")
	assert.Equal(t, "101", r.Esito.Codice)

	chosen := decodeRichiesta(t, "spec/put_richiesta_id_ricerche_200.json")
	require.NotNil(t, chosen.IndiceRicerca)
	assert.Equal(t, 1, *chosen.IndiceRicerca)
	assert.Equal(t, "5f283eae065afc21cf466ea4_0", chosen.IDRicerca)
	res := chosen.Ricerche[0]
	assert.Equal(t, []int{0, 1, 2, 3, 4}, res.Indici())
	assert.Equal(t, "ALTRAVIA SOCIETA' A RESPONSABILITA' LIMITATA SEMPLIFICATA", res.Risultati()[1].Text("Denominazione"))
	assert.Equal(t, "SOCIETA' A RESPONSABILITA' LIMITATA SEMPLIFICATA", res.Risultati()[1].Text("NatGiu"))
	assert.Equal(t, "", res.Risultati()[1].Text("missing"))
	assert.Equal(t, Values{"$1": "", "$0": "altravia"}, res.Valori())
}

func TestDecodeRichiestaList(t *testing.T) {
	var env struct {
		Data []RichiestaSummary `json:"data"`
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "spec/get_richiesta_200.json"), &env))
	require.NotEmpty(t, env.Data)
	var open *RichiestaSummary
	for i := range env.Data {
		if env.Data[i].State == StateDraft {
			open = &env.Data[i]
		}
	}
	require.NotNil(t, open, "the spec's list holds a draft")
	assert.Equal(t, StatoAnnullata, open.StatoRichiesta)
	assert.Equal(t, "5f22f722065afc42223c7131", env.Data[0].ID)
	assert.Equal(t, time.Unix(1596127010, 0).UTC(), env.Data[0].TimestampCreation)
}

func TestDecodeRichiestaLeniently(t *testing.T) {
	var r Richiesta
	require.NoError(t, json.Unmarshal([]byte(`{"_id":"abc","state":"1","ricerca":1,"indice_ricerca":"2",
		"stato_richiesta":"Sospesa","prezzo_visura":"20","timestamp_creation":null,"allegati":null,
		"callback_data":{"url":"https://x.example/cb","method":"POST","field":"data","data":{"k":"v"}},
		"opzioni":{"opzione_1":true,"opzione_0":true,"opzione_2":false},"esito":{"codice":101,"info":null},
		"ricerche":[{"id_ricerca":"abc_0","json_ricerca":"{not json","json_risultato":"[1]"}],"new_key":{"x":1}}`), &r))
	assert.Equal(t, StateSubmitted, r.State)
	assert.True(t, r.HasRicerca)
	assert.Equal(t, 2, *r.IndiceRicerca)
	assert.Equal(t, Stato("Sospesa"), r.StatoRichiesta)
	assert.False(t, r.StatoRichiesta.Known())
	assert.Equal(t, Cents(2000), r.PrezzoVisura)
	assert.True(t, r.TimestampCreation.IsZero())
	require.NotNil(t, r.CallbackData)
	assert.Equal(t, "v", r.CallbackData.Data["k"])
	assert.Equal(t, []Opzione{{Nome: "opzione_0"}, {Nome: "opzione_1"}}, r.Opzioni)
	assert.Equal(t, "101", r.Esito.Codice)
	assert.Nil(t, r.Ricerche[0].Valori(), "an unreadable json_ricerca leaves Valori nil")
	assert.Equal(t, "{not json", r.Ricerche[0].JSONRicerca)
	assert.Nil(t, r.Ricerche[0].Risultati())

	for _, bad := range []string{`{"_id":"abc","state":"x"}`, `[]`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &r), bad)
	}
}

// richiestaWith is a minimal valid richiesta with one more key.
func richiestaWith(key, value string) string {
	return `{"_id":"5f2829ce065afc21cc60ad0e","state":1,"hash_visura":"2631ec9b62135de4186f509fea7d954b","` + key + `":` + value + `}`
}

// PHP backends send false, [], {}, null or numbers where strings and objects
// are expected; each of these "nothing" shapes decodes to the zero value,
// for Richiesta and RichiestaSummary alike. Other shapes are read when
// their meaning is clear, refused otherwise (TestRichiestaShapes).
func TestDecodeRichiestaPHPShapes(t *testing.T) {
	empty := []string{`false`, `null`, `[]`, `{}`}
	type check func(t *testing.T, r *Richiesta)
	cases := []struct {
		key    string
		values []string
		check  check
	}{
		{"callback_data", []string{`false`, `null`, `[]`, `""`, `"false"`, `"null"`, `"[]"`}, func(t *testing.T, r *Richiesta) { assert.Nil(t, r.CallbackData) }},
		{"email_target", empty, func(t *testing.T, r *Richiesta) { assert.Empty(t, r.EmailTarget) }},
		{"id_ricerca", empty, func(t *testing.T, r *Richiesta) { assert.Empty(t, r.IDRicerca) }},
		{"nome", empty, func(t *testing.T, r *Richiesta) { assert.Empty(t, r.Nome) }},
		{"owner", empty, func(t *testing.T, r *Richiesta) { assert.Empty(t, r.Owner) }},
		{"hash_visura", empty, func(t *testing.T, r *Richiesta) { assert.Empty(t, r.HashVisura) }},
		{"stato_richiesta", empty, func(t *testing.T, r *Richiesta) { assert.Empty(t, r.StatoRichiesta) }},
		{"callback", empty, func(t *testing.T, r *Richiesta) { assert.Empty(t, r.ProviderRoutine) }},
		{"motivo_annullamento", empty, func(t *testing.T, r *Richiesta) { assert.Empty(t, r.MotivoAnnullamento) }},
		{"allegati", []string{`false`, `{}`, `null`, `[]`, `""`}, func(t *testing.T, r *Richiesta) { assert.Nil(t, r.Allegati) }},
		{"ricerche", []string{`false`, `{}`, `null`, `[]`, `[false,null,[]]`}, func(t *testing.T, r *Richiesta) { assert.Nil(t, r.Ricerche) }},
		{"esito", []string{`false`, `null`, `[]`, `""`}, func(t *testing.T, r *Richiesta) { assert.Equal(t, Esito{}, r.Esito) }},
		{"timestamp_stati", []string{`[]`, `false`, `null`, `{}`, `{"in_ricerca":false,"annullata":0}`}, func(t *testing.T, r *Richiesta) {
			assert.Equal(t, TimestampStati{}, r.TimestampStati)
		}},
		{"timestamp_creation", []string{`false`, `null`, `[]`, `0`, `""`, `"0"`}, func(t *testing.T, r *Richiesta) { assert.True(t, r.TimestampCreation.IsZero()) }},
		{"opzioni", []string{`false`, `null`, `[]`, `{}`}, func(t *testing.T, r *Richiesta) { assert.Empty(t, r.Opzioni) }},
		{"ricerca", []string{`false`, `null`, `[]`, `{}`, `0`, `"0"`}, func(t *testing.T, r *Richiesta) { assert.False(t, r.HasRicerca) }},
		{"sincrona", []string{`false`, `null`, `[]`, `{}`, `""`}, func(t *testing.T, r *Richiesta) { assert.False(t, r.Sincrona) }},
		{"prezzo_visura", []string{`null`}, func(t *testing.T, r *Richiesta) { assert.Zero(t, r.PrezzoVisura) }},
		{"indice_ricerca", []string{`false`, `null`, `[]`, `{}`, `""`}, func(t *testing.T, r *Richiesta) { assert.Nil(t, r.IndiceRicerca) }},
	}
	for _, tc := range cases {
		for _, v := range tc.values {
			t.Run(tc.key+"="+v, func(t *testing.T) {
				raw := richiestaWith(tc.key, v)
				var r Richiesta
				require.NoError(t, json.Unmarshal([]byte(raw), &r))
				assert.Equal(t, "5f2829ce065afc21cc60ad0e", r.ID)
				assert.Equal(t, StateSubmitted, r.State)
				tc.check(t, &r)
				var s RichiestaSummary
				require.NoError(t, json.Unmarshal([]byte(raw), &s))
				assert.Equal(t, r.ID, s.ID)
				assert.Equal(t, r.EmailTarget, s.EmailTarget)
				assert.Equal(t, r.Owner, s.Owner)
			})
		}
	}

	t.Run("numbers as text", func(t *testing.T) {
		for key, get := range map[string]func(r *Richiesta) string{
			"email_target": func(r *Richiesta) string { return r.EmailTarget },
			"id_ricerca":   func(r *Richiesta) string { return r.IDRicerca },
			"nome":         func(r *Richiesta) string { return r.Nome },
			"owner":        func(r *Richiesta) string { return r.Owner },
			"hash_visura":  func(r *Richiesta) string { return r.HashVisura },
			"callback":     func(r *Richiesta) string { return r.ProviderRoutine },
			"stato_richiesta": func(r *Richiesta) string {
				return string(r.StatoRichiesta)
			},
		} {
			var r Richiesta
			require.NoError(t, json.Unmarshal([]byte(richiestaWith(key, `12.5`)), &r), key)
			assert.Equal(t, "12.5", get(&r), key)
		}
	})

	t.Run("callback_data.data empty", func(t *testing.T) {
		for _, data := range []string{`[]`, `false`, `null`, `""`} {
			var r Richiesta
			require.NoError(t, json.Unmarshal([]byte(richiestaWith("callback_data",
				`{"url":"https://x.it/cb","method":"POST","field":"d","data":`+data+`}`)), &r), data)
			require.NotNil(t, r.CallbackData, data)
			assert.Nil(t, r.CallbackData.Data, data)
			assert.Equal(t, "https://x.it/cb", r.CallbackData.URL)
			assert.Equal(t, "d", r.CallbackData.Field)
		}
		var r Richiesta
		require.NoError(t, json.Unmarshal([]byte(richiestaWith("callback_data", `{"url":1,"method":false,"data":{"k":"v"}}`)), &r))
		assert.Equal(t, &Callback{URL: "1", Data: map[string]any{"k": "v"}}, r.CallbackData)
	})

	t.Run("allegati keeps the strings", func(t *testing.T) {
		var r Richiesta
		require.NoError(t, json.Unmarshal([]byte(richiestaWith("allegati", `["a.pdf",3,null,"b.p7m"]`)), &r))
		assert.Equal(t, []string{"a.pdf", "3", "b.p7m"}, r.Allegati)
	})

	t.Run("esito with odd members", func(t *testing.T) {
		var r Richiesta
		require.NoError(t, json.Unmarshal([]byte(richiestaWith("esito", `{"codice":0,"info":false}`)), &r))
		assert.Equal(t, Esito{Codice: "0"}, r.Esito)
	})

	t.Run("ricerche with PHP shapes inside", func(t *testing.T) {
		var r Richiesta
		require.NoError(t, json.Unmarshal([]byte(richiestaWith("ricerche", `[false,{"id_ricerca":7,"stato_ricerca":false,
			"json_ricerca":{"$0":"RSSMRA85M01H501Q","$1":3},"json_mappato":[],"json_risultato":{"indice_0":{"Denominazione":"ACME"},"indice_1":false}},
			{"id_ricerca":"x_1","json_ricerca":false,"json_mappato":false,"json_risultato":"{\"indice_2\":{\"CodFisc\":\"1\"}}"}]`)), &r))
		require.Len(t, r.Ricerche, 2)
		a, b := r.Ricerche[0], r.Ricerche[1]
		assert.Equal(t, "7", a.IDRicerca)
		assert.Empty(t, a.StatoRicerca)
		assert.Nil(t, a.JSONMappato)
		assert.Equal(t, Values{"$0": "RSSMRA85M01H501Q", "$1": "3"}, a.Valori(), "json_ricerca as an object")
		assert.JSONEq(t, `{"$0":"RSSMRA85M01H501Q","$1":3}`, a.JSONRicerca)
		assert.Equal(t, []int{0}, a.Indici(), "json_risultato as an object; a non-object entry skipped")
		assert.Equal(t, "ACME", a.Risultati()[0].Text("Denominazione"))
		assert.Empty(t, b.JSONRicerca)
		assert.Nil(t, b.Valori())
		assert.Nil(t, b.JSONMappato)
		assert.Equal(t, "1", b.Risultati()[2].Text("CodFisc"), "json_risultato as JSON in a string")
	})

	// The reviewer's answers to a paid POST.
	for _, raw := range []string{
		`{"_id":"5f2829ce065afc21cc60ad0e","state":1,"email_target":false,"callback_data":false}`,
		`{"_id":"5f2829ce065afc21cc60ad0e","state":1,"callback_data":{"url":"https://x.it/cb","method":"POST","field":"d","data":[]}}`,
		`{"_id":"5f2829ce065afc21cc60ad0e","state":1,"allegati":false}`,
	} {
		var r Richiesta
		assert.NoError(t, json.Unmarshal([]byte(raw), &r), raw)
	}
}

// Only what is dangerous to misread stays strict: an id we cannot address, a
// state that is not draft or charged, a malformed price or chosen indice.
func TestDecodeRichiestaStrictWhereItMatters(t *testing.T) {
	good := `{"_id":"5f2829ce065afc21cc60ad0e","state":1}`
	for _, raw := range []string{
		`{"state":1}`, `{"_id":null,"state":1}`, `{"_id":false,"state":1}`, `{"_id":17,"state":1}`,
		`{"_id":"","state":1}`, `{"_id":"../x","state":1}`, `{"_id":{"$oid":"5f28"},"state":1}`,
		`{"_id":"5f2829ce065afc21cc60ad0e"}`, `{"_id":"5f2829ce065afc21cc60ad0e","state":null}`,
		`{"_id":"5f2829ce065afc21cc60ad0e","state":false}`, `{"_id":"5f2829ce065afc21cc60ad0e","state":2}`,
		`{"_id":"5f2829ce065afc21cc60ad0e","state":"x"}`, `{"_id":"5f2829ce065afc21cc60ad0e","state":1.5}`,
		`{"_id":"5f2829ce065afc21cc60ad0e","state":true}`,
		`{"_id":"5f2829ce065afc21cc60ad0e","state":1,"prezzo_visura":"abc"}`,
		`{"_id":"5f2829ce065afc21cc60ad0e","state":1,"indice_ricerca":"x"}`,
		`[]`, `"x"`, `{`,
	} {
		var r Richiesta
		assert.Error(t, json.Unmarshal([]byte(raw), &r), raw)
		var s RichiestaSummary
		assert.Error(t, json.Unmarshal([]byte(raw), &s), raw)
	}
	for _, st := range []string{`0`, `1`, `"0"`, `"1"`} {
		var r Richiesta
		require.NoError(t, json.Unmarshal([]byte(strings.Replace(good, `1}`, st+`}`, 1)), &r), st)
	}
}

func TestStatoPredicates(t *testing.T) {
	for _, tc := range []struct {
		s                      Stato
		ready, terminal, known bool
	}{
		{StatoInRicerca, false, false, true}, {StatoInErogazione, false, false, true},
		{StatoDatiDisponibili, true, false, true}, {StatoVisuraEvasa, true, true, true},
		{StatoAnnullata, false, true, true}, {"Boh", false, false, false},
	} {
		assert.Equal(t, tc.ready, tc.s.DocumentReady(), tc.s)
		assert.Equal(t, tc.terminal, tc.s.Terminal(), tc.s)
		assert.Equal(t, tc.known, tc.s.Known(), tc.s)
	}
}

func TestRichiestaFormatHidesPersonalData(t *testing.T) {
	r := decodeRichiesta(t, "spec/get_richiesta_id_200.json")
	cb, err := NewCallback("https://hooks.example.com/visengine?token=q", CallbackJSON)
	require.NoError(t, err)
	r.CallbackData = cb
	for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
		for _, v := range []any{r, *r, r.Ricerche[0], cb, *cb} {
			s := fmt.Sprintf(verb, v)
			assert.NotContains(t, s, "SCRLCU73R02H501H", verb)
			assert.NotContains(t, s, "a.venanzoni@altravia.com", verb)
			assert.NotContains(t, s, cb.Secret(), verb)
			assert.NotContains(t, s, "token=q", verb)
		}
	}
	assert.Contains(t, fmt.Sprint(r), "5f22f722065afc42223c7131")
}

const richiestaOK = `{"data":{"_id":"5f2829ce065afc21cc60ad0e","state":%d,"hash_visura":"2631ec9b62135de4186f509fea7d954b","stato_richiesta":"In erogazione"},"success":true,"message":"","error":null}`

func TestRequestShapeRichiestaCalls(t *testing.T) {
	c, mock := mockClient(t)
	a2 := decodeVisura(t, "visura_a2.json")
	cb := &Callback{URL: "https://hooks.example.com/v", Method: CallbackPOST, Field: "payload", Data: map[string]any{"k": "v"}}
	base := mockBase + "/richiesta"
	id := "5f2829ce065afc21cc60ad0e"
	cases := []struct {
		name, method, url, body string
		call                    func(ctx context.Context) (*Richiesta, error)
	}{
		{"create draft", "POST", base, `{"hash_visura":"2631ec9b62135de4186f509fea7d954b","state":0,"test":false,
			"json_visura":{"$0":"Ada"},"email_target":"caf@example.com","opzioni":{"opzione_0":true,"opzione_1":true},
			"callback_data":{"url":"https://hooks.example.com/v","method":"POST","field":"payload","data":{"k":"v"}}}`,
			func(ctx context.Context) (*Richiesta, error) {
				return c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: a2.HashVisura, JSONVisura: Values{"$0": "Ada"},
					EmailTarget: "caf@example.com", Opzioni: []string{"urgenza", "opzione_1"}, Visura: a2, CallbackData: cb})
			}},
		{"dry run", "POST", base, `{"hash_visura":"2631ec9b62135de4186f509fea7d954b","state":1,"test":true,"opzioni":{"opzione_1":true},
			"json_visura":{"$0":"Mario","$1":"Rossi","$2":"mario.rossi@example.it","$3":"3331234567","$4":"RSSMRA80A01H501U",
			"$5":"id.pdf|data:application/pdf;base64,JVBERi0xLjQgaWQ=","$6":"cf.jpg|data:image/jpeg;base64,/9j/"}}`,
			func(ctx context.Context) (*Richiesta, error) {
				res, err := c.DryRun(ctx, a2, validA2Values(t), WithOpzioni("opzione_1"))
				if err != nil {
					return nil, err
				}
				return res.Echo, nil
			}},
		{"update", "PUT", base + "/" + id, `{"state":0,"json_visura.$3":"3331234567","json_visura.$10":"x","email_target":"a@b.it"}`,
			func(ctx context.Context) (*Richiesta, error) {
				return c.UpdateRichiesta(ctx, id, &UpdateParams{Fields: Values{"$3": "3331234567", "$10": "x"}, EmailTarget: "a@b.it"})
			}},
		{"update whole", "PUT", base + "/" + id, `{"state":0,"json_visura":{"$0":"Ada","$1":"Lovelace"}}`,
			func(ctx context.Context) (*Richiesta, error) {
				return c.UpdateRichiesta(ctx, id, &UpdateParams{JSONVisura: Values{"$0": "Ada", "$1": "Lovelace"}})
			}},
		{"close", "PUT", base + "/" + id, `{"state":1}`,
			func(ctx context.Context) (*Richiesta, error) { return c.CloseRichiesta(ctx, id) }},
		{"update and close, as the spec's example", "PUT", base + "/" + id, `{"json_visura.$0":"altravia","state":1}`,
			func(ctx context.Context) (*Richiesta, error) {
				return c.UpdateAndCloseRichiesta(ctx, id, &UpdateParams{Fields: Values{"$0": "altravia"}})
			}},
		{"update and close, as the PHP SDK", "PUT", base + "/" + id, `{"state":1,"json_visura":{"$0":"1378273","$1":"RM"},"email_target":"a@b.it"}`,
			func(ctx context.Context) (*Richiesta, error) {
				return c.UpdateAndCloseRichiesta(ctx, id, &UpdateParams{JSONVisura: Values{"$0": "1378273", "$1": "RM"}, EmailTarget: "a@b.it"})
			}},
		{"clear email_target", "PUT", base + "/" + id, `{"state":0,"email_target":""}`,
			func(ctx context.Context) (*Richiesta, error) {
				return c.UpdateRichiesta(ctx, id, &UpdateParams{ClearEmailTarget: true})
			}},
		{"add ricerca", "POST", base + "/" + id, `{"json_visura":{"$0":"","$1":"12345678910"}}`,
			func(ctx context.Context) (*Richiesta, error) {
				return c.AddRicerca(ctx, id, Values{"$0": "", "$1": "12345678910"})
			}},
		{"choose", "PUT", base + "/" + id + "/ricerche", `{"id_ricerca":"5f2829ce065afc21cc60ad0e_0","indice":1}`,
			func(ctx context.Context) (*Richiesta, error) { return c.ChooseRisultato(ctx, id, id+"_0", 1) }},
		{"get", "GET", base + "/" + id, ``,
			func(ctx context.Context) (*Richiesta, error) { return c.GetRichiesta(ctx, id) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mock.Reset()
			mock.RegisterResponder(tc.method, tc.url, func(r *http.Request) (*http.Response, error) {
				assertCommonHeaders(t, r)
				var b []byte
				if r.Body != nil {
					b, _ = io.ReadAll(r.Body)
				}
				if tc.body == "" {
					assert.Empty(t, b)
				} else {
					assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
					assert.JSONEq(t, tc.body, string(b))
				}
				return httpmock.NewStringResponse(200, fmt.Sprintf(richiestaOK, 1)), nil
			})
			r, err := tc.call(context.Background())
			require.NoError(t, err)
			assert.Equal(t, id, r.ID)
			assert.Equal(t, 1, mock.GetTotalCallCount())
		})
	}
}

func TestIndiceIsAnIntegerOnTheWire(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("PUT", `=~/ricerche$`, func(r *http.Request) (*http.Response, error) {
		var body map[string]json.RawMessage
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		assert.Equal(t, "0", string(body["indice"]), "indice must be a JSON number, not a string")
		return httpmock.NewStringResponse(200, fmt.Sprintf(richiestaOK, 1)), nil
	})
	_, err := c.ChooseRisultato(context.Background(), "abc", "abc_0", 0)
	require.NoError(t, err)
}

func TestListRichiesteEmptyAccount(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/richiesta",
		httpmock.NewBytesResponder(404, readTestdata(t, "spec/get_richiesta_404.json")))
	list, err := c.ListRichieste(context.Background())
	require.NoError(t, err)
	assert.NotNil(t, list)
	assert.Empty(t, list)

	mock.RegisterResponder("GET", mockBase+"/richiesta",
		httpmock.NewStringResponder(404, `{"data":null,"success":false,"message":"other","error":999}`))
	_, err = c.ListRichieste(context.Background())
	assert.ErrorIs(t, err, ErrNotFound, "only error 203 means an empty account")
}

func TestBadArgumentsSendNothing(t *testing.T) {
	c, mock := mockClient(t)
	ctx := context.Background()
	a2 := decodeVisura(t, "visura_a2.json")
	calls := map[string]func() error{
		"get empty":     func() error { _, err := c.GetRichiesta(ctx, ""); return err },
		"get slash":     func() error { _, err := c.GetRichiesta(ctx, "a/b"); return err },
		"get space":     func() error { _, err := c.GetRichiesta(ctx, "a b"); return err },
		"get dots":      func() error { _, err := c.GetRichiesta(ctx, ".."); return err },
		"close newline": func() error { _, err := c.CloseRichiesta(ctx, "abc\n"); return err },
		"update nil":    func() error { _, err := c.UpdateRichiesta(ctx, "abc", nil); return err },
		"update bad key": func() error {
			_, err := c.UpdateRichiesta(ctx, "abc", &UpdateParams{Fields: Values{"x": "1"}})
			return err
		},
		"update set and clear email": func() error {
			_, err := c.UpdateRichiesta(ctx, "abc", &UpdateParams{EmailTarget: "a@b.it", ClearEmailTarget: true})
			return err
		},
		"update and close nil": func() error { _, err := c.UpdateAndCloseRichiesta(ctx, "abc", nil); return err },
		"update and close bad id": func() error {
			_, err := c.UpdateAndCloseRichiesta(ctx, "a/b", &UpdateParams{})
			return err
		},
		"update and close bad key": func() error {
			_, err := c.UpdateAndCloseRichiesta(ctx, "abc", &UpdateParams{Fields: Values{"0": "1"}})
			return err
		},
		"update and close set and clear email": func() error {
			_, err := c.UpdateAndCloseRichiesta(ctx, "abc", &UpdateParams{EmailTarget: "a@b.it", ClearEmailTarget: true})
			return err
		},
		"add empty":     func() error { _, err := c.AddRicerca(ctx, "abc", nil); return err },
		"choose neg":    func() error { _, err := c.ChooseRisultato(ctx, "abc", "abc_0", -1); return err },
		"choose bad id": func() error { _, err := c.ChooseRisultato(ctx, "abc", "abc/0", 1); return err },
		"create nil":    func() error { _, err := c.CreateRichiesta(ctx, nil); return err },
		"create hash":   func() error { _, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: "a/b"}); return err },
		"create state": func() error {
			_, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: "abc", State: 2})
			return err
		},
		"option by tipo without visura": func() error {
			_, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: "abc", Opzioni: []string{"urgenza"}})
			return err
		},
		"unknown option": func() error {
			_, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: a2.HashVisura, Visura: a2, Opzioni: []string{"express"}})
			return err
		},
		"http callback": func() error {
			_, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: "abc", CallbackData: &Callback{URL: "http://example.com", Method: CallbackJSON}})
			return err
		},
		"submit nil visura": func() error { _, err := c.Submit(ctx, nil, Values{}); return err },
		"wait bad id":       func() error { _, err := c.Wait(ctx, "a b"); return err },
		"reconcile hash":    func() error { _, err := c.Reconcile(ctx, "", nil, time.Now()); return err },
	}
	for name, call := range calls {
		assert.ErrorIs(t, call(), ErrInvalidArgument, name)
	}
	assert.Zero(t, mock.GetTotalCallCount())
}

func TestNewCallback(t *testing.T) {
	cb, err := NewCallback("https://hooks.example.com/v", CallbackPOST)
	require.NoError(t, err)
	assert.Len(t, cb.Secret(), 64, "256 bits in hex")
	assert.Equal(t, "data", cb.Field)
	other, err := NewCallback("http://127.0.0.1:9/cb", CallbackJSON)
	require.NoError(t, err)
	assert.NotEqual(t, cb.Secret(), other.Secret())
	for _, bad := range [][2]string{{"http://example.com/cb", CallbackJSON}, {"hooks.example.com", CallbackJSON},
		{"https://hooks.example.com", "PUT"}, {"::", CallbackJSON}} {
		_, err := NewCallback(bad[0], bad[1])
		assert.ErrorIs(t, err, ErrInvalidArgument, bad)
	}
	b, err := json.Marshal(cb)
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(b), cb.Secret()), "the secret does travel in callback_data")
}

// Nothing personal or secret may reach a log through fmt, whatever the verb.
func TestParamsAndSummaryFormatHidePersonalData(t *testing.T) {
	cb, err := NewCallback("https://hooks.example.com/visengine?token=CANARYQUERY", CallbackJSON)
	require.NoError(t, err)
	canaries := []string{"CANARY-NOME", "canary.target@example.com", "RSSMRA85M01H501Q", "canary.owner@example.com",
		cb.Secret(), "CANARYQUERY"}
	vals := Values{"$0": "CANARY-NOME", "RSSMRA85M01H501Q": "$4"}
	params := RichiestaParams{HashVisura: "2631ec9b62135de4186f509fea7d954b", JSONVisura: vals, State: StateSubmitted,
		CallbackData: cb, EmailTarget: "canary.target@example.com", Opzioni: []string{"urgenza"}}
	update := UpdateParams{JSONVisura: vals, Fields: Values{"$4": "RSSMRA85M01H501Q"}, EmailTarget: "canary.target@example.com"}
	var summary RichiestaSummary
	require.NoError(t, json.Unmarshal([]byte(`{"_id":"5f2829ce065afc21cc60ad0e","state":1,"hash_visura":"2631ec9b62135de4186f509fea7d954b",
		"stato_richiesta":"In erogazione","email_target":"canary.target@example.com","owner":"canary.owner@example.com"}`), &summary))
	require.Equal(t, "canary.owner@example.com", summary.Owner)
	list := []RichiestaSummary{summary}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
		for _, v := range []any{params, &params, update, &update, summary, &summary, list} {
			s := fmt.Sprintf(verb, v)
			for _, c := range canaries {
				assert.NotContains(t, s, c, "%s of %T", verb, v)
			}
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", summary), "5f2829ce065afc21cc60ad0e")
	assert.Contains(t, fmt.Sprintf("%v", &params), "2631ec9b62135de4186f509fea7d954b")
	assert.Contains(t, fmt.Sprintf("%v", update), "JSONVisura:2 values")
}

// The typed request bodies send the very bytes the maps they replaced did
// (recorded before the change), key order included.
func TestRequestBodiesByteForByte(t *testing.T) {
	c, mock := mockClient(t)
	a2 := decodeVisura(t, "visura_a2.json")
	cb := &Callback{URL: "https://hooks.example.com/v", Method: CallbackPOST, Field: "payload", Data: map[string]any{"k": "v"}}
	var got []string
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+strings.TrimPrefix(r.URL.Path, apiPrefix)+" "+string(b))
		state := 0
		if strings.Contains(string(b), `"state":1`) {
			state = 1 // a closing PUT's answer must show it closed
		}
		return httpmock.NewStringResponse(200, fmt.Sprintf(richiestaOK, state)), nil
	})
	ctx := context.Background()
	id := "5f2829ce065afc21cc60ad0e"
	calls := []func() error{
		func() error {
			_, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: a2.HashVisura, JSONVisura: Values{"$0": "Ada"},
				EmailTarget: "caf@example.com", Opzioni: []string{"urgenza", "opzione_1"}, Visura: a2, CallbackData: cb})
			return err
		},
		func() error {
			_, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: a2.HashVisura, JSONVisura: Values{}})
			return err
		},
		func() error {
			_, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: a2.HashVisura})
			return err
		},
		func() error {
			_, err := c.UpdateRichiesta(ctx, id, &UpdateParams{Fields: Values{"$3": "3331234567", "$10": "x"}, EmailTarget: "a@b.it"})
			return err
		},
		func() error { _, err := c.CloseRichiesta(ctx, id); return err },
		func() error {
			_, err := c.UpdateAndCloseRichiesta(ctx, id, &UpdateParams{Fields: Values{"$0": "altravia"}})
			return err
		},
		func() error {
			_, err := c.UpdateRichiesta(ctx, id, &UpdateParams{ClearEmailTarget: true})
			return err
		},
		func() error { _, err := c.AddRicerca(ctx, id, Values{"$0": "", "$1": "12345678910"}); return err },
		func() error { _, err := c.ChooseRisultato(ctx, id, id+"_0", 1); return err },
		func() error { _, err := c.DryRun(ctx, a2, validA2Values(t)); return err },
	}
	for _, call := range calls {
		require.NoError(t, call())
	}
	assert.Equal(t, []string{
		`POST /richiesta {"callback_data":{"url":"https://hooks.example.com/v","method":"POST","field":"payload","data":{"k":"v"}},"email_target":"caf@example.com","hash_visura":"2631ec9b62135de4186f509fea7d954b","json_visura":{"$0":"Ada"},"opzioni":{"opzione_0":true,"opzione_1":true},"state":0,"test":false}`,
		`POST /richiesta {"hash_visura":"2631ec9b62135de4186f509fea7d954b","json_visura":{},"state":0,"test":false}`,
		`POST /richiesta {"hash_visura":"2631ec9b62135de4186f509fea7d954b","state":0,"test":false}`,
		`PUT /richiesta/5f2829ce065afc21cc60ad0e {"email_target":"a@b.it","json_visura.$10":"x","json_visura.$3":"3331234567","state":0}`,
		`PUT /richiesta/5f2829ce065afc21cc60ad0e {"state":1}`,
		`PUT /richiesta/5f2829ce065afc21cc60ad0e {"json_visura.$0":"altravia","state":1}`,
		`PUT /richiesta/5f2829ce065afc21cc60ad0e {"email_target":"","state":0}`,
		`POST /richiesta/5f2829ce065afc21cc60ad0e {"json_visura":{"$0":"","$1":"12345678910"}}`,
		`PUT /richiesta/5f2829ce065afc21cc60ad0e/ricerche {"id_ricerca":"5f2829ce065afc21cc60ad0e_0","indice":1}`,
		`POST /richiesta {"hash_visura":"2631ec9b62135de4186f509fea7d954b","json_visura":{"$0":"Mario","$1":"Rossi","$2":"mario.rossi@example.it","$3":"3331234567","$4":"RSSMRA80A01H501U","$5":"id.pdf|data:application/pdf;base64,JVBERi0xLjQgaWQ=","$6":"cf.jpg|data:image/jpeg;base64,/9j/"},"state":1,"test":true}`,
	}, got)
}

func TestRichiestaTotal(t *testing.T) {
	var priced Richiesta
	require.NoError(t, json.Unmarshal([]byte(richiestaWith("opzioni",
		`[{"tipo":"urgenza","prezzo":4,"nome":"opzione_0"},{"tipo":"pec","prezzo":"0.38","nome":"opzione_1"}],"prezzo_visura":20,"prezzo_ricerca":5`)), &priced))
	total, err := priced.Total()
	require.NoError(t, err)
	assert.Equal(t, Cents(2438), total, "document and options; the search's price is not part of it")

	var plain Richiesta
	require.NoError(t, json.Unmarshal([]byte(richiestaWith("prezzo_visura", `4.78`)), &plain))
	total, err = plain.Total()
	require.NoError(t, err)
	assert.Equal(t, Cents(478), total)

	var named Richiesta
	require.NoError(t, json.Unmarshal([]byte(richiestaWith("opzioni", `{"opzione_0":true},"prezzo_visura":20`)), &named))
	_, err = named.Total()
	assert.ErrorIs(t, err, ErrUnexpectedResponse, "options named without prices: the total is not guessed")

	built := Richiesta{PrezzoVisura: Cents(2000), Opzioni: []Opzione{{Nome: "opzione_0", Prezzo: Cents(400)}}}
	total, err = built.Total()
	require.NoError(t, err)
	assert.Equal(t, Cents(2400), total)

	huge := Richiesta{PrezzoVisura: Micros(MaxPriceMicros), Opzioni: []Opzione{{Prezzo: Micros(1)}}}
	_, err = huge.Total()
	assert.ErrorIs(t, err, ErrBadPrice)
}

// Both closing calls are paid: an answer that may hide a close (a 5xx, a
// dropped connection, a success that does not show the richiesta closed)
// is an *OutcomeUnknownError, and the PUT is sent once.
func TestClosingCallsOutcomeUnknown(t *testing.T) {
	const id = "5f2829ce065afc21cc60ad0e"
	closes := map[string]func(c *Client) (*Richiesta, error){
		"CloseRichiesta": func(c *Client) (*Richiesta, error) { return c.CloseRichiesta(context.Background(), id) },
		"UpdateAndCloseRichiesta": func(c *Client) (*Richiesta, error) {
			return c.UpdateAndCloseRichiesta(context.Background(), id, &UpdateParams{Fields: Values{"$0": "altravia"}})
		},
	}
	answers := map[string]func(w http.ResponseWriter){
		"success showing a draft": func(w http.ResponseWriter) { writeJSON(w, 200, fmt.Sprintf(richiestaOK, 0)) },
		"success without state": func(w http.ResponseWriter) {
			writeJSON(w, 200, `{"data":{"_id":"`+id+`"},"success":true,"message":"","error":null}`)
		},
		"502": func(w http.ResponseWriter) {
			writeJSON(w, 502, `{"data":null,"success":false,"message":"bad gateway","error":0}`)
		},
		"dropped": func(w http.ResponseWriter) { panic(http.ErrAbortHandler) },
	}
	for call, do := range closes {
		for answer, write := range answers {
			t.Run(call+"/"+answer, func(t *testing.T) {
				srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
					assert.Equal(t, "PUT /richiesta/"+id, r.Method+" "+r.URL.Path)
					write(w)
				})
				r, err := do(newTestClient(t, srv.URL))
				assert.Nil(t, r)
				require.ErrorIs(t, err, ErrOutcomeUnknown)
				var unknown *OutcomeUnknownError
				require.ErrorAs(t, err, &unknown)
				assert.Equal(t, "PUT", unknown.Method)
				assert.Equal(t, "/richiesta/"+id, unknown.Path)
				assert.EqualValues(t, 1, srv.hits.Load(), "a paid call is never resent")
				if answer == "success showing a draft" {
					assert.Contains(t, err.Error(), "HTTP 200: decoding data: the answer shows the richiesta as draft (state 0), not closed")
					assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), err.Error())
				}
			})
		}
	}
	t.Run("a closed answer is the richiesta", func(t *testing.T) {
		srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, fmt.Sprintf(richiestaOK, 1)) })
		for name, do := range closes {
			r, err := do(newTestClient(t, srv.URL))
			require.NoError(t, err, name)
			assert.Equal(t, StateSubmitted, r.State, name)
			assert.Equal(t, id, r.ID, name)
		}
	})
	t.Run("an edit that leaves a draft is fine", func(t *testing.T) {
		srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, fmt.Sprintf(richiestaOK, 0)) })
		r, err := newTestClient(t, srv.URL).UpdateRichiesta(context.Background(), id, &UpdateParams{Fields: Values{"$0": "x"}})
		require.NoError(t, err)
		assert.Equal(t, StateDraft, r.State)
	})
}

// Issue 13, items 4 and 5: a success's message and an error's message
// reach the caller exactly as sent, trailing blanks included (the spec's
// 412 messages end in ": "); only Error() trims.
func TestMessagesKeptAsSent(t *testing.T) {
	c, mock := mockClient(t)
	ctx := context.Background()
	a2 := decodeVisura(t, "visura_a2.json")
	for _, tc := range []struct {
		file, method, url string
		call              func() error
	}{
		{"spec/post_richiesta_412.json", "POST", mockBase + "/richiesta", func() error {
			_, err := c.CreateRichiesta(ctx, &RichiestaParams{HashVisura: a2.HashVisura})
			return err
		}},
		{"spec/put_richiesta_id_412.json", "PUT", mockBase + "/richiesta/abc", func() error {
			_, err := c.UpdateRichiesta(ctx, "abc", &UpdateParams{})
			return err
		}},
		{"spec/post_richiesta_id_412.json", "POST", mockBase + "/richiesta/abc", func() error {
			_, err := c.AddRicerca(ctx, "abc", Values{"$0": " "})
			return err
		}},
	} {
		mock.Reset()
		mock.RegisterResponder(tc.method, tc.url, httpmock.NewBytesResponder(412, readTestdata(t, tc.file)))
		var env struct{ Message string }
		require.NoError(t, json.Unmarshal(readTestdata(t, tc.file), &env))
		require.True(t, strings.HasSuffix(env.Message, ": "), tc.file)
		var apiErr *APIError
		require.ErrorAs(t, tc.call(), &apiErr, tc.file)
		assert.Equal(t, env.Message, apiErr.Message, tc.file)
		assert.True(t, strings.HasSuffix(apiErr.Error(), ":"), "Error() trims: %q", apiErr.Error())
	}

	mock.Reset()
	mock.RegisterResponder("POST", mockBase+"/richiesta", httpmock.NewStringResponder(200,
		`{"data":{"_id":"5f2829ce065afc21cc60ad0e","state":1},"success":true,"message":"Test Request, deleting  ","error":null}`))
	res, err := c.DryRun(ctx, a2, validA2Values(t))
	require.NoError(t, err)
	assert.Equal(t, "Test Request, deleting  ", res.Message)
}

// The spec's PUT /richiesta/{id} request and answers, through
// UpdateAndCloseRichiesta, and the spec's POST /richiesta/{id} refusals
// through AddRicerca: each answer is an error of its kind, never an
// unknown outcome, and the success decodes as closed.
func TestSpecAnswersToUpdateAndCloseAndAddRicerca(t *testing.T) {
	c, mock := mockClient(t)
	ctx := context.Background()
	const id = "5f283eae065afc21cf466ea4"
	var spec map[string]any
	require.NoError(t, json.Unmarshal(readTestdata(t, "spec/put_richiesta_id_request.json"), &spec))
	require.Equal(t, map[string]any{"json_visura.$0": "altravia", "state": 1.0}, spec)
	update := func() (*Richiesta, error) {
		return c.UpdateAndCloseRichiesta(ctx, id, &UpdateParams{Fields: Values{"$0": "altravia"}})
	}
	add := func() (*Richiesta, error) {
		return c.AddRicerca(ctx, id, Values{"$1": "12345678910", "$0": ""})
	}
	for _, tc := range []struct {
		file string
		call func() (*Richiesta, error)
		want []error
		code Code
	}{
		{"put_richiesta_id_400.json", update, []error{ErrAlreadyClosed, ErrConflict}, CodeAlreadyClosed},
		{"put_richiesta_id_404.json", update, []error{ErrNotFound}, CodeRichiestaNotFoundPut},
		{"put_richiesta_id_412.json", update, []error{ErrInvalidRequest}, CodeInvalidInput},
		{"put_richiesta_id_428.json", update, []error{ErrInvalidRequest}, CodeIDRequired},
		{"post_richiesta_id_402.json", add, []error{ErrInsufficientCredit}, CodeInsufficientCreditRicerca},
		{"post_richiesta_id_404.json", add, []error{ErrNotFinalized, ErrConflict}, CodeNotFinalized},
	} {
		status, _ := strconv.Atoi(tc.file[len(tc.file)-8 : len(tc.file)-5])
		mock.Reset()
		mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			b, _ := io.ReadAll(r.Body)
			if strings.HasPrefix(tc.file, "put") {
				assert.JSONEq(t, `{"json_visura.$0":"altravia","state":1}`, string(b), "the spec's own request")
			}
			return httpmock.NewBytesResponse(status, readTestdata(t, "spec/"+tc.file)), nil
		})
		r, err := tc.call()
		assert.Nil(t, r, tc.file)
		for _, want := range tc.want {
			assert.ErrorIs(t, err, want, tc.file)
		}
		assert.NotErrorIs(t, err, ErrOutcomeUnknown, tc.file)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr, tc.file)
		assert.Equal(t, tc.code, apiErr.Code, tc.file)
		assert.Equal(t, 1, mock.GetTotalCallCount(), tc.file)
	}

	mock.Reset()
	mock.RegisterResponder("PUT", mockBase+"/richiesta/"+id, httpmock.NewBytesResponder(200, readTestdata(t, "spec/put_richiesta_id_200.json")))
	r, err := update()
	require.NoError(t, err)
	assert.Equal(t, StateSubmitted, r.State)
	assert.Equal(t, StatoInErogazione, r.StatoRichiesta)
	assert.Equal(t, Values{"$1": "BS", "$0": "572372"}, r.Ricerche[0].Valori())
}

// A paid create (State StateSubmitted) answered "success" with a draft, or
// without a state, does not prove the charge: as for a close, the outcome
// is unknown, never a success that hides an open draft. A draft create is
// free and takes the answer as it is.
func TestCreateSubmittedAnsweredAsDraftIsUnknown(t *testing.T) {
	for _, answer := range []string{`"state":0`, `"state":"0"`} {
		c, mock := mockClient(t)
		mock.RegisterResponder(http.MethodPost, mockBase+"/richiesta", httpmock.NewStringResponder(200,
			`{"data":{"_id":"5f2829ce065afc21cc60ad0e",`+answer+`,"hash_visura":"2631ec9b62135de4186f509fea7d954b"},"success":true,"message":"","error":null}`))
		p := &RichiestaParams{HashVisura: "2631ec9b62135de4186f509fea7d954b", JSONVisura: Values{"$0": "x"}, State: StateSubmitted}
		_, err := c.CreateRichiesta(context.Background(), p)
		require.ErrorIs(t, err, ErrOutcomeUnknown, answer)
		assert.Equal(t, 1, mock.GetTotalCallCount(), "never resent")

		p.State = StateDraft
		r, err := c.CreateRichiesta(context.Background(), p)
		require.NoError(t, err)
		assert.Equal(t, StateDraft, r.State)
	}
}
