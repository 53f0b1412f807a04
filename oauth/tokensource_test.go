package oauth

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// createKey and renewKey are the fake's counters for a version.
func createKey(v1 bool) string {
	if v1 {
		return "POST /v1/token"
	}
	return "POST /v2/tokens"
}

func renewKey(v1 bool) string {
	if v1 {
		return "PUT /v1/token/{token}"
	}
	return "PATCH /v2/tokens/{token}"
}

func newSource(t testing.TB, f *fake, v1 bool, opts ...TokenSourceOption) *TokenSource {
	t.Helper()
	ts, err := NewTokenSource(f.client(t, v1), append([]TokenSourceOption{WithClock(f.clock.Now)}, opts...)...)
	require.NoError(t, err)
	return ts
}

// untilCount waits (in real time, briefly) until the fake has seen n
// requests for key: the point where concurrent callers must be waiting.
func untilCount(t *testing.T, f *fake, key string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return f.count(key) >= n }, 5*time.Second, time.Millisecond)
}

// gateOn holds every request at the fake until the returned func is called.
func gateOn(f *fake) (release func()) {
	g := make(chan struct{})
	f.mu.Lock()
	f.gate = g
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.gate = nil
			f.mu.Unlock()
			close(g)
		})
	}
}

// concurrently runs fn n times at once and returns the tokens and errors.
func concurrently(n int, fn func() (*visengine.Token, error)) ([]*visengine.Token, []error) {
	toks, errs := make([]*visengine.Token, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			toks[i], errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	return toks, errs
}

// 100 concurrent first callers share one creation.
func TestTokenSourceOneCreationForManyCallers(t *testing.T) {
	versions(t, func(t *testing.T, v1 bool) {
		f := newFake(t)
		ts := newSource(t, f, v1)
		release := gateOn(f)
		go func() {
			untilCount(t, f, createKey(v1), 1)
			time.Sleep(20 * time.Millisecond) // let the others queue behind the flight
			release()
		}()
		toks, errs := concurrently(100, func() (*visengine.Token, error) { return ts.Token(context.Background()) })
		for i := range toks {
			require.NoError(t, errs[i])
			assert.Equal(t, toks[0].Value, toks[i].Value)
		}
		assert.Equal(t, 1, f.count(createKey(v1)))
		assert.Equal(t, 1, f.total())
		scopes, ok := f.Lookup(toks[0].Value)
		require.True(t, ok)
		assert.Equal(t, VisengineScopes(false), scopes)
		assert.Equal(t, VisengineScopes(false), toks[0].Scopes)
		assert.Equal(t, f.clock.Now().Add(DefaultTTL), toks[0].Expiry)

		// Each caller gets its own copy.
		toks[0].Scopes[0] = "changed"
		again, err := ts.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, VisengineScopes(false)[0], again.Scopes[0])
		assert.Equal(t, 1, f.total())
	})
}

// 100 concurrent callers inside the renewal margin share one extension.
func TestTokenSourceOneRenewalForManyCallers(t *testing.T) {
	versions(t, func(t *testing.T, v1 bool) {
		f := newFake(t)
		ts := newSource(t, f, v1, WithTTL(time.Hour), WithRenewBefore(10*time.Minute))
		first, err := ts.Token(context.Background())
		require.NoError(t, err)
		f.clock.Add(55 * time.Minute)
		release := gateOn(f)
		go func() {
			untilCount(t, f, renewKey(v1), 1)
			time.Sleep(20 * time.Millisecond)
			release()
		}()
		toks, errs := concurrently(100, func() (*visengine.Token, error) { return ts.Token(context.Background()) })
		for i := range toks {
			require.NoError(t, errs[i])
			assert.Equal(t, first.Value, toks[i].Value)
			assert.Equal(t, f.clock.Now().Add(time.Hour), toks[i].Expiry)
		}
		assert.Equal(t, 1, f.count(renewKey(v1)))
		assert.Equal(t, 1, f.count(createKey(v1)))
		assert.Equal(t, 2, f.total())
	})
}

// A token used every minute for three hours, with a one-hour TTL, is
// extended ahead of expiry each time; no call ever holds an expired token.
func TestTokenSourceRenewsMidRun(t *testing.T) {
	versions(t, func(t *testing.T, v1 bool) {
		f := newFake(t)
		ts := newSource(t, f, v1, WithTTL(time.Hour), WithRenewBefore(10*time.Minute))
		var first string
		for minute := 0; minute <= 180; minute++ {
			tok, err := ts.Token(context.Background())
			require.NoError(t, err, "minute %d", minute)
			if first == "" {
				first = tok.Value
			}
			_, ok := f.Lookup(tok.Value)
			require.True(t, ok, "minute %d: the server refuses the token handed out", minute)
			assert.Equal(t, first, tok.Value, "extension keeps the value")
			assert.True(t, tok.Expiry.Sub(f.clock.Now()) > 10*time.Minute-time.Second, "minute %d", minute)
			f.clock.Add(time.Minute)
		}
		assert.Equal(t, 1, f.count(createKey(v1)))
		assert.Equal(t, 3, f.count(renewKey(v1)), "renewed at minutes 50, 100 and 150")
	})
}

// A token the server no longer has is replaced by a new one.
func TestTokenSourceCreatesWhenExtensionRefused(t *testing.T) {
	versions(t, func(t *testing.T, v1 bool) {
		f := newFake(t)
		c := f.client(t, v1)
		ts := newSource(t, f, v1, WithTTL(time.Hour), WithRenewBefore(10*time.Minute))
		tok, err := ts.Token(context.Background())
		require.NoError(t, err)
		require.NoError(t, c.RevokeToken(context.Background(), tok.Value))
		f.clock.Add(55 * time.Minute)
		next, err := ts.Token(context.Background())
		require.NoError(t, err)
		assert.NotEqual(t, tok.Value, next.Value)
		_, ok := f.Lookup(next.Value)
		assert.True(t, ok)
		assert.Equal(t, 1, f.count(renewKey(v1)))
		assert.Equal(t, 2, f.count(createKey(v1)))
	})
}

// While the token still works, a failed renewal is not an error: the
// token keeps being handed out, and a call ten seconds later tries again.
func TestTokenSourceKeepsWorkingTokenWhenRenewalFails(t *testing.T) {
	f := newFake(t)
	ts := newSource(t, f, false, WithTTL(time.Hour), WithRenewBefore(10*time.Minute))
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	f.clock.Add(52 * time.Minute)
	f.fail.Store(http.StatusServiceUnavailable)
	for range 5 {
		got, err := ts.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, tok.Value, got.Value)
		assert.Equal(t, tok.Expiry, got.Expiry)
	}
	assert.Equal(t, 1, f.count(renewKey(false)), "one attempt, then a pause")
	assert.Equal(t, 1, f.count(createKey(false)), "a 503 does not call for a new token")
	f.clock.Add(retryDelay)
	_, err = ts.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, f.count(renewKey(false)))
	f.fail.Store(0)
	f.clock.Add(retryDelay)
	got, err := ts.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, f.count(renewKey(false)))
	assert.True(t, got.Expiry.After(tok.Expiry))
}

// With no working token, a failed renewal reaches every waiting caller,
// and the next call tries again.
func TestTokenSourceFailureReachesAllWaiters(t *testing.T) {
	f := newFake(t)
	ts := newSource(t, f, false, WithTTL(time.Hour))
	f.fail.Store(http.StatusBadGateway)
	release := gateOn(f)
	go func() {
		untilCount(t, f, createKey(false), 1)
		time.Sleep(20 * time.Millisecond)
		release()
	}()
	_, errs := concurrently(20, func() (*visengine.Token, error) { return ts.Token(context.Background()) })
	for _, err := range errs {
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusBadGateway, ae.StatusCode)
		assert.True(t, ae.Temporary())
	}
	assert.Equal(t, 1, f.count(createKey(false)))
	f.fail.Store(0)
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	_, ok := f.Lookup(tok.Value)
	assert.True(t, ok)
	assert.Equal(t, 2, f.count(createKey(false)))
}

// After a 401, concurrent Renew calls with the same rejected token share
// one new token; late callers get it without a call.
func TestTokenSourceRenewAfter401(t *testing.T) {
	versions(t, func(t *testing.T, v1 bool) {
		f := newFake(t)
		ts := newSource(t, f, v1)
		old, err := ts.Token(context.Background())
		require.NoError(t, err)
		release := gateOn(f)
		go func() {
			untilCount(t, f, createKey(v1), 2)
			time.Sleep(20 * time.Millisecond)
			release()
		}()
		toks, errs := concurrently(100, func() (*visengine.Token, error) {
			return ts.Renew(context.Background(), &visengine.Token{Value: old.Value})
		})
		for i := range toks {
			require.NoError(t, errs[i])
			assert.Equal(t, toks[0].Value, toks[i].Value)
		}
		assert.NotEqual(t, old.Value, toks[0].Value)
		assert.Equal(t, 2, f.count(createKey(v1)), "one creation for the first token, one for all renewals")
		assert.Zero(t, f.count(renewKey(v1)), "a refused token is replaced, not extended")

		late, err := ts.Renew(context.Background(), old)
		require.NoError(t, err)
		assert.Equal(t, toks[0].Value, late.Value)
		cur, err := ts.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, toks[0].Value, cur.Value)
		assert.Equal(t, 2, f.count(createKey(v1)))

		again, err := ts.Renew(context.Background(), cur)
		require.NoError(t, err)
		assert.NotEqual(t, cur.Value, again.Value)
		assert.Equal(t, 3, f.count(createKey(v1)))
	})
}

// A failed Renew leaves no refused token behind: the next Token call
// creates one.
func TestTokenSourceRenewFailureThenToken(t *testing.T) {
	f := newFake(t)
	ts := newSource(t, f, false)
	old, err := ts.Token(context.Background())
	require.NoError(t, err)
	f.fail.Store(http.StatusServiceUnavailable)
	_, err = ts.Renew(context.Background(), old)
	require.Error(t, err)
	_, err = ts.Token(context.Background())
	require.Error(t, err, "the refused token is not handed out again")
	f.fail.Store(0)
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, old.Value, tok.Value)
}

// A caller that gives up does not cancel the renewal for the others.
func TestTokenSourceCallerCancelDoesNotFailOthers(t *testing.T) {
	f := newFake(t)
	ts := newSource(t, f, false)
	release := gateOn(f)
	ctx, cancel := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() { _, err := ts.Token(ctx); errA <- err }()
	untilCount(t, f, createKey(false), 1)
	resB := make(chan error, 1)
	go func() { _, err := ts.Token(context.Background()); resB <- err }()
	cancel()
	assert.ErrorIs(t, <-errA, context.Canceled)
	release()
	require.NoError(t, <-resB)
	assert.Equal(t, 1, f.count(createKey(false)))
}

// The sandbox client asks for the test. scopes; WithScopes narrows them.
func TestTokenSourceScopes(t *testing.T) {
	f := newFake(t)
	c := f.client(t, false, WithSandbox())
	ts, err := NewTokenSource(c, WithClock(f.clock.Now))
	require.NoError(t, err)
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	scopes, _ := f.Lookup(tok.Value)
	assert.Equal(t, VisengineScopes(true), scopes)
	assert.True(t, tok.HasScope(visengine.ScopeFor(visengine.SandboxURL, "PUT", "/richiesta/x/ricerche")))

	ro, err := NewTokenSource(c, WithClock(f.clock.Now), WithScopes(VisengineReadOnlyScopes(true)...))
	require.NoError(t, err)
	tok, err = ro.Token(context.Background())
	require.NoError(t, err)
	assert.False(t, tok.HasScope(visengine.ScopeFor(visengine.SandboxURL, "POST", "/richiesta")))
	assert.True(t, tok.HasScope(visengine.ScopeFor(visengine.SandboxURL, "GET", "/documento/x")))
}

func TestTokenSourceOptions(t *testing.T) {
	f := newFake(t)
	c := f.client(t, false)
	v1 := f.client(t, true)
	bad := map[string]func() error{
		"nil client":       func() error { _, err := NewTokenSource(nil); return err },
		"ttl too short":    func() error { _, err := NewTokenSource(c, WithTTL(30*time.Second)); return err },
		"ttl fractional":   func() error { _, err := NewTokenSource(c, WithTTL(90*time.Second+1)); return err },
		"v1 ttl over year": func() error { _, err := NewTokenSource(v1, WithTTL(400*24*time.Hour)); return err },
		"margin over ttl":  func() error { _, err := NewTokenSource(c, WithTTL(time.Hour), WithRenewBefore(time.Hour)); return err },
		"margin zero":      func() error { _, err := NewTokenSource(c, WithRenewBefore(0)); return err },
		"no scopes":        func() error { _, err := NewTokenSource(c, WithScopes()); return err },
		"bad scope":        func() error { _, err := NewTokenSource(c, WithScopes("richiesta")); return err },
		"nil store":        func() error { _, err := NewTokenSource(c, WithStore(nil)); return err },
		"nil clock":        func() error { _, err := NewTokenSource(c, WithClock(nil)); return err },
		"nil option":       func() error { _, err := NewTokenSource(c, nil); return err },
		"nil ctx":          func() error { ts, _ := NewTokenSource(c); _, err := ts.Token(nilCtx()); return err },
		"renew nil":        func() error { ts, _ := NewTokenSource(c); _, err := ts.Renew(context.Background(), nil); return err },
		"renew empty value": func() error {
			ts, _ := NewTokenSource(c)
			_, err := ts.Renew(context.Background(), &visengine.Token{})
			return err
		},
	}
	for name, fn := range bad {
		assert.ErrorIs(t, fn(), visengine.ErrInvalidArgument, name)
	}
	assert.Zero(t, f.total())

	// The default margin is a quarter of a short TTL.
	ts, err := NewTokenSource(c, WithTTL(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 15*time.Minute, ts.margin)
	// v1 tokens have no name.
	ts, err = NewTokenSource(v1, WithTokenName("x"))
	require.NoError(t, err)
	assert.Empty(t, ts.name)
}

func nilCtx() context.Context { return nil }

// A renewal reaching v1 never sends a name (v1 refuses it); v2's carries
// the default label.
func TestTokenSourceName(t *testing.T) {
	f := newFake(t)
	ts := newSource(t, f, false)
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	info, err := f.client(t, false).GetToken(context.Background(), tok.Value)
	require.NoError(t, err)
	assert.Equal(t, DefaultTokenName, info.Name)
}

// renewDue uses half the lifetime for a token shorter than the margin, so
// a short-lived answer is not renewed on every call.
func TestRenewDue(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &held{tok: visengine.Token{Expiry: t0.Add(time.Hour)}, obtained: t0}
	assert.False(t, h.renewDue(t0.Add(29*time.Minute), 24*time.Hour))
	assert.True(t, h.renewDue(t0.Add(30*time.Minute), 24*time.Hour))
	assert.False(t, h.renewDue(t0.Add(49*time.Minute), 10*time.Minute))
	assert.True(t, h.renewDue(t0.Add(50*time.Minute), 10*time.Minute))
	assert.False(t, (&held{}).renewDue(t0, time.Hour), "no expiry, never due")
	assert.False(t, (&held{}).expired(t0))
	assert.True(t, h.expired(t0.Add(time.Hour-expiryDelta)))
	assert.False(t, h.expired(t0.Add(time.Hour-expiryDelta-time.Second)))
	assert.True(t, replaceable(errNotExtended))
	assert.True(t, replaceable(&APIError{StatusCode: 404}))
	assert.False(t, replaceable(&APIError{StatusCode: 429}))
	assert.False(t, replaceable(&APIError{StatusCode: 503}))
	assert.False(t, replaceable(errors.New("dial")))
}

// RenewToken on v1 sends what the spec requires: the token's scopes, read
// back first, with the new expiry, in PUT /token/{token} as Openapi's PHP
// SDK does; a PATCH with a ttl alone is refused (406, error 310).
func TestRenewTokenV1SendsScopes(t *testing.T) {
	f := newFake(t)
	c := f.client(t, true)
	ctx := context.Background()
	info, err := c.CreateToken(ctx, CreateTokenParams{Scopes: VisengineReadOnlyScopes(false), TTL: time.Hour})
	require.NoError(t, err)
	f.clock.Add(30 * time.Minute)
	before := time.Now()
	renewed, err := c.RenewToken(ctx, info.Token, 2*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, info.Token, renewed.Token)
	assert.Equal(t, VisengineReadOnlyScopes(false), renewed.Scopes)
	assert.WithinDuration(t, before.Add(2*time.Hour), renewed.ExpiresAt, 5*time.Second, "counted from this machine's clock")
	assert.Equal(t, 1, f.count("GET /v1/token/{token}"))
	assert.Equal(t, 1, f.count("PUT /v1/token/{token}"))
	assert.Zero(t, f.count("PATCH /v1/token/{token}"))
	scopes, ok := f.Lookup(info.Token)
	require.True(t, ok)
	assert.Equal(t, VisengineReadOnlyScopes(false), scopes, "the scopes are kept")

	_, err = c.UpdateToken(ctx, info.Token, UpdateTokenParams{TTL: time.Hour})
	assert.ErrorIs(t, err, visengine.ErrInvalidArgument, "v1 needs the scopes on every update")
	assert.Zero(t, f.count("PATCH /v1/token/{token}"))
}
