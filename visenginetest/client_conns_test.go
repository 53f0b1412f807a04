package visenginetest_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine/visenginetest"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// TestClientKeepsItsConnections: Server.Client keeps as many idle
// connections as the SDK's default transport, so rounds of 16 calls in
// flight reuse the first round's connections. With net/http's 2 idle per
// host every round after the first opened about 14 more.
func TestClientKeepsItsConnections(t *testing.T) {
	srv := visenginetest.NewUnstartedServer()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := &countingListener{Listener: l}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	c := srv.Client()
	const inFlight, rounds = 16, 10
	for range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range inFlight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := c.ListVisure(context.Background())
				assert.NoError(t, err)
			}()
		}
		close(start)
		wg.Wait()
	}
	require.Positive(t, ln.accepted.Load())
	assert.LessOrEqual(t, ln.accepted.Load(), int64(2*inFlight), "connections opened for %d calls", inFlight*rounds)
}
