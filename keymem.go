package visengine

import (
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultKeyMemory is how many idempotency keys a Client without a
// journal remembers (see WithIdempotencyKey). Beyond it the oldest
// finished submissions are forgotten first; one under way never is.
const DefaultKeyMemory = 100_000

// keyMemory is the journal of keyed submissions of a Client without one
// (WithJournal): in memory, for the client's life, bounded to max
// entries. It keeps the Journal contract on this process's clock.
type keyMemory struct {
	mu      sync.Mutex
	max     int
	entries map[string]JournalEntry
	order   []string            // Refs in creation order, for eviction
	drafts  map[string][]string // DraftID → Refs: Resume looks an entry up by its draft
	secret  []byte              // keys its digests; never leaves the process
}

func newKeyMemory(max int) *keyMemory {
	secret := make([]byte, MinDigestSecret)
	_, _ = rand.Read(secret)
	return &keyMemory{max: max, entries: map[string]JournalEntry{}, drafts: map[string][]string{}, secret: secret}
}

var _ Journal = (*keyMemory)(nil)

// DigestSecret returns the memory's own random secret.
func (m *keyMemory) DigestSecret(context.Context) ([]byte, error) { return m.secret, nil }

// JournalNow returns this process's time: the memory's leases run on it.
func (m *keyMemory) JournalNow(context.Context) (time.Time, error) { return time.Now(), nil }

// Create records e unless its Ref is known, evicting the oldest finished
// entry when full.
func (m *keyMemory) Create(ctx context.Context, e JournalEntry) error {
	if err := cmp.Or(ctx.Err(), e.Validate()); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[e.Ref]; ok {
		return errorf("visengine: key memory: entry %s: %w", e.Ref, ErrJournalConflict)
	}
	if len(m.entries) >= m.max && !m.evictLocked() {
		return errorf("visengine: key memory: %d submissions under way, none can be forgotten", len(m.entries))
	}
	e.UpdatedAt = time.Now()
	m.entries[e.Ref] = e
	m.order = append(m.order, e.Ref)
	m.moveDraftLocked(e.Ref, "", e.DraftID)
	return nil
}

// moveDraftLocked files ref under draft id to instead of from ("" for
// none).
func (m *keyMemory) moveDraftLocked(ref, from, to string) {
	if from == to {
		return
	}
	if from != "" {
		refs := slices.DeleteFunc(m.drafts[from], func(r string) bool { return r == ref })
		if len(refs) == 0 {
			delete(m.drafts, from)
		} else {
			m.drafts[from] = refs
		}
	}
	if to != "" {
		m.drafts[to] = append(m.drafts[to], ref)
	}
}

// evictLocked forgets the oldest finished, unleased entry. Its Ref leaves
// order by moving the older ones it passed (those under way) up one slot
// and dropping the first: the cost is theirs, not the whole memory's, as it
// was when every eviction of a full memory moved the 100,000 Refs behind it.
func (m *keyMemory) evictLocked() bool {
	now := time.Now()
	for i, ref := range m.order {
		if e := m.entries[ref]; e.Finished() && memFree(e, now) {
			delete(m.entries, ref)
			m.moveDraftLocked(ref, e.DraftID, "")
			copy(m.order[1:i+1], m.order[:i])
			m.order[0] = ""
			m.order = m.order[1:]
			return true
		}
	}
	return false
}

func memFree(e JournalEntry, now time.Time) bool {
	return e.LeaseOwner == "" || !now.Before(e.LeaseUntil)
}

// Update replaces e.Ref while e.LeaseOwner holds its lease.
func (m *keyMemory) Update(ctx context.Context, e JournalEntry) error {
	if err := cmp.Or(ctx.Err(), e.Validate()); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.entries[e.Ref]
	switch {
	case !ok:
		return errorf("visengine: key memory: entry %s: %w", e.Ref, ErrNotFound)
	case cur.LeaseOwner != e.LeaseOwner || !time.Now().Before(cur.LeaseUntil):
		return errorf("visengine: key memory: entry %s: %w", e.Ref, ErrLeaseLost)
	}
	now := time.Now()
	if !e.LeaseUntil.After(now) { // ends the lease, as Release would
		e.LeaseOwner, e.LeaseUntil = "", time.Time{}
	}
	e.UpdatedAt = now
	m.entries[e.Ref] = e
	m.moveDraftLocked(e.Ref, cur.DraftID, e.DraftID)
	return nil
}

// Claim leases up to max unfinished, free entries, oldest first.
func (m *keyMemory) Claim(ctx context.Context, owner string, until time.Time, max int) ([]JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []JournalEntry
	now := time.Now()
	for _, e := range m.entries {
		if !e.Finished() && memFree(e, now) {
			out = append(out, e)
		}
	}
	sortJournalEntries(out)
	out = out[:min(len(out), max)]
	for i := range out {
		out[i].LeaseOwner, out[i].LeaseUntil = owner, until
		m.entries[out[i].Ref] = out[i]
	}
	return out, nil
}

// ClaimRef leases ref to owner unless another owner holds it.
func (m *keyMemory) ClaimRef(ctx context.Context, ref, owner string, until time.Time) (JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return JournalEntry{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[ref]
	switch {
	case !ok:
		return JournalEntry{}, errorf("visengine: key memory: entry %s: %w", ref, ErrNotFound)
	case e.LeaseOwner != owner && !memFree(e, time.Now()):
		return JournalEntry{}, errorf("visengine: key memory: entry %s: %w", ref, ErrLeaseHeld)
	}
	e.LeaseOwner, e.LeaseUntil = owner, until
	m.entries[ref] = e
	return e, nil
}

// Release ends owner's lease on ref.
func (m *keyMemory) Release(_ context.Context, ref, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[ref]
	if !ok {
		return errorf("visengine: key memory: entry %s: %w", ref, ErrNotFound)
	}
	if e.LeaseOwner == owner {
		e.LeaseOwner, e.LeaseUntil = "", time.Time{}
		m.entries[ref] = e
	}
	return nil
}

// Get returns the entry ref.
func (m *keyMemory) Get(ctx context.Context, ref string) (JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return JournalEntry{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[ref]
	if !ok {
		return JournalEntry{}, errorf("visengine: key memory: entry %s: %w", ref, ErrNotFound)
	}
	return e, nil
}

// List returns the entries f selects, oldest first: by draft id through
// the memory's index (Resume's lookup), otherwise from all of them.
func (m *keyMemory) List(ctx context.Context, f JournalFilter) ([]JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []JournalEntry
	keep := func(e JournalEntry) {
		if f.Matches(e) {
			out = append(out, e)
		}
	}
	if f.DraftID != "" {
		for _, ref := range m.drafts[f.DraftID] {
			keep(m.entries[ref])
		}
	} else {
		for _, e := range m.entries {
			keep(e)
		}
	}
	sortJournalEntries(out)
	if f.Limit > 0 {
		out = out[:min(len(out), f.Limit)]
	}
	return out, nil
}

// ListDrafts returns the entries whose DraftID is one of ids, through the
// memory's index.
func (m *keyMemory) ListDrafts(ctx context.Context, ids []string) ([]JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []JournalEntry
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		for _, ref := range m.drafts[id] {
			out = append(out, m.entries[ref])
		}
	}
	return out, nil
}

func sortJournalEntries(es []JournalEntry) {
	slices.SortFunc(es, func(a, b JournalEntry) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.Ref, b.Ref))
	})
}
