package visengine

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// memJournal is a Journal in memory, for the root package's tests, which
// cannot import package journal (it imports this one). It keeps the
// interface's contract (leases on this process's clock) and counts calls.
// Its fail hook, when set, may refuse a call before it is applied.
// It keeps no secret unless a test gives it one (withSecret): by default
// the client records unkeyed digests (JournalDigest) in it.
type memJournal struct {
	mu      sync.Mutex
	entries map[string]JournalEntry
	fail    func(op string, e JournalEntry) error
	calls   []string
	secret  []byte
}

func newMemJournal() *memJournal { return &memJournal{entries: map[string]JournalEntry{}} }

func (m *memJournal) refuse(op string, e JournalEntry) error {
	m.calls = append(m.calls, op)
	if m.fail != nil {
		return m.fail(op, e)
	}
	return nil
}

func (m *memJournal) Create(ctx context.Context, e JournalEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := cmp.Or(ctx.Err(), e.Validate(), m.refuse("Create", e)); err != nil {
		return err
	}
	if _, ok := m.entries[e.Ref]; ok {
		return ErrJournalConflict
	}
	e.UpdatedAt = time.Now()
	m.entries[e.Ref] = e
	return nil
}

func (m *memJournal) Update(ctx context.Context, e JournalEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := cmp.Or(ctx.Err(), e.Validate(), m.refuse("Update", e)); err != nil {
		return err
	}
	cur, ok := m.entries[e.Ref]
	switch {
	case !ok:
		return ErrNotFound
	case cur.LeaseOwner != e.LeaseOwner || !time.Now().Before(cur.LeaseUntil):
		return ErrLeaseLost
	}
	if !e.LeaseUntil.After(time.Now()) { // ends the lease, as Release would
		e.LeaseOwner, e.LeaseUntil = "", time.Time{}
	}
	e.UpdatedAt = time.Now()
	m.entries[e.Ref] = e
	return nil
}

func (m *memJournal) free(e JournalEntry) bool {
	return e.LeaseOwner == "" || !time.Now().Before(e.LeaseUntil)
}

func (m *memJournal) Claim(ctx context.Context, owner string, until time.Time, max int) ([]JournalEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := cmp.Or(ctx.Err(), m.refuse("Claim", JournalEntry{})); err != nil {
		return nil, err
	}
	var out []JournalEntry
	for _, e := range m.sorted() {
		if len(out) < max && !e.Finished() && m.free(e) {
			e.LeaseOwner, e.LeaseUntil = owner, until
			m.entries[e.Ref] = e
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memJournal) ClaimRef(ctx context.Context, ref, owner string, until time.Time) (JournalEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := cmp.Or(ctx.Err(), m.refuse("ClaimRef", JournalEntry{Ref: ref})); err != nil {
		return JournalEntry{}, err
	}
	e, ok := m.entries[ref]
	switch {
	case !ok:
		return JournalEntry{}, ErrNotFound
	case e.LeaseOwner != owner && !m.free(e):
		return JournalEntry{}, ErrLeaseHeld
	}
	e.LeaseOwner, e.LeaseUntil = owner, until
	m.entries[ref] = e
	return e, nil
}

func (m *memJournal) Release(ctx context.Context, ref, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := cmp.Or(ctx.Err(), m.refuse("Release", JournalEntry{Ref: ref})); err != nil {
		return err
	}
	e, ok := m.entries[ref]
	if !ok {
		return ErrNotFound
	}
	if e.LeaseOwner == owner {
		e.LeaseOwner, e.LeaseUntil = "", time.Time{}
		m.entries[ref] = e
	}
	return nil
}

func (m *memJournal) Get(ctx context.Context, ref string) (JournalEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[ref]
	if !ok {
		return JournalEntry{}, ErrNotFound
	}
	return e, ctx.Err()
}

func (m *memJournal) List(ctx context.Context, f JournalFilter) ([]JournalEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := cmp.Or(ctx.Err(), m.refuse("List", JournalEntry{})); err != nil {
		return nil, err
	}
	var out []JournalEntry
	for _, e := range m.sorted() {
		if f.Matches(e) && (f.Limit == 0 || len(out) < f.Limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memJournal) ListDrafts(ctx context.Context, ids []string) ([]JournalEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := cmp.Or(ctx.Err(), m.refuse("ListDrafts", JournalEntry{})); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []JournalEntry
	for _, e := range m.entries {
		if e.DraftID != "" && want[e.DraftID] {
			out = append(out, e)
		}
	}
	return out, nil
}

// withSecret has m keep a secret of its own, as the journals of package
// journal do.
func (m *memJournal) withSecret() *memJournal {
	m.secret = bytes.Repeat([]byte{0x5e}, MinDigestSecret)
	return m
}

// DigestSecret returns the secret set by withSecret, or nil: a journal
// that keeps none.
func (m *memJournal) DigestSecret(ctx context.Context) ([]byte, error) {
	return m.secret, ctx.Err()
}

// JournalNow returns this process's time, which its leases run on.
func (m *memJournal) JournalNow(ctx context.Context) (time.Time, error) {
	return time.Now(), ctx.Err()
}

func (m *memJournal) sorted() []JournalEntry {
	var es []JournalEntry
	for _, e := range m.entries {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b JournalEntry) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.Ref, b.Ref))
	})
	return es
}

// all returns every entry, oldest first.
func (m *memJournal) all() []JournalEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sorted()
}

// only returns the single entry, failing the test's expectation otherwise.
func (m *memJournal) only() (JournalEntry, int) {
	es := m.all()
	if len(es) != 1 {
		return JournalEntry{}, len(es)
	}
	return es[0], 1
}
