package form_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/form"
	"github.com/visengine-go/visengine/internal/maintest"
)

// fieldLabels returns the labels bound to the service's controls (ids
// f0…), not those of the options.
func fieldLabels(doc *html.Node) []*html.Node {
	return find(doc, func(n *html.Node) bool { return n.Data == "label" && strings.HasPrefix(attr(n, "for"), "f") })
}

// Issue 22: the A2 page has its 8 labels in display order, each bound to
// its control, required on the 7 fields the rule always needs and not on
// the CAF mandate.
func TestA2Page(t *testing.T) {
	e := newEnv(t, hashA2)
	resp, doc := e.get("")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "it", attr(find(doc, tag("html"))[0], "lang"))
	labels := fieldLabels(doc)
	require.Len(t, labels, 8)
	var names []string
	for _, l := range labels {
		in := byID(doc, attr(l, "for"))
		require.NotNil(t, in, "label for %s has no control", attr(l, "for"))
		assert.Equal(t, "input", in.Data)
		names = append(names, strings.TrimSuffix(text(l), " (obbligatorio)"))
		want := attr(l, "for") != "f7"
		assert.Equal(t, want, hasAttr(in, "required"), "required on %s", text(l))
		assert.Contains(t, attr(in, "aria-describedby"), attr(l, "for")+"-hint")
	}
	assert.Equal(t, []string{"Nome", "Cognome", "CODICE FISCALE", "CELLULARE", "Email",
		"COPIA DOCUMENTO D`IDENTITÀ FRONTE RETRO", "COPIA CODICE FISCALE FRONTE RETRO",
		"COPIA MANDATO DI ASSISTENZA E RAPPRESENTANZA"}, names)
	assert.Equal(t, "Inserisci il numero di telefono del richiedente", text(byID(doc, "f3-hint")))
	assert.Equal(t, "email", attr(byID(doc, "f2"), "type"))
	assert.Equal(t, "tel", attr(byID(doc, "f3"), "type"))
	assert.Equal(t, "[A-Za-z0-9]{16}", attr(byID(doc, "f4"), "pattern"))
	assert.Equal(t, "file", attr(byID(doc, "f5"), "type"))
	assert.Equal(t, "application/pdf,image/jpeg,image/png", attr(byID(doc, "f5"), "accept"))
	assert.Equal(t, "10485760", attr(byID(doc, "f5"), "data-max-size"))
	assert.Contains(t, text(byID(doc, "f5-hint")), "massimo 10 MB")
	assert.Equal(t, "€20.00", text(byID(doc, "price")))
	assert.Contains(t, text(byID(doc, "prezzo")), "Urgenza (+€4.00)")
	assert.Nil(t, byID(doc, "rule"), "A2 has one way to be complete: nothing to explain")
	assert.Equal(t, "multipart/form-data", attr(byID(doc, "visengine-form"), "enctype"))
	assert.NotEmpty(t, inputValue(doc, "csrf"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'nonce-")
}

// Issue 22: a post without CELLULARE answers 422 naming CELLULARE as
// obbligatorio, next to the field and in the summary; the other values are
// kept, files are not.
func TestPostWithoutCellulare(t *testing.T) {
	e := newEnv(t, hashA2)
	before := len(e.fake.Requests())
	fields := a2Applicant()
	delete(fields, "f3")
	resp, doc := e.postForm(fields, nil, a2Files()...)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Equal(t, "obbligatorio: non è compilato", text(byID(doc, "f3-error")))
	assert.Equal(t, "true", attr(byID(doc, "f3"), "aria-invalid"))
	summary := text(byID(doc, "error-summary"))
	assert.Contains(t, summary, "CELLULARE: obbligatorio")
	links := find(byID(doc, "error-summary"), tag("a"))
	require.Len(t, links, 1)
	assert.Equal(t, "#f3", attr(links[0], "href"))
	assert.Equal(t, "Mario", attr(byID(doc, "f0"), "value"))
	assert.Equal(t, "RSSMRA80A01H501U", attr(byID(doc, "f4"), "value"))
	assert.False(t, hasAttr(byID(doc, "f5"), "value"), "files are never echoed")
	assert.Len(t, e.fake.Requests(), before, "nothing is sent to Visengine")
}

// A malformed codice fiscale is reported with the check-character code.
func TestPostBadCodiceFiscale(t *testing.T) {
	e := newEnv(t, hashA2)
	fields := a2Applicant()
	fields["f4"] = "RSSMRA80A01H501X"
	resp, doc := e.postForm(fields, nil, a2Files()...)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, text(byID(doc, "f4-error")), "carattere di controllo")
}

// Issue 22: a complete post shows the confirmation with €20.00, and
// €24.00 with urgenza.
func TestCompletePostShowsTotal(t *testing.T) {
	e := newEnv(t, hashA2)
	for opz, want := range map[string]string{"": "€20.00", "opzione_0": "€24.00"} {
		var opts []string
		if opz != "" {
			opts = []string{opz}
		}
		resp, doc := e.postForm(a2Applicant(), opts, a2Files()...)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, want, text(byID(doc, "total")))
		assert.Contains(t, text(byID(doc, "confirm")), want)
		assert.Contains(t, text(byID(doc, "summary")), "documento.pdf")
		assert.NotEmpty(t, inputValue(doc, "form"))
	}
	assert.Zero(t, e.charges(), "validating pays nothing")
}

// Issue 22: confirming charges once and sends the browser to a status page
// whose address names nothing personal.
func TestConfirmChargesOnce(t *testing.T) {
	var paid []form.Paid
	e := newEnv(t, hashA2, form.WithOnPaid(func(_ context.Context, p form.Paid) error {
		paid = append(paid, p)
		return nil
	}), form.WithOperator(func(*http.Request) (string, error) { return "sportello-1", nil }))
	_, doc := e.postForm(a2Applicant(), []string{"opzione_0"}, a2Files()...)
	resp := e.confirm(doc)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc := resp.Header.Get("Location")
	assert.Regexp(t, `^status/[A-Za-z0-9_-]{22}$`, loc)
	assert.Equal(t, 1, e.charges())
	_, total := e.fake.Charges()
	assert.Equal(t, visengine.Cents(2400), total)
	require.Len(t, paid, 1)
	assert.Equal(t, "sportello-1", paid[0].Operator)
	assert.Equal(t, "Mario", paid[0].Values["$0"])
	assert.Equal(t, visengine.Cents(2400), paid[0].Total)
	assert.NotContains(t, loc, paid[0].Richiesta.ID, "the status address is an opaque token")

	resp, status := e.get(loc)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, paid[0].Richiesta.ID, text(byID(status, "richiesta")))
	assert.NotEmpty(t, attr(byID(status, "stato"), "data-stato"))
}

// Issue 22: confirming twice (a double click: two at once; a reload: one
// more after) charges once, and every answer leads to the same status page.
func TestConfirmTwiceChargesOnce(t *testing.T) {
	e := newEnv(t, hashA2)
	_, doc := e.postForm(a2Applicant(), nil, a2Files()...)
	var wg sync.WaitGroup
	locs := make([]string, 3)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := e.confirm(doc)
			resp.Body.Close()
			locs[i] = resp.Header.Get("Location")
		}()
	}
	wg.Wait()
	resp := e.confirm(doc)
	resp.Body.Close()
	locs[2] = resp.Header.Get("Location")
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.NotEmpty(t, locs[0])
	assert.Equal(t, []string{locs[0], locs[0], locs[0]}, locs)
	assert.Equal(t, 1, e.charges())
}

// Issue 22: a POST without the form's CSRF token is refused (403) and
// nothing is sent; so is one from another origin, and a confirmation
// without the token.
func TestPostWithoutCSRFSendsNothing(t *testing.T) {
	e := newEnv(t, hashA2)
	before := len(e.fake.Requests())
	_, doc := e.get("")
	body, ct := multipartBody(t, "", a2Applicant(), nil, a2Files()...)
	resp, err := e.http.Post(e.base, ct, body)
	require.NoError(t, err)
	parse(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	body, ct = multipartBody(t, inputValue(doc, "csrf"), a2Applicant(), nil, a2Files()...)
	req, _ := http.NewRequest(http.MethodPost, e.base, body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Origin", "https://evil.example")
	resp, err = e.http.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "another origin")

	_, conf := e.postForm(a2Applicant(), nil, a2Files()...)
	resp, err = e.http.PostForm(e.base+"confirm", url.Values{"form": {inputValue(conf, "form")}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	fresh := &http.Client{} // the token without its cookie
	resp, err = fresh.PostForm(e.base+"confirm", url.Values{"form": {inputValue(conf, "form")}, "csrf": {inputValue(conf, "csrf")}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Len(t, e.fake.Requests(), before)
	assert.Zero(t, e.charges())
}

// The status page follows the richiesta over server-sent events until the
// document is ready, and the document downloads as a zip.
func TestStatusEventsAndDownload(t *testing.T) {
	e := newEnvStep(t, hashA2, 0) // the test moves the richiesta on
	_, doc := e.postForm(a2Applicant(), nil, a2Files()...)
	resp := e.confirm(doc)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	_, page := e.get(loc)
	assert.Equal(t, "In erogazione", text(byID(page, "stato")))
	assert.True(t, hasAttr(byID(page, "download"), "hidden"))
	assert.Len(t, find(page, tag("noscript")), 1, "without JavaScript the page refreshes itself")
	events := attr(byID(page, "status-config"), "data-events")
	require.NotEmpty(t, events)
	ev, err := e.http.Get(e.base + "status/" + events)
	require.NoError(t, err)
	defer ev.Body.Close()
	assert.Equal(t, "text/event-stream", ev.Header.Get("Content-Type"))
	r := bufio.NewReader(ev.Body)
	assert.Equal(t, "event: stato\n", readLine(t, r))
	assert.Contains(t, readLine(t, r), `"Stato":"In erogazione"`)
	_, err = e.fake.Advance(text(byID(page, "richiesta")))
	require.NoError(t, err)
	rest, err := io.ReadAll(r) // the stream ends once the document is ready
	require.NoError(t, err)
	assert.Contains(t, string(rest), `"Stato":"Dati disponibili","Label":"Dati disponibili","Ready":true,"Final":true`)

	_, page = e.get(loc)
	assert.False(t, hasAttr(byID(page, "download"), "hidden"))
	assert.Empty(t, find(page, tag("noscript")), "nothing more to wait for")
	href := attr(byID(page, "download-link"), "href")
	resp, err = e.http.Get(e.base + "status/" + href)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/zip", resp.Header.Get("Content-Type"))
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	assert.NotEmpty(t, z.File)
}

// readLine reads one line of an event stream.
func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	s, err := r.ReadString('\n')
	require.NoError(t, err)
	return s
}

// An unknown status token is a 404, and so is any other address.
func TestUnknownAddresses(t *testing.T) {
	e := newEnv(t, hashA2)
	for _, p := range []string{"status/AAAAAAAAAAAAAAAAAAAAAA", "status/x/documento", "nope"} {
		resp, _ := e.get(p)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}
	resp, err := e.http.PostForm(e.base+"confirm", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// Issue 22: every service of the catalogue renders, well-formed.
func TestEveryServiceRenders(t *testing.T) {
	e := newEnv(t, hashA2)
	c := e.fake.Client()
	ctx := context.Background()
	list, err := c.ListVisure(ctx)
	require.NoError(t, err)
	require.Len(t, list, 92)
	for _, s := range list {
		v, err := c.GetVisura(ctx, s.HashVisura)
		require.NoError(t, err, s.NomeVisura)
		for _, lang := range visengine.Langs() {
			h, err := form.New(c, v, form.WithLang(lang))
			require.NoError(t, err, s.NomeVisura)
			rec := newRecorder()
			h.ServeHTTP(rec, httpGet("/"))
			require.Equal(t, http.StatusOK, rec.Code, s.NomeVisura)
			checkWellFormed(t, rec.Body.Bytes())
			doc, err := html.Parse(bytes.NewReader(rec.Body.Bytes()))
			require.NoError(t, err)
			assert.Len(t, fieldLabels(doc), len(v.JSONStruttura.Campi), s.NomeVisura)
			assert.Equal(t, string(lang), attr(find(doc, tag("html"))[0], "lang"))
		}
	}
}

// Limits: a file over the size limit is a problem of its field (422), a
// body over the total or with too many parts is refused (413), and
// nothing is sent.
func TestLimits(t *testing.T) {
	e := newEnv(t, hashA2, form.WithLimits(form.Limits{MaxFileSize: 1 << 10, MaxTotalSize: 64 << 10}))
	files := a2Files()
	files[0].data = bytes.Repeat([]byte("x"), 2<<10)
	resp, doc := e.postForm(a2Applicant(), nil, files...)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Equal(t, visengine.ProblemCodeTooLarge.Message(visengine.Italian), text(byID(doc, "f5-error")))

	files[0].data = bytes.Repeat([]byte("x"), 100<<10)
	resp, _ = e.postForm(a2Applicant(), nil, files...)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	many := a2Applicant()
	for i := range 40 {
		many["extra"+string(rune('a'+i%26))+strings.Repeat("z", i/26)] = "x"
	}
	resp, _ = e.postForm(many, nil, a2Files()...)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Zero(t, e.charges())
}

// The English page, and templates replaced by the integrator's.
func TestLangAndTemplates(t *testing.T) {
	e := newEnv(t, hashA2, form.WithLang(visengine.English))
	fields := a2Applicant()
	delete(fields, "f3")
	resp, doc := e.postForm(fields, nil, a2Files()...)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Equal(t, "en", attr(find(doc, tag("html"))[0], "lang"))
	assert.Equal(t, "required and not filled", text(byID(doc, "f3-error")))

	custom := fstestMap{"message.html": `{{define "content"}}<p id="custom">{{.Message}}</p>{{end}}`}
	e = newEnv(t, hashA2, form.WithTemplates(custom))
	resp, doc = e.get("nope")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "Pagina non trovata.", text(byID(doc, "custom")))

	_, err := form.New(e.fake.Client(), &visengine.Visura{}, form.WithTemplates(fstestMap{"form.html": "{{"}))
	assert.Error(t, err)
	_, err = form.New(nil, nil)
	assert.Error(t, err)
}

// A refused operator gets 403 before anything is read.
func TestOperatorRefused(t *testing.T) {
	e := newEnv(t, hashA2, form.WithOperator(func(*http.Request) (string, error) { return "", io.EOF }))
	resp, _ := e.postForm(a2Applicant(), nil, a2Files()...)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// A wallet too small refuses the payment without charging, and the
// applicant can confirm again once it is topped up.
func TestInsufficientCreditThenRetry(t *testing.T) {
	e := newEnv(t, hashA2)
	e.fake.SetBalance(visengine.Cents(100))
	_, doc := e.postForm(a2Applicant(), nil, a2Files()...)
	resp := e.confirm(doc)
	page := parse(t, resp)
	assert.Equal(t, http.StatusPaymentRequired, resp.StatusCode)
	assert.Contains(t, text(byID(page, "outcome")), "Credito insufficiente")
	assert.Zero(t, e.charges())
	e.fake.SetBalance(visengine.Cents(10000))
	resp = e.confirm(page)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, 1, e.charges())
}

var _ = time.Second

// A rule with real alternatives: only the field every alternative needs is
// required, and the alternatives are explained in words.
func TestAlternativesExplained(t *testing.T) {
	e := newEnv(t, hashA2)
	v := &visengine.Visura{NomeVisura: "Visura catastale", PrezzoVisura: visengine.Cents(500), JSONStruttura: visengine.Struttura{
		Campi: map[string]visengine.Campo{"$0": {Nome: "Nome", Tipo: "testo"}, "$1": {Nome: "PARTITA IVA", Tipo: "partita_iva"},
			"$2": {Nome: "Comune", Tipo: "cod_comune"}, "$3": {Nome: "Data", Tipo: "data_iso8601"}},
		Validazione: "$0 && ($1 || ($2 && $3))"}}
	h, err := form.New(e.fake.Client(), v)
	require.NoError(t, err)
	rec := newRecorder()
	h.ServeHTTP(rec, httpGet("/"))
	require.Equal(t, http.StatusOK, rec.Code)
	checkWellFormed(t, rec.Body.Bytes())
	doc, err := html.Parse(bytes.NewReader(rec.Body.Bytes()))
	require.NoError(t, err)
	assert.True(t, hasAttr(byID(doc, "f0"), "required"))
	for _, id := range []string{"f1", "f2", "f3"} {
		assert.False(t, hasAttr(byID(doc, id), "required"), id)
	}
	assert.Equal(t, `Campi obbligatori: "Nome". Compilare anche uno di questi gruppi di campi: {"PARTITA IVA"} oppure {"Comune", "Data"}.`,
		text(byID(doc, "rule")))
	assert.Equal(t, "date", attr(byID(doc, "f3"), "type"))
	assert.Equal(t, "[A-Za-z][0-9]{3}", attr(byID(doc, "f2"), "pattern"))
	assert.Equal(t, "€5.00", text(byID(doc, "price")))
}

// Forms waiting for confirmation hold at most MaxPendingSize bytes; more
// are answered 503.
func TestPendingSizeBounded(t *testing.T) {
	e := newEnv(t, hashA2, form.WithLimits(form.Limits{MaxPendingSize: 400}))
	resp, _ := e.postForm(a2Applicant(), nil, a2Files()...)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = e.postForm(a2Applicant(), nil, a2Files()...)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

// The log has one line per request, and none of the applicant's values,
// the status token or the richiesta's id.
func TestLogHasNoPersonalData(t *testing.T) {
	var logs maintest.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	var id string
	e := newEnv(t, hashA2, form.WithLogger(logger), form.WithOnPaid(func(_ context.Context, p form.Paid) error {
		id = p.Richiesta.ID
		return errors.New("store down: Mario Rossi RSSMRA80A01H501U") // a careless hook
	}))
	bad := a2Applicant()
	bad["f4"] = "RSSMRA80A01H501X"
	e.postForm(bad, nil, a2Files()...)
	_, doc := e.postForm(a2Applicant(), nil, a2Files()...)
	resp := e.confirm(doc)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	e.get(loc)
	out := logs.String()
	assert.Contains(t, out, `outcome=paid`)
	assert.Contains(t, out, `outcome=invalid`)
	assert.Contains(t, out, `page="GET /status/{token}"`)
	for _, secret := range []string{"Mario", "Rossi", "RSSMRA", "3331234567", "example.it", "documento.pdf",
		strings.TrimPrefix(loc, "status/"), id} {
		assert.NotContains(t, out, secret)
	}
}
