package oauth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

func TestAPIErrorKinds(t *testing.T) {
	tests := []struct {
		name   string
		v1     bool
		status int
		body   string
		want   error
		temp   bool
		also   error // a second sentinel it matches
	}{
		{"401 html", false, 401, "<html>no</html>", visengine.ErrUnauthorized, false, ErrUnexpectedResponse},
		{"403", true, 403, `{"success":false,"message":"Only single tokens are enabled for this method","error":160,"data":null}`, visengine.ErrUnauthorized, false, nil},
		{"v1 402 wrong token", true, 402, `{"success":false,"message":"Wrong Token","error":125,"data":null}`, visengine.ErrNotFound, false, nil},
		{"402 other", true, 402, `{"success":false,"message":"no credit","error":999,"data":null}`, visengine.ErrInsufficientCredit, false, nil},
		{"v2 402 with v1's code", false, 402, `{"success":false,"message":"x","error":125,"data":null}`, visengine.ErrInsufficientCredit, false, nil},
		{"406", true, 406, `{"success":false,"message":"missing scopes array","error":110,"data":null}`, visengine.ErrInvalidRequest, false, nil},
		{"200 with success false, v2 code", false, 200, `{"success":false,"message":"Not Found","error":120,"data":null}`, visengine.ErrNotFound, false, nil},
		{"200 with success false, v1 code", true, 200, `{"success":false,"message":"Missing Token","error":"290","data":null}`, visengine.ErrNotFound, false, nil},
		{"200 with success false, same number other version", false, 200, `{"success":false,"message":"x","error":110,"data":null}`, visengine.ErrInvalidRequest, false, nil},
		{"429", false, 429, `{"success":false,"message":"slow down","error":null,"data":null}`, nil, true, nil},
		{"502 html", false, 502, `<html>bad gateway</html>`, ErrUnexpectedResponse, true, nil},
		{"501", false, 501, `{"success":false,"message":"no","error":null,"data":null}`, nil, false, nil},
		{"302", false, 302, ``, ErrUnexpectedResponse, false, nil},
		{"200 not json", false, 200, `<html>`, ErrUnexpectedResponse, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.v1 {
				opts = append(opts, WithV1())
			}
			c, mt := mockClient(t, opts...)
			mt.RegisterNoResponder(httpmock.NewStringResponder(tt.status, tt.body))
			_, err := c.GetToken(context.Background(), canaryToken)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.status, ae.StatusCode)
			assert.Equal(t, tt.temp, ae.Temporary())
			all := []error{visengine.ErrUnauthorized, visengine.ErrNotFound, visengine.ErrInsufficientCredit, visengine.ErrInvalidRequest, ErrUnexpectedResponse}
			for _, s := range all {
				if s == tt.want || s == tt.also {
					assert.ErrorIs(t, err, s)
				} else {
					assert.NotErrorIs(t, err, s, "%v", s)
				}
			}
			assert.Contains(t, err.Error(), "GET /token")
			assert.NotContains(t, err.Error(), canaryToken)
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	e := &APIError{StatusCode: 422, Code: 70, Message: "missing scopes array", Method: "POST", Path: "/tokens"}
	assert.Equal(t, "oauth: POST /tokens: HTTP 422 Unprocessable Entity (error 70): missing scopes array", e.Error())
}

// A server message is cleaned: no control or bidi characters, no
// credentials or tokens, at most 256 bytes.
func TestServerMessageCleaned(t *testing.T) {
	msg := "bad\r\nFAKE LOG LINE \u202eevil\u2066 for " + canaryEmail + " key " + strings.ToUpper(canaryKey) +
		" token " + strings.ToUpper(canaryToken) + " other ffffffffffffffffffffffff " + strings.Repeat("é", 300)
	c, mt := mockClient(t)
	mt.RegisterNoResponder(httpmock.NewJsonResponderOrPanic(404, map[string]any{"success": false, "message": msg, "error": 120, "data": nil}))
	_, err := c.GetToken(context.Background(), canaryToken)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	for _, bad := range []string{"\r", "\n", "\u202e", "\u2066", canaryEmail, canaryKey, strings.ToUpper(canaryKey), canaryToken, strings.ToUpper(canaryToken), "ffffffffffffffffffffffff"} {
		assert.NotContains(t, ae.Message, bad)
		assert.NotContains(t, err.Error(), bad)
	}
	assert.Contains(t, ae.Message, "FAKE LOG LINE")
	assert.Contains(t, ae.Message, redacted)
	assert.LessOrEqual(t, len(ae.Message), maxMessage+len("…"))
	assert.True(t, strings.HasSuffix(ae.Message, "…"))
}

// Transport failures say which call failed, not the URL (which holds the
// token), and keep the context's errors for errors.Is.
func TestTransportErrors(t *testing.T) {
	c, mt := mockClient(t)
	// httpmock's own "no responder" error quotes the whole URL.
	_, err := c.GetToken(context.Background(), canaryToken)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), canaryToken)
	assert.Contains(t, err.Error(), "GET /tokens/{token}")
	for unwrapped := errors.Unwrap(err); unwrapped != nil; unwrapped = errors.Unwrap(unwrapped) {
		assert.NotContains(t, unwrapped.Error(), canaryToken)
	}

	mt.RegisterNoResponder(httpmock.NewErrorResponder(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}))
	_, err = c.GetToken(context.Background(), canaryToken)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)

	// Through net/http, against a server that never answers.
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	real, err := NewClient(canaryEmail, canaryKey, WithBaseURL(srv.URL))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = real.GetToken(ctx, canaryToken)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), canaryToken)

	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	_, err = real.Wallet(ctx2)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// A success without what the call returns is an unexpected answer, not a
// zero value.
func TestSuccessWithoutPayload(t *testing.T) {
	tests := []struct {
		name string
		call func(c *Client) error
		body string
	}{
		{"create without token", func(c *Client) error {
			_, err := c.CreateToken(context.Background(), CreateTokenParams{Scopes: []string{"GET:a.b/c"}})
			return err
		}, `{"success":true,"data":null}`},
		{"get two tokens", func(c *Client) error { _, err := c.GetToken(context.Background(), canaryToken); return err },
			`{"data":[{"token":"a"},{"token":"b"}]}`},
		{"wallet without credit", func(c *Client) error { _, err := c.Credit(context.Background()); return err }, `{"data":{}}`},
		{"wallet with bad credit", func(c *Client) error { _, err := c.Credit(context.Background()); return err }, `{"data":{"credit":"lots"}}`},
		{"bad expiry", func(c *Client) error { _, err := c.GetToken(context.Background(), canaryToken); return err },
			`{"token":"` + canaryToken + `","expireAt":"next tuesday"}`},
		{"scopes not a list", func(c *Client) error { _, err := c.ListScopes(context.Background()); return err }, `{"data":7}`},
		{"empty body", func(c *Client) error { _, err := c.ListTokens(context.Background()); return err }, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := mockClient(t)
			mt.RegisterNoResponder(httpmock.NewStringResponder(200, tt.body))
			err := tt.call(c)
			assert.ErrorIs(t, err, ErrUnexpectedResponse)
			if err != nil {
				assert.NotContains(t, err.Error(), canaryToken)
			}
		})
	}
}

// Bad arguments are refused before anything is sent.
func TestInvalidArguments(t *testing.T) {
	ctx := context.Background()
	c, mt := mockClient(t)
	v1, _ := mockClient(t, WithV1())
	calls := map[string]func() error{
		"create no scopes": func() error { _, err := c.CreateToken(ctx, CreateTokenParams{}); return err },
		"create bad scope": func() error { _, err := c.CreateToken(ctx, CreateTokenParams{Scopes: []string{"visure"}}); return err },
		"create scope blank": func() error {
			_, err := c.CreateToken(ctx, CreateTokenParams{Scopes: []string{"GET:a b/c"}})
			return err
		},
		"create negative ttl": func() error {
			_, err := c.CreateToken(ctx, CreateTokenParams{Scopes: []string{"GET:a.b/c"}, TTL: -time.Second})
			return err
		},
		"create fractional ttl": func() error {
			_, err := c.CreateToken(ctx, CreateTokenParams{Scopes: []string{"GET:a.b/c"}, TTL: 1500 * time.Millisecond})
			return err
		},
		"v1 name": func() error {
			_, err := v1.CreateToken(ctx, CreateTokenParams{Scopes: []string{"GET:a.b/c"}, Name: "x"})
			return err
		},
		"v1 limits": func() error {
			_, err := v1.CreateToken(ctx, CreateTokenParams{Scopes: []string{"GET:a.b/c"}, Limits: &TokenLimits{}})
			return err
		},
		"v1 ttl over a year": func() error {
			_, err := v1.CreateToken(ctx, CreateTokenParams{Scopes: []string{"GET:a.b/c"}, TTL: 366 * 24 * time.Hour})
			return err
		},
		"get empty token":      func() error { _, err := c.GetToken(ctx, " "); return err },
		"get token with path":  func() error { _, err := c.GetToken(ctx, "../wallet"); return err },
		"get token with query": func() error { _, err := c.GetToken(ctx, "abc?x=1"); return err },
		"update nothing":       func() error { _, err := c.UpdateToken(ctx, canaryToken, UpdateTokenParams{}); return err },
		"renew zero":           func() error { _, err := c.RenewToken(ctx, canaryToken, 0); return err },
		"revoke escaped":       func() error { return c.RevokeToken(ctx, "a%2Fb") },
		//lint:ignore SA1012 a nil context is what is being tested
		"nil context": func() error { _, err := c.ListTokens(nil); return err },
	}
	for name, call := range calls {
		err := call()
		assert.ErrorIs(t, err, visengine.ErrInvalidArgument, name)
	}
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestNewClientValidates(t *testing.T) {
	tests := []struct {
		name        string
		email, key  string
		opts        []Option
		mustNotEcho string
	}{
		{"empty email", "", canaryKey, nil, canaryKey},
		{"empty key", canaryEmail, " ", nil, canaryEmail},
		{"colon in email", "a:b@example.it", canaryKey, nil, canaryKey},
		{"blank in key", canaryEmail, "abc def", nil, canaryEmail},
		{"non-ASCII key", canaryEmail, "abcè", nil, canaryEmail},
		{"newline in email", "a\n@example.it", canaryKey, nil, canaryKey},
		{"http not loopback", canaryEmail, canaryKey, []Option{WithBaseURL("http://oauth.example.com")}, canaryKey},
		{"userinfo", canaryEmail, canaryKey, []Option{WithBaseURL("https://user:" + canaryKey + "@oauth.example.com")}, canaryKey},
		{"query", canaryEmail, canaryKey, []Option{WithBaseURL("https://oauth.example.com/?key=" + canaryKey)}, canaryKey},
		{"no host", canaryEmail, canaryKey, []Option{WithBaseURL("https:///x")}, canaryKey},
		{"ftp", canaryEmail, canaryKey, []Option{WithBaseURL("ftp://127.0.0.1")}, canaryKey},
		{"nil http client", canaryEmail, canaryKey, []Option{WithHTTPClient(nil)}, canaryKey},
		{"nil option", canaryEmail, canaryKey, []Option{nil}, canaryKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.email, tt.key, tt.opts...)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, visengine.ErrInvalidArgument)
			assert.NotContains(t, err.Error(), tt.mustNotEcho)
			assert.NotContains(t, err.Error(), canaryEmail)
		})
	}
	// The URL's host and path are shown, to say which one is wrong.
	_, err := NewClient(canaryEmail, canaryKey, WithBaseURL("http://oauth.example.com/v2?k=1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "oauth.example.com")
	_, err = NewClient(canaryEmail, canaryKey, WithBaseURL("http://oauth.example.com/v2"))
	assert.Contains(t, err.Error(), `"http://oauth.example.com/v2"`)
}

// A redirect is not followed: it would carry the credentials elsewhere.
func TestRedirectNotFollowed(t *testing.T) {
	c, mt := mockClient(t)
	mt.RegisterResponder("GET", ProductionURL+"/wallet", func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(http.StatusFound, "")
		r.Header.Set("Location", "https://evil.example.com/wallet")
		return r, nil
	})
	_, err := c.Wallet(context.Background())
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}
