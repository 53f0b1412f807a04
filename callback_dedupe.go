package visengine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// eventKey is the fingerprint of one callback event: SHA-256 of the
// richiesta's id and stato. The memory of events keeps these 32 bytes
// whatever a delivery carried, so that a stato of half a megabyte (which
// anyone who knows the secret may post) costs what "Dati disponibili" does.
type eventKey [sha256.Size]byte

func keyOf(id string, stato Stato) eventKey {
	h := sha256.New()
	h.Write([]byte(id))
	h.Write([]byte{0}) // ids hold no NUL (checkID): "a"+"b\x00…" cannot pass for "ab"+…
	h.Write([]byte(stato))
	var k eventKey
	h.Sum(k[:0])
	return k
}

// String is the key as a CallbackDedupe stores it: 64 hex digits.
func (k eventKey) String() string { return hex.EncodeToString(k[:]) }

// dedupe remembers the events a CallbackHandler handled, for a window and
// up to a number of entries, so that a repeated delivery does not call fn
// twice, nor cost a read-back. Every entry lives for the same window, so
// insertion order is expiry order: the queue's head is always the next to
// go. Keys are fingerprints of a fixed size, so memory is bounded in bytes
// by max whatever is posted: a key and a time in the map, a key in the
// queue (whose array is at most twice the entries).
type dedupe struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	now    func() time.Time
	done   map[eventKey]int64 // handled events: when, in Unix nanoseconds
	queue  []eventKey         // done's keys, oldest first (from head)
	head   int
	busy   map[eventKey]struct{} // events being handled now
}

type claimResult int

const (
	claimMine claimResult = iota // handle it
	claimDone                    // handled within the window: acknowledge
	claimBusy                    // being handled by another delivery now
)

func newDedupe(window time.Duration, max int, now func() time.Time) *dedupe {
	return &dedupe{window: window, max: max, now: now, done: map[eventKey]int64{}, busy: map[eventKey]struct{}{}}
}

// claim says what to do with a delivery of key. A nil dedupe remembers
// nothing: every delivery is handled.
func (d *dedupe) claim(key eventKey) claimResult {
	if d == nil {
		return claimMine
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire()
	if _, busy := d.busy[key]; busy {
		return claimBusy
	}
	if _, done := d.done[key]; done {
		return claimDone
	}
	d.busy[key] = struct{}{}
	return claimMine
}

// finish ends the handling of key; a success is remembered.
func (d *dedupe) finish(key eventKey, ok bool) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.busy, key)
	if _, done := d.done[key]; !ok || done {
		return
	}
	d.expire()
	for len(d.done) >= d.max {
		d.pop()
	}
	d.done[key] = d.now().UnixNano()
	d.queue = append(d.queue, key)
}

// expire forgets the entries older than the window.
func (d *dedupe) expire() {
	cutoff := d.now().Add(-d.window).UnixNano()
	for d.head < len(d.queue) && d.done[d.queue[d.head]] <= cutoff {
		d.pop()
	}
}

// pop forgets the oldest entry, compacting the queue once half of it is
// spent so that it does not grow without end.
func (d *dedupe) pop() {
	delete(d.done, d.queue[d.head])
	d.head++
	if d.head > len(d.queue)/2 {
		d.queue = append(d.queue[:0], d.queue[d.head:]...)
		d.head = 0
	}
}

// CallbackClaim is what CallbackDedupe.ClaimCallback found.
type CallbackClaim int

// The answers of CallbackDedupe.ClaimCallback.
const (
	// CallbackClaimed: the key had no live mark (never seen, released,
	// or expired) and is now the caller's, for the lease: handle the event.
	CallbackClaimed CallbackClaim = iota + 1
	// CallbackBusy: another holder's lease on the key is live; the event
	// is being handled elsewhere, and may yet fail there.
	CallbackBusy
	// CallbackDone: the event was handled and its mark has not expired.
	CallbackDone
)

// DefaultCallbackLease is how long a CallbackHandler holds its claim on
// an event in a CallbackDedupe while it reads the richiesta back and runs
// fn. A replica that dies meanwhile blocks the event for at most this
// long (deliveries elsewhere are answered 503 until then); an fn that runs
// longer may see the event handled again elsewhere, as CallbackFunc
// allows.
const DefaultCallbackLease = 5 * time.Minute

// CallbackDedupe is a memory of callback events shared by the replicas of
// a service (WithCallbackDedupeStore), so that a delivery that reaches two
// of them, or one replayed after a restart, calls the CallbackFunc once.
// journal.Postgres provides one (its CallbackDedupe method). A key is 64
// hex digits naming one event (a fingerprint of the richiesta's id and
// stato, nothing personal); a holder names one CallbackHandler, unique
// among the replicas. Every method must be safe for concurrent use, and
// expiry must follow one clock for all replicas (the database's).
type CallbackDedupe interface {
	// ClaimCallback takes key for holder for lease, unless another mark
	// on it is live: it reports CallbackClaimed (now holder's),
	// CallbackBusy (another holder's lease) or CallbackDone (handled
	// within its window). A mark whose time is up counts as absent.
	ClaimCallback(ctx context.Context, key, holder string, lease time.Duration) (CallbackClaim, error)
	// SettleCallback ends holder's claim on key: handled marks the event
	// done for ttl; otherwise the mark is removed, so that the next
	// delivery handles the event. A claim that is no longer holder's (its
	// lease ran out and another replica took the key) is left as it is.
	SettleCallback(ctx context.Context, key, holder string, handled bool, ttl time.Duration) error
}
