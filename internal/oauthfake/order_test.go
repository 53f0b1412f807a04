package oauthfake

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyOrder lists every object's keys in the order written, by path ("" for
// the top, ".data", ".data[0]"), reading the text as a stream.
func keyOrder(t *testing.T, body string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		require.NoError(t, err, body)
		switch tok {
		case json.Delim('{'):
			out[path] = []string{}
			for dec.More() {
				k, err := dec.Token()
				require.NoError(t, err)
				out[path] = append(out[path], k.(string))
				walk(path + "." + k.(string))
			}
			_, err = dec.Token()
			require.NoError(t, err)
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				p := path + "[0]"
				if i > 0 {
					p = path + "[n]" // only the first element is compared
				}
				walk(p)
			}
			_, err = dec.Token()
			require.NoError(t, err)
		}
	}
	walk("")
	return out
}

// The fake writes every object's keys in the spec's order, as the fake
// Visengine does: the examples' where the spec has one, the schema's
// otherwise; v1's GET /scopes nests the envelope under "data", as its
// example does.
func TestKeysInSpecOrder(t *testing.T) {
	h := newHarness(t, WithWallet(NewMemWallet(423_380_000, time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))))
	const v1, v2 = "oauth-v1.openapi.json", "oauth-v2.openapi.json"
	_, created := h.do(t, "POST", "/v1/token", `{"scopes":["GET:visengine2.altravia.com/visure"]}`)
	tok := decode(t, created)["token"].(string)
	unknown := "efefefefefefefefefefefef"
	cases := []struct {
		name, method, path, body   string
		spec, specPath, specMethod string
		status                     int
	}{
		{"v1 create", "POST", "/v1/token", `{"scopes":["GET:visengine2.altravia.com/visure"]}`, v1, "/token", "post", 200},
		{"v1 create refused", "POST", "/v1/token", `{}`, v1, "/token", "post", 406},
		{"v1 list", "GET", "/v1/token", "", v1, "/token", "get", 200},
		{"v1 get", "GET", "/v1/token/" + tok, "", v1, "/token/{token}", "get", 200},
		{"v1 patch refused", "PATCH", "/v1/token/" + tok, `{"ttl":60}`, v1, "/token/{token}", "patch", 406},
		{"v1 put", "PUT", "/v1/token/" + tok, `{"scopes":["GET:visengine2.altravia.com/visure"]}`, v1, "/token/{token}", "put", 200},
		{"v1 scopes", "GET", "/v1/scopes", "", v1, "/scopes", "get", 200},
		{"v1 credit", "GET", "/v1/credit", "", v1, "/credit", "get", 200},
		{"v1 delete", "DELETE", "/v1/token/" + tok, "", v1, "/token/{token}", "delete", 200},
		{"v1 delete unknown", "DELETE", "/v1/token/" + unknown, "", v1, "/token/{token}", "delete", 404},
		{"v2 wallet", "GET", "/v2/wallet", "", v2, "/wallet", "get", 200},
		{"v2 transactions", "GET", "/v2/wallet/transactions", "", v2, "/wallet/transactions", "get", 200},
		{"v2 get unknown", "GET", "/v2/tokens/" + unknown, "", v2, "/tokens/{token}", "get", 404},
	}
	for _, tc := range cases {
		st, body := h.do(t, tc.method, tc.path, tc.body)
		require.Equal(t, tc.status, st, "%s: %s", tc.name, body)
		want := keyOrder(t, specBody(t, tc.spec, tc.specPath, tc.specMethod, tc.status, ""))
		got := keyOrder(t, body)
		for path, keys := range want {
			if _, ok := got[path]; ok {
				assert.Equal(t, keys, got[path], "%s: keys of %q", tc.name, path)
			}
		}
		assert.Equal(t, want[""], got[""], "%s: top-level keys", tc.name)
	}

	// v2 answers the spec shows no example of follow their schemas.
	_, body := h.do(t, "POST", "/v2/tokens", `{"scopes":["GET:visengine2.altravia.com/visure"],"limits":{"totalRequests":5}}`)
	assert.Equal(t, []string{"token", "name", "createdAt", "expireAt", "updatedAt", "scopes", "refreshToken", "limits", "stats"}, keyOrder(t, body)[""])
	assert.Equal(t, []string{"totalRequests", "walletRequests", "subscriptionRequests", "errorRequests", "walletAmount", "ip"}, keyOrder(t, body)[".stats"])
	_, body = h.do(t, "GET", "/v2/scopes", "")
	assert.Equal(t, []string{"id", "scope", "method", "endpoint", "domain", "enabled"}, keyOrder(t, body)[".data[0]"])
}
