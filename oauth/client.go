// Package oauth manages an Openapi account for Visengine: it creates,
// lists, renews and revokes bearer tokens, lists the account's scopes and
// reads the wallet's credit and, on v2, its ledger ([Client.Transactions];
// package audit reconciles it with the submission journal), through
// Openapi's OAuth service (v2 at
// oauth.openapi.com by default, the legacy v1 at oauth.openapi.it with
// [WithV1]). [TokenSource] keeps a Visengine token valid for a
// visengine.Client: it creates one on first use, renews it before it expires
// and after the server refuses it, and can persist it across restarts.
//
// The account's e-mail and API key (sent as HTTP Basic auth), the tokens
// and the refresh tokens never appear in an error, a log line of this
// package or the fmt/slog output of any type of this package. Nothing is
// logged unless a logger is given with [WithLogger].
//
// As with the visengine package's types, slog asks only the value it is
// handed for its LogValue: a []TokenInfo (what [Client.ListTokens]
// returns) or a struct of yours holding a TokenInfo is marshalled field by
// field by slog's JSON handler, as by encoding/json, Token and
// RefreshToken included. Log the elements one by one, or their String.
package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Base URLs of the OAuth service: v2 (current) and v1 (legacy), each with
// its production and sandbox host.
const (
	ProductionURL   = "https://oauth.openapi.com"
	SandboxURL      = "https://test.oauth.openapi.com"
	ProductionURLV1 = "https://oauth.openapi.it"
	SandboxURLV1    = "https://test.oauth.openapi.it"
)

const (
	userAgent = "visengine-go-oauth (+https://github.com/visengine-go/visengine)"
	// maxBody caps what is read of an answer: a page of 100 tokens is a few
	// tens of kilobytes, an HTML error page should not fill memory.
	maxBody = 4 << 20
)

// Client talks to Openapi's OAuth service with one account's e-mail and API
// key. It is safe for concurrent use. It does not retry: every call is
// cheap to repeat by hand, and TokenSource retries a failed renewal on the
// next call.
type Client struct {
	base    *url.URL
	v1      bool
	sandbox bool
	auth    string // the Authorization header value; never printed
	account string // a fingerprint of the e-mail, for stores
	secrets []string
	http    *http.Client
	logger  *slog.Logger
}

type config struct {
	baseURL    string
	v1         bool
	sandbox    bool
	httpClient *http.Client
	logger     *slog.Logger
}

// Option configures a Client.
type Option func(*config) error

// WithV1 uses the legacy OAuth v1 service (oauth.openapi.it) instead of v2.
// The calls and types stay the same; what v1 lacks (token names and limits)
// is refused with an error matching visengine.ErrInvalidArgument.
func WithV1() Option { return func(c *config) error { c.v1 = true; return nil } }

// WithSandbox uses the sandbox OAuth host (test.oauth.openapi.com, or
// test.oauth.openapi.it with WithV1), whose tokens work on Visengine's
// sandbox; VisengineScopes then gives the "test." scopes.
func WithSandbox() Option { return func(c *config) error { c.sandbox = true; return nil } }

// WithBaseURL points the client at another host, such as a proxy or a fake
// server. It must be HTTPS unless the host is a loopback address. Combined
// with WithSandbox, the URL wins and the client still counts as sandbox.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		if _, err := parseBaseURL(u); err != nil {
			return err
		}
		c.baseURL = u
		return nil
	}
}

// WithHTTPClient sends requests through hc's transport and timeout. The
// client is copied, so turning off redirects does not touch the caller's.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return invalidArg("WithHTTPClient", "needs a non-nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithLogger logs one line per request: method, path (with "{token}" in
// place of a token), status and duration. Nothing is logged without it.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// NewClient returns a client for the account with this e-mail and API key,
// on OAuth v2 production unless options say otherwise.
func NewClient(email, apiKey string, opts ...Option) (*Client, error) {
	email, apiKey = strings.TrimSpace(email), strings.TrimSpace(apiKey)
	if err := checkCredentials(email, apiKey); err != nil {
		return nil, err
	}
	var cfg config
	for _, opt := range opts {
		if opt == nil {
			return nil, invalidArg("option", "is nil")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	base, err := parseBaseURL(cfg.pickBaseURL())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte("visengine-oauth-account\x00" + strings.ToLower(email)))
	basic := base64.StdEncoding.EncodeToString([]byte(email + ":" + apiKey))
	return &Client{
		base:    base,
		v1:      cfg.v1,
		sandbox: cfg.sandbox || strings.HasPrefix(base.Hostname(), "test."),
		auth:    "Basic " + basic,
		account: hex.EncodeToString(sum[:8]),
		// A server may echo the header as it came, so its base64 is a
		// secret too, and a URL or form it echoes carries the e-mail
		// percent-encoded.
		secrets: secretForms(email, apiKey, basic),
		http:    newHTTPClient(cfg.httpClient),
		logger:  cfg.logger,
	}, nil
}

// secretForms lists the account's secrets as a server may repeat them: as
// given, and percent-encoded ("a+b@x" as "a%2Bb%40x" in a query, "a+b%40x"
// in a path), which replaceFold matches in either hex case.
func secretForms(email, apiKey, basic string) []string {
	forms := []string{email, apiKey, basic}
	for _, enc := range []string{url.QueryEscape(email), url.PathEscape(email), url.QueryEscape(apiKey), url.PathEscape(apiKey)} {
		if !slices.Contains(forms, enc) {
			forms = append(forms, enc)
		}
	}
	return forms
}

func checkCredentials(email, apiKey string) error {
	switch {
	case email == "":
		return invalidArg("e-mail", "is empty")
	case apiKey == "":
		return invalidArg("API key", "is empty")
	case strings.ContainsRune(email, ':'):
		// HTTP Basic auth cannot carry a ':' in the user name.
		return invalidArg("e-mail", "contains ':'")
	case strings.IndexFunc(email, func(r rune) bool { return r <= ' ' || unicode.IsControl(r) }) >= 0:
		// An e-mail may be internationalized; only what breaks a header goes.
		return invalidArg("e-mail", "contains blanks or control characters")
	case strings.IndexFunc(apiKey, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
		return invalidArg("API key", "contains blanks, control or non-ASCII characters")
	}
	return nil
}

func (c config) pickBaseURL() string {
	switch {
	case c.baseURL != "":
		return c.baseURL
	case c.v1 && c.sandbox:
		return SandboxURLV1
	case c.v1:
		return ProductionURLV1
	case c.sandbox:
		return SandboxURL
	}
	return ProductionURL
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, invalidArg("base URL", "is malformed")
	}
	shown := redactURL(u)
	if u.Host == "" || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, invalidArg("base URL "+shown, "must be scheme://host[/path], without user, query or fragment")
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return nil, invalidArg("base URL "+shown, "must be https (plain http only on loopback)")
	}
	return u, nil
}

// redactURL shows a URL without its user info, query and fragment, which
// may carry credentials.
func redactURL(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return fmt.Sprintf("%q", v.String())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func newHTTPClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	// A redirect would carry the Basic credentials to a place we did not
	// choose.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// String describes the client without its credentials.
func (c *Client) String() string {
	if c.usable() != nil {
		return "oauth.Client(nil)"
	}
	v := "v2"
	if c.v1 {
		v = "v1"
	}
	return "oauth.Client(" + v + " " + c.base.String() + ")"
}

// GoString is String, so %#v does not print the credentials either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, so %+v cannot reach the credentials.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue logs String.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// BaseURL returns the OAuth service the client talks to.
func (c *Client) BaseURL() string {
	if c.usable() != nil {
		return ""
	}
	return c.base.String()
}

// Sandbox reports whether the client works on the sandbox: WithSandbox was
// given or the base URL's host starts with "test.".
func (c *Client) Sandbox() bool { return c != nil && c.sandbox }

// V1 reports whether the client talks to the legacy OAuth v1 service.
func (c *Client) V1() bool { return c != nil && c.v1 }

// usable refuses a nil Client, or one not made by NewClient, before any
// field is read.
func (c *Client) usable() error {
	if c == nil || c.base == nil || c.http == nil {
		return invalidArg("client", "is nil or not made by NewClient")
	}
	return nil
}

// request is one call: route is the path as logs and errors show it, with
// "{token}" in place of a token.
type request struct {
	method, path, route string
	query               url.Values
	body                any
	secret              string // a token in the path, scrubbed from messages
}

// response is a read answer.
type response struct {
	status int
	body   []byte
}

// do sends r and returns the answer, or a typed error for a failed call or
// an answer that is not a success.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, invalidArg("context", "is nil")
	}
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log(ctx, r, 0, time.Since(start), err)
		return nil, c.transportError(r, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	c.log(ctx, r, resp.StatusCode, time.Since(start), err)
	switch {
	case err != nil:
		return nil, c.unexpected(r, resp.StatusCode, "reading body: %s", c.scrub(err.Error(), r.secret))
	case len(body) > maxBody:
		return nil, c.unexpected(r, resp.StatusCode, "body larger than %d bytes", maxBody)
	}
	out := &response{status: resp.StatusCode, body: body}
	if err := c.check(r, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("oauth: encoding %s %s body: %w", r.method, r.route, err)
		}
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("oauth: building %s %s: %s", r.method, r.route, c.scrub(err.Error(), r.secret))
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func (c *Client) log(ctx context.Context, r request, status int, d time.Duration, err error) {
	if c.logger == nil {
		return
	}
	attrs := []slog.Attr{slog.String("method", r.method), slog.String("path", r.route), slog.Duration("duration", d)}
	if err != nil {
		attrs = append(attrs, slog.Int("status", status), slog.String("error", errorClass(err)))
		c.logger.LogAttrs(ctx, slog.LevelWarn, "oauth request failed", attrs...)
		return
	}
	attrs = append(attrs, slog.Int("status", status))
	c.logger.LogAttrs(ctx, slog.LevelInfo, "oauth request", attrs...)
}

// errorClass names a failure without its text, which may embed the URL.
func errorClass(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	}
	return "transport error"
}

// unexpected builds the error for an answer that is not an OAuth envelope.
func (c *Client) unexpected(r request, status int, format string, args ...any) *APIError {
	return &APIError{StatusCode: status, Message: fmt.Sprintf(format, args...), Method: r.method, Path: r.route, unexpected: true}
}
