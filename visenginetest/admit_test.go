package visenginetest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

// countingBody is an endless request body that counts what is read of it.
type countingBody struct{ n atomic.Int64 }

func (c *countingBody) Read(p []byte) (int, error) {
	clear(p)
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// The fake checks the token before it reads a byte of the body, and reads
// no more than its caps: unauthenticated POSTs of 64 MiB took
// visengine-fake (the same handler) to 499 MiB.
func TestFakeChecksTokenBeforeBody(t *testing.T) {
	s := NewServer()
	t.Cleanup(s.Close)
	h := s.handler()
	cases := []struct {
		name, path, auth string
		length           int64
		status           int
		maxRead          int64
	}{
		{"no token", "/richiesta", "", -1, http.StatusUnauthorized, 0},
		{"wrong token", "/richiesta", "Bearer nope", -1, http.StatusUnauthorized, 0},
		{"announced over the cap", "/richiesta", "Bearer " + s.Token, maxBody + 1, http.StatusRequestEntityTooLarge, 0},
		{"oauth, endless", "/oauth/v2/tokens", "", -1, http.StatusRequestEntityTooLarge, maxOAuthBody + 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := &countingBody{}
			req := httptest.NewRequest(http.MethodPost, c.path, io.NopCloser(body))
			req.ContentLength = c.length
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, c.status, rec.Code)
			assert.LessOrEqual(t, body.n.Load(), c.maxRead+32<<10, "bytes read of the body")
		})
	}
	reqs := s.Requests()
	if assert.NotEmpty(t, reqs) {
		assert.Nil(t, reqs[0].Body, "recorded without its body")
	}
}
