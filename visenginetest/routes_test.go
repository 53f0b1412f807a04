package visenginetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawCall sends a request without following redirects, so a 3xx is seen
// as it is, and returns the status and the body.
func rawCall(t *testing.T, srv *Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	require.Equal(t, path, req.URL.EscapedPath(), "the path is sent as written")
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	hc := *srv.ts.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

// Go's ServeMux answers a path that is not clean (double slashes, dot
// segments) with a 307 to the cleaned one, and a subtree path without its
// trailing slash with a 301. A client that follows it would send PUT
// /richiesta//ricerche to /richiesta/ricerche, an update of a richiesta
// with id "ricerche". The fake answers every path with an envelope.
func TestOddPathsNeverRedirect(t *testing.T) {
	srv := newServer(t)
	id := create(t, srv, map[string]any{"hash_visura": hashOrdinaria, "state": 0})
	paths := []string{
		"/", "//", "/visure", "/richiesta", "/documento", "/visure/", "//visure", "/visure//", "/visure/./" + hashOrdinaria, "/visure/../visure",
		"/visure/" + hashOrdinaria + "/", "/visure//" + hashOrdinaria, "/./visure", "/visure/.", "/visure/..",
		"/richiesta/", "//richiesta", "/richiesta//", "/richiesta/.", "/richiesta/..", "/richiesta/./",
		"/richiesta//ricerche", "/richiesta///ricerche", "/richiesta/" + id + "/", "/richiesta/" + id + "//",
		"/richiesta//" + id, "/richiesta/./" + id, "/richiesta/x/../" + id, "/richiesta/" + id + "/.",
		"/richiesta/" + id + "/ricerche/", "/richiesta/" + id + "//ricerche", "/richiesta/" + id + "/./ricerche",
		"/richiesta/" + id + "/ricerche/..", "/richiesta/%2e%2e/ricerche", "/richiesta/%2F/ricerche",
		"/documento/", "/documento//", "/documento//" + id, "/documento/" + id + "/", "/documento/./" + id,
		"/documento/../richiesta", "/nothing/here/", "/richiesta/" + id + "/ricerche/x",
	}
	for _, method := range []string{"GET", "POST", "PUT", "DELETE", "HEAD"} {
		for _, p := range paths {
			status, raw := rawCall(t, srv, method, p, `{"state":0}`)
			if !assert.Falsef(t, status >= 300 && status < 400, "%s %s: %d", method, p, status) {
				continue
			}
			if method == "HEAD" {
				continue
			}
			var env map[string]any
			if assert.NoErrorf(t, json.Unmarshal(raw, &env), "%s %s: %s", method, p, raw) {
				assert.Containsf(t, env, "success", "%s %s", method, p)
			}
		}
	}
	assert.Equal(t, 0.0, call(t, srv, "GET", "/richiesta/"+id, nil).data(t)["state"], "no odd path closed the draft")
}

// An empty id where the endpoint names one is "id required", as PUT
// /richiesta/ and GET /documento/ are in the spec.
func TestEmptyIDIsIDRequired(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"PUT", "/richiesta/", 226},
		{"PUT", "/richiesta", 226},
		{"GET", "/documento", 242},
		{"PUT", "/richiesta//ricerche", 226},
		{"GET", "/documento/", 242},
	} {
		status, raw := rawCall(t, srv, tc.method, tc.path, `{"id_ricerca":"x_0","indice":0}`)
		assert.Equalf(t, 428, status, "%s %s: %s", tc.method, tc.path, raw)
		assert.JSONEqf(t, `{"success":false,"message":"id required","error":`+itoa(tc.code)+`,"data":null}`, string(raw),
			"%s %s", tc.method, tc.path)
	}
}

// FuzzFakePaths: whatever the method and path, the fake answers with a
// JSON envelope and never a redirect (seed corpus in
// testdata/fuzz/FuzzFakePaths).
func FuzzFakePaths(f *testing.F) {
	for _, seed := range []struct{ method, path string }{
		{"PUT", "/richiesta//ricerche"}, {"GET", "/documento"}, {"PUT", "/richiesta"}, {"GET", "/visure/./x"},
		{"POST", "/richiesta/%2e%2e/"}, {"GET", "//"}, {"DELETE", "/richiesta/abc"}, {"PUT", "/richiesta/a/ricerche/"},
	} {
		f.Add(seed.method, seed.path)
	}
	srv := NewUnstartedServer()
	f.Cleanup(srv.Close)
	h := srv.ts.Config.Handler
	f.Fuzz(func(t *testing.T, method, path string) {
		u, err := url.ParseRequestURI(path)
		if err != nil || !validMethod(method) {
			t.Skip()
		}
		req := &http.Request{Method: method, URL: u, Host: "127.0.0.1", Header: http.Header{}, Body: http.NoBody}
		req.Header.Set("Authorization", "Bearer "+srv.Token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 300 && rec.Code < 400 {
			t.Fatalf("%s %q: %d to %q", method, path, rec.Code, rec.Header().Get("Location"))
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env["success"] == nil {
			t.Fatalf("%s %q: %d, not an envelope: %q", method, path, rec.Code, rec.Body.Bytes())
		}
		srv.mu.Lock()
		srv.requests = nil // keep memory flat over a long run
		srv.mu.Unlock()
	})
}

// validMethod accepts what net/http would send: an HTTP token.
func validMethod(m string) bool {
	if m == "" || m == "CONNECT" {
		return false // CONNECT is routed by host, not path
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}
	return true
}
