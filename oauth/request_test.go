package oauth

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

const (
	v2Detail = `{"token":"` + canaryToken + `","name":"n","createdAt":"2025-11-19T10:00:00Z","expireAt":"2025-12-19T10:00:00Z","scopes":["GET:visengine2.altravia.com/visure"],"refreshToken":"` + canaryRefresh + `"}`
	v1Single = `{"data":[{"scopes":["GET:visengine2.altravia.com/visure"],"expire":1627139406,"token":"` + canaryToken + `"}],"success":true,"message":"","error":null}`
	v1Create = `{"scopes":["GET:visengine2.altravia.com/visure"],"expire":1634223407,"token":"` + canaryToken + `","success":true,"message":"","error":null}`
)

// call is one SDK call with the request it must send and an answer that
// satisfies it.
type shapeCase struct {
	name   string
	v1     bool
	do     func(ctx context.Context, c *Client) error
	method string
	url    string
	body   string // JSON, "" for none
	answer string
}

func shapeCases() []shapeCase {
	scopes := []string{"GET:visengine2.altravia.com/visure", "POST:visengine2.altravia.com/richiesta"}
	limits := &TokenLimits{TotalRequests: 10000, WalletRequests: 1000, WalletAmount: visengine.Cents(5000), IP: []string{"192.168.1.1"}}
	return []shapeCase{
		{"create", false, func(ctx context.Context, c *Client) error {
			_, err := c.CreateToken(ctx, CreateTokenParams{Scopes: scopes, Name: "caf", TTL: 30 * 24 * time.Hour, Limits: limits})
			return err
		}, "POST", ProductionURL + "/tokens",
			`{"scopes":["GET:visengine2.altravia.com/visure","POST:visengine2.altravia.com/richiesta"],"name":"caf","ttl":2592000,
			  "limits":{"totalRequests":10000,"walletRequests":1000,"walletAmount":50.00,"ip":["192.168.1.1"]}}`, v2Detail},
		{"create minimal", false, func(ctx context.Context, c *Client) error {
			_, err := c.CreateToken(ctx, CreateTokenParams{Scopes: scopes[:1]})
			return err
		}, "POST", ProductionURL + "/tokens", `{"scopes":["GET:visengine2.altravia.com/visure"]}`, v2Detail},
		{"list", false, func(ctx context.Context, c *Client) error { _, err := c.ListTokens(ctx); return err },
			"GET", ProductionURL + "/tokens?limit=100&skip=0", "", `{"data":[` + v2Detail + `]}`},
		{"get", false, func(ctx context.Context, c *Client) error { _, err := c.GetToken(ctx, canaryToken); return err },
			"GET", ProductionURL + "/tokens/" + canaryToken, "", v2Detail},
		{"update", false, func(ctx context.Context, c *Client) error {
			_, err := c.UpdateToken(ctx, canaryToken, UpdateTokenParams{Scopes: scopes[:1], Name: "x", TTL: time.Hour})
			return err
		}, "PATCH", ProductionURL + "/tokens/" + canaryToken, `{"scopes":["GET:visengine2.altravia.com/visure"],"name":"x","ttl":3600}`, v2Detail},
		{"renew", false, func(ctx context.Context, c *Client) error {
			_, err := c.RenewToken(ctx, canaryToken, 7*24*time.Hour)
			return err
		},
			"PATCH", ProductionURL + "/tokens/" + canaryToken, `{"ttl":604800}`, v2Detail},
		{"revoke", false, func(ctx context.Context, c *Client) error { return c.RevokeToken(ctx, canaryToken) },
			"DELETE", ProductionURL + "/tokens/" + canaryToken, "", `{"message":"Deleted","data":null}`},
		{"scopes", false, func(ctx context.Context, c *Client) error { _, err := c.ListScopes(ctx); return err },
			"GET", ProductionURL + "/scopes", "", `{"data":[{"id":"1","scope":"GET:a.b/c","method":"GET","endpoint":"c","domain":"a.b","enabled":true}]}`},
		{"wallet", false, func(ctx context.Context, c *Client) error { _, err := c.Credit(ctx); return err },
			"GET", ProductionURL + "/wallet", "", `{"data":{"credit":125.5}}`},

		{"create", true, func(ctx context.Context, c *Client) error {
			_, err := c.CreateToken(ctx, CreateTokenParams{Scopes: scopes, TTL: 30 * 24 * time.Hour})
			return err
		}, "POST", ProductionURLV1 + "/token", `{"scopes":["GET:visengine2.altravia.com/visure","POST:visengine2.altravia.com/richiesta"],"ttl":2592000}`, v1Create},
		{"list", true, func(ctx context.Context, c *Client) error { _, err := c.ListTokens(ctx); return err },
			"GET", ProductionURLV1 + "/token", "", v1Single},
		{"get", true, func(ctx context.Context, c *Client) error { _, err := c.GetToken(ctx, canaryToken); return err },
			"GET", ProductionURLV1 + "/token/" + canaryToken, "", v1Single},
		{"update", true, func(ctx context.Context, c *Client) error {
			_, err := c.UpdateToken(ctx, canaryToken, UpdateTokenParams{Scopes: scopes[:1], TTL: time.Hour})
			return err
		}, "PATCH", ProductionURLV1 + "/token/" + canaryToken, `{"scopes":["GET:visengine2.altravia.com/visure"],"ttl":3600}`, v1Single},
		{"renew", true, func(ctx context.Context, c *Client) error {
			_, err := c.renewToken(ctx, canaryToken, 7*24*time.Hour, scopes[:1], time.Unix(1_700_000_000, 0))
			return err
		},
			"PUT", ProductionURLV1 + "/token/" + canaryToken, `{"scopes":["GET:visengine2.altravia.com/visure"],"expire":1700604800}`, v1Single},
		{"revoke", true, func(ctx context.Context, c *Client) error { return c.RevokeToken(ctx, canaryToken) },
			"DELETE", ProductionURLV1 + "/token/" + canaryToken, "", `{"message":"1 deleted token","success":true,"error":null}`},
		{"scopes", true, func(ctx context.Context, c *Client) error { _, err := c.ListScopes(ctx); return err },
			"GET", ProductionURLV1 + "/scopes", "", `{"data":{"data":["GET:a.b/c"]},"success":true,"message":"","error":null}`},
		{"credit", true, func(ctx context.Context, c *Client) error { _, err := c.Credit(ctx); return err },
			"GET", ProductionURLV1 + "/credit", "", `{"data":{"credit":423.38},"success":true,"message":"","error":null}`},
	}
}

// Every call sends the method, URL, Basic auth and JSON body the spec asks.
func TestRequestShapes(t *testing.T) {
	for _, tc := range shapeCases() {
		name := "v2 " + tc.name
		if tc.v1 {
			name = "v1 " + tc.name
		}
		t.Run(name, func(t *testing.T) {
			var opts []Option
			if tc.v1 {
				opts = append(opts, WithV1())
			}
			c, mt := mockClient(t, opts...)
			var got *http.Request
			var body []byte
			mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
				got = r
				if r.Body != nil {
					body, _ = io.ReadAll(r.Body)
				}
				return httpmock.NewStringResponse(200, tc.answer), nil
			})
			require.NoError(t, tc.do(context.Background(), c))
			require.NotNil(t, got)
			assert.Equal(t, tc.method, got.Method)
			assert.Equal(t, tc.url, got.URL.String())
			assert.Equal(t, basicAuth, got.Header.Get("Authorization"))
			assert.Equal(t, "application/json", got.Header.Get("Accept"))
			if tc.body == "" {
				assert.Empty(t, body)
				assert.Empty(t, got.Header.Get("Content-Type"))
				return
			}
			assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
			assert.JSONEq(t, tc.body, string(body))
		})
	}
}

// The sandbox options pick the spec's sandbox servers.
func TestEnvironments(t *testing.T) {
	tests := []struct {
		opts    []Option
		base    string
		sandbox bool
	}{
		{nil, ProductionURL, false},
		{[]Option{WithSandbox()}, SandboxURL, true},
		{[]Option{WithV1()}, ProductionURLV1, false},
		{[]Option{WithSandbox(), WithV1()}, SandboxURLV1, true},
		{[]Option{WithBaseURL("https://test.oauth.example.com/")}, "https://test.oauth.example.com", true},
		{[]Option{WithBaseURL("http://127.0.0.1:9/v2"), WithSandbox()}, "http://127.0.0.1:9/v2", true},
		{[]Option{WithBaseURL("http://[::1]:9")}, "http://[::1]:9", false},
	}
	for _, tt := range tests {
		c, err := NewClient(canaryEmail, canaryKey, tt.opts...)
		require.NoError(t, err)
		assert.Equal(t, tt.base, c.BaseURL())
		assert.Equal(t, tt.sandbox, c.Sandbox(), tt.base)
	}
}

// v2 pages through GET /tokens 100 at a time until a short page.
func TestListTokensPages(t *testing.T) {
	c, mt := mockClient(t)
	page := func(n int) string {
		s := `{"data":[`
		for i := 0; i < n; i++ {
			if i > 0 {
				s += ","
			}
			s += v2Detail
		}
		return s + `]}`
	}
	mt.RegisterResponder("GET", ProductionURL+"/tokens?limit=100&skip=0", httpmock.NewStringResponder(200, page(100)))
	mt.RegisterResponder("GET", ProductionURL+"/tokens?limit=100&skip=100", httpmock.NewStringResponder(200, page(100)))
	mt.RegisterResponder("GET", ProductionURL+"/tokens?limit=100&skip=200", httpmock.NewStringResponder(200, page(3)))
	list, err := c.ListTokens(context.Background())
	require.NoError(t, err)
	assert.Len(t, list, 203)
	assert.Equal(t, 3, mt.GetTotalCallCount())
}

// v1 answers 204 to a list with nothing in it, and to an unknown token.
func TestV1NoContent(t *testing.T) {
	c, mt := mockClient(t, WithV1())
	mt.RegisterNoResponder(httpmock.NewStringResponder(204, ""))
	list, err := c.ListTokens(context.Background())
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = c.GetToken(context.Background(), canaryToken)
	assert.ErrorIs(t, err, visengine.ErrNotFound)
	assert.NotContains(t, err.Error(), canaryToken)
}
