package visenginetest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

func TestBadToken(t *testing.T) {
	srv := newServer(t)
	for _, tok := range []string{"", "wrong", strings.ToUpper(srv.Token)} {
		a := callWithToken(t, srv, tok, "GET", "/visure", nil)
		assert.Equal(t, 401, a.Status)
		assert.Equal(t, false, a.Env["success"])
		assert.Nil(t, a.Env["data"])
		assert.Equal(t, 401, a.code())
	}
	other := NewServer()
	defer other.Close()
	assert.NotEqual(t, srv.Token, other.Token, "tokens are random per server")

	c, err := visengine.NewClient("not-the-token", visengine.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.ListVisure(context.Background())
	assert.ErrorIs(t, err, visengine.ErrUnauthorized)
}

func TestClientCatalogue(t *testing.T) {
	srv := newServer(t)
	c := srv.Client()
	list, err := c.ListVisure(context.Background())
	require.NoError(t, err)
	assert.Len(t, list, 92)
	v, err := c.GetVisura(context.Background(), hashA2)
	require.NoError(t, err)
	assert.Equal(t, visengine.Cents(2000), v.PrezzoVisura)
	assert.Len(t, v.JSONStruttura.Campi, 8)
	v, err = c.GetVisura(context.Background(), hashRicerca)
	require.NoError(t, err)
	assert.True(t, bool(v.HasRicerca))
	assert.Equal(t, visengine.Cents(38), v.PrezzoRicerca)
	assert.Equal(t, "$0 || $1", v.JSONStruttura.Validazione)
	_, err = c.GetVisura(context.Background(), "0123456789abcdef0123456789abcdef")
	assert.ErrorIs(t, err, visengine.ErrInvalidRequest)
}

func TestDraftEditCloseAdvanceDocument(t *testing.T) {
	srv := newServer(t)
	id := create(t, srv, map[string]any{"hash_visura": hashA2, "state": 0,
		"json_visura": map[string]string{"$0": "Mario"}, "opzioni": map[string]bool{"opzione_0": true}})
	n, _ := srv.Charges()
	assert.Zero(t, n, "a draft costs nothing")

	values := a2Values()
	values["$0"] = "Luigi"
	a := call(t, srv, "PUT", "/richiesta/"+id, map[string]any{"json_visura": values, "email_target": "caf@example.com"})
	require.Equal(t, 200, a.Status, "%s", a.Raw)
	assert.Equal(t, 0.0, a.data(t)["state"])
	a = call(t, srv, "PUT", "/richiesta/"+id, map[string]any{"json_visura.$0": "Mario", "state": 1})
	require.Equal(t, 200, a.Status, "%s", a.Raw)
	d := a.data(t)
	assert.Equal(t, []any{1.0, "In erogazione", "caf@example.com"}, []any{d["state"], d["stato_richiesta"], d["email_target"]})
	assert.Equal(t, "Mario", d["ricerche"].([]any)[0].(map[string]any)["json_mappato"].(map[string]any)["Nome"])
	assert.Equal(t, []any{map[string]any{"tipo": "urgenza", "prezzo": 4.0, "nome": "opzione_0"}}, d["opzioni"])

	n, total := srv.Charges()
	assert.Equal(t, 1, n)
	assert.Equal(t, visengine.Cents(2400), total, "€20 and the €4 urgenza")
	assert.Equal(t, visengine.Cents(1000_00-2400), srv.Balance())

	stato, err := srv.Advance(id)
	require.NoError(t, err)
	assert.Equal(t, visengine.StatoDatiDisponibili, stato)
	checkDocument(t, srv, id)
	stato, err = srv.Advance(id)
	require.NoError(t, err)
	assert.Equal(t, visengine.StatoVisuraEvasa, stato)
	_, err = srv.Advance(id)
	assert.ErrorIs(t, err, ErrCannotAdvance)
	d = call(t, srv, "GET", "/richiesta/"+id, nil).data(t)
	assert.Len(t, d["timestamp_stati"], 4)
	checkDocument(t, srv, id)
}

// checkDocument downloads the document and opens the zip and the PDF.
func checkDocument(t *testing.T, srv *Server, id string) {
	t.Helper()
	a := call(t, srv, "GET", "/documento/"+id, nil)
	require.Equal(t, 200, a.Status, "%s", a.Raw)
	assert.Contains(t, string(a.Raw), `\/`, "slashes escaped as PHP does")
	d := a.data(t)
	z, err := base64.StdEncoding.DecodeString(d["file"].(string))
	require.NoError(t, err)
	assert.Equal(t, id+".zip", d["nome"])
	assert.Equal(t, float64(len(z)), d["dimensione"])
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	assert.Equal(t, id+".pdf", zr.File[0].Name)
	f, err := zr.File[0].Open()
	require.NoError(t, err)
	pdf, err := io.ReadAll(f)
	require.NoError(t, err)
	checkPDF(t, pdf, id)
}

// checkPDF checks the header, trailer, text, and that every xref offset
// points at its object.
func checkPDF(t *testing.T, pdf []byte, id string) {
	t.Helper()
	s := string(pdf)
	assert.True(t, strings.HasPrefix(s, "%PDF-1.4"))
	assert.True(t, strings.HasSuffix(strings.TrimSpace(s), "%%EOF"))
	assert.Contains(t, s, "Richiesta: "+id)
	xref := strings.Index(s, "xref\n")
	start := strings.LastIndex(s, "startxref\n")
	require.Positive(t, xref)
	assert.Equal(t, s[start+len("startxref\n"):strings.LastIndex(s, "\n%%EOF")], itoa(xref))
	lines := strings.Split(s[xref:], "\n")
	for i := 1; i <= 5; i++ {
		off := atoi(t, lines[2+i][:10])
		assert.Truef(t, strings.HasPrefix(s[off:], itoa(i)+" 0 obj"), "object %d at %d", i, off)
		assert.Len(t, lines[2+i]+"\n", 20)
	}
}

func TestSearchFlow(t *testing.T) {
	srv := newServer(t)
	id := searchRichiesta(t, srv)
	d := call(t, srv, "GET", "/richiesta/"+id, nil).data(t)
	assert.Equal(t, "In ricerca", d["stato_richiesta"])
	var results map[string]map[string]any
	last := d["ricerche"].([]any)[0].(map[string]any)
	require.NoError(t, json.Unmarshal([]byte(last["json_risultato"].(string)), &results))
	require.Len(t, results, 2)
	for _, k := range []string{"Cciaa", "NRea", "Denominazione", "CodFisc", "PIva"} {
		assert.Contains(t, results["indice_1"], k)
	}
	_, err := srv.Advance(id)
	assert.ErrorIs(t, err, ErrCannotAdvance, "waits for a choice")

	a := call(t, srv, "POST", "/richiesta/"+id, map[string]any{"json_visura": map[string]string{"$1": "12485671007"}})
	require.Equal(t, 200, a.Status, "%s", a.Raw)
	second := a.data(t)["ricerche"].([]any)[1].(map[string]any)
	assert.Equal(t, []any{id + "_1", "Ricerca evasa"}, []any{second["id_ricerca"], second["stato_ricerca"]})
	assert.Contains(t, second["json_risultato"], "12485671007")

	a = call(t, srv, "PUT", "/richiesta/"+id+"/ricerche", map[string]any{"id_ricerca": id + "_1", "indice": "0"})
	require.Equal(t, 200, a.Status, "%s", a.Raw)
	d = a.data(t)
	assert.Equal(t, []any{id + "_1", 0.0, "In erogazione"}, []any{d["id_ricerca"], d["indice_ricerca"], d["stato_richiesta"]})
	assert.Equal(t, []Charge{{id, "visura", visengine.Cents(478), time.Time{}}, {id, "ricerca", visengine.Cents(38), time.Time{}}, {id, "ricerca", visengine.Cents(38), time.Time{}}},
		withoutTimes(srv.ChargeLog()), "the document, the added search, the chosen result")
	require.NoError(t, srv.Complete(id))
	checkDocument(t, srv, id)
}

func withoutTimes(cs []Charge) []Charge {
	for i := range cs {
		cs[i].Time = time.Time{}
	}
	return cs
}

func TestCancel(t *testing.T) {
	srv := newServer(t)
	id := create(t, srv, specBody(t, "post_richiesta_request.json"))
	require.NoError(t, srv.Cancel(id))
	d := call(t, srv, "GET", "/richiesta/"+id, nil).data(t)
	assert.Equal(t, "Annullata", d["stato_richiesta"])
	assert.Contains(t, d["timestamp_stati"], "annullata")
	assert.ErrorIs(t, srv.Cancel(id), ErrCannotAdvance)
	_, err := srv.Advance(id)
	assert.ErrorIs(t, err, ErrCannotAdvance)
	assert.Equal(t, 422, call(t, srv, "GET", "/documento/"+id, nil).Status)
	assert.ErrorIs(t, srv.Cancel("000000000000000000000000"), ErrUnknownRichiesta)

	draft := create(t, srv, map[string]any{"hash_visura": hashOrdinaria, "state": 0})
	require.NoError(t, srv.Cancel(draft))
	assert.Equal(t, 400, call(t, srv, "PUT", "/richiesta/"+draft, map[string]any{"state": 1}).Status, "a cancelled draft is closed")
}

func TestTestRequestChargesNothing(t *testing.T) {
	srv := newServer(t)
	body := specBody(t, "post_richiesta_request.json")
	body["test"] = true
	a := call(t, srv, "POST", "/richiesta", body)
	require.Equal(t, 200, a.Status)
	assert.Equal(t, "Test Request, deleting", a.message())
	assert.Equal(t, 4.9, a.data(t)["prezzo_visura"])
	n, _ := srv.Charges()
	assert.Zero(t, n)
	assert.Equal(t, 404, call(t, srv, "GET", "/richiesta", nil).Status, "nothing stored")
	assert.Equal(t, 404, call(t, srv, "GET", "/richiesta/"+a.data(t)["_id"].(string), nil).Status)

	body["json_visura"] = map[string]string{"$0": "1"}
	assert.Equal(t, 412, call(t, srv, "POST", "/richiesta", body).Status, "test requests are validated")
}

func TestUnparsableRuleAccepts(t *testing.T) {
	svc, err := loadService(visengine.VisuraSummary{HashVisura: "unparsable", NomeVisura: "x"})
	require.NoError(t, err)
	svc.v.JSONStruttura.Validazione = "$0 &&& ("
	svc.rule, err = visengine.ParseRule(svc.v.JSONStruttura.Validazione)
	require.Error(t, err)
	srv := NewUnstartedServer()
	srv.cat = &catalogue{list: []byte("[]"), byHash: map[string]*service{"unparsable": svc}}
	srv.Start()
	defer srv.Close()
	create(t, srv, map[string]any{"hash_visura": "unparsable"})
}

func TestEmptyFieldsAndUnknownOptions(t *testing.T) {
	srv := newServer(t)
	blank := map[string]any{"hash_visura": hashCariche, "json_visura": map[string]any{"$0": "  "}}
	assert.Equal(t, 412, call(t, srv, "POST", "/richiesta", blank).Status, "blank is missing")
	badOpt := map[string]any{"hash_visura": hashCariche, "json_visura": map[string]any{"$0": "RSSMRA85M01H501Q"}, "opzioni": map[string]bool{"opzione_9": true}}
	assert.Equal(t, 412, call(t, srv, "POST", "/richiesta", badOpt).Status)
	badVal := map[string]any{"hash_visura": hashCariche, "json_visura": map[string]any{"$0": map[string]int{"x": 1}}}
	assert.Equal(t, 412, call(t, srv, "POST", "/richiesta", badVal).Status)
	num := map[string]any{"hash_visura": hashCariche, "json_visura": map[string]any{"$0": 12345}, "state": "1"}
	assert.Equal(t, 200, call(t, srv, "POST", "/richiesta", num).Status, "numbers are taken as text")
	assert.Equal(t, 400, call(t, srv, "POST", "/richiesta", map[string]any{"hash_visura": "nope"}).Status)
}

func TestProgressOnTimer(t *testing.T) {
	srv := newServer(t, WithAutoAdvance(5*time.Millisecond))
	id := create(t, srv, specBody(t, "post_richiesta_request.json"))
	require.Eventually(t, func() bool { s, _ := srv.Stato(id); return s == "Visura evasa" }, 5*time.Second, 5*time.Millisecond)
	checkDocument(t, srv, id)
}

func TestCloseStopsTimers(t *testing.T) {
	srv := NewServer(WithAutoAdvance(time.Hour))
	for range 5 {
		create(t, srv, specBody(t, "post_richiesta_request.json"))
	}
	done := make(chan struct{})
	go func() { srv.Close(); srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := newServer(t, WithAutoAdvance(time.Millisecond))
	c := srv.Client()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := create(t, srv, specBody(t, "post_richiesta_request.json"))
			_, _ = srv.Advance(id)
			_, _ = c.ListVisure(context.Background())
			call(t, srv, "GET", "/richiesta", nil)
			if i%2 == 0 {
				_ = srv.Cancel(id)
			}
		}()
	}
	wg.Wait()
	n, total := srv.Charges()
	assert.Equal(t, 8, n)
	assert.Equal(t, visengine.Cents(8*490), total)
	assert.Len(t, srv.Requests(), 8*3)
}

func TestUnknownRouteAndPanicsNever(t *testing.T) {
	srv := newServer(t)
	a := call(t, srv, "DELETE", "/richiesta/abc", nil)
	assert.Equal(t, 404, a.Status)
	for _, body := range []string{"", "null", "[]", `{"hash_visura":[]}`, `{"hash_visura":"` + hashA2 + `","json_visura":"x"}`,
		`{"hash_visura":"` + hashA2 + `","state":7}`, `{"hash_visura":"` + hashA2 + `","opzioni":"x"}`, "\x00\xff"} {
		assert.Contains(t, []int{400, 412, 428}, call(t, srv, "POST", "/richiesta", body).Status, body)
	}
	id := searchRichiesta(t, srv)
	for _, body := range []string{"", "[]", `{"indice":null}`, `{"indice":true}`, `{"indice":1.5}`, `{"indice":{}}`} {
		assert.Equal(t, 428, call(t, srv, "PUT", "/richiesta/"+id+"/ricerche", body).Status, body)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
