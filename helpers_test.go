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

// countingServer answers each request with handler and counts requests.
type countingServer struct {
	*httptest.Server
	hits atomic.Int32
}

func newCountingServer(t testing.TB, h func(n int32, w http.ResponseWriter, r *http.Request)) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(cs.hits.Add(1), w, r)
	}))
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
