package visenginetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyOrders returns the keys of every object in raw, in the order they
// come, by path ("data.ricerche[].esito"); elements of an array share a
// path, and the first one seen is kept. Objects whose keys are data (campi,
// json_mappato) and what is inside them are left out.
func keyOrders(t *testing.T, raw []byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	require.NoError(t, walkKeys(dec, "", true, out))
	return out
}

func walkKeys(dec *json.Decoder, path string, record bool, out map[string][]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		var keys []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			keys = append(keys, key)
			if err := walkKeys(dec, path+"."+key, record && !dynamicKeys[key], out); err != nil {
				return err
			}
		}
		if _, seen := out[path]; !seen && record {
			out[path] = keys
		}
	case json.Delim('['):
		for dec.More() {
			if err := walkKeys(dec, path+"[]", record, out); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// sameOrder checks that the keys both answers have come in the same order,
// at every path both have.
func sameOrder(t *testing.T, name string, spec, fake []byte) {
	t.Helper()
	diffs, compared := orderDiffs(keyOrders(t, spec), keyOrders(t, fake))
	assert.Emptyf(t, diffs, "%s: key order differs from the spec's", name)
	assert.Positivef(t, compared, "%s: nothing compared", name)
}

// orderDiffs lists the paths where got's keys that want has too are not in
// want's order, and counts the paths compared.
func orderDiffs(want, got map[string][]string) (diffs []string, compared int) {
	for path, g := range got {
		w, ok := want[path]
		if !ok {
			continue
		}
		compared++
		if a, b := common(w, g), common(g, w); !slices.Equal(a, b) {
			diffs = append(diffs, fmt.Sprintf("%q: spec %v, fake %v", path, a, b))
		}
	}
	sort.Strings(diffs)
	return diffs, compared
}

// common is a's keys that b has too, in a's order.
func common(a, b []string) []string {
	in := map[string]bool{}
	for _, k := range b {
		in[k] = true
	}
	var out []string
	for _, k := range a {
		if in[k] {
			out = append(out, k)
		}
	}
	return out
}

func specRaw(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "spec", name))
	require.NoError(t, err)
	return raw
}

// The fake writes its keys in the order of the spec's examples: the
// envelope, a richiesta and its searches, a list entry, a document. (The
// spec's own second search in POST /richiesta/{id} puts stato_ricerca after
// json_mappato; every other search in it has it second, as the fake does.)
func TestKeyOrderFollowsTheSpec(t *testing.T) {
	srv := newServer(t)
	check := func(spec string, a answer) {
		t.Helper()
		require.Lessf(t, a.Status, 300, "%s: %s", spec, a.Raw)
		sameOrder(t, spec, specRaw(t, spec), a.Raw)
	}
	a := call(t, srv, "POST", "/richiesta", specBody(t, "post_richiesta_request.json"))
	check("post_richiesta_200.json", a)
	id := a.data(t)["_id"].(string)
	check("get_richiesta_200.json", call(t, srv, "GET", "/richiesta", nil))
	require.NoError(t, srv.Complete(id))
	check("get_richiesta_id_200.json", call(t, srv, "GET", "/richiesta/"+id, nil))
	check("get_documento_id_200.json", call(t, srv, "GET", "/documento/"+id, nil))

	draft := create(t, srv, map[string]any{"hash_visura": hashOrdinaria, "state": 0, "json_visura": map[string]string{"$1": "BS"}})
	check("put_richiesta_id_200.json", call(t, srv, "PUT", "/richiesta/"+draft, specBody(t, "put_richiesta_id_request.json")))

	search := searchRichiesta(t, srv)
	check("post_richiesta_id_200.json", call(t, srv, "POST", "/richiesta/"+search, specBody(t, "post_richiesta_id_request.json")))
	spec := specBody(t, "put_richiesta_id_ricerche_request.json")
	spec["id_ricerca"] = search + "_0"
	check("put_richiesta_id_ricerche_200.json", call(t, srv, "PUT", "/richiesta/"+search+"/ricerche", spec))

	a = call(t, srv, "GET", "/richiesta/t56yh843827583475g875hgj", nil)
	assert.Equal(t, []string{"success", "message", "error", "data"}, keyOrders(t, a.Raw)[""])
	sameOrder(t, "get_richiesta_id_404.json", specRaw(t, "get_richiesta_id_404.json"), a.Raw)
}

// Visura answers: the services the fake makes up, and the spec's own
// example, come in the spec's order; the structures recorded elsewhere (the
// A2 fixture, the "Cariche Attive Persona" page) are served as recorded,
// order included, since the real service was seen to send both orders.
func TestVisuraKeyOrder(t *testing.T) {
	srv := newServer(t)
	spec := specRaw(t, "get_visure_hash_200.json")
	recorded := map[string]bool{hashA2: true, hashCariche: true}
	list := call(t, srv, "GET", "/visure", nil)
	sameOrder(t, "get_visure_200.json", specRaw(t, "get_visure_200.json"), list.Raw)
	hashes := regexp.MustCompile(`"hash_visura":"([^"]+)"`).FindAllStringSubmatch(string(list.Raw), -1)
	require.Len(t, hashes, 92)
	for _, m := range hashes {
		a := call(t, srv, "GET", "/visure/"+m[1], nil)
		if !recorded[m[1]] {
			sameOrder(t, m[1], spec, a.Raw)
			continue
		}
		file, err := os.ReadFile(filepath.Join("catalogue", m[1]+".json"))
		require.NoError(t, err)
		assert.Equal(t, keyOrders(t, file)["data"], keyOrders(t, a.Raw)["data"], m[1])
	}
}

// The order check itself sees a swap, nested and in arrays, and ignores
// keys only one side has and the inside of data-keyed objects.
func TestKeyOrdersSeesASwap(t *testing.T) {
	got := keyOrders(t, []byte(`{"b":1,"a":{"d":[{"y":1,"x":2},{"z":1}],"c":2},"campi":{"$1":{"q":1},"$0":{}}}`))
	assert.Equal(t, map[string][]string{"": {"b", "a", "campi"}, ".a": {"d", "c"}, ".a.d[]": {"y", "x"}}, got)
	assert.Equal(t, []string{"a", "c"}, common([]string{"a", "b", "c"}, []string{"c", "a"}))
	diffs, n := orderDiffs(keyOrders(t, []byte(`{"a":1,"b":{"c":1,"d":2},"x":3}`)), keyOrders(t, []byte(`{"b":{"d":1,"c":1},"a":2,"y":3}`)))
	assert.Equal(t, []string{`"": spec [a b], fake [b a]`, `".b": spec [c d], fake [d c]`}, diffs)
	assert.Equal(t, 2, n)
}
