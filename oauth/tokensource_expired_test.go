package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// An OAuth service whose tokens are already expired by this machine's
// clock (two days apart): each Visengine call used to mint a token, send
// it, get a 401, renew and mint another. Now the token is refused before
// any call is sent, with an error naming the clocks: one mint per call at
// most, and concurrent callers share one.
func TestTokenSourceRefusesExpiredOnArrival(t *testing.T) {
	f := newFake(t)
	skewed := func() time.Time { return f.clock.Now().Add(DefaultTTL + 48*time.Hour) }
	ts := newSource(t, f, false, WithClock(skewed))
	var sent sync.Map
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Store(r.Header.Get("Authorization"), true)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"success": false, "message": "token expired", "error": 401, "data": null}`))
	}))
	t.Cleanup(api.Close)
	vc, err := visengine.NewClient("", visengine.WithBaseURL(api.URL), visengine.WithTokenSource(ts),
		visengine.WithRetry(1, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	const calls = 40
	for range calls {
		_, err := vc.ListVisure(ctx)
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrExpiredOnArrival)
	}
	assert.LessOrEqual(t, f.count(createKey(false)), calls, "one mint per call at most")
	n := 0
	sent.Range(func(any, any) bool { n++; return true })
	assert.Zero(t, n, "no call was sent with an expired token")

	_, err = ts.Token(ctx)
	require.ErrorIs(t, err, ErrExpiredOnArrival)
	assert.Contains(t, err.Error(), "clock")

	before := f.count(createKey(false))
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ts.Token(ctx)
			assert.ErrorIs(t, err, ErrExpiredOnArrival)
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, f.count(createKey(false))-before, 20)
}
