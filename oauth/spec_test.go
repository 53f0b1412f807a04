package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// specExample is one response example of a spec: the operation, the
// status and the body.
type specExample struct {
	version, method, path, name string
	status                      int
	body                        []byte
}

func (e specExample) op() string { return e.version + " " + e.method + " " + e.path }

// loadSpec reads a spec with numbers kept as their text.
func loadSpec(t testing.TB, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var spec map[string]any
	require.NoError(t, dec.Decode(&spec))
	return spec
}

// specExamples lists every response example of a spec; a 2xx response
// with a schema but no example gets one built from the schema's property
// examples, as a reader of the spec would.
func specExamples(t testing.TB, version, file string) []specExample {
	spec := loadSpec(t, file)
	var out []specExample
	for path, ops := range spec["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			for code, resp := range op.(map[string]any)["responses"].(map[string]any) {
				status, err := strconv.Atoi(code)
				require.NoError(t, err)
				for name, ex := range responseExamples(spec, resp.(map[string]any)) {
					body, err := json.Marshal(ex)
					require.NoError(t, err)
					out = append(out, specExample{version, strings.ToUpper(method), path, name, status, body})
				}
				if status == 204 {
					out = append(out, specExample{version, strings.ToUpper(method), path, "no content", status, nil})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].op()+out[i].name < out[j].op()+out[j].name })
	return out
}

func responseExamples(spec map[string]any, resp map[string]any) map[string]any {
	content, _ := resp["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	out := map[string]any{}
	if ex, ok := media["example"]; ok {
		out["example"] = ex
	}
	if exs, ok := media["examples"].(map[string]any); ok {
		for name, ex := range exs {
			out[name] = ex.(map[string]any)["value"]
		}
	}
	if len(out) == 0 && media["schema"] != nil {
		if ex := fromSchema(spec, media["schema"]); ex != nil {
			out["from schema"] = ex
		}
	}
	return out
}

// fromSchema builds an example from a schema's property examples.
func fromSchema(spec map[string]any, schema any) any {
	s, _ := schema.(map[string]any)
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		return fromSchema(spec, spec["components"].(map[string]any)["schemas"].(map[string]any)[name])
	}
	if ex, ok := s["example"]; ok {
		return ex
	}
	if one, ok := s["oneOf"].([]any); ok {
		return fromSchema(spec, one[0])
	}
	if all, ok := s["allOf"].([]any); ok {
		merged := map[string]any{}
		for _, part := range all {
			if m, ok := fromSchema(spec, part).(map[string]any); ok {
				for k, v := range m {
					merged[k] = v
				}
			}
		}
		return merged
	}
	if s["type"] == "array" {
		if item := fromSchema(spec, s["items"]); item != nil {
			return []any{item}
		}
		return nil
	}
	props, _ := s["properties"].(map[string]any)
	if len(props) == 0 {
		return nil
	}
	out := map[string]any{}
	for k, p := range props {
		if v := fromSchema(spec, p); v != nil {
			out[k] = v
		}
	}
	return out
}

// specCalls is how each operation the package covers is called. Those not
// listed (statistics, callbacks, subscriptions, error logs, counters, v1's
// PUT) are not part of the package and are listed in specSkipped.
var specCalls = map[string]func(ctx context.Context, c *Client) (any, error){
	"v2 POST /tokens": func(ctx context.Context, c *Client) (any, error) {
		return c.CreateToken(ctx, CreateTokenParams{Scopes: []string{"GET:visengine2.altravia.com/visure"}})
	},
	"v2 GET /tokens":           func(ctx context.Context, c *Client) (any, error) { return c.ListTokens(ctx) },
	"v2 GET /tokens/{token}":   func(ctx context.Context, c *Client) (any, error) { return c.GetToken(ctx, canaryToken) },
	"v2 PATCH /tokens/{token}": func(ctx context.Context, c *Client) (any, error) { return c.RenewToken(ctx, canaryToken, time.Hour) },
	"v2 DELETE /tokens/{token}": func(ctx context.Context, c *Client) (any, error) {
		return nil, c.RevokeToken(ctx, canaryToken)
	},
	"v2 GET /scopes": func(ctx context.Context, c *Client) (any, error) { return c.ListScopes(ctx) },
	"v2 GET /wallet": func(ctx context.Context, c *Client) (any, error) { return c.Wallet(ctx) },
	"v2 GET /wallet/transactions": func(ctx context.Context, c *Client) (any, error) {
		var out []Transaction
		for tx, err := range c.Transactions(ctx) {
			if err != nil {
				return nil, err
			}
			out = append(out, tx)
		}
		return out, nil
	},
	"v1 POST /token": func(ctx context.Context, c *Client) (any, error) {
		return c.CreateToken(ctx, CreateTokenParams{Scopes: []string{"GET:visengine2.altravia.com/visure"}})
	},
	"v1 GET /token":         func(ctx context.Context, c *Client) (any, error) { return c.ListTokens(ctx) },
	"v1 GET /token/{token}": func(ctx context.Context, c *Client) (any, error) { return c.GetToken(ctx, canaryToken) },
	"v1 PATCH /token/{token}": func(ctx context.Context, c *Client) (any, error) {
		return c.UpdateToken(ctx, canaryToken, UpdateTokenParams{Scopes: []string{"GET:a.b/c"}, TTL: time.Hour})
	},
	"v1 PUT /token/{token}": func(ctx context.Context, c *Client) (any, error) {
		return c.renewToken(ctx, canaryToken, time.Hour, []string{"GET:a.b/c"}, time.Now())
	},
	"v1 DELETE /token/{token}": func(ctx context.Context, c *Client) (any, error) { return nil, c.RevokeToken(ctx, canaryToken) },
	"v1 GET /scopes":           func(ctx context.Context, c *Client) (any, error) { return c.ListScopes(ctx) },
	"v1 GET /credit":           func(ctx context.Context, c *Client) (any, error) { return c.Wallet(ctx) },
}

var specSkipped = regexp.MustCompile(`^v2 GET /(errors|callbacks|stats|subscriptions|scopes/\{id\})|^v1 GET /counters`)

// Every response example of both specs decodes: successes into what they
// hold, errors into an *APIError with the example's code and message that
// matches the sentinel its status stands for.
func TestSpecExamples(t *testing.T) {
	examples := append(specExamples(t, "v2", "oauth-v2.openapi.json"), specExamples(t, "v1", "oauth-v1.openapi.json")...)
	covered := map[string]int{}
	for _, ex := range examples {
		call, ok := specCalls[ex.op()]
		if !ok {
			assert.Regexp(t, specSkipped, ex.op(), "operation with examples but no call")
			continue
		}
		covered[ex.op()]++
		t.Run(fmt.Sprintf("%s %d %s", ex.op(), ex.status, ex.name), func(t *testing.T) {
			var opts []Option
			if ex.version == "v1" {
				opts = append(opts, WithV1())
			}
			c, mt := mockClient(t, opts...)
			mt.RegisterNoResponder(httpmock.NewBytesResponder(ex.status, ex.body))
			got, err := call(context.Background(), c)
			checkExample(t, ex, got, err)
		})
	}
	for op := range specCalls {
		assert.NotZero(t, covered[op], "no example exercised %s", op)
	}
}

func checkExample(t *testing.T, ex specExample, got any, err error) {
	t.Helper()
	if ex.status/100 == 2 {
		if ex.status == 204 && ex.method == "GET" && strings.HasSuffix(ex.path, "{token}") {
			assert.ErrorIs(t, err, visengine.ErrNotFound)
			return
		}
		require.NoError(t, err)
		if len(ex.body) == 0 {
			assert.Empty(t, got)
			return
		}
		checkDecoded(t, ex.body, got)
		return
	}
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	var env struct {
		Message string `json:"message"`
		Error   int    `json:"error"`
	}
	require.NoError(t, json.Unmarshal(ex.body, &env))
	assert.Equal(t, ex.status, ae.StatusCode)
	assert.Equal(t, env.Error, ae.Code)
	assert.Equal(t, env.Message, ae.Message)
	assert.Equal(t, ex.method, ae.Method)
	assert.NotContains(t, ae.Error(), canaryToken)
	want := map[int]error{400: visengine.ErrInvalidRequest, 401: visengine.ErrUnauthorized, 403: visengine.ErrUnauthorized,
		404: visengine.ErrNotFound, 406: visengine.ErrInvalidRequest, 422: visengine.ErrInvalidRequest, 402: visengine.ErrNotFound}[ex.status]
	require.NotNil(t, want, "no sentinel expected for %d", ex.status)
	assert.ErrorIs(t, err, want)
	for _, other := range []error{visengine.ErrInvalidRequest, visengine.ErrUnauthorized, visengine.ErrNotFound, visengine.ErrInsufficientCredit, ErrUnexpectedResponse} {
		if other != want {
			assert.NotErrorIs(t, err, other)
		}
	}
}

// checkDecoded compares what a call returned with what the example holds,
// found by walking the example rather than by the package's decoder.
func checkDecoded(t *testing.T, body []byte, got any) {
	t.Helper()
	var ex any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&ex))
	switch v := got.(type) {
	case *TokenInfo:
		checkTokens(t, ex, []TokenInfo{*v})
	case []TokenInfo:
		checkTokens(t, ex, v)
	case []Scope:
		checkScopes(t, ex, v)
	case *Wallet:
		credit := walk(ex, func(m map[string]any) bool { _, ok := m["credit"]; return ok })
		require.Len(t, credit, 1)
		want, err := visengine.ParsePrice(string(credit[0]["credit"].(json.Number)))
		require.NoError(t, err)
		assert.Equal(t, want, v.Credit)
		assert.NotZero(t, v.Credit)
	case []Transaction:
		want := walk(ex, func(m map[string]any) bool { _, ok := m["amount"]; return ok })
		require.Len(t, v, len(want))
		for i, w := range want {
			amount, err := visengine.ParsePrice(string(w["amount"].(json.Number)))
			require.NoError(t, err)
			at, err := time.Parse(time.RFC3339, w["createdAt"].(string))
			require.NoError(t, err)
			assert.Equal(t, Transaction{ID: w["id"].(string), Amount: amount, CreatedAt: at, Description: w["description"].(string)}, v[i])
		}
	case nil:
	default:
		t.Fatalf("unexpected result %T", got)
	}
}

func checkTokens(t *testing.T, ex any, got []TokenInfo) {
	t.Helper()
	want := walk(ex, func(m map[string]any) bool { _, ok := m["token"]; return ok })
	require.Len(t, got, len(want))
	for i, w := range want {
		assert.Equal(t, w["token"], got[i].Token)
		assert.Equal(t, toStrings(w["scopes"]), got[i].Scopes)
		assert.False(t, got[i].ExpiresAt.IsZero())
		if n, ok := w["expire"].(json.Number); ok {
			sec, _ := n.Int64()
			assert.Equal(t, time.Unix(sec, 0).UTC(), got[i].ExpiresAt)
		}
		if s, ok := w["expireAt"].(string); ok {
			at, err := time.Parse(time.RFC3339, s)
			require.NoError(t, err)
			assert.True(t, at.Equal(got[i].ExpiresAt))
		}
		if r, ok := w["refreshToken"].(string); ok {
			assert.Equal(t, r, got[i].RefreshToken)
		}
		if l, ok := w["limits"].(map[string]any); ok {
			require.NotNil(t, got[i].Limits)
			n, _ := l["totalRequests"].(json.Number).Int64()
			assert.Equal(t, n, got[i].Limits.TotalRequests)
		}
		if _, ok := w["stats"]; ok {
			require.NotNil(t, got[i].Stats)
			assert.Equal(t, visengine.Cents(1250), got[i].Stats.WalletAmount)
		}
	}
}

func checkScopes(t *testing.T, ex any, got []Scope) {
	t.Helper()
	var want []string
	for _, m := range walk(ex, func(m map[string]any) bool { _, ok := m["scope"]; return ok }) {
		want = append(want, m["scope"].(string))
	}
	for _, m := range walk(ex, func(m map[string]any) bool { _, ok := m["data"].([]any); return ok }) {
		want = append(want, toStrings(m["data"])...)
	}
	require.NotEmpty(t, want)
	var names []string
	for _, s := range got {
		names = append(names, s.Scope)
		assert.NotEmpty(t, s.Method, s.Scope)
		assert.NotEmpty(t, s.Domain, s.Scope)
		assert.True(t, s.Enabled)
	}
	assert.Equal(t, want, names)
}

// walk returns the objects in v (depth first, in order) that keep says.
func walk(v any, keep func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	switch x := v.(type) {
	case map[string]any:
		if keep(x) {
			return append(out, x)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, walk(x[k], keep)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, walk(e, keep)...)
		}
	}
	return out
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
