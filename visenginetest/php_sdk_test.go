package visenginetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// The official PHP SDK (github.com/openapi-it/OpenApi-PHP) is what many
// integrators run against Visengine, and so against cmd/visengine-fake. The
// tests below replay, byte for byte, the requests its Visengine module
// sends, and check each answer has what the PHP code then reads. The
// sequence comes from:
//
//   - src/classes/OpenApiBase.php, connect(): every call. The URL is the
//     base plus "/"+endpoint; the only header set is "Authorization:
//     Bearer <token>" (curl adds Host and "Accept: */*", and no
//     User-Agent). POST and PUT bodies are json_encode(params), sent as
//     CURLOPT_POSTFIELDS, so curl labels them
//     application/x-www-form-urlencoded. json_encode writes stdClass
//     properties in the order they were set, escapes "/" as "\/" and
//     non-ASCII as \uXXXX. The answer is json_decode'd (as objects), and
//     "success" == false throws.
//   - src/classes/VisEngine.php:
//     createRequest(): GET visure/{hash}; VisRequest's constructor then
//     iterates data.json_struttura.campi, and setJson/setState evaluate
//     data.json_struttura.validazione locally.
//     sendRequest() of a new VisRequest: POST richiesta with {state, test,
//     hash_visura, json_visura, callback_data?, email_target?, opzioni?}
//     (state 0 unless setState(1)), then reads data._id,
//     data.stato_richiesta and, if set, data.ricerche.
//     sendRequest() of a sent one: PUT richiesta/{id} with {state,
//     json_visura}: edits and the close in one call; reads the same keys.
//     getRequestByIdVisura(): GET richiesta/{id}, then GET
//     visure/{data.hash_visura}; reads data._id, data.stato_richiesta,
//     data.ricerche.
//     getDocument(): getRequestByIdVisura, then GET documento/{id}; keeps
//     data (nome, dimensione, file) when stato_richiesta is "Dati
//     disponibili" or "Visura evasa".
//     setRicerca(): strips "indice_" from the index, getRequestByIdVisura,
//     then PUT richiesta/{id}/ricerche with {"id_ricerca", "indice"} where
//     indice is a string; reads data.stato_richiesta.
//   - src/classes/utility/VisEngine/VisRequest.php: hasSearchResult()
//     (visura.data.ricerca == 1, stato "In ricerca", last search "Ricerca
//     evasa"), getSearchResult() (json_decode of the last search's
//     json_risultato), getSearchId() (its id_ricerca), setCallbackData()
//     ({url, data, method, field}, method "JSON" and field "visengineData"
//     by default).
//
// The SDK has no catalogue call: its README takes the hash as known, from
// the catalogue (GET /visure), which the first step reads as an integrator
// would.

// phpAnswer is an answer as OpenApiBase::connect sees it.
type phpAnswer struct {
	status int
	ctype  string
	data   any // the decoded "data"
}

func (a phpAnswer) object(t *testing.T) map[string]any {
	t.Helper()
	d, ok := a.data.(map[string]any)
	require.Truef(t, ok, "data is %T, the PHP SDK reads it as an object", a.data)
	return d
}

// phpConnect sends what connect() sends and checks what it requires of the
// answer: JSON (with the exact "application/json" it tests for), an object
// with a true "success".
func phpConnect(t *testing.T, srv *Server, method, endpoint, body string) phpAnswer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+"/"+endpoint, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("Accept", "*/*")
	req.Header.Set("User-Agent", "") // none is sent
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var env map[string]any
	require.NoErrorf(t, json.Unmarshal(raw, &env), "%s %s: not a JSON object (PHP exception 40001): %s", method, endpoint, raw)
	ok, _ := env["success"].(bool)
	require.Truef(t, ok, "%s %s: success is not true (PHP exception 40002): %s", method, endpoint, raw)
	return phpAnswer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), data: env["data"]}
}

// phpRead checks what sendRequest and getRequestByData read of a
// richiesta: _id, stato_richiesta, ricerche (an array of objects, when
// present).
func phpRead(t *testing.T, d map[string]any) (id, stato string, ricerche []any) {
	t.Helper()
	id, _ = d["_id"].(string)
	stato, _ = d["stato_richiesta"].(string)
	require.Len(t, id, 24)
	require.NotEmpty(t, stato)
	if r, set := d["ricerche"]; set {
		ricerche, _ = r.([]any)
		require.NotNil(t, ricerche, "ricerche is an array")
		for _, rc := range ricerche {
			require.IsType(t, map[string]any{}, rc)
		}
	}
	return id, stato, ricerche
}

// phpCreateRequest is createRequest(): GET visure/{hash} and what the
// VisRequest constructor and its validation read.
func phpCreateRequest(t *testing.T, srv *Server, hash string) map[string]any {
	t.Helper()
	a := phpConnect(t, srv, "GET", "visure/"+hash, "")
	assert.Equal(t, "application/json", strings.ToLower(a.ctype), "connect() compares the header exactly")
	v := a.object(t)
	st := v["json_struttura"].(map[string]any)
	campi, ok := st["campi"].(map[string]any)
	require.True(t, ok, "campi is iterated as an object")
	require.NotEmpty(t, campi)
	for _, c := range campi {
		assert.IsType(t, "", c.(map[string]any)["tipo"])
	}
	assert.IsType(t, "", st["validazione"])
	assert.IsType(t, "", v["nome_visura"])
	assert.Equal(t, hash, v["hash_visura"])
	return v
}

// phpGetRequestByIdVisura is getRequestByIdVisura(): the richiesta, then
// its service again.
func phpGetRequestByIdVisura(t *testing.T, srv *Server, id string) (stato string, ricerche []any) {
	t.Helper()
	d := phpConnect(t, srv, "GET", "richiesta/"+id, "").object(t)
	got, stato, ricerche := phpRead(t, d)
	require.Equal(t, id, got)
	phpCreateRequest(t, srv, d["hash_visura"].(string))
	return stato, ricerche
}

// The A2 application as the PHP SDK's README flow makes it: a draft with
// what is known, a callback and an address; then the whole json_visura and
// state 1 in one PUT; read back; downloaded once the operator is done.
func TestPHPSDKFlow(t *testing.T) {
	srv := newServer(t)
	deliveries := make(chan string, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		deliveries <- r.Method + " " + r.Header.Get("Content-Type") + " " + r.PostForm.Get("visengineData")
	}))
	t.Cleanup(hook.Close)
	hookJS := strings.ReplaceAll(hook.URL, "/", `\/`)

	// The catalogue, for the hash (not an SDK call).
	list := phpConnect(t, srv, "GET", "visure", "").data.([]any)
	require.Len(t, list, 92)

	// setHash(A2); createRequest().
	phpCreateRequest(t, srv, hashA2)

	// setJson(Nome, Cognome); setCallbackData(url, new stdClass(), "POST");
	// setTargetEmail; setOpzioni; sendRequest(): state stays 0.
	a := phpConnect(t, srv, "POST", "richiesta", `{"state":0,"test":false,"hash_visura":"`+hashA2+`",`+
		`"json_visura":{"$0":"Nicol\u00f2","$1":"Rossi"},`+
		`"callback_data":{"url":"`+hookJS+`\/cb","data":{},"method":"POST","field":"visengineData"},`+
		`"email_target":"caf@example.com","opzioni":{"opzione_0":true}}`)
	id, stato, _ := phpRead(t, a.object(t))
	assert.Equal(t, 0.0, a.object(t)["state"])
	assert.NotEmpty(t, stato)
	n, _ := srv.Charges()
	assert.Zero(t, n, "a draft costs nothing")

	// setJson(everything); setState(1); sendRequest(): one PUT.
	a = phpConnect(t, srv, "PUT", "richiesta/"+id, `{"state":1,"json_visura":{"$0":"Nicol\u00f2","$1":"Rossi",`+
		`"$2":"nicolo.rossi@example.com","$3":"3331234567","$4":"RSSMRA85M01H501Q",`+
		`"$5":"doc.pdf|data:application\/pdf;base64,JVBERi0xLjQ=","$6":"cf.pdf|data:application\/pdf;base64,JVBERi0xLjQ="}}`)
	got, stato, ricerche := phpRead(t, a.object(t))
	assert.Equal(t, id, got)
	assert.Equal(t, "In erogazione", stato)
	require.Len(t, ricerche, 1)
	assert.Equal(t, "Nicolò", ricerche[0].(map[string]any)["json_mappato"].(map[string]any)["Nome"], `\u00f2 decoded`)
	_, total := srv.Charges()
	assert.Equal(t, visengine.Cents(2400), total, "€20 and the €4 urgenza, once")

	// getRequestByIdVisura(id).
	stato, _ = phpGetRequestByIdVisura(t, srv, id)
	assert.Equal(t, "In erogazione", stato)

	// The operator finishes; getDocument(id).
	require.NoError(t, srv.Complete(id))
	stato, _ = phpGetRequestByIdVisura(t, srv, id)
	doc := phpConnect(t, srv, "GET", "documento/"+id, "").object(t)
	assert.Contains(t, []string{"Dati disponibili", "Visura evasa"}, stato, "getDocument keeps the document")
	zip, err := base64.StdEncoding.DecodeString(doc["file"].(string))
	require.NoError(t, err)
	assert.Equal(t, id+".zip", doc["nome"])
	assert.EqualValues(t, len(zip), doc["dimensione"])
	assert.True(t, bytes.HasPrefix(zip, []byte("PK")))

	select {
	case d := <-deliveries:
		assert.True(t, strings.HasPrefix(d, "POST application/x-www-form-urlencoded {"), "the callback set with setCallbackData: %s", d)
	case <-time.After(5 * time.Second):
		t.Fatal("the callback set with setCallbackData never came")
	}
	for _, r := range srv.Requests() {
		assert.NotContains(t, r.Path, "//", "no path the SDK built was odd")
	}
}

// A "con Ricerca" service through the PHP SDK: created closed (setState(1)
// on valid input), the search result read with hasSearchResult,
// getSearchResult and getSearchId, then chosen with setRicerca and
// "indice_1", which the SDK sends as the string "1".
func TestPHPSDKSearchFlow(t *testing.T) {
	srv := newServer(t)
	v := phpCreateRequest(t, srv, hashRicerca)
	assert.Equal(t, true, v["ricerca"], "hasSearchResult compares ricerca == 1, true for PHP")

	a := phpConnect(t, srv, "POST", "richiesta", `{"state":1,"test":false,"hash_visura":"`+hashRicerca+`",`+
		`"json_visura":{"$0":"altravia","$1":""}}`)
	id, stato, ricerche := phpRead(t, a.object(t))
	require.NotEmpty(t, ricerche)
	last := ricerche[len(ricerche)-1].(map[string]any)
	assert.Equal(t, "In ricerca", stato)
	assert.Equal(t, "Ricerca evasa", last["stato_ricerca"], "hasSearchResult() is true")
	text, ok := last["json_risultato"].(string)
	require.True(t, ok, "getSearchResult() json_decodes a string")
	var results map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &results))
	require.Contains(t, results, "indice_1")
	idRicerca, _ := last["id_ricerca"].(string)
	assert.Equal(t, id+"_0", idRicerca, "getSearchId()")

	// setRicerca(id, idRicerca, "indice_1").
	phpGetRequestByIdVisura(t, srv, id)
	a = phpConnect(t, srv, "PUT", "richiesta/"+id+"/ricerche", `{"id_ricerca":"`+idRicerca+`","indice":"1"}`)
	assert.Equal(t, "In erogazione", a.object(t)["stato_richiesta"])
	assert.Equal(t, 1.0, a.object(t)["indice_ricerca"])
	_, total := srv.Charges()
	assert.Equal(t, visengine.Cents(478+38), total, "the document and the chosen search")
}
