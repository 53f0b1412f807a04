package visengine

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithStallTimeoutRefusesNegative(t *testing.T) {
	_, err := NewClient(canaryToken, WithStallTimeout(-time.Second))
	assert.ErrorIs(t, err, ErrInvalidArgument)
	for _, d := range []time.Duration{0, time.Millisecond, time.Hour} {
		_, err := NewClient(canaryToken, WithStallTimeout(d))
		assert.NoError(t, err, d)
	}
}

// The watchdog is on by default and off with WithStallTimeout(0): the body
// a call reads is the watched one only when it is on.
func TestStallTimeoutOnByDefault(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"data":[],"success":true,"message":"","error":null}`)
	})
	bodyType := func(opts ...Option) string {
		resp, _, err := newTestClient(t, srv.URL, opts...).stream(context.Background(), "/visure")
		require.NoError(t, err)
		defer resp.Body.Close()
		return fmt.Sprintf("%T", resp.Body)
	}
	assert.Equal(t, "*transport.watchedBody", bodyType())
	assert.NotEqual(t, "*transport.watchedBody", bodyType(WithStallTimeout(0)))
	assert.Equal(t, 60*time.Second, DefaultStallTimeout)
}

// Clients dropped without closing keep their idle connections, and the
// goroutines that watch them, until the transport's idle timeout;
// CloseIdleConnections releases them at once.
func TestCloseIdleConnectionsReleasesGoroutines(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"data":[],"success":true,"message":"","error":null}`)
	})
	settle := func(cond func(n int) bool) int {
		n := runtime.NumGoroutine()
		for deadline := time.Now().Add(5 * time.Second); !cond(n) && time.Now().Before(deadline); n = runtime.NumGoroutine() {
			time.Sleep(10 * time.Millisecond)
		}
		return n
	}
	before := settle(func(int) bool { return true })
	const clients = 50
	var cs []*Client
	for range clients {
		c := newTestClient(t, srv.URL)
		_, err := c.ListVisure(context.Background())
		require.NoError(t, err)
		cs = append(cs, c)
	}
	// Each idle connection holds a read and a write loop on the client's
	// side and a serving goroutine on the server's.
	held := settle(func(n int) bool { return n >= before+2*clients })
	assert.GreaterOrEqual(t, held, before+2*clients, "the idle connections hold goroutines")
	for _, c := range cs {
		c.CloseIdleConnections()
	}
	after := settle(func(n int) bool { return n <= before+5 })
	if after > before+5 {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d held, %d after CloseIdleConnections\n%s",
			before, held, after, buf[:runtime.Stack(buf, true)])
	}
	(*Client)(nil).CloseIdleConnections() // no panic
	(&Client{}).CloseIdleConnections()
}
