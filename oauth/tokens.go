package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
)

// maxTTLV1 is the longest lifetime OAuth v1 grants ("up to one year").
const maxTTLV1 = 365 * 24 * time.Hour

// maxListPages bounds ListTokens on v2, 100 tokens a page: a server that
// keeps answering full pages cannot keep it looping.
const maxListPages = 1000

// TokenInfo is a token as the OAuth service describes it, the same type on
// v1 and v2. What a version does not give stays zero (v1 has no name,
// creation time, refresh token, limits or stats). Printing a TokenInfo
// (fmt, slog) never shows Token or RefreshToken.
type TokenInfo struct {
	Token        string       // the bearer token for the APIs its scopes name
	Name         string       // v2: the name given at creation
	Scopes       []string     // "METHOD:host/segment", as the server expanded them
	ExpiresAt    time.Time    // when it stops working (v1 "expire", v2 "expireAt")
	CreatedAt    time.Time    // v2
	UpdatedAt    time.Time    // v2
	RefreshToken string       // v2: lets PATCH /tokens/{token} be called without the API key
	Limits       *TokenLimits // v2: caps set on the token; nil if none
	Stats        *TokenStats  // v2: use so far; nil if not given
}

// TokenLimits caps what a v2 token may spend. Zero fields are not limited.
type TokenLimits struct {
	TotalRequests        int64           `json:"totalRequests,omitempty"`
	WalletRequests       int64           `json:"walletRequests,omitempty"`
	SubscriptionRequests int64           `json:"subscriptionRequests,omitempty"`
	WalletAmount         visengine.Price `json:"walletAmount,omitzero"` // sent in euro
	IP                   []string        `json:"ip,omitempty"`          // addresses allowed to use the token
}

// TokenStats is what a v2 token has been used for.
type TokenStats struct {
	TotalRequests        int64
	WalletRequests       int64
	SubscriptionRequests int64
	ErrorRequests        int64
	WalletAmount         visengine.Price // spent from the wallet
	IP                   []string        // addresses that used it
}

// String describes the token without its value or refresh token.
func (t TokenInfo) String() string {
	var b strings.Builder
	b.WriteString("oauth.TokenInfo(")
	if t.Name != "" {
		b.WriteString(strconv.Quote(cleanMessage(t.Name)) + ", ")
	}
	if t.ExpiresAt.IsZero() {
		b.WriteString("expiry unknown")
	} else {
		b.WriteString("expires " + t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, ", scopes %s)", strings.Join(t.Scopes, " "))
	return b.String()
}

// GoString is String, so %#v does not print the token either.
func (t TokenInfo) GoString() string { return t.String() }

// Format prints String for every verb, so %+v cannot reach the token.
func (t TokenInfo) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// LogValue logs String: slog's JSON handler would otherwise marshal Token.
func (t TokenInfo) LogValue() slog.Value { return slog.StringValue(t.String()) }

// VisengineToken returns the token as a visengine.Token, for a client's
// token source.
func (t *TokenInfo) VisengineToken() *visengine.Token {
	if t == nil {
		return nil
	}
	return &visengine.Token{Value: t.Token, Expiry: t.ExpiresAt, Scopes: append([]string(nil), t.Scopes...)}
}

// CreateTokenParams is what a new token is for.
type CreateTokenParams struct {
	Scopes []string      // required: "METHOD:host/segment", wildcards allowed ("*:visengine2.altravia.com/*")
	Name   string        // v2 only: a label shown in the console
	TTL    time.Duration // lifetime, whole seconds; zero leaves the server's default (v1: one year); v1 allows at most a year
	Limits *TokenLimits  // v2 only
}

// UpdateTokenParams changes a token; zero fields stay as they are.
type UpdateTokenParams struct {
	Scopes []string      // replaces the scopes
	Name   string        // v2 only
	TTL    time.Duration // a new lifetime, from now; whole seconds
	Limits *TokenLimits  // v2 only
}

// tokenBody is the JSON of a create or update.
type tokenBody struct {
	Scopes []string     `json:"scopes,omitempty"`
	Name   string       `json:"name,omitempty"`
	TTL    int64        `json:"ttl,omitempty"`
	Limits *TokenLimits `json:"limits,omitempty"`
}

// CreateToken creates a token for p.Scopes: POST /tokens on v2, POST /token
// on v1. Creating a token is free; the calls made with it are what costs.
func (c *Client) CreateToken(ctx context.Context, p CreateTokenParams) (*TokenInfo, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if len(p.Scopes) == 0 {
		return nil, invalidArg("scopes", "are empty")
	}
	body, err := c.tokenBody(UpdateTokenParams(p))
	if err != nil {
		return nil, err
	}
	r := request{method: http.MethodPost, path: c.route("/tokens", "/token"), body: body}
	r.route = r.path
	return c.oneToken(ctx, r)
}

// ListTokens returns the account's tokens: GET /tokens on v2, page after
// page; GET /token on v1, which lists only unexpired ones.
func (c *Client) ListTokens(ctx context.Context) ([]TokenInfo, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if c.v1 {
		r := request{method: http.MethodGet, path: "/token", route: "/token"}
		list, _, err := c.tokens(ctx, r)
		return list, err
	}
	const page = 100
	var all []TokenInfo
	for i := 0; i < maxListPages; i++ {
		q := url.Values{"limit": {strconv.Itoa(page)}, "skip": {strconv.Itoa(i * page)}}
		got, _, err := c.tokens(ctx, request{method: http.MethodGet, path: "/tokens", route: "/tokens", query: q})
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
		if len(got) < page {
			return all, nil
		}
	}
	return all, nil
}

// GetToken returns one token: GET /tokens/{token} on v2, GET /token/{token}
// on v1. An unknown token gives an error matching visengine.ErrNotFound.
func (c *Client) GetToken(ctx context.Context, token string) (*TokenInfo, error) {
	r, err := c.tokenRequest(http.MethodGet, token, nil)
	if err != nil {
		return nil, err
	}
	return c.oneToken(ctx, r)
}

// UpdateToken changes a token's scopes, lifetime (and on v2 its name and
// limits): PATCH /tokens/{token} on v2, PATCH /token/{token} on v1. The
// token keeps its value. It authenticates with the e-mail and API key, so
// the refresh token, the spec's alternative for PATCH on v2, is not needed.
func (c *Client) UpdateToken(ctx context.Context, token string, p UpdateTokenParams) (*TokenInfo, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	body, err := c.tokenBody(p)
	if err != nil {
		return nil, err
	}
	if body.Scopes == nil && body.Name == "" && body.TTL == 0 && body.Limits == nil {
		return nil, invalidArg("update", "changes nothing")
	}
	if c.v1 && len(body.Scopes) == 0 {
		// The v1 spec requires them on PATCH; without them it answers 406/310.
		return nil, invalidArg("scopes", "are required by OAuth v1 on every update (RenewToken keeps the current ones)")
	}
	r, err := c.tokenRequest(http.MethodPatch, token, body)
	if err != nil {
		return nil, err
	}
	return c.oneToken(ctx, r)
}

// RenewToken extends a token to live ttl from now, keeping its value and
// scopes. On v2 it is UpdateToken with only a TTL. On v1, whose PATCH
// requires the scopes (406, error 310, without them), it reads the token's
// scopes (GET /token/{token}) and sends them back with the new expiry in
// PUT /token/{token}, {"scopes": […], "expire": <Unix seconds>}, as
// Openapi's PHP SDK renews; the expiry is counted from this machine's
// clock.
func (c *Client) RenewToken(ctx context.Context, token string, ttl time.Duration) (*TokenInfo, error) {
	return c.renewToken(ctx, token, ttl, nil, time.Now())
}

// renewToken is RenewToken; on v1, scopes (when known) spare the GET and
// now is the clock the expiry is counted from.
func (c *Client) renewToken(ctx context.Context, token string, ttl time.Duration, scopes []string, now time.Time) (*TokenInfo, error) {
	if ttl <= 0 {
		return nil, invalidArg("ttl", "must be positive")
	}
	if err := c.usable(); err != nil {
		return nil, err
	}
	if !c.v1 {
		return c.UpdateToken(ctx, token, UpdateTokenParams{TTL: ttl})
	}
	if _, err := c.tokenBody(UpdateTokenParams{Scopes: scopes, TTL: ttl}); err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		info, err := c.GetToken(ctx, token)
		if err != nil {
			return nil, err
		}
		if scopes = info.Scopes; len(scopes) == 0 {
			return nil, fmt.Errorf("%w: GET /token/{token}: the token has no scopes to renew it with", ErrUnexpectedResponse)
		}
	}
	body := v1ReplaceBody{Scopes: scopes, Expire: now.Add(ttl).Unix()}
	r, err := c.tokenRequest(http.MethodPut, token, body)
	if err != nil {
		return nil, err
	}
	return c.oneToken(ctx, r)
}

// v1ReplaceBody is v1's PUT /token/{token} (ScopesEdit): every field is
// replaced, the scopes are required, and the expiry is absolute.
type v1ReplaceBody struct {
	Scopes []string `json:"scopes"`
	Expire int64    `json:"expire"`
}

// RevokeToken deletes a token, which stops working at once: DELETE
// /tokens/{token} on v2, DELETE /token/{token} on v1.
func (c *Client) RevokeToken(ctx context.Context, token string) error {
	r, err := c.tokenRequest(http.MethodDelete, token, nil)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, r)
	return err
}

// route picks the v2 or the v1 path.
func (c *Client) route(v2, v1 string) string {
	if c.v1 {
		return v1
	}
	return v2
}

// tokenRequest builds a call on one token, whose value goes in the path
// but never into logs or errors (route says "{token}").
func (c *Client) tokenRequest(method, token string, body any) (request, error) {
	if err := c.usable(); err != nil {
		return request{}, err
	}
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return request{}, invalidArg("token", "is empty")
	case strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r > '~' || strings.ContainsRune("/?#%\\", r) }) >= 0:
		return request{}, invalidArg("token", "is malformed")
	}
	prefix := c.route("/tokens/", "/token/")
	return request{method: method, path: prefix + token, route: prefix + "{token}", body: body, secret: token}, nil
}

// tokenBody checks p against what the version supports.
func (c *Client) tokenBody(p UpdateTokenParams) (*tokenBody, error) {
	for _, s := range p.Scopes {
		if !validScope(s) {
			return nil, invalidArg(fmt.Sprintf("scope %q", cleanMessage(s)), "is not METHOD:host/segment")
		}
	}
	switch {
	case p.TTL < 0 || p.TTL%time.Second != 0:
		return nil, invalidArg("ttl", "must be zero or a positive whole number of seconds")
	case c.v1 && p.TTL > maxTTLV1:
		return nil, invalidArg("ttl", "exceeds one year, the most OAuth v1 grants")
	case c.v1 && p.Name != "":
		return nil, invalidArg("name", "is not supported by OAuth v1")
	case c.v1 && p.Limits != nil:
		return nil, invalidArg("limits", "are not supported by OAuth v1")
	}
	return &tokenBody{Scopes: p.Scopes, Name: p.Name, TTL: int64(p.TTL / time.Second), Limits: p.Limits}, nil
}

// validScope checks the shape METHOD:host/segment, wildcards included.
func validScope(s string) bool {
	method, rest, ok := strings.Cut(s, ":")
	host, _, ok2 := strings.Cut(rest, "/")
	return ok && ok2 && method != "" && host != "" &&
		strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) < 0
}

// oneToken makes a call that answers one token.
func (c *Client) oneToken(ctx context.Context, r request) (*TokenInfo, error) {
	list, status, err := c.tokens(ctx, r)
	if err != nil {
		return nil, err
	}
	switch {
	case len(list) != 1:
		return nil, c.unexpected(r, status, "expected one token, got %d", len(list))
	case list[0].Token == "":
		return nil, c.unexpected(r, status, "answer holds no token")
	}
	return &list[0], nil
}

// tokens makes a call that answers tokens, in any of the shapes the two
// versions use. v1 answers 204 when there is nothing: to a list, an empty
// list; to a get, "not found".
func (c *Client) tokens(ctx context.Context, r request) ([]TokenInfo, int, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, 0, err
	}
	if resp.status == http.StatusNoContent && r.method == http.MethodGet {
		if r.secret != "" {
			return nil, 0, &APIError{StatusCode: resp.status, Method: r.method, Path: r.route, Message: "no such token", v1: c.v1, kindOf: visengine.ErrNotFound}
		}
		return nil, resp.status, nil
	}
	list, err := decodeTokens(resp.body)
	if err != nil {
		return nil, 0, c.unexpected(r, resp.status, "decoding tokens: %s", describeJSONError(err))
	}
	return list, resp.status, nil
}

// decodeTokens reads the tokens of an answer: a token at the top level
// (v1 create, v2 per its schema), under "data", or a list under "data".
func decodeTokens(body []byte) ([]TokenInfo, error) {
	raw, err := payload(body)
	if err != nil {
		return nil, err
	}
	list, err := items(raw)
	if err != nil {
		return nil, err
	}
	out := make([]TokenInfo, 0, len(list))
	for _, item := range list {
		var w tokenWire
		if err := json.Unmarshal(item, &w); err != nil {
			return nil, err
		}
		out = append(out, w.info())
	}
	return out, nil
}

// tokenWire is a token in either version's JSON.
type tokenWire struct {
	Token        string      `json:"token"`
	Name         string      `json:"name"`
	Scopes       flexStrings `json:"scopes"`
	Expire       flexTime    `json:"expire"`   // v1
	ExpireAt     flexTime    `json:"expireAt"` // v2
	CreatedAt    flexTime    `json:"createdAt"`
	UpdatedAt    flexTime    `json:"updatedAt"`
	RefreshToken string      `json:"refreshToken"`
	Limits       *usageWire  `json:"limits"`
	Stats        *usageWire  `json:"stats"`
}

// usageWire holds the fields that limits and stats share.
type usageWire struct {
	TotalRequests        flexInt     `json:"totalRequests"`
	WalletRequests       flexInt     `json:"walletRequests"`
	SubscriptionRequests flexInt     `json:"subscriptionRequests"`
	ErrorRequests        flexInt     `json:"errorRequests"`
	WalletAmount         money       `json:"walletAmount"`
	IP                   flexStrings `json:"ip"`
}

func (w tokenWire) info() TokenInfo {
	t := TokenInfo{
		Token: w.Token, Name: w.Name, Scopes: w.Scopes, ExpiresAt: w.ExpireAt.t,
		CreatedAt: w.CreatedAt.t, UpdatedAt: w.UpdatedAt.t, RefreshToken: w.RefreshToken,
	}
	if t.ExpiresAt.IsZero() {
		t.ExpiresAt = w.Expire.t
	}
	if l := w.Limits; l != nil {
		t.Limits = &TokenLimits{
			TotalRequests: int64(l.TotalRequests), WalletRequests: int64(l.WalletRequests),
			SubscriptionRequests: int64(l.SubscriptionRequests), WalletAmount: visengine.Price(l.WalletAmount), IP: l.IP,
		}
	}
	if s := w.Stats; s != nil {
		t.Stats = &TokenStats{
			TotalRequests: int64(s.TotalRequests), WalletRequests: int64(s.WalletRequests),
			SubscriptionRequests: int64(s.SubscriptionRequests), ErrorRequests: int64(s.ErrorRequests),
			WalletAmount: visengine.Price(s.WalletAmount), IP: s.IP,
		}
	}
	return t
}
