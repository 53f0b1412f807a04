package oauthfake

import (
	"net/http"
)

// v1Replace is PUT /token/{token}: scopes (required) and expire (default a
// year from now) replace the token's; no ttl. 404 170, 406 270.
func (s *Server) v1Replace(w http.ResponseWriter, r *http.Request) {
	s.v1Change(w, r, true)
}

// v1Update is PATCH /token/{token}: scopes are required, as the spec's
// Scopes schema has them (406 310, "missing scopes array and expire",
// without them); ttl or expire optional. 404 290, 406 270.
func (s *Server) v1Update(w http.ResponseWriter, r *http.Request) {
	s.v1Change(w, r, false)
}

func (s *Server) v1Change(w http.ResponseWriter, r *http.Request, replace bool) {
	missing := 290
	if replace {
		missing = 170
	}
	var b v1Body
	ok := readBody(r, &b)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.find(r.PathValue("token"))
	switch {
	case t == nil:
		fail(w, http.StatusNotFound, missing, "Missing Token")
		return
	case !ok || !replace && isAbsent(b.Scopes):
		fail(w, http.StatusNotAcceptable, 310, "missing scopes array and expire")
		return
	}
	if replace {
		b.TTL = nil // "the TTL option is not available for this method"
	}
	if code, msg := s.v1Apply(t, b, replace); msg != "" {
		fail(w, http.StatusNotAcceptable, code, msg)
		return
	}
	writeJSON(w, http.StatusOK, v1OK([]any{v1Token(t)}))
}

// v1Apply changes t, or returns the error's code and message.
func (s *Server) v1Apply(t *token, b v1Body, replace bool) (int, string) {
	var scopes []string
	if replace || !isAbsent(b.Scopes) {
		var serr scopeError
		if scopes, serr = s.expand(b.Scopes); serr != scopesOK {
			return 270, "invalid scopes specified"
		}
	}
	def := t.expires.Sub(s.now())
	if replace {
		def = DefaultTTL
	}
	ttl, ok := s.lifetime(b, def)
	if !ok {
		return 0, "invalid ttl or expire"
	}
	if scopes != nil {
		t.scopes = scopes
	}
	t.expires, t.updated = s.now().Add(ttl), s.now()
	return 0, ""
}

func isAbsent(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }

// v1Delete is DELETE /token/{token}: {"message": "1 deleted token", …};
// 404 150.
func (s *Server) v1Delete(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.find(v) == nil {
		fail(w, http.StatusNotFound, 150, "Missing Token")
		return
	}
	s.revoke(v)
	writeJSON(w, http.StatusOK, obj{{"message", "1 deleted token"}, {"success", true}, {"error", nil}})
}

// v1Scopes is GET /scopes as the spec's example has it: the whole
// envelope nested under "data", {"data": {"data": ["METHOD:host/segment",
// …], "success": true, "message": "", "error": null}}. (The schema has the
// list under a top-level "data" instead; the example is what the service
// was seen to answer, and package oauth reads both.)
func (s *Server) v1Scopes(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, obj{{"data", v1OK(s.available)}})
}

// v1Credit is GET /credit: {"data": {"credit": 423.38}, …}; 404 320
// without a wallet.
func (s *Server) v1Credit(w http.ResponseWriter, _ *http.Request) {
	if s.wallet == nil {
		fail(w, http.StatusNotFound, 320, "non-existent Openapi credit")
		return
	}
	writeJSON(w, http.StatusOK, v1OK(obj{{"credit", euro(s.wallet.BalanceMicros())}}))
}
