package visengine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// maxRememberedCloses is how many closes a Client remembers (closeMemory)
// before it forgets those whose settle time has passed, which no longer
// hold anything back. A close within its settle time is never forgotten:
// more of them than that, within one settle time, grow the memory, and it
// looks for closes to forget again only once it has doubled (pruneAt).
const maxRememberedCloses = 1 << 16

// closeMemory is what a Client remembers of the closes it sent itself:
// draft id → when the last close that may have been applied was sent, on
// this machine's clock. Resume and Recover wait the settle time from the
// latest close they know of, so that a caller passing an older time
// (WithCloseSentAt of the first SubmitError, in a retry loop) never gets a
// close sent before the settle time of the last one has passed.
type closeMemory struct {
	mu      sync.Mutex
	settle  time.Duration
	sent    map[string]time.Time
	pruneAt int // look for closes to forget once sent holds this many
	prunes  int // looks so far, for the tests
}

func newCloseMemory(settle time.Duration) *closeMemory {
	return &closeMemory{settle: settle, sent: map[string]time.Time{}, pruneAt: maxRememberedCloses}
}

// remember records a close of id sent at t and returns what was known
// before, for forget.
func (m *closeMemory) remember(id string, t time.Time) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := m.sent[id]
	if len(m.sent) >= m.pruneAt {
		m.pruneLocked(time.Now())
		// A look reads every close: the next waits for as many new ones
		// as it kept, at least, or a client with more closes within the
		// settle time than the bound reads them all at each close.
		m.pruneAt = max(maxRememberedCloses, 2*len(m.sent))
	}
	m.sent[id] = later(prev, t)
	return prev
}

// forget undoes remember after a close proven not applied (refused, or
// never sent): what was known before stands.
func (m *closeMemory) forget(id string, prev time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev.IsZero() {
		delete(m.sent, id)
		return
	}
	m.sent[id] = prev
}

// last returns when the last close of id that may have been applied was
// sent; zero if none is remembered.
func (m *closeMemory) last(id string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent[id]
}

// pruneLocked forgets the closes whose settle time has passed.
func (m *closeMemory) pruneLocked(now time.Time) {
	m.prunes++
	for id, t := range m.sent {
		if !now.Before(t.Add(m.settle)) {
			delete(m.sent, id)
		}
	}
}

// mayBeApplied says whether a close answered with err may still be
// applied, and so must be remembered: anything but a refusal by the server
// or a call that provably never left.
func mayBeApplied(err error) bool {
	// A refusal (*APIError) and a call never sent (the context ended, or
	// the id was refused locally) applied nothing.
	return err == nil || errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrAlreadyClosed)
}

// clockRefresh is how long a measured journal clock offset is used.
const clockRefresh = 30 * time.Second

// journalClock converts between this machine's clock and a journal's
// (Journal.JournalNow), from an offset measured at most clockRefresh ago.
// Each conversion adds the measure's uncertainty (half its round trip) in
// the direction that makes a settle time end later, never sooner.
type journalClock struct {
	mu     sync.Mutex
	offset time.Duration // journal − local
	margin time.Duration // half the round trip of the measure
	at     time.Time     // when it was measured; zero: never
	local  bool          // this machine's clock: nothing to measure
}

// localClock is the clock of the client's own key memory and of a Submit
// that records nothing: this machine's.
var localClock = &journalClock{local: true}

// measure returns the offset and margin for j, measuring them again when
// stale; the local clock needs no measure.
func (k *journalClock) measure(ctx context.Context, j Journal) (offset, margin time.Duration, err error) {
	if k.local {
		return 0, 0, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.at.IsZero() && time.Since(k.at) < clockRefresh {
		return k.offset, k.margin, nil
	}
	start := time.Now()
	jnow, err := j.JournalNow(ctx)
	if err != nil {
		return 0, 0, errorf("visengine: journal clock: %w", err)
	}
	rtt := time.Since(start)
	k.offset, k.margin, k.at = jnow.Sub(start.Add(rtt/2)), rtt/2+time.Millisecond, time.Now()
	return k.offset, k.margin, nil
}

// clockFor returns the clock of j: this machine's for the client's key
// memory (or no journal at all), the client's own for its journal, and
// for others (Recover's argument) one of a few kept by the client, so
// that a clock is measured once per clockRefresh, not per entry.
func (c *Client) clockFor(j Journal) *journalClock {
	switch {
	case j == nil || sameJournal(j, c.eo.keys):
		return localClock
	case sameJournal(j, c.eo.journal):
		return c.eo.clock
	}
	return c.eo.clocks.of(j)
}

// maxOtherClocks bounds the clocks a client keeps for journals other than
// its own.
const maxOtherClocks = 4

// otherClocks are the clocks of journals other than the client's own.
type otherClocks struct {
	mu sync.Mutex
	js []Journal
	ks []*journalClock
}

func (o *otherClocks) of(j Journal) *journalClock {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, known := range o.js {
		if sameJournal(known, j) {
			return o.ks[i]
		}
	}
	if len(o.js) == maxOtherClocks {
		o.js, o.ks = o.js[1:], o.ks[1:]
	}
	k := new(journalClock)
	o.js, o.ks = append(o.js, j), append(o.ks, k)
	return k
}

// sameJournal compares two journals without panicking on a dynamic type
// that is not comparable.
func sameJournal(a, b Journal) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// journalTime returns local time t on j's clock, as it is recorded.
func (c *Client) journalTime(ctx context.Context, j Journal, t time.Time) (time.Time, error) {
	off, margin, err := c.clockFor(j).measure(ctx, j)
	if err != nil {
		return time.Time{}, err
	}
	return t.Add(off + margin), nil
}

// localTime returns a time recorded on j's clock on this machine's clock
// (zero stays zero).
func (c *Client) localTime(ctx context.Context, j Journal, t time.Time) (time.Time, error) {
	if t.IsZero() {
		return t, nil
	}
	off, margin, err := c.clockFor(j).measure(ctx, j)
	if err != nil {
		return time.Time{}, err
	}
	return t.Add(-off + margin), nil
}

// sendClose records the draft's id and that its close is sent (on the
// journal's clock), in one write, and sends it, again after each 429 while the retries last
// (WithRateLimitRetry): a 429 applied nothing. sent is when the last
// close went out, on this machine's clock; zero with an error when the
// journal refused to record it and nothing was sent.
func (c *Client) sendClose(ctx context.Context, rec *record, id string) (r *Richiesta, sent time.Time, err error) {
	for retry := 0; ; retry++ {
		now := time.Now()
		jnow, err := c.journalTime(ctx, rec.j, now)
		if err == nil {
			err = rec.step(ctx, func(e *JournalEntry) { recordClose(e, id, jnow) })
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		r, err = c.CloseRichiesta(ctx, id)
		if !c.rateLimited(ctx, err, retry) {
			return r, now, err
		}
	}
}

// recordClose records in e that a close of draft id is sent at sentAt. An
// entry recorded failed (a close refused, nothing charged) is unfinished
// again from then on: this close may charge, and Recover must finish it
// should the process die before its outcome is recorded.
func recordClose(e *JournalEntry, id string, sentAt time.Time) {
	e.DraftID, e.CloseSentAt = id, sentAt
	if e.Outcome == JournalFailed {
		e.Outcome, e.Note = JournalUnfinished, "closing again after a refusal"
	}
}

// recordCloseNote records, best effort, a later send time (local, put on
// the journal's clock) and a note after a close whose outcome is unknown.
func (c *Client) recordCloseNote(ctx context.Context, rec *record, sent time.Time, note string) {
	if rec.j == nil {
		return
	}
	jctx, cancel := afterStep(ctx)
	defer cancel()
	if jsent, err := c.journalTime(jctx, rec.j, sent); err == nil {
		rec.noteClose(jctx, jsent, note)
	}
}

// settleFrom returns, on this machine's clock, when the last close of
// rec's entry that may have been applied was sent (the journal's record
// or this client's memory; zero if none) and its last step (that close
// or its intent), from which Recover waits the settle time.
func (c *Client) settleFrom(ctx context.Context, rec *record) (lastClose, last time.Time, err error) {
	created, err := c.localTime(ctx, rec.j, rec.e.CreatedAt)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	lastClose, err = c.lastClose(ctx, rec, rec.e.DraftID, time.Time{})
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return lastClose, later(created, lastClose), nil
}
