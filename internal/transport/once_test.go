package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A call marked by Once is never retried, whatever the answer; without
// the mark the same GET is.
func TestOnceNeverRetries(t *testing.T) {
	get := WithCall(context.Background(), &Call{Idempotent: true})
	for _, code := range []int{429, 500, 503} {
		got, err := CheckRetry(Once(get), &http.Response{StatusCode: code}, nil)
		assert.NoError(t, err)
		assert.False(t, got, "%d", code)
	}
	got, _ := CheckRetry(Once(get), nil, errors.New("connection reset"))
	assert.False(t, got, "a transport error")

	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := New(Config{Token: StaticToken("t0k3n0000000000000000"), Attempts: 4, MinWait: time.Millisecond, MaxWait: time.Millisecond})
	for ctx, want := range map[context.Context]int32{Once(context.Background()): 1, context.Background(): 4} {
		hits.Store(0)
		resp, err := c.Do(ctx, NewCall(http.MethodGet, "/x"), srv.URL+"/x", http.Header{}, nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, want, hits.Load())
	}
}
