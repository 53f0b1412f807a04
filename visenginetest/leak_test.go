package visenginetest

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCloseLeavesNoGoroutines runs timers, callbacks and faults, then
// checks that Close took every goroutine the server started with it.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	rc := newReceiver(t)
	rc.failures.Store(1000)
	srv := NewServer(WithAutoAdvance(time.Millisecond), WithCallbackRetry(1000, time.Millisecond))
	srv.Fault("GET", "/visure", Fault{Delay: time.Hour})
	go func() { _, _ = rawDo(t, srv, "GET", "/visure", "") }()
	for range 3 {
		body := specBody(t, "post_richiesta_request.json")
		body["callback_data"] = map[string]any{"url": rc.URL, "method": "JSON"}
		create(t, srv, body)
	}
	require.Eventually(t, func() bool { return len(srv.Callbacks()) > 3 }, 5*time.Second, time.Millisecond)
	srv.Close()
	rc.Close()
	ok := assertEventually(func() bool { return runtime.NumGoroutine() <= before })
	if !ok {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: before %d, now %d\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}

func assertEventually(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}
