package form

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// csrfCookie is the cookie half of the double-submit CSRF token; the hidden
// field "csrf" of every form is the other.
const csrfCookie = "visengine_form_csrf"

// csrfToken returns the browser's CSRF token, setting a new cookie when it
// has none (or a malformed one).
func (h *handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && validToken(c.Value) {
		return c.Value
	}
	tok := newToken()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, HttpOnly: true,
		Secure: h.cfg.secure || r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return tok
}

// validToken reports whether s has the shape of newToken's output.
func validToken(s string) bool {
	if len(s) != 22 {
		return false
	}
	return strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

// checkCSRF reports whether a POST carries the same token in its cookie
// and in its field, and does not come from another origin.
func checkCSRF(r *http.Request, field string) bool {
	if !sameOrigin(r) {
		return false
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || !validToken(c.Value) || !validToken(field) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(field)) == 1
}

// sameOrigin refuses what browsers say comes from elsewhere: Sec-Fetch-Site
// other than same-origin or none (a typed address), or else an Origin whose
// host is not the request's. Clients that send neither (curl, old
// browsers) rely on the token alone, as with net/http's
// CrossOriginProtection.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// hasCSRFCookie reports whether the request carries a well-formed CSRF
// cookie, so a POST without one is refused before its body is read.
func hasCSRFCookie(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && validToken(c.Value)
}
