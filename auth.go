package visengine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/visengine-go/visengine/internal/transport"
)

// The hosts Visengine's scopes name: production, and the sandbox with the
// "test." prefix Openapi adds to every sandbox scope.
const (
	productionHost = "visengine2.altravia.com"
	sandboxHost    = "test." + productionHost
)

// tokenAuth is what a client with a TokenSource does around each call: check
// the token's scopes before sending, renew the token after a 401. Its zero
// value (a fixed token) does neither.
type tokenAuth struct {
	source  TokenSource
	renewer TokenRenewer // source, when it can renew; nil otherwise
	host    string       // the Visengine host scopes name; "" to read it from the token
	logger  *slog.Logger
}

func newTokenAuth(cfg *config, base *url.URL) tokenAuth {
	if cfg.source == nil {
		return tokenAuth{}
	}
	a := tokenAuth{source: cfg.source, host: cfg.scopeHost, logger: cfg.logger}
	a.renewer, _ = cfg.source.(TokenRenewer)
	if a.host == "" {
		if h := strings.ToLower(base.Hostname()); h == productionHost || h == sandboxHost {
			a.host = h
		}
	}
	return a
}

// setToken decides where the token comes from: the source, or the fixed
// token given to NewClient. Both at once is refused, since it is unclear
// which one the caller meant to be used.
func (cfg *config) setToken(token string) error {
	switch {
	case cfg.source != nil && token != "":
		return errorf("%w: NewClient: give an empty token with WithTokenSource, which supplies it", ErrInvalidArgument)
	case cfg.source != nil:
		cfg.token = sourceToken(cfg.source)
		return nil
	}
	if err := transport.CheckToken(token); err != nil {
		return errorf("%w: %w", ErrInvalidArgument, err)
	}
	cfg.token = transport.StaticToken(token)
	return nil
}

// sourceToken asks ts for the token of each attempt.
func sourceToken(ts TokenSource) transport.TokenFunc {
	return func(ctx context.Context) (string, error) {
		tok, err := ts.Token(ctx)
		if err != nil {
			return "", err
		}
		if tok == nil {
			return "", errNoToken
		}
		return tok.Value, nil
	}
}

var errNoToken = errors.New("the token source returned no token and no error")

// isNil reports a nil interface value, including one holding a typed nil
// pointer (a nil *oauth.TokenSource), whose methods would panic at the
// first call.
func isNil(x any) bool {
	if x == nil {
		return true
	}
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Interface, reflect.Slice, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// validHost reports whether host can be the host part of a scope.
func validHost(host string) bool {
	return host != "" && strings.IndexFunc(host, func(r rune) bool {
		return r <= ' ' || r > '~' || strings.ContainsRune("/:*@?#", r)
	}) < 0
}

// send runs one API call: the scope check, the call, and after a 401 one
// renewal of the token and one more sending of the call.
func (c *Client) send(ctx context.Context, call *transport.Call, body []byte) (*http.Response, error) {
	if err := c.checkScope(ctx, call); err != nil {
		return nil, err
	}
	resp, err := c.sendOnce(ctx, call, body)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || c.auth.renewer == nil {
		return resp, err
	}
	return c.renewAndResend(ctx, call, resp, body)
}

// checkScope fails a call the token's scopes do not cover, before anything
// is sent, as Openapi's PHP SDK does. It checks only what it knows: a
// token whose Scopes are empty, or whose Visengine host cannot be told
// (see WithScopeHost), is left for the server to judge.
func (c *Client) checkScope(ctx context.Context, call *transport.Call) error {
	if c.auth.source == nil {
		return nil
	}
	tok, err := c.auth.source.Token(ctx)
	if err == nil && tok == nil {
		err = errNoToken
	}
	if err != nil {
		return errorf("%s %s not sent: no token: %w", call.Method, call.Path, err)
	}
	if len(tok.Scopes) == 0 {
		return nil // unknown: only the server can tell
	}
	host := c.auth.host
	if host == "" {
		host = visengineHostOf(tok.Scopes)
	}
	if host == "" {
		return nil
	}
	if scope := ScopeFor(host, call.Method, call.Path); !tok.HasScope(scope) {
		return errorf("%s %s not sent: %w: %s", call.Method, call.Path, ErrMissingScope, scope)
	}
	return nil
}

// visengineHostOf returns the one Visengine host (production, sandbox or
// another stage of visengine2.altravia.com) that scopes name without a
// wildcard, or "" when they name none, or several.
func visengineHostOf(scopes []string) string {
	found := ""
	for _, s := range scopes {
		p, ok := splitScope(s)
		if !ok || strings.Contains(p.host, "*") || p.host != productionHost && !strings.HasSuffix(p.host, "."+productionHost) {
			continue
		}
		if found != "" && found != p.host {
			return ""
		}
		found = p.host
	}
	return found
}

// renewAndResend handles a 401: it renews the token that was refused and
// sends the call once more.
//
// This is safe for every call, the paid ones included (POST /richiesta,
// the closing PUT, PUT …/ricerche), although a paid call is otherwise
// never sent twice: a 401 means the gateway refused the request for its
// token before the service did anything with it, so nothing was created
// and nothing was charged. The call is then, as far as the server is
// concerned, not sent yet (call.Refused), and sending it again is the
// first time it can take effect. Only one renewal and one resend are
// made: a second 401 is returned as the *APIError it is
// (ErrUnauthorized). Renew is given the token the refused attempt carried,
// so that concurrent calls refused for the same token share one renewal.
func (c *Client) renewAndResend(ctx context.Context, call *transport.Call, refused *http.Response, body []byte) (*http.Response, error) {
	rejected := call.SentToken()
	if rejected == "" {
		return refused, nil
	}
	if _, err := c.auth.renewer.Renew(ctx, &Token{Value: rejected}); err != nil {
		defer refused.Body.Close()
		c.auth.log(ctx, slog.LevelWarn, "visengine token refused, renewal failed", call)
		if _, apiErr := decodeResult(ctx, refused, call, body, maxResponseBody, nil); apiErr != nil {
			return nil, errorf("%w; renewing the token failed: %w", apiErr, err)
		}
		return nil, errorf("%s %s: renewing the token after HTTP 401 failed: %w", call.Method, call.Path, err)
	}
	// Drain what is left of the answer so its connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(refused.Body, maxErrorBody))
	refused.Body.Close()
	call.Refused()
	c.auth.log(ctx, slog.LevelInfo, "visengine token refused, renewed; sending again", call)
	return c.sendOnce(ctx, call, body)
}

// log writes one line about the token, naming the call only.
func (a *tokenAuth) log(ctx context.Context, level slog.Level, msg string, call *transport.Call) {
	if a.logger != nil {
		a.logger.LogAttrs(ctx, level, msg, slog.String("method", call.Method), slog.String("path", call.Path))
	}
}
