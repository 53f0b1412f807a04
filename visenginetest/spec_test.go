package visenginetest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/visengine-go/visengine"
)

// The vendor spec's examples, one file per method, path and status, are in
// the module's testdata/spec. The fake's answers must have the same keys
// and JSON types, recursively.

func specFile(t *testing.T, name string) (status int, env map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "spec", name))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &env))
	base := strings.TrimSuffix(name, ".json")
	status, _ = strconv.Atoi(base[strings.LastIndexByte(base, '_')+1:]) // 0 for *_request.json
	return status, env
}

func specBody(t *testing.T, name string) map[string]any {
	t.Helper()
	_, env := specFile(t, name)
	return env
}

// nullable are the keys documented as null in some answers and a value in
// others (visengine-api.md §2.11).
var nullable = map[string]bool{
	"id_ricerca": true, "indice_ricerca": true, "email_target": true,
	"opzioni": true, "json_risultato": true,
}

// dynamicKeys hold maps whose keys are data, not schema: each value is
// compared with the spec's first value.
var dynamicKeys = map[string]bool{"campi": true, "json_mappato": true, "timestamp_stati": true}

// extraKeys may appear in the fake's answer without being in the example.
var extraKeys = map[string]bool{"fornitori": true, "ordine": true}

// sameShape checks got against the spec value want.
func sameShape(t *testing.T, path string, want, got any) {
	t.Helper()
	key := path[strings.LastIndexByte(path, '.')+1:]
	if want == nil || got == nil {
		if want != nil || got != nil {
			assert.Truef(t, nullable[key], "%s: spec %v, fake %v", path, want, got)
		}
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !assert.Truef(t, ok, "%s: fake has %T, spec an object", path, got) {
			return
		}
		sameObject(t, path, key, w, g)
	case []any:
		g, ok := got.([]any)
		if !assert.Truef(t, ok, "%s: fake has %T, spec an array", path, got) || len(w) == 0 {
			return
		}
		for i, e := range g {
			sameShape(t, fmt.Sprintf("%s[%d]", path, i), w[min(i, len(w)-1)], e)
		}
	default:
		assert.IsTypef(t, want, got, "%s", path)
	}
}

func sameObject(t *testing.T, path, key string, want, got map[string]any) {
	t.Helper()
	if dynamicKeys[key] {
		var first any
		for _, v := range want {
			first = v
			break
		}
		for k, v := range got {
			w, ok := want[k]
			if !ok {
				w = first
			}
			sameShape(t, path+"."+k, w, v)
		}
		return
	}
	for k, v := range want {
		gv, ok := got[k]
		if !ok {
			assert.Truef(t, extraKeys[k], "%s.%s: missing key", path, k)
			continue
		}
		sameShape(t, path+"."+k, v, gv)
	}
	for k := range got {
		_, ok := want[k]
		assert.Truef(t, ok || extraKeys[k], "%s.%s: key not in the spec", path, k)
	}
}

// matchSpec checks status and shape; for error answers the envelope must
// equal the spec's exactly.
// withMessage is the message expected instead of the spec's, for messages
// that embed a balance.
type withMessage string

func matchSpec(t *testing.T, name string, a answer, why ...any) {
	t.Helper()
	status, want := specFile(t, name)
	require.Equalf(t, status, a.Status, "%s: %s %v", name, a.Raw, why)
	for _, w := range why {
		if m, ok := w.(withMessage); ok {
			want["message"] = string(m)
		}
	}
	if status != 200 {
		assert.Equalf(t, want, a.Env, "%s", name)
		return
	}
	sameShape(t, "", want, a.Env)
}

func TestSpecVisure(t *testing.T) {
	srv := newServer(t)
	a := call(t, srv, "GET", "/visure", nil)
	matchSpec(t, "get_visure_200.json", a)
	assert.Equal(t, specBody(t, "get_visure_200.json"), a.Env, "the whole catalogue")

	a = call(t, srv, "GET", "/visure/"+hashOrdinaria, nil)
	assert.Equal(t, specBody(t, "get_visure_hash_200.json"), a.Env, "the spec's own example")
}

func TestSpecVisuraEveryService(t *testing.T) {
	srv := newServer(t)
	list := call(t, srv, "GET", "/visure", nil).Env["data"].([]any)
	require.Len(t, list, 92)
	for _, e := range list {
		hash := e.(map[string]any)["hash_visura"].(string)
		a := call(t, srv, "GET", "/visure/"+hash, nil)
		matchSpec(t, "get_visure_hash_200.json", a)
		assert.Equal(t, hash, a.data(t)["hash_visura"])
	}
	matchSpec(t, "get_visure_hash_400.json", call(t, srv, "GET", "/visure/00000000000000000000000000000000", nil))
}

func TestSpecRichiesta(t *testing.T) {
	srv := newServer(t)
	matchSpec(t, "get_richiesta_404.json", call(t, srv, "GET", "/richiesta", nil))

	a := call(t, srv, "POST", "/richiesta", specBody(t, "post_richiesta_request.json"))
	matchSpec(t, "post_richiesta_200.json", a)
	id := a.data(t)["_id"].(string)

	matchSpec(t, "get_richiesta_200.json", call(t, srv, "GET", "/richiesta", nil))
	require.NoError(t, srv.Complete(id))
	a = call(t, srv, "GET", "/richiesta/"+id, nil)
	matchSpec(t, "get_richiesta_id_200.json", a)
	assert.Equal(t, []any{id + ".pdf"}, a.data(t)["allegati"])
	matchSpec(t, "get_richiesta_id_400.json", call(t, srv, "GET", "/richiesta/not_an_id", nil))
	matchSpec(t, "get_richiesta_id_404.json", call(t, srv, "GET", "/richiesta/t56yh843827583475g875hgj", nil))
}

func TestSpecCreateErrors(t *testing.T) {
	srv := newServer(t, WithWallet(visengine.Cents(18203)))
	ord := func(extra map[string]any) map[string]any {
		b := map[string]any{"hash_visura": hashOrdinaria, "json_visura": map[string]string{"$0": "1378273", "$1": "RM"}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	matchSpec(t, "post_richiesta_400.json", call(t, srv, "POST", "/richiesta", ord(map[string]any{"email_target": "not-an-email"})))
	matchSpec(t, "post_richiesta_412.json", call(t, srv, "POST", "/richiesta", ord(map[string]any{"json_visura": map[string]string{"$0": "1378273"}})))
	matchSpec(t, "post_richiesta_412.json", call(t, srv, "POST", "/richiesta", ord(map[string]any{"json_visura": map[string]string{"$0": "1", "$1": "RM", "$9": "x"}})))
	matchSpec(t, "post_richiesta_428.json", call(t, srv, "POST", "/richiesta", map[string]any{"json_visura": map[string]string{"$0": "1"}}))
	matchSpec(t, "post_richiesta_428.json", call(t, srv, "POST", "/richiesta", "this is not JSON"))
	matchSpec(t, "post_richiesta_428.json", call(t, srv, "POST", "/richiesta", "[1,2]"))
	// €29.99 buys no €20 A2 application with its €10 option; the message
	// shows the balance with two decimals, like the spec's "182.03".
	srv.SetBalance(visengine.Cents(2999))
	a := call(t, srv, "POST", "/richiesta", map[string]any{
		"hash_visura": hashA2, "json_visura": a2Values(), "opzioni": map[string]bool{"opzione_1": true},
	})
	matchSpec(t, "post_richiesta_402.json", a, withMessage("Insufficient Credit in Wallet: 29.99"))
	srv.SetBalance(visengine.Cents(100))
	matchSpec(t, "post_richiesta_402.json", call(t, srv, "POST", "/richiesta", ord(nil)), withMessage("Insufficient Credit in Wallet: 1.00"))
	n, total := srv.Charges()
	assert.Equal(t, 0, n)
	assert.Zero(t, total)
}

// searchRichiesta submits a "con Ricerca" richiesta that finds candidates.
func searchRichiesta(t *testing.T, srv *Server) string {
	t.Helper()
	return create(t, srv, map[string]any{"hash_visura": hashRicerca, "json_visura": map[string]string{"$0": "altravia", "$1": ""}})
}

func TestSpecAddRicerca(t *testing.T) {
	srv := newServer(t)
	id := searchRichiesta(t, srv)
	a := call(t, srv, "POST", "/richiesta/"+id, specBody(t, "post_richiesta_id_request.json"))
	matchSpec(t, "post_richiesta_id_200.json", a)
	ricerche := a.data(t)["ricerche"].([]any)
	require.Len(t, ricerche, 2)
	second := ricerche[1].(map[string]any)
	assert.Equal(t, id+"_1", second["id_ricerca"])
	assert.Equal(t, "Errore su richiesta dati", second["stato_ricerca"], "12345678910 fails its check digit, as in the spec")
	assert.Equal(t, "101", a.data(t)["esito"].(map[string]any)["codice"])

	log := srv.ChargeLog()
	require.Len(t, log, 2, "the document at the close, then the added search")
	assert.Equal(t, []any{"ricerca", visengine.Cents(38), id}, []any{log[1].What, log[1].Amount, log[1].RichiestaID},
		"an added search costs the service's prezzo_ricerca")

	matchSpec(t, "post_richiesta_id_400.json", call(t, srv, "POST", "/richiesta/bad-id", specBody(t, "post_richiesta_id_request.json")))
	draft := create(t, srv, map[string]any{"hash_visura": hashRicerca, "state": 0})
	matchSpec(t, "post_richiesta_id_404.json", call(t, srv, "POST", "/richiesta/"+draft, specBody(t, "post_richiesta_id_request.json")))
	matchSpec(t, "post_richiesta_id_404.json", call(t, srv, "POST", "/richiesta/5f2829ce065afc21cc60ad0f", specBody(t, "post_richiesta_id_request.json")),
		"an unknown id: the spec's one 404 for this call is 221")
	plain := create(t, srv, specBody(t, "post_richiesta_request.json"))
	matchSpec(t, "post_richiesta_id_409.json", call(t, srv, "POST", "/richiesta/"+plain, specBody(t, "post_richiesta_id_request.json")))
	matchSpec(t, "post_richiesta_id_412.json", call(t, srv, "POST", "/richiesta/"+id, map[string]any{"json_visura": map[string]string{"$0": " ", "$1": ""}}))
	matchSpec(t, "post_richiesta_id_428.json", call(t, srv, "POST", "/richiesta/"+id, map[string]any{}))
	matchSpec(t, "post_richiesta_id_428.json", call(t, srv, "POST", "/richiesta/"+id, "{broken"))

	srv.SetBalance(visengine.Cents(37))
	matchSpec(t, "post_richiesta_id_402.json", call(t, srv, "POST", "/richiesta/"+id, specBody(t, "post_richiesta_id_request.json")),
		withMessage("Insufficient Credit in Wallet: 0.37"))
	assert.Len(t, call(t, srv, "GET", "/richiesta/"+id, nil).data(t)["ricerche"], 2, "a refused search is not run")
	srv.SetBalance(visengine.Cents(38))
	matchSpec(t, "post_richiesta_id_200.json", call(t, srv, "POST", "/richiesta/"+id, specBody(t, "post_richiesta_id_request.json")))
	assert.Zero(t, srv.Balance())
	assert.Len(t, srv.ChargeLog(), 4, "the search's close, the plain one's, two added searches")
}

// A service whose prezzo_ricerca is 0 charges nothing for an added search,
// and never answers 402 for one.
func TestAddRicercaFreeWhenUnpriced(t *testing.T) {
	srv := newServer(t)
	svc := *srv.cat.byHash[hashRicerca]
	svc.v.PrezzoRicerca = visengine.Cents(0)
	srv.cat = &catalogue{list: srv.cat.list, byHash: map[string]*service{hashRicerca: &svc}}
	id := searchRichiesta(t, srv)
	srv.SetBalance(visengine.Cents(0))
	a := call(t, srv, "POST", "/richiesta/"+id, specBody(t, "post_richiesta_id_request.json"))
	matchSpec(t, "post_richiesta_id_200.json", a)
	assert.Len(t, srv.ChargeLog(), 1, "only the close")
}

func TestSpecUpdate(t *testing.T) {
	srv := newServer(t)
	id := create(t, srv, map[string]any{"hash_visura": hashOrdinaria, "state": 0, "json_visura": map[string]string{"$1": "BS"},
		"email_target": "caf@example.com"})
	for _, clear := range []any{"", nil} { // a cleared address is null, as in the spec's answers
		a := call(t, srv, "PUT", "/richiesta/"+id, map[string]any{"email_target": clear, "state": 0})
		require.Equal(t, 200, a.Status, "%s", a.Raw)
		assert.Nil(t, a.data(t)["email_target"], "%s", a.Raw)
		call(t, srv, "PUT", "/richiesta/"+id, map[string]any{"email_target": "caf@example.com"})
	}
	matchSpec(t, "put_richiesta_id_412.json", call(t, srv, "PUT", "/richiesta/"+id, map[string]any{"state": 1}))
	matchSpec(t, "put_richiesta_id_412.json", call(t, srv, "PUT", "/richiesta/"+id, "not json"))
	a := call(t, srv, "PUT", "/richiesta/"+id, specBody(t, "put_richiesta_id_request.json"))
	matchSpec(t, "put_richiesta_id_200.json", a)
	assert.Equal(t, map[string]any{"NRea": "altravia", "Cciaa": "BS"}, a.data(t)["ricerche"].([]any)[0].(map[string]any)["json_mappato"])
	assert.Equal(t, "caf@example.com", a.data(t)["email_target"], "set again after each clear")

	matchSpec(t, "put_richiesta_id_400.json", call(t, srv, "PUT", "/richiesta/"+id, specBody(t, "put_richiesta_id_request.json")))
	matchSpec(t, "put_richiesta_id_404.json", call(t, srv, "PUT", "/richiesta/342tfdt567yhgy8897ujt454", specBody(t, "put_richiesta_id_request.json")))
	matchSpec(t, "put_richiesta_id_428.json", call(t, srv, "PUT", "/richiesta/", specBody(t, "put_richiesta_id_request.json")))
}

// The spec documents no 402 for PUT /richiesta/{id}: the fake's answer to a
// close the wallet cannot pay is POST's envelope with the fake's own code;
// the draft stays open and nothing is charged.
func TestCloseInsufficientCredit(t *testing.T) {
	srv := newServer(t, WithWallet(visengine.Cents(477)))
	id := create(t, srv, map[string]any{"hash_visura": hashOrdinaria, "state": 0, "json_visura": map[string]string{"$1": "BS"}})
	a := call(t, srv, "PUT", "/richiesta/"+id, specBody(t, "put_richiesta_id_request.json"))
	assert.Equal(t, 402, a.Status)
	_, want := specFile(t, "post_richiesta_402.json")
	want["message"], want["error"] = "Insufficient Credit in Wallet: 4.77", float64(CodeInsufficientCreditClose)
	assert.Equal(t, want, a.Env)
	assert.NotEqual(t, 211, a.code(), "not POST's code")
	d := call(t, srv, "GET", "/richiesta/"+id, nil).data(t)
	assert.Equal(t, 0.0, d["state"])
	assert.Empty(t, srv.ChargeLog())
	assert.Equal(t, visengine.Cents(477), srv.Balance())
}

func TestSpecChooseRisultato(t *testing.T) {
	srv := newServer(t)
	id := searchRichiesta(t, srv)
	body := func(idRicerca string, indice any) map[string]any {
		return map[string]any{"id_ricerca": idRicerca, "indice": indice}
	}
	path := "/richiesta/" + id + "/ricerche"
	matchSpec(t, "put_richiesta_id_ricerche_400.json", call(t, srv, "PUT", path, body(id+"_0", -1)))
	matchSpec(t, "put_richiesta_id_ricerche_428.json", call(t, srv, "PUT", path, body(id+"_0", "uno")))
	matchSpec(t, "put_richiesta_id_ricerche_428.json", call(t, srv, "PUT", path, body(id+"_0", 2)))
	matchSpec(t, "put_richiesta_id_ricerche_428.json", call(t, srv, "PUT", path, body(id+"_7", 0)))
	matchSpec(t, "put_richiesta_id_ricerche_404.json", call(t, srv, "PUT", "/richiesta/tr546547uyyhhg64545r4f4546/ricerche", body(id+"_0", 1)))
	srv.SetBalance(visengine.Cents(37))
	matchSpec(t, "put_richiesta_id_ricerche_402.json", call(t, srv, "PUT", path, body(id+"_0", 1)), withMessage("Insufficient Credit in Wallet: 0.37"))
	srv.SetBalance(visengine.Cents(1000_00))

	spec := specBody(t, "put_richiesta_id_ricerche_request.json")
	spec["id_ricerca"] = id + "_0"
	a := call(t, srv, "PUT", path, spec)
	matchSpec(t, "put_richiesta_id_ricerche_200.json", a)
	d := a.data(t)
	assert.Equal(t, []any{id + "_0", 1.0, "In erogazione"}, []any{d["id_ricerca"], d["indice_ricerca"], d["stato_richiesta"]})
	matchSpec(t, "put_richiesta_id_ricerche_409.json", call(t, srv, "PUT", path, spec), "already chosen")

	plain := create(t, srv, specBody(t, "post_richiesta_request.json"))
	matchSpec(t, "put_richiesta_id_ricerche_409.json", call(t, srv, "PUT", "/richiesta/"+plain+"/ricerche", body(plain+"_0", 0)))
}

func TestSpecDocumento(t *testing.T) {
	srv := newServer(t)
	id := create(t, srv, specBody(t, "post_richiesta_request.json"))
	matchSpec(t, "get_documento_id_422.json", call(t, srv, "GET", "/documento/"+id, nil))
	_, err := srv.Advance(id)
	require.NoError(t, err)
	matchSpec(t, "get_documento_id_200.json", call(t, srv, "GET", "/documento/"+id, nil))
	matchSpec(t, "get_documento_id_400.json", call(t, srv, "GET", "/documento/no.such", nil))
	matchSpec(t, "get_documento_id_404.json", call(t, srv, "GET", "/documento/4345uygyug578754g", nil))
	matchSpec(t, "get_documento_id_428.json", call(t, srv, "GET", "/documento/", nil))
}
