package transport

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bucket lets a burst through at once, then one token per 1/rate,
// shared by concurrent waiters; a wait cut by its context gives its token
// back.
func TestLimiterKeepsItsRate(t *testing.T) {
	l := NewLimiter(200, 4)
	start := time.Now()
	var wg sync.WaitGroup
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, l.Wait(context.Background()))
		}()
	}
	wg.Wait()
	// 4 at once, 20 more at 200/s: at least 100ms.
	assert.GreaterOrEqual(t, time.Since(start), 95*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, l.Wait(ctx), context.Canceled)
	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	l2 := NewLimiter(1, 1)
	require.NoError(t, l2.Wait(context.Background()))
	require.ErrorIs(t, l2.Wait(ctx), context.DeadlineExceeded)
	l2.mu.Lock()
	assert.InDelta(t, 0, l2.tokens, 0.1, "the cut wait's token is given back")
	l2.mu.Unlock()
}
