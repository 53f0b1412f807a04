package visenginetest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/oauthfake"
)

// oauthPrefix is where the OAuth service is mounted; see the package doc.
const oauthPrefix = "/oauth"

// codeForbidden is the fake's answer to a token that lacks the scope of the
// call; see Server.authorize.
const codeForbidden = visengine.Code(http.StatusForbidden)

// WithAPIKey fixes the API key the fake's OAuth service accepts, with
// Server.Email, instead of a random one ("" keeps it random).
func WithAPIKey(key string) Option {
	return func(c *config) { c.apiKey = key }
}

// WithTokenClock replaces time.Now for the tokens of the fake's OAuth
// service: when they are issued, extended and expire. With the same clock
// given to the client's token source (oauth.WithClock), a test can let
// tokens expire without waiting.
func WithTokenClock(now func() time.Time) Option {
	return func(c *config) { c.tokenClock = now }
}

// WithScopeHost sets the Visengine host the scopes of issued tokens must
// name for the fake to accept a call: "visengine2.altravia.com" (the
// default, as production) or "test.visengine2.altravia.com" (as the
// sandbox, whose scopes carry the "test." prefix).
func WithScopeHost(host string) Option {
	return func(c *config) { c.scopeHost = strings.ToLower(host) }
}

// defaultEmail is the account's e-mail unless WithOwner sets another.
const defaultEmail = "test@example.com"

// newOAuth builds the OAuth service of s, which shares its wallet, and
// returns it with the account's e-mail: the owner's, unless HTTP Basic
// auth cannot carry it (empty, or with ':'), then defaultEmail.
func (s *Server) newOAuth() (*oauthfake.Server, string) {
	if s.cfg.apiKey == "" {
		s.cfg.apiKey = randomKey()
	}
	email := s.cfg.owner
	if email == "" || strings.ContainsRune(email, ':') {
		email = defaultEmail
	}
	if s.cfg.scopeHost == "" {
		s.cfg.scopeHost = "visengine2.altravia.com"
	}
	opts := []oauthfake.Option{oauthfake.WithWallet(serverWallet{s})}
	if s.cfg.tokenClock != nil {
		opts = append(opts, oauthfake.WithClock(s.cfg.tokenClock))
	}
	o, err := oauthfake.New(email, s.cfg.apiKey, opts...)
	if err != nil { // cannot happen: both are non-empty, the e-mail without ':'
		panic("visenginetest: " + err.Error())
	}
	return o, email
}

// randomKey returns an API key shaped like Openapi's: 32 hex digits.
func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// serverWallet shows the server's wallet to the OAuth service.
type serverWallet struct{ s *Server }

func (w serverWallet) BalanceMicros() int64 { return w.s.balance().Micros() }

// TransactionsPage returns a page of the server's ledger in the OAuth
// service's terms.
func (w serverWallet) TransactionsPage(skip, limit int) []oauthfake.Transaction {
	ledger := w.s.ledgerPage(skip, limit)
	out := make([]oauthfake.Transaction, len(ledger))
	for i, e := range ledger {
		out[i] = oauthfake.Transaction{ID: e.ID, AmountMicros: e.Amount.Micros(), Time: e.Time, Description: e.Description}
	}
	return out
}

// withOAuth sends requests under oauthPrefix to the OAuth service and the
// others to api, which also answers an unclean path under oauthPrefix
// (with an envelope, where the OAuth service's ServeMux would redirect).
func (s *Server) withOAuth(api http.Handler) http.Handler {
	oauth := http.StripPrefix(oauthPrefix, s.oauth)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, oauthPrefix+"/") && !uncleanPath(r.URL.EscapedPath()) {
			oauth.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// authorize checks a Visengine call's bearer token and answers a refusal
// itself: 401 for a token that is unknown, revoked or expired, 403 for an
// issued token without the call's scope (see the package doc for why 403).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.Token)) == 1 {
		return true
	}
	scopes, issued := s.oauth.Lookup(tok)
	if !ok || !issued {
		fail(w, http.StatusUnauthorized, codeUnauthorized, "Unauthorized: missing or invalid bearer token")
		return false
	}
	need := visengine.ScopeFor(s.cfg.scopeHost, r.Method, r.URL.Path)
	if granted := (visengine.Token{Scopes: scopes}); !granted.HasScope(need) {
		fail(w, http.StatusForbidden, codeForbidden, "Forbidden: the token lacks the scope "+need)
		return false
	}
	return true
}

// IssueToken returns a token of the fake's OAuth service with these scopes
// (taken as given, wildcards allowed) and lifetime, without a request: for
// tests that need one ready, such as a token that lacks a scope. It can be
// listed, extended and revoked like any other.
func (s *Server) IssueToken(ttl time.Duration, scopes ...string) string {
	return s.oauth.Issue(scopes, ttl)
}
