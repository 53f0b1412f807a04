package form

import (
	"crypto/rand"
	"encoding/base64"
	"maps"
	"sync"
	"time"

	"github.com/visengine-go/visengine"
)

// newToken returns 128 random bits, URL-safe: form ids, status tokens,
// CSRF tokens and script nonces.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// The states of a pending form.
const (
	pendingReady  = iota // validated, waiting for confirmation
	pendingPaying        // a confirmation is paying for it
	pendingPaid          // paid: status names its status page
	pendingStuck         // the payment's outcome is unknown: never paid again from here
)

// pending is a validated form waiting for confirmation, and then the
// memory of its payment, so a second confirmation pays nothing.
type pending struct {
	id      string
	csrf    string // the CSRF token of the browser that validated it
	created time.Time
	values  visengine.Values // dropped once paid
	files   map[string]string
	opzioni []string
	total   visengine.Price

	state   int
	done    chan struct{} // closed when a payment attempt ends
	status  string        // status token, once paid
	outcome visengine.SubmitOutcome
}

// statusEntry is what a status token names.
type statusEntry struct {
	richiesta string
	created   time.Time
}

// store holds the pending forms and the status tokens, in memory, each
// for its time to live.
type store struct {
	mu      sync.Mutex
	now     func() time.Time
	limits  Limits
	pending map[string]*pending
	status  map[string]*statusEntry
}

func newStore(l Limits, now func() time.Time) *store {
	return &store{now: now, limits: l, pending: map[string]*pending{}, status: map[string]*statusEntry{}}
}

// add keeps p for confirmation; false when MaxPending forms are already
// waiting.
func (s *store) add(p *pending) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	waiting, size := 0, p.size()
	for _, q := range s.pending {
		if q.values != nil {
			waiting++
			size += q.size()
		}
	}
	if waiting >= s.limits.MaxPending || size > s.limits.MaxPendingSize {
		return false
	}
	p.id, p.created, p.done = newToken(), s.now(), make(chan struct{})
	s.pending[p.id] = p
	return true
}

// expire drops the forms and status tokens past their time; a form being
// paid for is kept until its attempt ends.
func (s *store) expire() {
	now := s.now()
	for id, p := range s.pending {
		ttl := s.limits.PendingTTL
		if p.state == pendingPaid || p.state == pendingStuck {
			ttl = s.limits.StatusTTL // a replayed confirmation still finds its outcome
		}
		if p.state != pendingPaying && now.Sub(p.created) > ttl {
			delete(s.pending, id)
		}
	}
	for tok, e := range s.status {
		if now.Sub(e.created) > s.limits.StatusTTL {
			delete(s.status, tok)
		}
	}
}

// size is the bytes p's values hold.
func (p *pending) size() int64 {
	var n int64
	for k, v := range p.values {
		n += int64(len(k) + len(v))
	}
	return n
}

// claim starts the payment of form id for the browser holding csrf. It
// returns the form and whether the caller is to pay for it; when it is not
// (another request is paying, or it was paid), the caller waits for done
// and reads the outcome. A form unknown, expired or validated by another
// browser gives nil.
func (s *store) claim(id, csrf string) (p *pending, pay bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	p = s.pending[id]
	if p == nil || p.csrf != csrf {
		return nil, false
	}
	if p.state == pendingReady {
		p.state = pendingPaying
		return p, true
	}
	return p, false
}

// finish records the end of a payment attempt and wakes the waiters. A
// refusal that charged nothing (outcome not paid and not unknown) makes
// the form ready again, with a fresh done channel.
func (s *store) finish(p *pending, outcome visengine.SubmitOutcome, richiesta string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.outcome = outcome
	switch outcome {
	case visengine.OutcomePaid:
		p.state, p.values = pendingPaid, nil
		p.status = newToken()
		s.status[p.status] = &statusEntry{richiesta: richiesta, created: s.now()}
	case visengine.OutcomeUnknown, visengine.OutcomeFailed, visengine.OutcomeKeyReused:
		p.state, p.values = pendingStuck, nil
	default:
		p.state = pendingReady
	}
	close(p.done)
	if p.state == pendingReady {
		p.done = make(chan struct{})
	}
}

// snapshot reads p's outcome and status token under the lock.
func (s *store) snapshot(p *pending) (state int, outcome visengine.SubmitOutcome, status string, done chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return p.state, p.outcome, p.status, p.done
}

// copyOf copies what the confirmation page shows of p, under the lock, as
// a payment may end (and drop the values) meanwhile; ok is false once
// they are dropped.
func (s *store) copyOf(p *pending) (*pending, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.values == nil {
		return nil, false
	}
	return &pending{id: p.id, csrf: p.csrf, values: maps.Clone(p.values), files: p.files,
		opzioni: p.opzioni, total: p.total}, true
}

// richiesta returns the richiesta's id a status token names.
func (s *store) richiesta(tok string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.status[tok]
	if !ok || s.now().Sub(e.created) > s.limits.StatusTTL {
		return "", false
	}
	return e.richiesta, true
}
