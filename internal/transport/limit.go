package transport

import (
	"context"
	"sync"
	"time"
)

// Limiter paces requests: a token bucket of burst tokens refilled at rate
// per second, shared by every goroutine that sends through it. A request
// takes a token, waiting for one if none is left; waiters are served in
// the order they came, each on its own reservation, so the rate holds
// however many wait.
type Limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64 // negative: reserved ahead by waiters
	last   time.Time
}

// NewLimiter returns a limiter of perSecond requests per second with
// bursts of up to burst (at least 1), full at first.
func NewLimiter(perSecond float64, burst int) *Limiter {
	b := float64(max(burst, 1))
	return &Limiter{rate: perSecond, burst: b, tokens: b, last: time.Now()}
}

// Wait takes a token, waiting until it is due or ctx ends; a wait that
// ends with ctx gives its token back and returns ctx's error.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := time.Now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	l.tokens--
	var wait time.Duration
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		l.tokens++
		l.mu.Unlock()
		return ctx.Err()
	}
}
