package visengine

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// canaryToken must never appear in a log line or an error string.
const canaryToken = "CANARY0token0d3adb33f000"

// readTestdata returns a file under testdata.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

// newTestClient returns a client for srv with fast retries.
func newTestClient(t testing.TB, url string, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithBaseURL(url), WithRetry(3, time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := NewClient(canaryToken, opts...)
	require.NoError(t, err)
	return c
}

// apiPrefix is where test servers mount the API, as go-github's tests mount
// it under /api-v3: a client that built an absolute path by mistake, and
// dropped the base URL's own path, reaches nothing and fails the test.
const apiPrefix = "/prefix"

// countingServer answers each request under apiPrefix with handler, which
// sees the endpoint's path ("/visure"), and counts them. URL is the API's
// base URL, apiPrefix included; a request outside it fails the test.
type countingServer struct {
	*httptest.Server
	URL  string // the base URL to give the client; shadows Server.URL
	hits atomic.Int32
}

func newCountingServer(t testing.TB, h func(n int32, w http.ResponseWriter, r *http.Request)) *countingServer {
	t.Helper()
	cs := &countingServer{}
	mux := http.NewServeMux()
	mux.Handle(apiPrefix+"/", http.StripPrefix(apiPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(cs.hits.Add(1), w, r)
	})))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base URL's path: %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	cs.Server = httptest.NewServer(mux)
	cs.URL = cs.Server.URL + apiPrefix
	t.Cleanup(cs.Close)
	return cs
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// decodeData decodes the data of a testdata envelope as T.
func decodeData[T any](t testing.TB, file string) *T {
	t.Helper()
	var env struct {
		Data T `json:"data"`
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, file), &env))
	return &env.Data
}
