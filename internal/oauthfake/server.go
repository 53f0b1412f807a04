// Package oauthfake is an in-memory Openapi OAuth service, v1 and v2, for
// tests: visenginetest mounts it so that the tokens it issues are the ones
// the fake Visengine accepts, and the oauth package's tests run against it.
//
// One Server serves both versions, each under its own path prefix:
//
//	/v2/tokens, /v2/tokens/{token}, /v2/scopes, /v2/wallet, /v2/wallet/transactions   (OAuth v2)
//	/v1/token,  /v1/token/{token},  /v1/scopes, /v1/credit   (OAuth v1)
//
// so an oauth.Client is pointed at base+"/v2", or base+"/v1" with WithV1.
// Both versions share one set of tokens. Every call needs HTTP Basic auth
// with the configured e-mail and API key (v2's PATCH also takes the
// token's refresh token as a bearer). Answers follow the specs' envelopes,
// status codes and error codes (oauth-v1/v2.openapi.json); where the specs
// say nothing, the choice is documented on the handler.
package oauthfake

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Wallet is the account's credit, shared with the fake Visengine that
// charges it.
type Wallet interface {
	// BalanceMicros returns the credit in millionths of a euro.
	BalanceMicros() int64
}

// Ledger is a Wallet that also keeps its history; a wallet that implements
// it is served on /v2/wallet/transactions (without one, that answers 404).
type Ledger interface {
	// TransactionsPage returns a page of GET /wallet/transactions: at most
	// limit of the wallet's movements, newest first, after the skip newest
	// (see NewestFirst). A page copies its movements only: a fake charged
	// a hundred thousand times still answers each page of a hundred in
	// microseconds.
	TransactionsPage(skip, limit int) []Transaction
}

// Transaction is one movement of the wallet, as the v2 spec's
// WalletTransaction shows it.
type Transaction struct {
	ID           string // "txn_…"
	AmountMicros int64  // negative for what was spent, positive for a recharge or refund
	Time         time.Time
	Description  string // "API usage - <host>", "Wallet recharge", …
}

// Defaults of a Server.
const (
	// DefaultTTL is a token's lifetime when the request gives none; v1
	// documents one year, and v2 is given the same.
	DefaultTTL = 365 * 24 * time.Hour
	// MaxTTLV1 is the longest lifetime v1 grants; a longer ttl is cut to it.
	MaxTTLV1 = 365 * 24 * time.Hour
	// MaxTTLV2 is the longest lifetime v2 grants on creation ("Max 1
	// year"); a longer ttl is cut to it.
	MaxTTLV2 = 365 * 24 * time.Hour
)

// Server is the fake OAuth service; it is an http.Handler. It is safe for
// concurrent use.
type Server struct {
	user, pass string
	now        func() time.Time
	wallet     Wallet
	available  []string

	mu     sync.Mutex
	tokens map[string]*token
	order  []string // token values in creation order, for listing
	mux    *http.ServeMux
}

// token is an issued token.
type token struct {
	value, refresh, name      string
	scopes                    []string
	created, updated, expires time.Time
	limits                    []byte // v2 limits, kept as sent
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now, so tests can expire tokens without waiting.
func WithClock(now func() time.Time) Option {
	return func(s *Server) {
		if now != nil {
			s.now = now
		}
	}
}

// WithWallet serves w's balance on /v2/wallet and /v1/credit. Without a
// wallet they answer 404 (v1: error 320, "non-existent Openapi credit").
func WithWallet(w Wallet) Option { return func(s *Server) { s.wallet = w } }

// WithAvailableScopes sets the scopes the account has enabled, which
// tokens may be given (by name or through wildcards). The default is every
// Visengine scope of both environments (DefaultScopes).
func WithAvailableScopes(scopes ...string) Option {
	return func(s *Server) { s.available = slices.Clone(scopes) }
}

// DefaultScopes lists the Visengine scopes the OAuth v1 spec's /scopes
// example shows, for production and the sandbox host.
func DefaultScopes() []string {
	var out []string
	for _, host := range []string{"visengine2.altravia.com", "test.visengine2.altravia.com"} {
		for _, ms := range []string{
			"GET:visure", "GET:richiesta", "POST:richiesta", "PUT:richiesta", "DELETE:richiesta",
			"GET:documento", "GET:fornitori", "GET:conservatorie",
		} {
			m, seg, _ := strings.Cut(ms, ":")
			out = append(out, m+":"+host+"/"+seg)
		}
	}
	return out
}

// New returns a Server that accepts e-mail and apiKey as Basic auth.
func New(email, apiKey string, opts ...Option) (*Server, error) {
	if email == "" || apiKey == "" || strings.ContainsRune(email, ':') {
		return nil, errors.New("oauthfake: the e-mail and API key must be non-empty, the e-mail without ':'")
	}
	s := &Server{user: email, pass: apiKey, now: time.Now, available: DefaultScopes(), tokens: map[string]*token{}}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	s.mux = s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Lookup returns the scopes of a token the server issued; ok is false when
// the token is unknown, revoked or expired. Visengine's fake uses it to
// authorize calls.
func (s *Server) Lookup(value string) (scopes []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, found := s.tokens[value]
	if !found || !s.now().Before(t.expires) {
		return nil, false
	}
	return slices.Clone(t.scopes), true
}

// Issue creates a token without a request, for tests that need one ready:
// scopes are taken as given (no expansion, no check).
func (s *Server) Issue(scopes []string, ttl time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issue(slices.Clone(scopes), "", ttl, nil).value
}

// issue stores a new token; s.mu is held.
func (s *Server) issue(scopes []string, name string, ttl time.Duration, limits []byte) *token {
	now := s.now()
	t := &token{value: newID(), refresh: newID(), name: name, scopes: scopes, created: now, updated: now, expires: now.Add(ttl), limits: limits}
	s.tokens[t.value] = t
	s.order = append(s.order, t.value)
	return t
}

// rotate replaces t by a new token (and refresh token) with its scopes,
// name, expiry and limits, and deletes t; s.mu is held.
func (s *Server) rotate(t *token) *token {
	n := s.issue(t.scopes, t.name, 0, t.limits)
	n.expires = t.expires
	s.revoke(t.value)
	return n
}

// revoke deletes a token; s.mu is held.
func (s *Server) revoke(value string) {
	delete(s.tokens, value)
	s.order = slices.DeleteFunc(s.order, func(v string) bool { return v == value })
}

// find returns a live (not revoked) token, expired or not; s.mu is held.
func (s *Server) find(value string) *token { return s.tokens[value] }

// newID returns 24 hex digits, the shape of Openapi's tokens (Mongo ids).
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// scopeID is a stable 24-hex id for a scope in /v2/scopes.
func scopeID(scope string) string {
	sum := sha256.Sum256([]byte(scope))
	return hex.EncodeToString(sum[:12])
}

// isTokenID reports whether v looks like a token (24 hex digits).
func isTokenID(v string) bool {
	if len(v) != 24 {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}

// basicOK checks the Basic credentials in constant time.
func (s *Server) basicOK(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil {
		return false
	}
	want := []byte(s.user + ":" + s.pass)
	return subtle.ConstantTimeCompare(dec, want) == 1
}
