package visengine

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTokenHasScope(t *testing.T) {
	const rich = "PUT:visengine2.altravia.com/richiesta"
	tests := []struct {
		name    string
		granted []string
		want    string
		ok      bool
	}{
		{"exact", []string{rich}, rich, true},
		{"other method", []string{"GET:visengine2.altravia.com/richiesta"}, rich, false},
		{"other segment", []string{"PUT:visengine2.altravia.com/visure"}, rich, false},
		{"sandbox host differs", []string{"PUT:test.visengine2.altravia.com/richiesta"}, rich, false},
		{"one of many", []string{"GET:visengine2.altravia.com/visure", rich}, rich, true},
		{"method wildcard", []string{"*:visengine2.altravia.com/richiesta"}, rich, true},
		{"host and segment wildcard", []string{"*:visengine2.altravia.com/*"}, rich, true},
		{"everything", []string{"*:*/*"}, rich, true},
		{"segment wildcard", []string{"PUT:visengine2.altravia.com/*"}, rich, true},
		{"segment wildcard other method", []string{"GET:visengine2.altravia.com/*"}, rich, false},
		{"host glob", []string{"PUT:*.altravia.com/richiesta"}, rich, true},
		{"host glob covers sandbox", []string{"*:*.visengine2.altravia.com/*"}, "GET:test.visengine2.altravia.com/visure", true},
		{"host glob needs the dot", []string{"*:*.visengine2.altravia.com/*"}, "GET:visengine2.altravia.com/visure", false},
		{"segment prefix glob", []string{"GET:visengine2.altravia.com/vis*"}, "GET:visengine2.altravia.com/visure", true},
		{"method and host case", []string{"put:VisEngine2.Altravia.com/richiesta"}, rich, true},
		{"segment is case sensitive", []string{"PUT:visengine2.altravia.com/Richiesta"}, rich, false},
		{"wildcard of another domain", []string{"*:imprese.openapi.it/*"}, rich, false},
		{"malformed granted scope", []string{"visengine2.altravia.com", "PUT:visengine2.altravia.com"}, rich, false},
		{"malformed wanted scope", []string{"*:*/*"}, "richiesta", false},
		{"unknown scopes", nil, rich, false},
		{"surrounding blanks", []string{" PUT:visengine2.altravia.com/richiesta "}, rich, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := &Token{Value: "x", Scopes: tt.granted}
			assert.Equal(t, tt.ok, tok.HasScope(tt.want))
		})
	}
	var nilTok *Token
	assert.False(t, nilTok.HasScope(rich))
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		ok         bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*", "abc", true},
		{"a*c", "abc", true},
		{"a*c", "ac", true},
		{"a*c", "abd", false},
		{"*b*", "abc", true},
		{"**", "x", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"abc", "ab", false},
		{"ab", "abc", false},
		{strings.Repeat("*a", 50), strings.Repeat("a", 49), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.ok, globMatch(tt.pattern, tt.s), "%q ~ %q", tt.pattern, tt.s)
	}
}

func TestScopeFor(t *testing.T) {
	tests := []struct {
		base, method, path, want string
	}{
		{ProductionURL, "PUT", "/richiesta/abc/ricerche", "PUT:visengine2.altravia.com/richiesta"},
		{SandboxURL, "PUT", "/richiesta/abc/ricerche", "PUT:test.visengine2.altravia.com/richiesta"},
		{ProductionURL, "GET", "/visure/8f14e45fceea167a5a36dedd4bea2543", "GET:visengine2.altravia.com/visure"},
		{ProductionURL, "GET", "/visure", "GET:visengine2.altravia.com/visure"},
		{ProductionURL, "post", "/richiesta", "POST:visengine2.altravia.com/richiesta"},
		{ProductionURL, "POST", "/richiesta/abc", "POST:visengine2.altravia.com/richiesta"},
		{ProductionURL, "GET", "/documento/abc", "GET:visengine2.altravia.com/documento"},
		{ProductionURL, "GET", "/richiesta?x=1", "GET:visengine2.altravia.com/richiesta"},
		{ProductionURL, "GET", "richiesta/abc", "GET:visengine2.altravia.com/richiesta"},
		{"https://VISENGINE2.altravia.com:443/prefix", "GET", "/visure", "GET:visengine2.altravia.com/visure"},
		{"http://127.0.0.1:8080", "GET", "/visure", "GET:127.0.0.1/visure"},
		{"visengine2.altravia.com", "GET", "/visure", "GET:visengine2.altravia.com/visure"},
		{ProductionURL, "GET", "/", "GET:visengine2.altravia.com/"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ScopeFor(tt.base, tt.method, tt.path), "%s %s %s", tt.base, tt.method, tt.path)
	}
}

// ScopeFor and HasScope agree for every call the client makes.
func TestScopeForMatchesWildcardToken(t *testing.T) {
	tok := &Token{Value: "x", Scopes: []string{"*:visengine2.altravia.com/*"}}
	for _, p := range []string{"/visure", "/richiesta/x", "/documento/y"} {
		assert.True(t, tok.HasScope(ScopeFor(ProductionURL, "GET", p)))
		assert.False(t, tok.HasScope(ScopeFor(SandboxURL, "GET", p)))
	}
}

func TestTokenNeverPrintsValue(t *testing.T) {
	tok := Token{
		Value:  canaryToken,
		Expiry: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Scopes: []string{"GET:visengine2.altravia.com/visure"},
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{tok, &tok, []Token{tok}, map[string]*Token{"t": &tok}, struct{ T Token }{tok}} {
			out := fmt.Sprintf(format, v)
			assert.NotContains(t, out, canaryToken, format)
			assert.NotContains(t, strings.ToLower(out), "63414e415259", format) // hex of "CANARY"
		}
	}
	assert.Contains(t, fmt.Sprint(tok), "2026-03-01T12:00:00Z")
	assert.Contains(t, fmt.Sprint(tok), "GET:visengine2.altravia.com/visure")
	assert.Contains(t, fmt.Sprint(Token{}), "empty")

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("token", "token", tok, "ptr", &tok, slog.Any("any", tok), slog.Group("g", "t", &tok))
	}
	assert.NotContains(t, buf.String(), canaryToken)
	assert.Contains(t, buf.String(), "value redacted")
}

// FuzzTokenHasScope checks HasScope against its definition on arbitrary
// scopes: it never panics, a scope covers itself, and "*:*/*" covers every
// well-formed scope.
func FuzzTokenHasScope(f *testing.F) {
	f.Add("*:visengine2.altravia.com/*", "PUT:visengine2.altravia.com/richiesta")
	f.Add("GET:*.altravia.com/vis*", "GET:test.visengine2.altravia.com/visure")
	f.Add("a:b/c", "A:B/c")
	f.Add("***:**/**", ":/")
	f.Fuzz(func(t *testing.T, granted, want string) {
		tok := &Token{Value: "x", Scopes: []string{granted}}
		got := tok.HasScope(want)
		parts, ok := splitScope(want)
		if !ok {
			if got {
				t.Fatalf("malformed %q granted", want)
			}
			return
		}
		if !strings.Contains(want, "*") && !(&Token{Scopes: []string{want}}).HasScope(want) {
			t.Fatalf("%q does not cover itself", want)
		}
		if !(&Token{Scopes: []string{"*:*/*"}}).HasScope(want) {
			t.Fatalf("*:*/* does not cover %q (%+v)", want, parts)
		}
	})
}
