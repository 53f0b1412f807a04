package transport

import (
	"context"
	"errors"
	"fmt"
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
