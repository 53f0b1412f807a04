package visengine

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/visengine-go/visengine/internal/transport"
)

// verdict is a CallbackHandler's answer to one delivery: a status and,
// for a 503, when to deliver again (the Retry-After header).
type verdict struct {
	status     int
	retryAfter time.Duration
}

var answerOK = verdict{status: http.StatusOK}

// rereads reads richieste back for a CallbackHandler, so that a flood of
// deliveries cannot become a flood of GETs with our token: one read per
// richiesta in flight, whose answer every delivery of that richiesta
// waiting meanwhile shares; at most limit reads at a time, beyond which a
// delivery is answered 503 at once; a single attempt per read (the sender
// delivers again, so waiting out a 429 here would only hold its request
// open); and, after the API answered 429 or 503, no read at all for
// retryAfter.
type rereads struct {
	client     *Client
	timeout    time.Duration
	limit      int
	retryAfter time.Duration
	now        func() time.Time

	mu        sync.Mutex
	flights   map[string]*flight // by richiesta id
	coolUntil time.Time          // no read before then: the API asked us to slow down
}

// flight is one read in progress, shared by the deliveries that need it.
type flight struct {
	done   chan struct{} // closed when r and v are set
	r      *Richiesta
	v      verdict // the answer when r is nil
	joined int     // deliveries that waited on it besides the first
}

func newRereads(cfg *callbackConfig) *rereads {
	return &rereads{client: cfg.client, timeout: cfg.rereadTimeout, limit: cfg.rereadLimit,
		retryAfter: cfg.retryAfter, now: time.Now, flights: map[string]*flight{}}
}

// get returns the richiesta id as the API has it, or nil and the answer
// to give the delivery. The richiesta may be shared with other deliveries
// of the same id: it must be read, not changed.
func (rr *rereads) get(ctx context.Context, id string) (*Richiesta, verdict) {
	rr.mu.Lock()
	if f := rr.flights[id]; f != nil {
		f.joined++
		rr.mu.Unlock()
		return f.wait(ctx, rr.retryAfter)
	}
	if wait := rr.coolUntil.Sub(rr.now()); wait > 0 {
		rr.mu.Unlock()
		return nil, verdict{http.StatusServiceUnavailable, wait}
	}
	if len(rr.flights) >= rr.limit {
		rr.mu.Unlock()
		return nil, verdict{http.StatusServiceUnavailable, rr.retryAfter}
	}
	// Until the read says otherwise, the answer is a 503: the deliveries
	// waiting are released by the defer even if the read panics.
	f := &flight{done: make(chan struct{}), v: verdict{http.StatusServiceUnavailable, rr.retryAfter}}
	rr.flights[id] = f
	rr.mu.Unlock()

	var slowDown bool
	defer func() {
		rr.mu.Lock()
		delete(rr.flights, id)
		if slowDown {
			rr.coolUntil = rr.now().Add(rr.retryAfter)
		}
		rr.mu.Unlock()
		close(f.done)
	}()
	f.r, f.v, slowDown = rr.read(ctx, id)
	return f.r, f.v
}

// read makes the GET, once. It is not cut when the first delivery's
// sender hangs up, since others may be waiting on it, but it is bounded
// by the reread timeout. slowDown reports a 429 or 503 from the API.
func (rr *rereads) read(ctx context.Context, id string) (r *Richiesta, v verdict, slowDown bool) {
	ctx, cancel := context.WithTimeout(transport.Once(context.WithoutCancel(ctx)), rr.timeout)
	defer cancel()
	r, err := rr.client.GetRichiesta(ctx, id)
	if err == nil && r.ID == id {
		return r, verdict{}, false
	}
	var apiErr *APIError
	slowDown = errors.As(err, &apiErr) &&
		(apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode == http.StatusServiceUnavailable)
	return nil, verdict{http.StatusServiceUnavailable, rr.retryAfter}, slowDown
}

// wait is a delivery's share of a read another delivery started. A sender
// that hangs up stops waiting.
func (f *flight) wait(ctx context.Context, retryAfter time.Duration) (*Richiesta, verdict) {
	select {
	case <-f.done:
		return f.r, f.v
	case <-ctx.Done():
		return nil, verdict{http.StatusServiceUnavailable, retryAfter}
	}
}
