package oauthfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	email  = "user@example.it"
	apiKey = "k3y"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type wallet int64

func (w wallet) BalanceMicros() int64 { return int64(w) * 10_000 } // w in cents

type harness struct {
	*Server
	url   string
	clock *clock
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	s, err := New(email, apiKey, append([]Option{WithClock(c.now), WithWallet(wallet(42338))}, opts...)...)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &harness{Server: s, url: srv.URL, clock: c}
}

// do sends a request with the harness's Basic auth unless auth is given.
func (h *harness) do(t *testing.T, method, path, body string, auth ...string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	require.NoError(t, err)
	if len(auth) > 0 {
		req.Header.Set("Authorization", auth[0])
	} else {
		req.SetBasicAuth(email, apiKey)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusNoContent {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, string(b)
}

// specBody returns a response example of the spec in oauth/testdata.
func specBody(t *testing.T, file, path, method string, status int, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../oauth/testdata/" + file)
	require.NoError(t, err)
	var spec struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Example  json.RawMessage `json:"example"`
					Examples map[string]struct {
						Value json.RawMessage `json:"value"`
					} `json:"examples"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(b, &spec))
	media := spec.Paths[path][method].Responses[strconv.Itoa(status)].Content["application/json"]
	if name == "" {
		require.NotEmpty(t, media.Example, "%s %s %d", method, path, status)
		return string(media.Example)
	}
	ex, ok := media.Examples[name]
	require.True(t, ok, "%s %s %d %s", method, path, status, name)
	return string(ex.Value)
}

var hex24 = regexp.MustCompile(`^[0-9a-f]{24}$`)

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	return m
}

func TestNewRefusesEmptyCredentials(t *testing.T) {
	for _, c := range [][2]string{{"", "k"}, {"e", ""}, {"a:b", "k"}} {
		s, err := New(c[0], c[1])
		assert.Nil(t, s)
		assert.Error(t, err)
	}
}

func TestBasicAuthRequired(t *testing.T) {
	h := newHarness(t)
	for _, auth := range []string{"", "Basic !!!", "Basic dXNlckBleGFtcGxlLml0Ondyb25n", "Bearer " + h.Issue([]string{"GET:a/b"}, time.Hour)} {
		st, body := h.do(t, "GET", "/v2/wallet", "", auth)
		assert.Equal(t, 401, st)
		assert.JSONEq(t, specBody(t, "oauth-v2.openapi.json", "/tokens/{token}", "patch", 401, "unauthorized_authdata"), body)
		st, body = h.do(t, "GET", "/v1/credit", "", auth)
		assert.Equal(t, 401, st)
		assert.Equal(t, false, decode(t, body)["success"])
	}
}

func TestV2CreateAndErrors(t *testing.T) {
	h := newHarness(t)
	const spec = "oauth-v2.openapi.json"
	for _, tc := range []struct{ body, example string }{
		{`{}`, "missing_scopes"},
		{`not json`, "missing_scopes"},
		{`{"scopes":[]}`, "missing_scopes"},
		{`{"scopes":[1]}`, "invalid_scopes_format"},
		{`{"scopes":["visure"]}`, "invalid_scopes_format"},
		{`{"scopes":["GET:imprese.openapi.it/base"]}`, "invalid_scopes"},
	} {
		st, body := h.do(t, "POST", "/v2/tokens", tc.body)
		assert.Equal(t, 422, st, tc.body)
		assert.JSONEq(t, specBody(t, spec, "/tokens", "post", 422, tc.example), body, tc.body)
	}
	st, body := h.do(t, "POST", "/v2/tokens", `{"scopes":["*:test.visengine2.altravia.com/richiesta","GET:visengine2.altravia.com/visure"],"name":"n","ttl":3600,"limits":{"totalRequests":5}}`)
	require.Equal(t, 200, st, body)
	d := decode(t, body)
	assert.Regexp(t, hex24, d["token"])
	assert.Regexp(t, hex24, d["refreshToken"])
	assert.Equal(t, "n", d["name"])
	assert.Equal(t, "2026-03-01T10:00:00Z", d["expireAt"])
	assert.Equal(t, "2026-03-01T09:00:00Z", d["createdAt"])
	assert.Equal(t, []any{"GET:test.visengine2.altravia.com/richiesta", "POST:test.visengine2.altravia.com/richiesta",
		"PUT:test.visengine2.altravia.com/richiesta", "DELETE:test.visengine2.altravia.com/richiesta", "GET:visengine2.altravia.com/visure"}, d["scopes"])
	assert.Equal(t, map[string]any{"totalRequests": 5.0}, d["limits"])
	// Every key of the spec's TokenDetail is there.
	for _, k := range []string{"token", "name", "createdAt", "expireAt", "updatedAt", "scopes", "refreshToken", "limits", "stats"} {
		assert.Contains(t, d, k)
	}
	scopes, ok := h.Lookup(d["token"].(string))
	assert.True(t, ok)
	assert.Len(t, scopes, 5)

	// TokenCreate's ttl: "Max 1 year. If a negative value or 0 is
	// provided, the value is automatically clamped to the default TTL."
	for ttl, want := range map[string]string{
		"-1": "2027-03-01T09:00:00Z", "0": "2027-03-01T09:00:00Z", "63072000": "2027-03-01T09:00:00Z", "60": "2026-03-01T09:01:00Z",
	} {
		st, body = h.do(t, "POST", "/v2/tokens", `{"scopes":["GET:visengine2.altravia.com/visure"],"ttl":`+ttl+`}`)
		require.Equal(t, 200, st, "ttl %s: %s", ttl, body)
		assert.Equal(t, want, decode(t, body)["expireAt"], "ttl %s", ttl)
	}
	st, _ = h.do(t, "POST", "/v2/tokens", `{"scopes":["GET:visengine2.altravia.com/visure"],"ttl":"soon"}`)
	assert.Equal(t, 422, st, "not a number")
}

func TestV2TokenCalls(t *testing.T) {
	h := newHarness(t)
	const spec = "oauth-v2.openapi.json"
	tok := h.Issue([]string{"GET:visengine2.altravia.com/visure"}, time.Hour)
	unknown := strings.Repeat("ab", 12)

	st, body := h.do(t, "GET", "/v2/tokens/xyz", "")
	assert.Equal(t, 422, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "get", 422, ""), body)
	st, body = h.do(t, "GET", "/v2/tokens/"+unknown, "")
	assert.Equal(t, 404, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "get", 404, ""), body)
	st, body = h.do(t, "GET", "/v2/tokens/"+tok, "")
	assert.Equal(t, 200, st)
	assert.Equal(t, tok, decode(t, body)["token"])

	st, body = h.do(t, "PATCH", "/v2/tokens/"+unknown, `{"ttl":60}`)
	assert.Equal(t, 404, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "patch", 404, ""), body)
	st, body = h.do(t, "PATCH", "/v2/tokens/", `{"ttl":60}`)
	assert.Equal(t, 400, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "patch", 400, "token_id_required"), body)
	st, body = h.do(t, "PATCH", "/v2/tokens/"+tok, `{"scopes":["nope"]}`)
	assert.Equal(t, 422, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "patch", 422, "invalid_scopes_format"), body)
	st, body = h.do(t, "PATCH", "/v2/tokens/"+tok, `{"scopes":["GET:other.example.com/x"]}`)
	assert.Equal(t, 422, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "patch", 422, "invalid_scopes"), body)
	st, body = h.do(t, "PATCH", "/v2/tokens/"+tok, `{"ttl":60}`, "Bearer wrong")
	assert.Equal(t, 401, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "patch", 401, "unauthorized_refresh"), body)
	// Wrong e-mail or API key, and no refresh token: the spec's other 401.
	st, body = h.do(t, "PATCH", "/v2/tokens/"+tok, `{"ttl":60}`, "Basic dXNlckBleGFtcGxlLml0Ondyb25n")
	assert.Equal(t, 401, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "patch", 401, "unauthorized_authdata"), body)

	// Extend after expiry, with the refresh token as the credential. As
	// TokenUpdate says, "a new token and a new refresh token with the same
	// scopes are returned, and the previous token is deleted".
	_, body = h.do(t, "GET", "/v2/tokens/"+tok, "")
	refresh := decode(t, body)["refreshToken"].(string)
	h.clock.add(2 * time.Hour)
	_, ok := h.Lookup(tok)
	assert.False(t, ok, "expired")
	st, body = h.do(t, "PATCH", "/v2/tokens/"+tok, `{"ttl":7200,"name":"renamed"}`, "Bearer "+refresh)
	require.Equal(t, 200, st, body)
	d := decode(t, body)
	assert.Equal(t, "2026-03-01T13:00:00Z", d["expireAt"])
	assert.Equal(t, "renamed", d["name"])
	assert.Equal(t, []any{"GET:visengine2.altravia.com/visure"}, d["scopes"])
	renewed := d["token"].(string)
	assert.Regexp(t, hex24, renewed)
	assert.NotEqual(t, tok, renewed, "a new token")
	assert.NotEqual(t, refresh, d["refreshToken"], "a new refresh token")
	_, ok = h.Lookup(tok)
	assert.False(t, ok, "the previous token is deleted")
	scopes, ok := h.Lookup(renewed)
	assert.True(t, ok, "the new token works")
	assert.Equal(t, []string{"GET:visengine2.altravia.com/visure"}, scopes)
	st, _ = h.do(t, "PATCH", "/v2/tokens/"+renewed, `{"ttl":60}`, "Bearer "+refresh)
	assert.Equal(t, 401, st, "the old refresh token went with its token")
	// With Basic auth the token is changed in place: same value.
	st, body = h.do(t, "PATCH", "/v2/tokens/"+renewed, `{"ttl":7200}`)
	require.Equal(t, 200, st, body)
	assert.Equal(t, renewed, decode(t, body)["token"])
	tok = renewed

	st, body = h.do(t, "DELETE", "/v2/tokens/", "")
	assert.Equal(t, 400, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "delete", 400, ""), body)
	st, body = h.do(t, "DELETE", "/v2/tokens/"+unknown, "")
	assert.Equal(t, 404, st)
	assert.JSONEq(t, specBody(t, spec, "/tokens/{token}", "delete", 404, ""), body)
	st, body = h.do(t, "DELETE", "/v2/tokens/"+tok, "")
	assert.Equal(t, 200, st)
	assert.JSONEq(t, `{"message":"Deleted","data":null}`, body)
	_, ok = h.Lookup(tok)
	assert.False(t, ok, "revoked")
	st, _ = h.do(t, "GET", "/v2/tokens/"+tok, "")
	assert.Equal(t, 404, st)
}

func TestV2ListPages(t *testing.T) {
	h := newHarness(t)
	var issued []string
	for i := 0; i < 105; i++ {
		issued = append(issued, h.Issue([]string{"GET:a/b"}, time.Hour))
	}
	_, body := h.do(t, "GET", "/v2/tokens", "")
	assert.Len(t, decode(t, body)["data"], 100)
	_, body = h.do(t, "GET", "/v2/tokens?limit=100&skip=100", "")
	page := decode(t, body)["data"].([]any)
	require.Len(t, page, 5)
	assert.Equal(t, issued[100], page[0].(map[string]any)["token"])
	_, body = h.do(t, "GET", "/v2/tokens?limit=2&skip=1", "")
	page = decode(t, body)["data"].([]any)
	require.Len(t, page, 2)
	assert.Equal(t, issued[1], page[0].(map[string]any)["token"])
}

func TestV2ScopesAndWallet(t *testing.T) {
	h := newHarness(t, WithAvailableScopes("GET:visengine2.altravia.com/visure"))
	_, body := h.do(t, "GET", "/v2/scopes", "")
	assert.JSONEq(t, `{"data":[{"id":"`+scopeID("GET:visengine2.altravia.com/visure")+`","scope":"GET:visengine2.altravia.com/visure","method":"GET","endpoint":"visure","domain":"visengine2.altravia.com","enabled":true}]}`, body)
	st, body := h.do(t, "GET", "/v2/wallet", "")
	assert.Equal(t, 200, st)
	assert.JSONEq(t, `{"data":{"credit":423.38,"createdAt":"2026-03-01T09:00:00Z","updatedAt":"2026-03-01T09:00:00Z"}}`, body)
	assert.Contains(t, body, `"credit":423.38`) // the exact text, not a float's
}

func TestV1Calls(t *testing.T) {
	h := newHarness(t)
	const spec = "oauth-v1.openapi.json"
	st, body := h.do(t, "POST", "/v1/token", `{"ttl":3600}`)
	assert.Equal(t, 406, st)
	assert.JSONEq(t, specBody(t, spec, "/token", "post", 406, ""), body)
	st, body = h.do(t, "POST", "/v1/token", `{"scopes":["GET:visengine2.altravia.com/visure"],"ttl":3600}`)
	require.Equal(t, 200, st, body)
	created := decode(t, body)
	assert.ElementsMatch(t, keys(decode(t, specBody(t, spec, "/token", "post", 200, ""))), keys(created))
	tok := created["token"].(string)
	assert.Equal(t, float64(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).Unix()), created["expire"])

	st, body = h.do(t, "GET", "/v1/token/nope", "")
	assert.Equal(t, 402, st)
	assert.JSONEq(t, specBody(t, spec, "/token/{token}", "get", 402, ""), body)
	st, _ = h.do(t, "GET", "/v1/token/"+strings.Repeat("cd", 12), "")
	assert.Equal(t, 204, st)
	st, body = h.do(t, "GET", "/v1/token/"+tok, "")
	assert.Equal(t, 200, st)
	assert.ElementsMatch(t, keys(decode(t, specBody(t, spec, "/token/{token}", "get", 200, ""))), keys(decode(t, body)))

	unknown := strings.Repeat("ef", 12)
	st, body = h.do(t, "PATCH", "/v1/token/"+unknown, `{"ttl":60}`)
	assert.Equal(t, 404, st)
	assert.JSONEq(t, specBody(t, spec, "/token/{token}", "patch", 404, ""), body)
	st, body = h.do(t, "PATCH", "/v1/token/"+tok, `{}`)
	assert.Equal(t, 406, st)
	assert.JSONEq(t, specBody(t, spec, "/token/{token}", "patch", 406, ""), body)
	st, body = h.do(t, "PUT", "/v1/token/"+unknown, `{"scopes":["GET:visengine2.altravia.com/visure"]}`)
	assert.Equal(t, 404, st)
	assert.JSONEq(t, specBody(t, spec, "/token/{token}", "put", 404, ""), body)
	st, body = h.do(t, "PUT", "/v1/token/"+tok, `{"scopes":["GET:nowhere.example.com/x"]}`)
	assert.Equal(t, 406, st)
	assert.JSONEq(t, specBody(t, spec, "/token/{token}", "put", 406, ""), body)

	h.clock.add(30 * time.Minute)
	// The spec's Scopes schema requires the scopes: a ttl alone is refused.
	st, body = h.do(t, "PATCH", "/v1/token/"+tok, `{"ttl":7200}`)
	assert.Equal(t, 406, st)
	assert.JSONEq(t, specBody(t, spec, "/token/{token}", "patch", 406, ""), body)
	st, body = h.do(t, "PATCH", "/v1/token/"+tok, `{"scopes":["GET:visengine2.altravia.com/visure"],"ttl":7200}`)
	require.Equal(t, 200, st, body)
	list := decode(t, body)["data"].([]any)
	assert.Equal(t, float64(time.Date(2026, 3, 1, 11, 30, 0, 0, time.UTC).Unix()), list[0].(map[string]any)["expire"])
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Unix()
	st, body = h.do(t, "PUT", "/v1/token/"+tok, `{"scopes":["GET:visengine2.altravia.com/documento"],"expire":`+strconv.FormatInt(at, 10)+`}`)
	require.Equal(t, 200, st, body)
	scopes, ok := h.Lookup(tok)
	assert.True(t, ok)
	assert.Equal(t, []string{"GET:visengine2.altravia.com/documento"}, scopes)

	st, body = h.do(t, "DELETE", "/v1/token/"+unknown, "")
	assert.Equal(t, 404, st)
	assert.JSONEq(t, specBody(t, spec, "/token/{token}", "delete", 404, ""), body)
	st, body = h.do(t, "DELETE", "/v1/token/"+tok, "")
	assert.Equal(t, 200, st)
	assert.JSONEq(t, specBody(t, spec, "/token/{token}", "delete", 200, ""), body)
}

func TestV1ListExpiryAndFilter(t *testing.T) {
	h := newHarness(t)
	st, _ := h.do(t, "GET", "/v1/token", "")
	assert.Equal(t, 204, st)
	short := h.Issue([]string{"GET:visengine2.altravia.com/visure"}, time.Minute)
	long := h.Issue([]string{"POST:visengine2.altravia.com/richiesta"}, time.Hour)
	_, body := h.do(t, "GET", "/v1/token", "")
	assert.Len(t, decode(t, body)["data"], 2)
	_, body = h.do(t, "GET", "/v1/token?scope=POST:visengine2.altravia.com/richiesta", "")
	assert.Equal(t, long, decode(t, body)["data"].([]any)[0].(map[string]any)["token"])
	h.clock.add(time.Minute)
	_, ok := h.Lookup(short)
	assert.False(t, ok)
	_, body = h.do(t, "GET", "/v1/token", "")
	assert.Len(t, decode(t, body)["data"], 1)
	st, _ = h.do(t, "GET", "/v1/token/"+short, "")
	assert.Equal(t, 204, st)
	_, ok = h.Lookup("unknown")
	assert.False(t, ok)
}

func TestV1ScopesAndCredit(t *testing.T) {
	h := newHarness(t)
	_, body := h.do(t, "GET", "/v1/scopes", "")
	d := decode(t, body)
	assert.Equal(t, []string{"data"}, keys(d), "the envelope is under data, as in the spec's example")
	assert.Equal(t, true, d["data"].(map[string]any)["success"])
	nested := d["data"].(map[string]any)["data"].([]any)
	assert.Len(t, nested, len(DefaultScopes()))
	assert.Contains(t, nested, "GET:visengine2.altravia.com/conservatorie")
	_, body = h.do(t, "GET", "/v1/credit", "")
	assert.JSONEq(t, specBody(t, "oauth-v1.openapi.json", "/credit", "get", 200, ""), body)

	none, err := New(email, apiKey)
	require.NoError(t, err)
	srv := httptest.NewServer(none)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/credit", nil)
	req.SetBasicAuth(email, apiKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 404, resp.StatusCode)
	assert.JSONEq(t, specBody(t, "oauth-v1.openapi.json", "/credit", "get", 404, ""), string(b))
}

func TestEuro(t *testing.T) {
	for c, want := range map[int64]string{0: "0.00", 50_000: "0.05", 423_380_000: "423.38", -1_500_000: "-1.50", 1_000: "0.001",
		-15_500_000: "-15.50", 100_000_000: "100.00", -9223372036854775808: "-9223372036854.775808"} {
		assert.Equal(t, want, string(euro(c)))
	}
}

func TestScopeCovers(t *testing.T) {
	assert.True(t, scopeCovers("*:*/*", "GET:a.b/c"))
	assert.True(t, scopeCovers("get:A.B/c", "GET:a.b/c"))
	assert.False(t, scopeCovers("GET:a.b/C", "GET:a.b/c"))
	assert.True(t, scopeCovers("*:*.b/*", "PUT:a.b/x"))
	assert.False(t, scopeCovers("*:*.b/*", "PUT:b/x"))
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
