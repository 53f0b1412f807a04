package oauthfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// routes registers both versions.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("POST /v2/tokens", s.v2Auth(s.v2Create))
	m.HandleFunc("GET /v2/tokens", s.v2Auth(s.v2List))
	m.HandleFunc("GET /v2/tokens/{token}", s.v2Auth(s.v2Get))
	m.HandleFunc("PATCH /v2/tokens/{token}", s.v2Update)
	noID := func(code int) http.HandlerFunc {
		return s.v2Auth(func(w http.ResponseWriter, _ *http.Request) {
			fail(w, http.StatusBadRequest, code, "Token ID is required")
		})
	}
	// Each "{$}" pattern has its twin without the slash, or ServeMux would
	// answer that one with a redirect.
	m.HandleFunc("PATCH /v2/tokens/{$}", noID(150))
	m.HandleFunc("PATCH /v2/tokens", noID(150))
	m.HandleFunc("DELETE /v2/tokens/{token}", s.v2Auth(s.v2Delete))
	m.HandleFunc("DELETE /v2/tokens/{$}", noID(170))
	m.HandleFunc("DELETE /v2/tokens", noID(170))
	m.HandleFunc("GET /v2/scopes", s.v2Auth(s.v2Scopes))
	m.HandleFunc("GET /v2/wallet", s.v2Auth(s.v2Wallet))
	m.HandleFunc("GET /v2/wallet/transactions", s.v2Auth(s.v2Transactions))
	s.v1Routes(m)
	// Anything else, other methods included, gets the error envelope
	// rather than ServeMux's plain-text 404 or 405.
	m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fail(w, http.StatusNotFound, 0, "Not Found")
	})
	return m
}

// v2Auth requires Basic auth. The spec documents 401 with code 140
// ("unauthorized_authdata") on PATCH; the fake answers every v2 call so.
func (s *Server) v2Auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.basicOK(r) {
			fail(w, http.StatusUnauthorized, 140, "Unauthorized")
			return
		}
		h(w, r)
	}
}

// v2Detail is a TokenDetail.
// Its keys are in the schema's order; limits only when the token has some.
func (s *Server) v2Detail(t *token) obj {
	d := obj{{"token", t.value}, {"name", t.name}, {"createdAt", isoTime(t.created)}, {"expireAt", isoTime(t.expires)},
		{"updatedAt", isoTime(t.updated)}, {"scopes", t.scopes}, {"refreshToken", t.refresh}}
	if t.limits != nil {
		d = append(d, member{"limits", json.RawMessage(t.limits)})
	}
	return append(d, member{"stats", obj{{"totalRequests", 0}, {"walletRequests", 0}, {"subscriptionRequests", 0},
		{"errorRequests", 0}, {"walletAmount", 0}, {"ip", []string{}}}})
}

// v2Body is a TokenCreate or TokenUpdate.
type v2Body struct {
	Scopes json.RawMessage `json:"scopes"`
	Name   *string         `json:"name"`
	TTL    json.RawMessage `json:"ttl"`
	Limits json.RawMessage `json:"limits"`
}

// ttlOf reads a ttl in seconds: absent is def; anything but a positive
// integer is refused (the spec documents no code for it: 422 without one).
func ttlOf(raw json.RawMessage, def time.Duration) (time.Duration, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil || n <= 0 || n > int64(100*365*24*time.Hour/time.Second) {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// createTTL reads TokenCreate's ttl as the spec describes it: "Max 1
// year. If a negative value or 0 is provided, the value is automatically
// clamped to the default TTL." Absent is the default too; what is not an
// integer is refused.
func createTTL(raw json.RawMessage) (time.Duration, bool) {
	if n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err == nil && n <= 0 {
		return DefaultTTL, true
	}
	ttl, ok := ttlOf(raw, DefaultTTL)
	return min(ttl, MaxTTLV2), ok
}

// v2Create is POST /tokens: 422 with 70, 80 or 90 for bad scopes. The
// answer is a TokenDetail at the top level, as the spec's schema has it.
func (s *Server) v2Create(w http.ResponseWriter, r *http.Request) {
	var b v2Body
	if !readBody(r, &b) {
		fail(w, http.StatusUnprocessableEntity, 70, "missing scopes array")
		return
	}
	scopes, serr := s.expand(b.Scopes)
	if serr != scopesOK {
		code, msg := v2ScopeError(serr, 70, 80, 90)
		fail(w, http.StatusUnprocessableEntity, code, msg)
		return
	}
	ttl, ok := createTTL(b.TTL)
	if !ok {
		fail(w, http.StatusUnprocessableEntity, 0, "invalid ttl")
		return
	}
	name := ""
	if b.Name != nil {
		name = *b.Name
	}
	s.mu.Lock()
	t := s.issue(scopes, name, ttl, limitsOf(b.Limits))
	d := s.v2Detail(t)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, d)
}

func limitsOf(raw json.RawMessage) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// v2ScopeError gives the code and message for a scope error; create and
// update use different codes for the same faults.
func v2ScopeError(e scopeError, missing, format, unknown int) (int, string) {
	switch e {
	case scopesMissing:
		return missing, "missing scopes array"
	case scopesFormat:
		return format, "invalid scopes format"
	}
	return unknown, "Invalid scopes specified or API not enabled"
}

// v2List is GET /tokens?limit&skip: {"data": [TokenDetail…]}, expired
// tokens included (with their expireAt), in creation order. limit is cut
// to 100; a limit or skip that is not a number counts as absent.
func (s *Server) v2List(w http.ResponseWriter, r *http.Request) {
	limit := queryInt(r, "limit", 100)
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	skip := max(queryInt(r, "skip", 0), 0)
	s.mu.Lock()
	out := []obj{}
	for i := skip; i < len(s.order) && len(out) < limit; i++ {
		out = append(out, s.v2Detail(s.tokens[s.order[i]]))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, obj{{"data", out}})
}

func queryInt(r *http.Request, key string, def int) int {
	n, err := strconv.Atoi(r.URL.Query().Get(key))
	if err != nil {
		return def
	}
	return n
}

// v2Get is GET /tokens/{token}: 422 60 for a malformed id, 404 120 for an
// unknown one.
func (s *Server) v2Get(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("token")
	if !isTokenID(v) {
		fail(w, http.StatusUnprocessableEntity, 60, "Invalid Token Format")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.find(v)
	if t == nil {
		fail(w, http.StatusNotFound, 120, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, s.v2Detail(t))
}

// v2Update is PATCH /tokens/{token}, authenticated by Basic auth or by the
// token's refresh token as a bearer (401 130 when that is wrong, 401 140
// when neither is given right and no refresh token is tried). Scopes,
// name, ttl (a new lifetime from now) and limits replace what they name;
// an expired token can be extended. With the refresh token, the answer is
// a new token and refresh token and the old token is deleted, as the
// spec's TokenUpdate says; with Basic auth the token keeps its value. 404
// 160 for an unknown token, 422 100/110 for bad scopes.
func (s *Server) v2Update(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.find(v)
	byRefresh := !s.basicOK(r)
	if byRefresh {
		refresh, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !bearer:
			fail(w, http.StatusUnauthorized, 140, "Unauthorized")
			return
		case t == nil || refresh != t.refresh:
			fail(w, http.StatusUnauthorized, 130, "Unauthorized")
			return
		}
	}
	if t == nil {
		fail(w, http.StatusNotFound, 160, "Not Found")
		return
	}
	var b v2Body
	if !readBody(r, &b) {
		fail(w, http.StatusUnprocessableEntity, 100, "invalid scopes format")
		return
	}
	if code, msg := s.v2Apply(t, b); msg != "" {
		fail(w, http.StatusUnprocessableEntity, code, msg)
		return
	}
	if byRefresh {
		t = s.rotate(t)
	}
	writeJSON(w, http.StatusOK, s.v2Detail(t))
}

// v2Apply changes t as b says, or returns the error's code and message
// (a message without a code for what the spec does not document).
func (s *Server) v2Apply(t *token, b v2Body) (int, string) {
	var scopes []string
	if len(b.Scopes) > 0 && string(b.Scopes) != "null" {
		var serr scopeError
		if scopes, serr = s.expand(b.Scopes); serr != scopesOK {
			return v2ScopeError(serr, 100, 100, 110)
		}
	}
	ttl, ok := ttlOf(b.TTL, 0)
	if !ok {
		return 0, "invalid ttl" // no code documented; 422 all the same
	}
	now := s.now()
	if scopes != nil {
		t.scopes = scopes
	}
	if b.Name != nil {
		t.name = *b.Name
	}
	if ttl > 0 {
		t.expires = now.Add(ttl)
	}
	if l := limitsOf(b.Limits); l != nil {
		t.limits = l
	}
	t.updated = now
	return 0, ""
}

// v2Delete is DELETE /tokens/{token}: {"message": "Deleted", "data": null},
// or 404 180.
func (s *Server) v2Delete(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.find(v) == nil {
		fail(w, http.StatusNotFound, 180, "Not Found")
		return
	}
	s.revoke(v)
	writeJSON(w, http.StatusOK, obj{{"message", "Deleted"}, {"data", nil}})
}

// v2Scopes is GET /scopes: {"data": [UserScope…]}.
func (s *Server) v2Scopes(w http.ResponseWriter, _ *http.Request) {
	out := []obj{}
	for _, sc := range s.available {
		m, rest, _ := strings.Cut(sc, ":")
		host, seg, _ := strings.Cut(rest, "/")
		out = append(out, obj{{"id", scopeID(sc)}, {"scope", sc}, {"method", m}, {"endpoint", seg}, {"domain", host}, {"enabled", true}})
	}
	writeJSON(w, http.StatusOK, obj{{"data", out}})
}

// v2Wallet is GET /wallet: {"data": {"credit", "createdAt", "updatedAt"}}.
// Without a wallet it answers 404 "Not Found" with no code (the spec
// documents no error here).
func (s *Server) v2Wallet(w http.ResponseWriter, _ *http.Request) {
	if s.wallet == nil {
		fail(w, http.StatusNotFound, 0, "Not Found")
		return
	}
	now := isoTime(s.now())
	writeJSON(w, http.StatusOK, obj{{"data", obj{{"credit", euro(s.wallet.BalanceMicros())}, {"createdAt", now}, {"updatedAt", now}}}})
}
