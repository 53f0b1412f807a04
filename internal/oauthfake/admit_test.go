package oauthfake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endlessBody counts what is read of an endless request body.
type endlessBody struct{ n int64 }

func (b *endlessBody) Read(p []byte) (int, error) {
	clear(p)
	b.n += int64(len(p))
	return len(p), nil
}

// Every route checks the credentials before it reads a byte of the body,
// and reads at most maxBody of it.
func TestCredentialsBeforeBody(t *testing.T) {
	s, err := New("caf@example.it", "0123456789abcdef")
	require.NoError(t, err)
	for _, route := range []struct{ method, path string }{
		{http.MethodPost, "/v2/tokens"}, {http.MethodPatch, "/v2/tokens/0123456789abcdef01234567"},
		{http.MethodPost, "/v1/token"}, {http.MethodPatch, "/v1/token/0123456789abcdef01234567"},
		{http.MethodPut, "/v1/token/0123456789abcdef01234567"},
	} {
		body := &endlessBody{}
		req := httptest.NewRequest(route.method, route.path, io.NopCloser(body))
		req.Header.Set("Authorization", "Bearer not-a-refresh-token")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, route.path)
		assert.Zero(t, body.n, "%s %s read the body of an unauthenticated request", route.method, route.path)
	}
}
