package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/visengine-go/visengine"
)

// Defaults of a TokenSource.
const (
	// DefaultTTL is the lifetime asked for a new or renewed token.
	DefaultTTL = 30 * 24 * time.Hour
	// DefaultRenewBefore is how long before expiry a token is renewed,
	// unless that is more than a quarter of the TTL.
	DefaultRenewBefore = 24 * time.Hour
	// DefaultTokenName labels the tokens a TokenSource creates on v2.
	DefaultTokenName = "visengine-go"
)

const (
	// expiryDelta counts a token as expired this long before its expiry,
	// for clock skew and the time a request takes to arrive.
	expiryDelta = 10 * time.Second
	// retryDelay spaces attempts to renew ahead of time after one failed,
	// while the token still works, so a failing OAuth service is not
	// called on every request.
	retryDelay = 10 * time.Second
	// renewTimeout bounds one renewal, which runs on its own context so
	// that one caller giving up does not fail it for the others.
	renewTimeout = time.Minute
)

// TokenSource keeps a Visengine token valid: it creates one on first use
// (or reuses a stored one), hands it out, and renews it a margin before it
// expires and when the server refuses it. It is safe for concurrent use:
// one renewal runs at a time and every caller waiting for it gets its
// result. It implements visengine.TokenSource and visengine.TokenRenewer.
//
// Renewing ahead of expiry first extends the token (PATCH with a new TTL),
// which keeps its value and does not add tokens to the account; when the
// token is gone or the extension does not push the expiry past the margin,
// a new token is created. After a 401 (Renew) a new token is always
// created: the server refused the old one, extending it would not help.
// A failed renewal ahead of expiry is not an error while the token still
// works: callers keep getting it, and a call at least ten seconds later
// tries again. A failure with no working token is returned to every caller
// waiting for that renewal, and the next call tries again.
type TokenSource struct {
	c      *Client
	scopes []string
	name   string
	ttl    time.Duration
	margin time.Duration
	store  TokenStore
	now    func() time.Time

	mu      sync.Mutex
	cur     *held     // the token handed out; nil before the first renewal
	loaded  bool      // the store was read
	flight  *flight   // the renewal in progress, if any
	retryAt time.Time // no renewal ahead of expiry before this
}

var _ visengine.TokenRenewer = (*TokenSource)(nil)

// held is a token with when it was obtained, which sets how early it is
// renewed.
type held struct {
	tok      visengine.Token
	obtained time.Time
}

// flight is one renewal; done closes when tok or err is set.
type flight struct {
	done chan struct{}
	tok  *held
	err  error
}

type sourceConfig struct {
	scopes []string
	name   *string
	ttl    time.Duration
	margin time.Duration
	store  TokenStore
	now    func() time.Time
}

// TokenSourceOption configures a TokenSource.
type TokenSourceOption func(*sourceConfig) error

// WithScopes asks for these scopes instead of VisengineScopes for the
// client's environment, for example VisengineReadOnlyScopes.
func WithScopes(scopes ...string) TokenSourceOption {
	return func(c *sourceConfig) error {
		if len(scopes) == 0 {
			return invalidArg("WithScopes", "needs at least one scope")
		}
		for _, s := range scopes {
			if !validScope(s) {
				return invalidArg(fmt.Sprintf("scope %q", cleanMessage(s)), "is not METHOD:host/segment")
			}
		}
		c.scopes = append([]string(nil), scopes...)
		return nil
	}
}

// WithTokenName labels the tokens created on v2 (default DefaultTokenName);
// v1 tokens have no name, and "" sends none.
func WithTokenName(name string) TokenSourceOption {
	return func(c *sourceConfig) error { c.name = &name; return nil }
}

// WithTTL sets the lifetime asked for each token (default DefaultTTL), in
// whole seconds, at least a minute; v1 grants at most a year.
func WithTTL(ttl time.Duration) TokenSourceOption {
	return func(c *sourceConfig) error {
		if ttl < time.Minute || ttl%time.Second != 0 {
			return invalidArg("WithTTL", "needs a whole number of seconds, at least a minute")
		}
		c.ttl = ttl
		return nil
	}
}

// WithRenewBefore renews a token this long before it expires (default
// DefaultRenewBefore, or a quarter of the TTL if less). It must be below
// the TTL; for a token that turns out to live shorter, half its lifetime
// is used instead.
func WithRenewBefore(d time.Duration) TokenSourceOption {
	return func(c *sourceConfig) error {
		if d <= 0 {
			return invalidArg("WithRenewBefore", "needs a positive duration")
		}
		c.margin = d
		return nil
	}
}

// WithStore keeps the token in s, so that a restart reuses it.
func WithStore(s TokenStore) TokenSourceOption {
	return func(c *sourceConfig) error {
		if s == nil {
			return invalidArg("WithStore", "needs a non-nil store")
		}
		c.store = s
		return nil
	}
}

// WithClock replaces time.Now, for tests that expire tokens without
// waiting.
func WithClock(now func() time.Time) TokenSourceOption {
	return func(c *sourceConfig) error {
		if now == nil {
			return invalidArg("WithClock", "needs a non-nil function")
		}
		c.now = now
		return nil
	}
}

// NewTokenSource returns a TokenSource that obtains its tokens through c.
// Nothing is sent until the first Token call.
func NewTokenSource(c *Client, opts ...TokenSourceOption) (*TokenSource, error) {
	if c == nil {
		return nil, invalidArg("client", "is nil")
	}
	cfg := sourceConfig{scopes: VisengineScopes(c.Sandbox()), ttl: DefaultTTL, now: time.Now}
	for _, opt := range opts {
		if opt == nil {
			return nil, invalidArg("option", "is nil")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	return newTokenSource(c, cfg)
}

func newTokenSource(c *Client, cfg sourceConfig) (*TokenSource, error) {
	if c.v1 && cfg.ttl > maxTTLV1 {
		return nil, invalidArg("WithTTL", "exceeds one year, the most OAuth v1 grants")
	}
	if cfg.margin == 0 {
		cfg.margin = min(DefaultRenewBefore, cfg.ttl/4)
	}
	if cfg.margin >= cfg.ttl {
		return nil, invalidArg("WithRenewBefore", "must be shorter than the TTL")
	}
	name := DefaultTokenName
	if cfg.name != nil {
		name = *cfg.name
	}
	if c.v1 {
		name = ""
	}
	return &TokenSource{c: c, scopes: cfg.scopes, name: name, ttl: cfg.ttl, margin: cfg.margin, store: cfg.store, now: cfg.now}, nil
}

// String describes the source without its token.
func (ts *TokenSource) String() string {
	if ts.usable() != nil {
		return "oauth.TokenSource(nil)"
	}
	return fmt.Sprintf("oauth.TokenSource(%s, scopes %s)", ts.c, strings.Join(ts.scopes, " "))
}

// GoString is String, so %#v does not print the token either.
func (ts *TokenSource) GoString() string { return ts.String() }

// Format prints String for every verb, so %+v cannot reach the token.
func (ts *TokenSource) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, ts.String()) }

// LogValue logs String.
func (ts *TokenSource) LogValue() slog.Value { return slog.StringValue(ts.String()) }

// Token returns a valid token, creating or renewing it first when needed.
// It is cheap while the token is fresh: no call is made.
func (ts *TokenSource) Token(ctx context.Context) (*visengine.Token, error) {
	if err := ts.usable(); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, invalidArg("context", "is nil")
	}
	ts.mu.Lock()
	if f := ts.flight; f != nil {
		ts.mu.Unlock()
		return f.wait(ctx)
	}
	if h, now := ts.cur, ts.now(); h != nil {
		fresh := !h.renewDue(now, ts.margin)
		if fresh || !h.expired(now) && now.Before(ts.retryAt) {
			ts.mu.Unlock()
			return h.token(), nil
		}
	}
	f := ts.start(ctx, false)
	ts.mu.Unlock()
	return f.wait(ctx)
}

// Renew replaces rejected, a token the server refused with a 401, by a new
// one. Concurrent callers with the same rejected token (same Value) share
// one renewal; a caller whose rejected token was already replaced gets the
// replacement without a call.
func (ts *TokenSource) Renew(ctx context.Context, rejected *visengine.Token) (*visengine.Token, error) {
	if err := ts.usable(); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, invalidArg("context", "is nil")
	}
	if rejected == nil || rejected.Value == "" {
		return nil, invalidArg("rejected token", "is empty")
	}
	ts.mu.Lock()
	for ts.flight != nil {
		f := ts.flight
		ts.mu.Unlock()
		if _, err := f.wait(ctx); err != nil {
			return nil, err
		}
		ts.mu.Lock()
	}
	if h := ts.cur; h != nil && h.tok.Value != rejected.Value && !h.expired(ts.now()) {
		ts.mu.Unlock()
		return h.token(), nil
	}
	if h := ts.cur; h != nil && h.tok.Value == rejected.Value {
		ts.cur = nil // refused: never hand it out again
	}
	f := ts.start(ctx, true)
	ts.mu.Unlock()
	return f.wait(ctx)
}

// usable refuses a nil TokenSource, or one not made by NewTokenSource.
func (ts *TokenSource) usable() error {
	if ts == nil || ts.c.usable() != nil || ts.now == nil {
		return invalidArg("token source", "is nil or not made by NewTokenSource")
	}
	return nil
}

// start launches a renewal; ts.mu is held. The renewal runs on a context
// detached from the caller's, bounded by renewTimeout, so that the first
// caller giving up does not fail it for those waiting.
func (ts *TokenSource) start(ctx context.Context, force bool) *flight {
	f := &flight{done: make(chan struct{})}
	ts.flight = f
	cur, loaded := ts.cur, ts.loaded
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), renewTimeout)
	go func() {
		defer cancel()
		ts.run(rctx, f, cur, loaded, force)
	}()
	return f
}

// run performs one renewal and publishes its result.
func (ts *TokenSource) run(ctx context.Context, f *flight, cur *held, loaded, force bool) {
	if !loaded && !force {
		cur = ts.load(ctx)
	}
	next, err := ts.obtain(ctx, cur, force)
	if err == nil && next != cur {
		ts.save(ctx, next)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.loaded, ts.flight = true, nil
	switch now := ts.now(); {
	case err == nil:
		ts.cur, ts.retryAt, f.tok = next, time.Time{}, next
	case !force && cur != nil && !cur.expired(now):
		// Renewing ahead failed; the token still works, keep it for now.
		ts.cur, ts.retryAt, f.tok = cur, now.Add(retryDelay), cur
	default:
		f.err = err
	}
	close(f.done)
}

// obtain returns the token to use from now: cur if still fresh (a stored
// one), cur extended, or a new one.
func (ts *TokenSource) obtain(ctx context.Context, cur *held, force bool) (*held, error) {
	now := ts.now()
	if cur != nil && !force && !cur.expired(now) {
		if !cur.renewDue(now, ts.margin) {
			return cur, nil
		}
		next, err := ts.extend(ctx, cur)
		if err == nil || !replaceable(err) {
			return next, err
		}
	}
	return ts.create(ctx)
}

// extend pushes cur's expiry out by the TTL. It fails with errNotExtended
// when the answer does not show an expiry past the renewal margin.
func (ts *TokenSource) extend(ctx context.Context, cur *held) (*held, error) {
	info, err := ts.c.renewToken(ctx, cur.tok.Value, ts.ttl, cur.tok.Scopes, ts.now())
	if err != nil {
		return nil, err
	}
	now := ts.now()
	next := &held{tok: *info.VisengineToken(), obtained: now}
	if len(next.tok.Scopes) == 0 {
		next.tok.Scopes = cur.tok.Scopes
	}
	if next.tok.Expiry.IsZero() || next.renewDue(now, ts.margin) {
		return nil, errNotExtended
	}
	return next, nil
}

// ErrExpiredOnArrival is returned by TokenSource.Token when the OAuth
// service issued a token that had already expired by this machine's clock:
// that clock or the service's is wrong. No token is handed out, so no call
// is sent with it (to be refused and renewed into another useless token).
var ErrExpiredOnArrival = errors.New("oauth: the service issued a token that is already expired")

// expiredOnArrival says when the token expired and what time it was here.
type expiredOnArrival struct{ expiry, now time.Time }

func (e *expiredOnArrival) Error() string {
	return fmt.Sprintf("%v (it expires %s, this machine's clock says %s): this machine's clock or the OAuth service's is wrong; check the system time (NTP) and the service",
		ErrExpiredOnArrival, e.expiry.UTC().Format(time.RFC3339), e.now.UTC().Format(time.RFC3339))
}

func (e *expiredOnArrival) Is(target error) bool { return target == ErrExpiredOnArrival }

// errNotExtended: an extension that did not show a later expiry.
var errNotExtended = errors.New("oauth: token extension did not move its expiry")

// replaceable says whether a failed extension calls for a new token: the
// server refused it (gone, revoked, not extendable) or did not extend it.
// A failure of the service itself (no answer, 5xx, 429) is returned as it
// is: creating would fail the same way.
func replaceable(err error) bool {
	if err == errNotExtended {
		return true
	}
	var e *APIError
	return errors.As(err, &e) && e.StatusCode/100 == 4 && !e.Temporary()
}

// create makes a new token. Without an expiry in the answer, it is taken
// to expire after the TTL asked for: the server grants no more.
func (ts *TokenSource) create(ctx context.Context) (*held, error) {
	info, err := ts.c.CreateToken(ctx, CreateTokenParams{Scopes: ts.scopes, Name: ts.name, TTL: ts.ttl})
	if err != nil {
		return nil, err
	}
	now := ts.now()
	h := &held{tok: *info.VisengineToken(), obtained: now}
	if h.tok.Expiry.IsZero() {
		h.tok.Expiry = now.Add(ts.ttl)
	}
	if h.expired(now) {
		// Handing it out would only earn a 401, a renewal and a second
		// token per call.
		return nil, &expiredOnArrival{expiry: h.tok.Expiry, now: now}
	}
	if len(h.tok.Scopes) == 0 {
		h.tok.Scopes = append([]string(nil), ts.scopes...)
	}
	return h, nil
}

// wait returns the flight's token, or its error, or the caller's context
// error if that ends first.
func (f *flight) wait(ctx context.Context) (*visengine.Token, error) {
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.err != nil {
		return nil, f.err
	}
	return f.tok.token(), nil
}

// token returns a copy the caller may keep and change.
func (h *held) token() *visengine.Token {
	t := h.tok
	t.Scopes = append([]string(nil), t.Scopes...)
	return &t
}

// expired reports whether the token no longer works at now (a token with
// no known expiry never does).
func (h *held) expired(now time.Time) bool {
	return !h.tok.Expiry.IsZero() && !now.Before(h.tok.Expiry.Add(-expiryDelta))
}

// renewDue reports whether the token is within its renewal margin: margin,
// or half its lifetime when that is shorter, so a token that came back
// short-lived is not renewed on every call.
func (h *held) renewDue(now time.Time, margin time.Duration) bool {
	if h.tok.Expiry.IsZero() {
		return false
	}
	if life := h.tok.Expiry.Sub(h.obtained); life > 0 {
		margin = min(margin, life/2)
	}
	return !now.Before(h.tok.Expiry.Add(-margin))
}

// load reads the stored token. One that cannot serve (unreadable, expired,
// for another account, service or set of scopes) is ignored, and a new
// token will be made.
func (ts *TokenSource) load(ctx context.Context) *held {
	if ts.store == nil {
		return nil
	}
	saved, err := ts.store.Load(ctx)
	if err != nil {
		ts.warn(ctx, "oauth stored token ignored", ts.c.scrub(err.Error()))
		return nil
	}
	if saved == nil {
		return nil
	}
	h := &held{tok: visengine.Token{Value: saved.Token, Expiry: saved.ExpiresAt, Scopes: saved.Scopes}, obtained: saved.ObtainedAt}
	if reason := ts.unusable(saved, h); reason != "" {
		ts.warn(ctx, "oauth stored token ignored", reason)
		return nil
	}
	return h
}

// unusable says why a stored token cannot be used, or "".
func (ts *TokenSource) unusable(saved *SavedToken, h *held) string {
	switch {
	case saved.Account != ts.c.account:
		return "issued to another account"
	case saved.Service != ts.c.BaseURL():
		return "issued by another OAuth service"
	case saved.Token == "" || saved.ExpiresAt.IsZero():
		return "token or expiry missing"
	case h.expired(ts.now()):
		return "expired"
	}
	for _, s := range ts.scopes {
		// A wildcard asked for comes back expanded: compare it as asked.
		if !h.tok.HasScope(s) && !slices.Contains(saved.Requested, s) {
			return "lacks scope " + s
		}
	}
	return ""
}

// save stores h; a failure only costs a new token after a restart.
func (ts *TokenSource) save(ctx context.Context, h *held) {
	if ts.store == nil {
		return
	}
	err := ts.store.Save(ctx, &SavedToken{
		Token: h.tok.Value, Scopes: h.tok.Scopes, Requested: ts.scopes, ExpiresAt: h.tok.Expiry, ObtainedAt: h.obtained,
		Service: ts.c.BaseURL(), Account: ts.c.account,
	})
	if err != nil {
		ts.warn(ctx, "oauth saving token failed", ts.c.scrub(err.Error()))
	}
}

func (ts *TokenSource) warn(ctx context.Context, msg, reason string) {
	if ts.c.logger != nil {
		ts.c.logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("reason", reason))
	}
}
