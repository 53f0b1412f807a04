package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stall is the timeout these tests use; slack bounds how late a cut may
// come on a loaded machine.
const (
	stall = 150 * time.Millisecond
	slack = 3 * time.Second
)

// smallBuffers shrinks socket buffers to 64 KiB, so that a request body
// larger than that blocks its writer until the peer reads.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(64 << 10)
	}
	return c, err
}

// stallServer starts h on a listener with small buffers. release, closed
// when the test ends, lets handlers that hang return.
func stallServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, release <-chan struct{})) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, release) }))
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(func() { close(release); srv.Close() })
	return srv.URL
}

// stallTransport is a RoundTripper with the watchdog over a transport with
// small write buffers.
func stallTransport(t *testing.T, idle time.Duration) *RoundTripper {
	t.Helper()
	next := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetWriteBuffer(64 << 10)
		}
		return c, err
	}}
	t.Cleanup(next.CloseIdleConnections)
	return &RoundTripper{Next: next, StallTimeout: idle}
}

func assertStall(t *testing.T, err error, body bool, took time.Duration) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrStalled)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's context did not end")
	var se *StallError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Timeout())
	assert.Equal(t, body, se.Body)
	assert.Equal(t, body, errors.Is(err, io.ErrUnexpectedEOF), "only a body is cut short")
	assert.GreaterOrEqual(t, took, stall, "never cut before the timeout")
	assert.Less(t, took, stall+slack, "cut about when the timeout ends")
}

// A body that keeps trickling, one byte every few milliseconds for longer
// than the timeout, is never cut.
func TestStallTricklingBodyIsNotCut(t *testing.T) {
	url := stallServer(t, func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		w.WriteHeader(200)
		for range 100 { // about 500ms: more than three timeouts
			_, _ = w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
	})
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	start := time.Now()
	resp, err := stallTransport(t, stall).RoundTrip(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Len(t, body, 100)
	assert.Greater(t, time.Since(start), 2*stall, "the body took longer than the timeout")
}

// A body that stops is cut about one timeout after its last byte.
func TestStallBodyThatStops(t *testing.T) {
	url := stallServer(t, func(w http.ResponseWriter, _ *http.Request, release <-chan struct{}) {
		w.WriteHeader(200)
		_, _ = w.Write([]byte("0123456789"))
		w.(http.Flusher).Flush()
		<-release
	})
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := stallTransport(t, stall).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 10)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	start := time.Now()
	_, err = resp.Body.Read(buf)
	assertStall(t, err, true, time.Since(start))
	_, err = resp.Body.Read(buf)
	assert.ErrorIs(t, err, ErrStalled, "the stall is sticky")
}

// An answer whose headers never come is cut; a POST that was written is
// then "maybe sent", never retried.
func TestStallWaitingForHeaders(t *testing.T) {
	url := stallServer(t, func(_ http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-release
	})
	call := NewCall(http.MethodPost, "/richiesta")
	req, _ := http.NewRequestWithContext(WithCall(context.Background(), call), http.MethodPost, url, bytes.NewReader([]byte(`{"state":1}`)))
	start := time.Now()
	_, err := stallTransport(t, stall).RoundTrip(req)
	assertStall(t, err, false, time.Since(start))
	assert.True(t, call.MaybeSent())
	retry, _ := CheckRetry(req.Context(), nil, err)
	assert.False(t, retry, "a paid call cut after it was written is never resent")

	get := NewCall(http.MethodGet, "/visure")
	req, _ = http.NewRequestWithContext(WithCall(context.Background(), get), http.MethodGet, url, nil)
	_, err = stallTransport(t, stall).RoundTrip(req)
	require.ErrorIs(t, err, ErrStalled)
	retry, _ = CheckRetry(req.Context(), nil, err)
	assert.True(t, retry, "a read cut by a stall is retried")
}

// A request body the server stops reading is cut; one the server reads
// slowly, for longer than the timeout, is not.
func TestStallWritingTheRequestBody(t *testing.T) {
	body := bytes.Repeat([]byte("a"), 4<<20)
	url := stallServer(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		if r.URL.Path == "/stops" {
			_, _ = r.Body.Read(make([]byte, 1024))
			<-release
			return
		}
		buf := make([]byte, 64<<10)
		for {
			time.Sleep(5 * time.Millisecond) // 4 MiB in 64 reads: about twice the timeout
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				break
			}
		}
		w.WriteHeader(204)
	})
	rt := stallTransport(t, stall)
	req, _ := http.NewRequest(http.MethodPut, url+"/slow", bytes.NewReader(body))
	start := time.Now()
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 204, resp.StatusCode)
	assert.Greater(t, time.Since(start), stall, "the upload took longer than the timeout")

	req, _ = http.NewRequest(http.MethodPut, url+"/stops", bytes.NewReader(body))
	start = time.Now()
	_, err = rt.RoundTrip(req)
	assertStall(t, err, false, time.Since(start))
}

// Time the caller spends between reads is not the network's: a body held
// unread for several timeouts is still read whole.
func TestStallSlowConsumerIsNotCut(t *testing.T) {
	url := stallServer(t, func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		_, _ = w.Write(bytes.Repeat([]byte("z"), 1000))
	})
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := stallTransport(t, stall).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 10)
	for range 3 {
		_, err = io.ReadFull(resp.Body, buf)
		require.NoError(t, err)
		time.Sleep(2 * stall)
	}
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Len(t, rest, 970)
}

// Without a timeout nothing is wrapped.
func TestStallOff(t *testing.T) {
	want := &closeTracker{}
	rt := &RoundTripper{Next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: want}, nil
	})}
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Same(t, want, resp.Body)
}

// The stall names itself in the log line's error class.
func TestErrorClassStalled(t *testing.T) {
	assert.Equal(t, "stalled", errorClass(&StallError{Idle: time.Second}))
	assert.Contains(t, (&StallError{Idle: time.Second}).Error(), "1s")
}
