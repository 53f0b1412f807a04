package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"99999999999", 24 * time.Hour, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tc := range cases {
		got, ok := RetryAfter(tc.in, now)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestBackoffCapsRetryAfter(t *testing.T) {
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3600"}}}
	assert.Equal(t, 5*time.Second, Backoff(time.Millisecond, 5*time.Second, 0, resp))
	resp.Header.Set("Retry-After", "2")
	assert.Equal(t, 2*time.Second, Backoff(time.Millisecond, 5*time.Second, 0, resp))
	resp.StatusCode = 500 // Retry-After only counts on 429 and 503
	assert.LessOrEqual(t, Backoff(time.Millisecond, 5*time.Second, 0, resp), time.Millisecond)
}

func TestJitteredGrowsAndStaysInBounds(t *testing.T) {
	min, max := 100*time.Millisecond, 2*time.Second
	for attempt := 0; attempt < 10; attempt++ {
		ceiling := min << attempt
		if ceiling > max {
			ceiling = max
		}
		for i := 0; i < 200; i++ {
			d := Jittered(min, max, attempt)
			assert.GreaterOrEqual(t, d, min)
			assert.LessOrEqual(t, d, ceiling)
			assert.GreaterOrEqual(t, d, ceiling/2)
		}
	}
	assert.Equal(t, time.Duration(0), Jittered(0, 0, 3))
}

func TestCheckRetryPolicy(t *testing.T) {
	get := WithCall(context.Background(), &Call{Idempotent: true})
	post := &Call{}
	postCtx := WithCall(context.Background(), post)
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code} }
	netErr := errors.New("connection reset")
	cases := []struct {
		name string
		ctx  context.Context
		resp *http.Response
		err  error
		want bool
	}{
		{"get 503", get, resp(503), nil, true},
		{"get 500", get, resp(500), nil, true},
		{"get 501", get, resp(501), nil, false},
		{"get 429", get, resp(429), nil, true},
		{"get 404", get, resp(404), nil, false},
		{"get 200", get, resp(200), nil, false},
		{"get transport error", get, nil, netErr, true},
		{"post 503", postCtx, resp(503), nil, false},
		{"post 429", postCtx, resp(429), nil, false},
	}
	for _, tc := range cases {
		got, err := CheckRetry(tc.ctx, tc.resp, tc.err)
		assert.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
	post.unsent.Store(true)
	got, _ := CheckRetry(postCtx, nil, netErr)
	assert.True(t, got, "a POST that provably never left is retried")
	post.unsent.Store(false)
	got, _ = CheckRetry(postCtx, nil, netErr)
	assert.False(t, got, "a POST that may have left is never resent")

	ctx, cancel := context.WithCancel(get)
	cancel()
	got, err := CheckRetry(ctx, nil, netErr)
	assert.False(t, got)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestProvablyUnsent(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	read := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	dns := &net.DNSError{Err: "no such host", Name: "example.invalid"}
	reset := errors.New("connection reset by peer")
	cases := []struct {
		name        string
		live, wrote bool
		err         error
		want        bool
	}{
		{"traced, headers not written", true, false, reset, true},
		{"traced, headers written", true, true, reset, false},
		{"traced, headers written, dial error text", true, true, dial, false},
		{"untraced dial error", false, false, fmt.Errorf("wrapped: %w", dial), true},
		{"untraced DNS error", false, false, dns, true},
		{"untraced read error", false, false, read, false},
		{"untraced anything else", false, false, reset, false},
	}
	for _, tc := range cases {
		var a attemptTrace
		a.live.Store(tc.live)
		a.wrote.Store(tc.wrote)
		assert.Equal(t, tc.want, a.provablyUnsent(tc.err), tc.name)
	}
}

// A transport that does not drive httptrace (a mock, a custom RoundTripper)
// must not make a failed POST look unsent.
func TestUntracedFailureCountsAsMaybeSent(t *testing.T) {
	call := &Call{}
	rt := &RoundTripper{Next: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection reset by peer")
	})}
	req, _ := http.NewRequestWithContext(WithCall(context.Background(), call), "POST", "http://example.com/richiesta", nil)
	_, err := rt.RoundTrip(req)
	require.Error(t, err)
	assert.True(t, call.MaybeSent())
	assert.False(t, call.SentAt().IsZero())
	retry, _ := CheckRetry(req.Context(), nil, err)
	assert.False(t, retry)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestIsIdempotent(t *testing.T) {
	for method, want := range map[string]bool{http.MethodGet: true, http.MethodHead: true,
		http.MethodPost: false, http.MethodPut: false, http.MethodDelete: false, http.MethodPatch: false} {
		assert.Equal(t, want, IsIdempotent(method), method)
		assert.Equal(t, want, NewCall(method, "/x").Idempotent, method)
	}
}

// closeTracker is a request body that records being closed.
type closeTracker struct {
	closed bool
}

func (b *closeTracker) Read([]byte) (int, error) { return 0, io.EOF }
func (b *closeTracker) Close() error             { b.closed = true; return nil }

// An attempt whose context has ended is never handed to the next
// transport: that is the proof that a cancelled POST was not sent.
func TestEndedContextNeverReachesTheTransport(t *testing.T) {
	for _, end := range []func() (context.Context, context.CancelFunc){
		func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		},
		func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		},
	} {
		ctx, cancel := end()
		defer cancel()
		call := NewCall(http.MethodPost, "/richiesta")
		reached := false
		rt := &RoundTripper{Next: roundTripFunc(func(*http.Request) (*http.Response, error) {
			reached = true
			return nil, errors.New("unreachable")
		}), Token: StaticToken("tok")}
		body := &closeTracker{}
		req, _ := http.NewRequestWithContext(WithCall(ctx, call), http.MethodPost, "http://example.com/richiesta", body)
		_, err := rt.RoundTrip(req)
		assert.ErrorIs(t, err, ctx.Err())
		assert.False(t, reached)
		assert.True(t, body.closed, "RoundTrip closes the body even when it sends nothing")
		assert.False(t, call.MaybeSent())
		assert.Zero(t, call.Attempts())
		retry, _ := CheckRetry(req.Context(), nil, err)
		assert.False(t, retry)
	}
}

func TestRoundTripperSetsTheToken(t *testing.T) {
	var got http.Header
	rt := &RoundTripper{Next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Clone()
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}), Token: StaticToken("tok123")}
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/visure", nil)
	_, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, "Bearer tok123", got.Get("Authorization"))
	assert.Empty(t, req.Header.Get("Authorization"), "the caller's request is not modified")

	// A provider is asked on every attempt, so a renewed token is used.
	n := 0
	rt.Token = func(context.Context) (string, error) { n++; return fmt.Sprint("tok", n), nil }
	for i := 1; i <= 2; i++ {
		_, err := rt.RoundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint("Bearer tok", i), got.Get("Authorization"))
	}
}

// Without a usable token nothing is sent, and the attempt is not retried.
func TestTokenFailureSendsNothing(t *testing.T) {
	for name, token := range map[string]TokenFunc{
		"provider error": func(context.Context) (string, error) { return "", errors.New("refresh refused") },
		"line break":     StaticToken("tok\r\nX-Evil: 1"),
		"empty":          StaticToken(""),
	} {
		call := NewCall(http.MethodPost, "/richiesta")
		reached := false
		rt := &RoundTripper{Next: roundTripFunc(func(*http.Request) (*http.Response, error) {
			reached = true
			return nil, errors.New("unreachable")
		}), Token: token}
		req, _ := http.NewRequestWithContext(WithCall(context.Background(), call), http.MethodPost, "http://example.com/richiesta", nil)
		_, err := rt.RoundTrip(req)
		require.Error(t, err, name)
		assert.False(t, reached, name)
		assert.False(t, call.MaybeSent(), name)
		assert.NotContains(t, err.Error(), "X-Evil", name)
		retry, _ := CheckRetry(req.Context(), nil, err)
		assert.False(t, retry, "%s: the next attempt would fail the same way", name)
	}
}

func TestCheckToken(t *testing.T) {
	assert.NoError(t, CheckToken("5f8711afe4754a532a7a8358"))
	for _, bad := range []string{"", "a b", "a\nb", "a\rb", "tok\x00", "tokè", "a\tb", "a\x7f"} {
		err := CheckToken(bad)
		require.Error(t, err, "%q", bad)
		if bad != "" {
			assert.NotContains(t, err.Error(), bad)
		}
	}
}

func TestNewOwnsTheRetryClient(t *testing.T) {
	c := New(Config{Attempts: 3, MinWait: 7 * time.Millisecond, MaxWait: time.Second})
	assert.Equal(t, 7*time.Millisecond, c.SettleDelay())
	assert.Equal(t, 2, c.retry.RetryMax)
	assert.Nil(t, c.retry.Logger, "no default logger writing URLs to stderr")
	rt, ok := c.retry.HTTPClient.Transport.(*RoundTripper)
	require.True(t, ok)
	assert.NotNil(t, rt.Next)
	assert.Equal(t, 0, New(Config{}).retry.RetryMax, "at least one attempt")
}

// The default transport keeps a pool sized for a backend's concurrency,
// not net/http's 2 idle connections per host; a caller's client is used as
// it is.
func TestDefaultTransportPool(t *testing.T) {
	next := func(c *Client) http.RoundTripper { return c.retry.HTTPClient.Transport.(*RoundTripper).Next }
	tr, ok := next(New(Config{})).(*http.Transport)
	require.True(t, ok)
	assert.Equal(t, IdleConnsPerHost, tr.MaxIdleConnsPerHost)
	assert.Equal(t, IdleConnsPerHost, tr.MaxIdleConns)
	assert.NotZero(t, tr.IdleConnTimeout)
	mine := &http.Transport{}
	assert.Same(t, mine, next(New(Config{HTTPClient: &http.Client{Transport: mine}})))
}

// A call remembers the token its last attempt carried, so a 401 names the
// token to renew; Refused forgets that the call may have been sent.
func TestCallRemembersTheTokenSentAndForgetsARefusal(t *testing.T) {
	n := 0
	rt := &RoundTripper{Next: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusUnauthorized, Body: http.NoBody}, nil
	}), Token: func(context.Context) (string, error) { n++; return fmt.Sprint("tok", n), nil }}
	call := NewCall(http.MethodPost, "/richiesta")
	assert.Empty(t, call.SentToken(), "nothing sent yet")
	for i := 1; i <= 2; i++ {
		req, _ := http.NewRequestWithContext(WithCall(context.Background(), call), http.MethodPost, "http://example.com/richiesta", nil)
		_, err := rt.RoundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint("tok", i), call.SentToken())
		require.True(t, call.MaybeSent())
		require.False(t, call.SentAt().IsZero())
		call.Refused()
		assert.False(t, call.MaybeSent(), "a 401 proves the call was not applied")
		assert.True(t, call.SentAt().IsZero())
		assert.Equal(t, i, call.Attempts(), "attempts still count")
	}
}
