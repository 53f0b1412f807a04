package visengine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the exactly-once machinery.
const (
	// DefaultCloseSettle is how long after a closing PUT was sent the SDK
	// waits before it may send another one for the same richiesta
	// (WithCloseSettle).
	DefaultCloseSettle = 2 * time.Minute
	// DefaultJournalLease is how long a journal entry stays leased to the
	// call working on it (WithJournalLease).
	DefaultJournalLease = 5 * time.Minute
)

// exactlyOnce is the client's configuration for closes and the journal.
type exactlyOnce struct {
	journal Journal
	settle  time.Duration
	lease   time.Duration
	owner   string         // this client's unique owner id, for leases
	ops     *atomic.Uint64 // numbers each call's owner id
	busy    *sync.Map      // draft ids a Resume of this client works on

	keys      *keyMemory    // keyed submissions' journal without WithJournal (keymem.go)
	closes    *closeMemory  // the closes this client sent (closemem.go)
	clock     *journalClock // the journal's clock, as measured (closemem.go)
	clocks    *otherClocks  // other journals' clocks (Recover's argument)
	secret    []byte        // WithJournalSecret
	rlRetries int           // WithRateLimitRetry (ratelimit.go)
	rlMaxWait time.Duration // the longest wait before one of them
}

func defaultExactlyOnce() exactlyOnce {
	return exactlyOnce{settle: DefaultCloseSettle, lease: DefaultJournalLease,
		rlRetries: DefaultRateLimitRetries, rlMaxWait: DefaultRateLimitMaxWait}
}

// WithJournal records every Submit's steps in j before they are taken (see
// Journal), so that Recover can finish or report each submission after a
// crash, on whichever process or replica runs it, and Resume knows when a
// close was last sent. Package journal has a directory (one process) and
// PostgreSQL (several replicas). Without a journal a crash loses the record
// of what was sent.
func WithJournal(j Journal) Option {
	return func(c *config) error {
		if j == nil {
			return invalidArg("WithJournal", "journal is nil")
		}
		c.eo.journal = j
		return nil
	}
}

// WithCloseSettle sets how long after a closing PUT was sent the SDK waits
// before it sends another close for the same richiesta (default
// DefaultCloseSettle, 2 minutes). A close whose answer was lost may still be
// applied: a gateway gives up while the backend commits. It must be longer
// than the slowest commit behind a gateway and than the lag of the read
// replicas that answer GET /richiesta/{id}, since a read within it may show
// a draft that is in fact closed.
func WithCloseSettle(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalidArg("WithCloseSettle", "needs a duration above zero")
		}
		c.eo.settle = d
		return nil
	}
}

// WithJournalLease sets how long a journal entry stays leased to the call
// working on it (default DefaultJournalLease, 5 minutes); each journal write
// renews it. While it runs no other process claims the entry; when the
// process dies, the entry is free once it ends. It must outlast the
// longest single call (the transport's timeouts): a call that finds its
// lease lost stops before any further paid step.
func WithJournalLease(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalidArg("WithJournalLease", "needs a duration above zero")
		}
		c.eo.lease = d
		return nil
	}
}

// ready completes the configuration for a new client: its owner id.
func (eo exactlyOnce) ready() exactlyOnce {
	eo.owner, eo.ops, eo.busy = newOwnerBase(), new(atomic.Uint64), new(sync.Map)
	eo.keys, eo.closes = newKeyMemory(DefaultKeyMemory), newCloseMemory(eo.settle)
	eo.clock, eo.clocks = new(journalClock), new(otherClocks)
	return eo
}

// newOwnerBase names this client for journal leases: host, process and a
// random part, so that two clients never share leases.
func newOwnerBase() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' || r == '/' {
			return '-'
		}
		return r
	}, host)
	if host == "" {
		host = "host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%.48s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// newOwner returns an owner id for one call (a Submit, a Resume, a
// Recover): two calls of one client never share a lease either.
func (c *Client) newOwner() string {
	return c.eo.owner + "/" + strconv.FormatUint(c.eo.ops.Add(1), 10)
}

// journalTimeout bounds the journal writes made after a paid step, which
// must not be skipped because the caller's context ended.
const journalTimeout = 30 * time.Second

// afterStep is a context for journal writes after a step was taken: not
// cancelled with ctx, since what happened must be recorded.
func afterStep(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
}

// record is one submission's journal entry, held under its owner's lease.
// Its methods do nothing when the client has no journal.
type record struct {
	j     Journal
	owner string
	lease time.Duration
	e     JournalEntry
	// released: the outcome's write ended the lease, so release has
	// nothing left to do.
	released bool
}

// startRecord records a submission's intent, before anything is sent.
func (c *Client) startRecord(ctx context.Context, ref string, body *richiestaBody) (*record, error) {
	rec := &record{j: c.eo.journal, lease: c.eo.lease}
	rec.e = JournalEntry{Ref: ref, HashVisura: body.HashVisura, CreatedAt: time.Now()}
	if rec.j == nil {
		return rec, nil // the digest is for the journal only: not worth a hash of every scan
	}
	var err error
	if rec.e.Digest, err = c.bodyDigest(ctx, rec.j, body); err != nil {
		return nil, err
	}
	if rec.e.CreatedAt, err = c.journalTime(ctx, rec.j, rec.e.CreatedAt); err != nil {
		return nil, err
	}
	rec.owner = c.newOwner()
	rec.e.LeaseOwner, rec.e.LeaseUntil = rec.owner, time.Now().Add(rec.lease)
	if err := rec.j.Create(ctx, rec.e); err != nil {
		return nil, errorf("visengine: journal: recording the intent: %w", err)
	}
	return rec, nil
}

// claimed wraps an entry a caller leased (Claim, ClaimRef) as a record.
func claimed(j Journal, owner string, lease time.Duration, e JournalEntry) *record {
	return &record{j: j, owner: owner, lease: lease, e: e}
}

// step writes the entry as edit changes it, renewing the lease, durably
// before it returns. A step that fails (ErrLeaseLost above all) must stop
// the submission before its next call.
func (r *record) step(ctx context.Context, edit func(e *JournalEntry)) error {
	return r.write(ctx, edit, false)
}

// write is step; last ends the lease in the same write (an Update whose
// lease end is not after now, see Journal), which saves the journal a
// Release: the outcome is the entry's last write.
func (r *record) write(ctx context.Context, edit func(e *JournalEntry), last bool) error {
	next := r.e
	edit(&next)
	if r.j == nil {
		r.e = next
		return nil
	}
	now := time.Now()
	next.LeaseOwner, next.LeaseUntil = r.owner, now.Add(r.lease)
	if last {
		next.LeaseUntil = now
	}
	if err := r.j.Update(ctx, next); err != nil {
		return errorf("visengine: journal: %w", err)
	}
	r.e, r.released = next, last
	return nil
}

// wroteNothing reports whether err, from a write, proves that the write
// changed nothing: Journal.Update fails with ErrLeaseLost or ErrNotFound
// only before it writes.
func wroteNothing(err error) bool {
	return errors.Is(err, ErrLeaseLost) || errors.Is(err, ErrNotFound)
}

// end records an outcome after the step that decided it: best effort, since
// the step was taken whatever the journal says; an entry left unfinished is
// resolved by Recover from the server. The caller releases the lease.
func (r *record) end(ctx context.Context, outcome JournalOutcome, note string) {
	_ = r.endErr(ctx, outcome, note)
}

// endErr is end for the callers that must know whether the outcome was
// recorded.
func (r *record) endErr(ctx context.Context, outcome JournalOutcome, note string) error {
	if r.j == nil {
		return nil
	}
	ctx, cancel := afterStep(ctx)
	defer cancel()
	return r.write(ctx, func(e *JournalEntry) { e.Outcome, e.Note = outcome, note }, true)
}

// note records what is known without an outcome; best effort.
func (r *record) note(ctx context.Context, note string) {
	if r.j == nil {
		return
	}
	ctx, cancel := afterStep(ctx)
	defer cancel()
	_ = r.step(ctx, func(e *JournalEntry) { e.Note = note })
}

// release ends the lease, unless the outcome's write did; best effort (it
// runs out anyway).
func (r *record) release(ctx context.Context) {
	if r.j == nil || r.released {
		return
	}
	ctx, cancel := afterStep(ctx)
	defer cancel()
	_ = r.j.Release(ctx, r.e.Ref, r.owner)
}

// refusalNote describes a refusal for a journal note: status and code only,
// never the server's message, which may echo the input.
func refusalNote(what string, err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if apiErr.Code != 0 {
			return fmt.Sprintf("%s refused: HTTP %d (Visengine error %d)", what, apiErr.StatusCode, apiErr.Code)
		}
		return fmt.Sprintf("%s refused: HTTP %d", what, apiErr.StatusCode)
	}
	return what + " failed before it was sent"
}
