package oauthfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) v1Routes(m *http.ServeMux) {
	m.HandleFunc("POST /v1/token", s.v1Auth(s.v1Create))
	m.HandleFunc("GET /v1/token", s.v1Auth(s.v1List))
	m.HandleFunc("GET /v1/token/{token}", s.v1Auth(s.v1Get))
	m.HandleFunc("PUT /v1/token/{token}", s.v1Auth(s.v1Replace))
	m.HandleFunc("PATCH /v1/token/{token}", s.v1Auth(s.v1Update))
	m.HandleFunc("DELETE /v1/token/{token}", s.v1Auth(s.v1Delete))
	m.HandleFunc("GET /v1/scopes", s.v1Auth(s.v1Scopes))
	m.HandleFunc("GET /v1/credit", s.v1Auth(s.v1Credit))
}

// v1Auth requires Basic auth. The v1 spec documents no answer for wrong
// credentials: the fake gives 401 with the error envelope and no code.
func (s *Server) v1Auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.basicOK(r) {
			fail(w, http.StatusUnauthorized, 0, "Unauthorized")
			return
		}
		h(w, r)
	}
}

// v1Token is a token in v1's lists.
func v1Token(t *token) obj {
	return obj{{"scopes", t.scopes}, {"expire", t.expires.Unix()}, {"token", t.value}}
}

// v1Body is v1's Scopes and ScopesEdit: ttl in seconds, or expire as a
// unix time (deprecated on create and update, the way to set it on replace).
type v1Body struct {
	Scopes json.RawMessage `json:"scopes"`
	TTL    json.RawMessage `json:"ttl"`
	Expire json.RawMessage `json:"expire"`
}

// lifetime reads ttl or expire: absent is def; ttl beyond a year is cut to
// a year ("up to one year"); anything malformed is refused.
func (s *Server) lifetime(b v1Body, def time.Duration) (time.Duration, bool) {
	ttl, ok := ttlOf(b.TTL, 0)
	switch {
	case !ok:
		return 0, false
	case ttl > 0:
		return min(ttl, MaxTTLV1), true
	case len(b.Expire) == 0 || string(b.Expire) == "null":
		return def, true
	}
	at, err := strconv.ParseInt(strings.TrimSpace(string(b.Expire)), 10, 64)
	if d := time.Unix(at, 0).Sub(s.now()); err == nil && d > 0 {
		return min(d, MaxTTLV1), true
	}
	return 0, false
}

// v1Create is POST /token: the token at the top level with the envelope's
// fields; 406 110 when scopes are missing. The spec documents no other
// error: a malformed or unknown scope gets 406 with 270, the code v1 gives
// it on replace and update.
func (s *Server) v1Create(w http.ResponseWriter, r *http.Request) {
	var b v1Body
	if !readBody(r, &b) {
		fail(w, http.StatusNotAcceptable, 110, "missing scopes array")
		return
	}
	scopes, serr := s.expand(b.Scopes)
	switch serr {
	case scopesOK:
	case scopesMissing:
		fail(w, http.StatusNotAcceptable, 110, "missing scopes array")
		return
	default:
		fail(w, http.StatusNotAcceptable, 270, "invalid scopes specified")
		return
	}
	ttl, ok := s.lifetime(b, DefaultTTL)
	if !ok {
		fail(w, http.StatusNotAcceptable, 0, "invalid ttl or expire")
		return
	}
	s.mu.Lock()
	t := s.issue(scopes, "", ttl, nil)
	out := v1Token(t)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, append(out, member{"success", true}, member{"message", ""}, member{"error", nil}))
}

// v1List is GET /token[?scope=…]: the unexpired tokens, those with that
// scope when one is given; 204 when there are none.
func (s *Server) v1List(w http.ResponseWriter, r *http.Request) {
	scope := r.URL.Query().Get("scope")
	s.mu.Lock()
	var out []obj
	now := s.now()
	for _, v := range s.order {
		t := s.tokens[v]
		if now.Before(t.expires) && (scope == "" || slices.Contains(t.scopes, scope)) {
			out = append(out, v1Token(t))
		}
	}
	s.mu.Unlock()
	if len(out) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, v1OK(out))
}

// v1Get is GET /token/{token}: a one-element list; 402 125 "Wrong Token"
// for a malformed id, 204 for an unknown or expired one.
func (s *Server) v1Get(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("token")
	if !isTokenID(v) {
		fail(w, http.StatusPaymentRequired, 125, "Wrong Token")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.find(v)
	if t == nil || !s.now().Before(t.expires) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, v1OK([]any{v1Token(t)}))
}
