package visengine

import (
	"sync"
	"time"
)

// dedupe remembers the events a CallbackHandler handled, for a window and
// up to a number of entries, so that a repeated delivery does not call fn
// twice. Every entry lives for the same window, so insertion order is
// expiry order: the queue's head is always the next to go, and memory is
// bounded by max whatever is posted.
type dedupe struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	now    func() time.Time
	done   map[string]time.Time // handled events: when
	queue  []string             // done's keys, oldest first (from head)
	head   int
	busy   map[string]bool // events being handled now
}

type claimResult int

const (
	claimMine claimResult = iota // handle it
	claimDone                    // handled within the window: acknowledge
	claimBusy                    // being handled by another delivery now
)

func newDedupe(window time.Duration, max int, now func() time.Time) *dedupe {
	return &dedupe{window: window, max: max, now: now, done: map[string]time.Time{}, busy: map[string]bool{}}
}

// claim says what to do with a delivery of key. A nil dedupe remembers
// nothing: every delivery is handled.
func (d *dedupe) claim(key string) claimResult {
	if d == nil {
		return claimMine
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire()
	switch {
	case d.busy[key]:
		return claimBusy
	case !d.done[key].IsZero():
		return claimDone
	}
	d.busy[key] = true
	return claimMine
}

// finish ends the handling of key; a success is remembered.
func (d *dedupe) finish(key string, ok bool) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.busy, key)
	if !ok {
		return
	}
	d.expire()
	for len(d.done) >= d.max {
		d.pop()
	}
	d.done[key] = d.now()
	d.queue = append(d.queue, key)
}

// expire forgets the entries older than the window.
func (d *dedupe) expire() {
	cutoff := d.now().Add(-d.window)
	for d.head < len(d.queue) && !d.done[d.queue[d.head]].After(cutoff) {
		d.pop()
	}
}

// pop forgets the oldest entry, compacting the queue once half of it is
// spent so that it does not grow without end.
func (d *dedupe) pop() {
	delete(d.done, d.queue[d.head])
	d.queue[d.head] = ""
	d.head++
	if d.head > len(d.queue)/2 {
		d.queue = append(d.queue[:0], d.queue[d.head:]...)
		d.head = 0
	}
}
