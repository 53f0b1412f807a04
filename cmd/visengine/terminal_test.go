package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileStrings reads testdata/hostile/escapes.txt.
func hostileStrings(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "hostile", "escapes.txt"))
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := strconv.Unquote(line)
		require.NoError(t, err, line)
		out = append(out, s)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out)
	return out
}

// poison appends evil to every string of the JSON file's data but the
// richiesta ids (the SDK refuses an answer with a bad one), object keys
// under "campi" included, and returns the answer's body.
func poison(t *testing.T, file, evil string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", file))
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	var walk func(v any, keys bool) any
	walk = func(v any, keys bool) any {
		switch v := v.(type) {
		case string:
			return v + evil
		case []any:
			for i := range v {
				v[i] = walk(v[i], false)
			}
		case map[string]any:
			out := map[string]any{}
			for k, e := range v {
				switch {
				case k == "success", k == "error", k == "message", k == "_id":
					out[k] = e
				case keys:
					out[k+evil] = walk(e, false)
				default:
					out[k] = walk(e, k == "campi")
				}
			}
			return out
		}
		return v
	}
	b, err := json.Marshal(walk(v, false))
	require.NoError(t, err)
	return b
}

// hostileServer answers every Visengine and OAuth call with evil in each
// string it sends.
func hostileServer(t *testing.T, evil string) *httptest.Server {
	visure := poison(t, "spec/get_visure_200.json", evil)
	visura := poison(t, "visura_a2.json", evil)
	list := poison(t, "spec/get_richiesta_200.json", evil)
	one := poison(t, "spec/get_richiesta_id_200.json", evil)
	tokens, err := json.Marshal(map[string]any{"success": true, "data": []map[string]any{{
		"token": "0123456789abcdef01234567" + evil, "name": "caf" + evil,
		"scopes": []string{"GET:test.visengine2.altravia.com/visure" + evil}, "expireAt": 1999999999}}})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		p := r.URL.Path
		switch {
		case p == "/visure":
			_, _ = w.Write(visure)
		case strings.HasPrefix(p, "/visure/"):
			_, _ = w.Write(visura)
		case p == "/richiesta":
			_, _ = w.Write(list)
		case strings.HasPrefix(p, "/richiesta/"):
			_, _ = w.Write(one)
		case p == "/tokens":
			_, _ = w.Write(tokens)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// unsafeShown finds a character that could drive a terminal in out, which
// may hold newlines (and tabs, for tables) only.
func unsafeShown(out string) (rune, bool) {
	for _, r := range out {
		if r != '\n' && r != '\t' && unsafeRune(r) || r == utf8.RuneError {
			return r, true
		}
	}
	return 0, false
}

// TestTerminalEscapes runs every command that prints server strings
// against a server that puts each hostile string everywhere, in text and
// --json: nothing reaches the terminal raw, and the JSON still decodes.
func TestTerminalEscapes(t *testing.T) {
	commands := [][]string{
		{"catalogue", "--no-prices"}, {"show", "2631ec9b62135de4186f509fea7d954b"},
		{"list"}, {"status", "5f22f722065afc42223c7131"}, {"wait", "--interval", "10ms", "5f22f722065afc42223c7131"},
		{"token", "list"}, {"token", "list", "--reveal"},
	}
	for i, evil := range hostileStrings(t) {
		srv := hostileServer(t, evil)
		t.Setenv(envURL, srv.URL)
		t.Setenv(envToken, "hostile-test-token")
		t.Setenv(envOAuthURL, srv.URL)
		t.Setenv(envEmail, "caf@example.it")
		t.Setenv(envAPIKey, "0123456789abcdef")
		for _, args := range commands {
			for _, asJSON := range []bool{false, true} {
				args := args
				if asJSON {
					args = append(append([]string(nil), args...), "--json")
				}
				t.Run(strconv.Itoa(i)+"/"+strings.Join(args, "_"), func(t *testing.T) {
					limit := 5 * time.Second
					if args[0] == "wait" { // its stato never ends: one change printed, then cut
						limit = 80 * time.Millisecond
					}
					ctx, cancel := context.WithTimeout(context.Background(), limit)
					defer cancel()
					var out, errOut bytes.Buffer
					err := run(ctx, args, &out, &errOut, strings.NewReader(""))
					if err != nil {
						report(&errOut, err, "")
					}
					for name, s := range map[string]string{"stdout": out.String(), "stderr": errOut.String()} {
						r, bad := unsafeShown(s)
						assert.False(t, bad, "%s shows %U: %q", name, r, s)
					}
					if asJSON && out.Len() > 0 {
						dec := json.NewDecoder(&out)
						for dec.More() {
							var v any
							require.NoError(t, dec.Decode(&v), "the escaped JSON decodes")
						}
					}
				})
			}
		}
	}
}

// TestCleanOneCleaner checks the cleaner and the JSON escaping directly.
func TestCleanOneCleaner(t *testing.T) {
	assert.Equal(t, "$1 ]0;PWNED [2J", clean("$1\x1b]0;PWNED\a\x1b[2J"))
	assert.Equal(t, "abc fdp.exe", clean("abc\u202efdp.exe"))
	assert.Equal(t, "a\nb c", cleanText("a\r\nb\u2066c"))
	got := string(escapeJSON([]byte("{\"a\": \"x\u202e\u0085\x7f\U000e0041\"}\n")))
	assert.Equal(t, `{"a": "x\u202e\u0085\u007f\udb40\udc41"}`+"\n", got)
	var v map[string]string
	require.NoError(t, json.Unmarshal([]byte(got), &v))
	assert.Equal(t, "x\u202e\u0085\x7f\U000e0041", v["a"])
}

// FuzzEscapeJSON: whatever a server string holds, printJSON's output
// decodes to the same string (invalid UTF-8 aside, which encoding/json
// replaces) and shows no character that could drive a terminal.
func FuzzEscapeJSON(f *testing.F) {
	for _, s := range []string{"plain", "$1\x1b]0;PWNED\a\x1b[2J", "abc\u202efdp", "\u0085\u009b\x7f", "tag\U000e0041", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var out bytes.Buffer
		require.NoError(t, printJSON(&out, map[string]string{"k": s}))
		if r, bad := unsafeShown(out.String()); bad {
			t.Fatalf("%U shown in %q", r, out.String())
		}
		var back map[string]string
		require.NoError(t, json.Unmarshal(out.Bytes(), &back))
		if utf8.ValidString(s) {
			assert.Equal(t, s, back["k"])
		}
		c := clean(s)
		if r, bad := unsafeShown(c); bad || strings.ContainsAny(c, "\n\t") {
			t.Fatalf("clean left %U in %q", r, c)
		}
	})
}
