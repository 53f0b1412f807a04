package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// leaks returns the forms of secrets (as is, upper and lower case,
// base64) that show in out.
func leaks(out string, secrets ...string) []string {
	var found []string
	for _, s := range secrets {
		for _, form := range []string{s, strings.ToUpper(s), strings.ToLower(s), base64.StdEncoding.EncodeToString([]byte(s))} {
			if form != "" && strings.Contains(out, form) {
				found = append(found, form)
			}
		}
	}
	if strings.Contains(out, strings.TrimPrefix(basicAuth, "Basic ")) {
		found = append(found, "basic auth header")
	}
	return found
}

// A whole session against the fake, logged through slog's JSON and text
// handlers, with every call failing one way or another too: the logs and
// errors hold no e-mail, key, token or refresh token.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	versions(t, func(t *testing.T, v1 bool) {
		f := newFake(t)
		var logs bytes.Buffer
		h := slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})
		th := slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})
		for _, handler := range []slog.Handler{h, th} {
			c := f.client(t, v1, WithLogger(slog.New(handler)))
			secrets, errs := session(t, c, f)
			logger := slog.New(handler)
			ts, err := NewTokenSource(c, WithClock(f.clock.Now))
			require.NoError(t, err)
			tok, err := ts.Token(context.Background())
			require.NoError(t, err)
			secrets = append(secrets, tok.Value)
			logger.Info("values", "client", c, "source", ts, "token", tok, "tokenInfo", TokenInfo{Token: tok.Value, RefreshToken: canaryRefresh})
			var printed strings.Builder
			for _, v := range []any{c, ts, tok, *tok, TokenInfo{Token: tok.Value, RefreshToken: canaryRefresh}, &TokenInfo{Token: tok.Value}} {
				for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
					printed.WriteString(fmt.Sprintf(format, v) + "\n")
				}
			}
			for _, err := range errs {
				for e := err; e != nil; e = errors.Unwrap(e) {
					printed.WriteString(e.Error() + "\n")
					printed.WriteString(fmt.Sprintf("%+v %#v\n", e, e))
				}
			}
			all := append(secrets, canaryEmail, canaryKey, canaryRefresh)
			assert.Empty(t, leaks(logs.String(), all...), "logs")
			assert.Empty(t, leaks(printed.String(), all...), "printed values and errors")
		}
		route, renew := "/tokens/{token}", "PATCH"
		if v1 {
			route, renew = "/token/{token}", "PUT"
		}
		assert.Contains(t, logs.String(), `"method":"`+renew+`","path":"`+route+`"`)
		assert.Contains(t, logs.String(), `"status":404`)
		assert.Contains(t, logs.String(), "method=GET path="+route)
		assert.Contains(t, logs.String(), "status=502")
	})
}

// session makes every call, successful and failing, and returns the
// tokens and refresh tokens it saw and the errors it got.
func session(t *testing.T, c *Client, f *fake) (secrets []string, errs []error) {
	t.Helper()
	ctx := context.Background()
	info, err := c.CreateToken(ctx, CreateTokenParams{Scopes: VisengineScopes(false), TTL: time.Hour})
	require.NoError(t, err)
	secrets = append(secrets, info.Token, info.RefreshToken)
	_, err = c.ListTokens(ctx)
	require.NoError(t, err)
	_, err = c.GetToken(ctx, info.Token)
	require.NoError(t, err)
	_, err = c.RenewToken(ctx, info.Token, 2*time.Hour)
	require.NoError(t, err)
	_, err = c.ListScopes(ctx)
	require.NoError(t, err)
	_, err = c.Credit(ctx)
	require.NoError(t, err)
	require.NoError(t, c.RevokeToken(ctx, info.Token))
	gone := info.Token
	_, err = c.GetToken(ctx, gone)
	errs = append(errs, err)
	_, err = c.RenewToken(ctx, gone, time.Hour)
	errs = append(errs, err)
	errs = append(errs, c.RevokeToken(ctx, gone))
	_, err = c.CreateToken(ctx, CreateTokenParams{Scopes: []string{"GET:nowhere.example.com/x"}})
	errs = append(errs, err)
	f.fail.Store(http.StatusBadGateway)
	_, err = c.GetToken(ctx, gone)
	errs = append(errs, err)
	f.fail.Store(0)
	wrong, err := NewClient(canaryEmail, "wrong"+canaryKey, WithBaseURL(c.BaseURL()), withV1If(c.v1))
	require.NoError(t, err)
	_, err = wrong.Credit(ctx)
	errs = append(errs, err)
	for _, e := range errs {
		require.Error(t, e)
	}
	return secrets, errs
}

func withV1If(v1 bool) Option {
	return func(c *config) error { c.v1 = v1; return nil }
}

// A hostile server echoing the credentials in every field of its answer
// does not get them into an error.
func TestEchoingServer(t *testing.T) {
	c, mt := mockClient(t)
	echo := canaryEmail + " " + canaryKey + " " + canaryToken + " " + canaryRefresh + " " + basicAuth
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		return httpmock.NewJsonResponse(401, map[string]any{"success": false, "message": echo + " " + r.URL.String(), "error": echo, "data": echo})
	})
	_, err := c.UpdateToken(context.Background(), canaryRefresh, UpdateTokenParams{TTL: time.Hour})
	require.Error(t, err)
	assert.ErrorIs(t, err, visengine.ErrUnauthorized)
	assert.Empty(t, leaks(err.Error()+fmt.Sprintf("%+v", err), canaryEmail, canaryKey, canaryToken, canaryRefresh))
}

// A server echoing the account's e-mail percent-encoded, as a query or a
// form carries it (in either hex case), does not get it into an error.
func TestEchoingServerPercentEncodedEmail(t *testing.T) {
	const email = "caf+desk@example.it"
	mt := httpmock.NewMockTransport()
	c, err := NewClient(email, canaryKey, WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	forms := []string{url.QueryEscape(email), strings.ToLower(url.QueryEscape(email)), url.PathEscape(email)}
	mt.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
		return httpmock.NewJsonResponse(401, map[string]any{"success": false, "error": 401,
			"message": "no account email=" + strings.Join(forms, " ")})
	})
	_, err = c.Credit(context.Background())
	require.Error(t, err)
	shown := err.Error() + fmt.Sprintf("%+v", err)
	for _, f := range forms {
		assert.NotContains(t, shown, f)
	}
	assert.NotContains(t, shown, "desk")
}

func TestTokenInfoFormat(t *testing.T) {
	info := TokenInfo{Token: canaryToken, Name: "caf\nfake line", Scopes: []string{"GET:a/b"}, ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), RefreshToken: canaryRefresh}
	assert.Equal(t, `oauth.TokenInfo("caf fake line", expires 2026-01-02T03:04:05Z, scopes GET:a/b)`, info.String())
	assert.Equal(t, `oauth.TokenInfo(expiry unknown, scopes )`, TokenInfo{}.String())
	c, err := NewClient(canaryEmail, canaryKey, WithV1(), WithSandbox())
	require.NoError(t, err)
	assert.Equal(t, "oauth.Client(v1 https://test.oauth.openapi.it)", fmt.Sprintf("%+v", c))
	vt := info.VisengineToken()
	assert.Equal(t, canaryToken, vt.Value)
	assert.Equal(t, info.ExpiresAt, vt.Expiry)
	vt.Scopes[0] = "x"
	assert.Equal(t, "GET:a/b", info.Scopes[0], "a copy")
}
