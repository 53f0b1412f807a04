package visengine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// TokenSource supplies the bearer token a Client sends (see
// WithTokenSource). Package oauth has one that creates and renews
// Visengine tokens from an Openapi account; any other implementation (a
// secret manager, a fixed token in tests) works too. Token is called before
// every call (to check its scope) and every attempt, so it must be cheap
// when it holds a valid token, and safe for concurrent use; its errors are
// shown to the caller, so they must not contain the token.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// TokenRenewer is a TokenSource that can replace a token the server refused
// (401). A Client calls Renew after a 401 with the token that was sent
// (its Value only), then sends the call once more with Token's answer; an
// implementation renews once for all the concurrent callers that saw the
// same rejected token (compared by Value) and hands the new token to each of
// them, and returns the current token at once when it already differs from
// the rejected one.
type TokenRenewer interface {
	TokenSource
	Renew(ctx context.Context, rejected *Token) (*Token, error)
}

// Token is a bearer token with what is known of it. Expiry is zero when
// unknown; Scopes is empty when unknown, and then nothing can be checked
// locally. Printing a Token (fmt, slog) never shows Value.
type Token struct {
	Value  string    // the bearer token
	Expiry time.Time // when it stops working; zero if unknown
	Scopes []string  // the scopes it grants, "METHOD:host/segment"; may hold wildcards
}

// String describes the token without its value: expiry and scopes.
func (t Token) String() string {
	var b strings.Builder
	b.WriteString("visengine.Token(")
	if t.Value == "" {
		b.WriteString("empty")
	} else {
		b.WriteString("value redacted")
	}
	if !t.Expiry.IsZero() {
		b.WriteString(", expires " + t.Expiry.UTC().Format(time.RFC3339))
	}
	if len(t.Scopes) > 0 {
		b.WriteString(", scopes " + strings.Join(t.Scopes, " "))
	}
	b.WriteString(")")
	return b.String()
}

// GoString is String, so %#v does not print the value either.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb, so %+v cannot reach the value.
func (t Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// LogValue logs String: slog's JSON handler would otherwise marshal Value.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// HasScope reports whether the token grants scope ("METHOD:host/segment",
// as ScopeFor gives it). A granted scope may use "*" as a wildcard in each
// of its three parts, anywhere in the part ("*:visengine2.altravia.com/*",
// "*:*/*", "GET:*.altravia.com/visure"). Methods and hosts compare without
// regard to case, path segments exactly. A nil token, or one whose Scopes
// are unknown (empty), grants nothing: check len(t.Scopes) first when
// unknown scopes should not block a call.
func (t *Token) HasScope(scope string) bool {
	if t == nil {
		return false
	}
	want, ok := splitScope(scope)
	if !ok {
		return false
	}
	for _, g := range t.Scopes {
		if have, ok := splitScope(g); ok && have.covers(want) {
			return true
		}
	}
	return false
}

// scopeParts is a scope split at its ':' and first '/'.
type scopeParts struct{ method, host, segment string }

func splitScope(s string) (scopeParts, bool) {
	method, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return scopeParts{}, false
	}
	host, segment, ok := strings.Cut(rest, "/")
	if !ok || method == "" || host == "" {
		return scopeParts{}, false
	}
	return scopeParts{method: strings.ToUpper(method), host: strings.ToLower(host), segment: segment}, true
}

// covers reports whether p, a granted scope, includes want, a needed one.
func (p scopeParts) covers(want scopeParts) bool {
	return globMatch(p.method, want.method) && globMatch(p.host, want.host) && globMatch(p.segment, want.segment)
}

// globMatch matches s against pattern, where each '*' stands for any run of
// characters (none included). It runs in O(len(pattern)·len(s)) at worst,
// so a hostile scope list cannot make it blow up.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ScopeFor returns the scope a call needs: "METHOD:host/first-segment",
// where host is baseURL's host name (lower case, without port) and
// first-segment is the first segment of the API path. The segment alone
// decides, as on Openapi's gateway: PUT /richiesta/{id}/ricerche needs
// "PUT:visengine2.altravia.com/richiesta", and against SandboxURL
// "PUT:test.visengine2.altravia.com/richiesta". A baseURL that does not
// parse is taken as the host itself. For a proxy or a fake, the host is
// theirs, not Visengine's: pass the Visengine host instead, as a Client
// does (see WithScopeHost).
func ScopeFor(baseURL, method, path string) string {
	host := baseURL
	if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	path, _, _ = strings.Cut(path, "?")
	segment, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return strings.ToUpper(method) + ":" + strings.ToLower(host) + "/" + segment
}
