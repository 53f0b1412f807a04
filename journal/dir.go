package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/visengine-go/visengine"
)

const (
	lockName   = "LOCK"
	tempPrefix = ".tmp-"
	entryExt   = ".json"
)

// errLocked is returned by lockDir; OpenDir names the directory.
var errLocked = visengine.ErrJournalLocked

// Dir is a Journal in a directory of the local file system, for a single
// process: one small JSON file per entry, written durably (a temporary
// file, fsync, rename, fsync of the directory) before a call returns.
// The process holds an OS lock on the directory while the Dir is open.
//
// All entries are read into memory when it is opened and served from
// there; leases are kept in memory only, since no other process can share
// the directory: entries left leased by a process that died are free as
// soon as the directory is opened again. Writes are serialized.
type Dir struct {
	path string

	mu      sync.Mutex
	lock    io.Closer // nil once closed
	entries map[string]visengine.JournalEntry

	secret secretCache // DigestSecret's (secret.go)
}

var _ visengine.Journal = (*Dir)(nil)

// OpenDir opens the journal in the directory path, creating it (mode 0700)
// if needed, and reads its entries. It fails with an error matching
// visengine.ErrJournalLocked while another Dir, in this process or
// another, has the directory open, and with a *CorruptEntryError if an
// entry file cannot be read back: move that file away (after reading it)
// to open the journal without it. Call Close when done.
func OpenDir(path string) (*Dir, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: journal directory is empty", visengine.ErrInvalidArgument)
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("visengine: journal: %w", err)
	}
	lock, err := lockDir(path)
	if err != nil {
		return nil, fmt.Errorf("visengine: journal %s: %w", path, err)
	}
	entries, err := loadDir(path)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	return &Dir{path: path, lock: lock, entries: entries}, nil
}

// Close releases the directory for another process. Calls after Close
// fail with an error matching os.ErrClosed.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lock == nil {
		return nil
	}
	err := d.lock.Close()
	d.lock, d.entries = nil, nil
	if err != nil {
		return fmt.Errorf("visengine: journal %s: %w", d.path, err)
	}
	return nil
}

// loadDir reads every entry file of path, and removes the temporary files
// that an interrupted write left.
func loadDir(path string) (map[string]visengine.JournalEntry, error) {
	names, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("visengine: journal: %w", err)
	}
	entries := make(map[string]visengine.JournalEntry, len(names))
	for _, de := range names {
		name := de.Name()
		switch {
		case strings.HasPrefix(name, tempPrefix):
			if err := os.Remove(filepath.Join(path, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("visengine: journal: %w", err)
			}
		case strings.HasSuffix(name, entryExt):
			e, err := loadEntry(filepath.Join(path, name))
			if err != nil {
				return nil, err
			}
			entries[e.Ref] = e
		}
	}
	return entries, nil
}

// loadEntry reads one entry file, checking that its name is its Ref.
func loadEntry(file string) (visengine.JournalEntry, error) {
	f, err := os.Open(file)
	if err != nil {
		return visengine.JournalEntry{}, fmt.Errorf("visengine: journal: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEntryFile+1))
	if err != nil {
		return visengine.JournalEntry{}, fmt.Errorf("visengine: journal: reading %s: %w", file, err)
	}
	e, err := decodeEntry(data)
	if err != nil {
		return visengine.JournalEntry{}, &CorruptEntryError{Where: file, Reason: err.Error()}
	}
	if filepath.Base(file) != e.Ref+entryExt {
		return visengine.JournalEntry{}, &CorruptEntryError{Where: file, Reason: "file name is not its ref"}
	}
	return e, nil
}

// write stores e's file durably. It reports whether the file was renamed
// into place (visible, maybe not yet durable) even when it fails after.
func (d *Dir) write(e visengine.JournalEntry) (placed bool, err error) {
	tmp, err := os.CreateTemp(d.path, tempPrefix+e.Ref+"-*")
	if err != nil {
		return false, fmt.Errorf("visengine: journal: %w", err)
	}
	defer func() {
		if !placed {
			_ = os.Remove(tmp.Name())
		}
	}()
	_, err = tmp.Write(encodeEntry(e))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(d.path, e.Ref+entryExt))
		placed = err == nil
	}
	if err == nil {
		err = syncDir(d.path)
	}
	if err != nil {
		return placed, fmt.Errorf("visengine: journal: writing entry %s: %w", e.Ref, err)
	}
	return placed, nil
}

// begin checks ctx and locks d for one call; the caller unlocks d.mu.
func (d *Dir) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	if d.lock == nil {
		d.mu.Unlock()
		return fmt.Errorf("visengine: journal %s: %w", d.path, os.ErrClosed)
	}
	return nil
}

// Create records e, leased to e.LeaseOwner until e.LeaseUntil, and returns
// once its file is durable. An existing Ref fails with
// visengine.ErrJournalConflict.
func (d *Dir) Create(ctx context.Context, e visengine.JournalEntry) error {
	e = normalize(e)
	if err := checkLeased(e); err != nil {
		return err
	}
	if err := d.begin(ctx); err != nil {
		return err
	}
	defer d.mu.Unlock()
	if _, ok := d.entries[e.Ref]; ok {
		return fmt.Errorf("visengine: journal entry %s: %w", e.Ref, visengine.ErrJournalConflict)
	}
	return d.store(e)
}

// store writes e, stamped now, and keeps it in memory once its file is in
// place.
func (d *Dir) store(e visengine.JournalEntry) error {
	e.UpdatedAt = normTime(time.Now())
	placed, err := d.write(e)
	if placed {
		d.entries[e.Ref] = e
	}
	return err
}

// Update replaces the entry e.Ref by e and renews the lease to
// e.LeaseUntil, while e.LeaseOwner holds an unexpired lease on it;
// otherwise it fails with visengine.ErrLeaseLost.
func (d *Dir) Update(ctx context.Context, e visengine.JournalEntry) error {
	e = normalize(e)
	if err := checkLeased(e); err != nil {
		return err
	}
	if err := d.begin(ctx); err != nil {
		return err
	}
	defer d.mu.Unlock()
	cur, ok := d.entries[e.Ref]
	if !ok {
		return notFound(e.Ref)
	}
	if !holds(cur, e.LeaseOwner, time.Now()) {
		return fmt.Errorf("visengine: journal entry %s: %w", e.Ref, visengine.ErrLeaseLost)
	}
	return d.store(e)
}

// holds reports whether owner has an unexpired lease on e at now.
func holds(e visengine.JournalEntry, owner string, now time.Time) bool {
	return e.LeaseOwner == owner && now.Before(e.LeaseUntil)
}

// free reports whether e's lease is free or expired at now.
func free(e visengine.JournalEntry, now time.Time) bool {
	return e.LeaseOwner == "" || !now.Before(e.LeaseUntil)
}

// Claim leases to owner, until until, up to max unfinished entries whose
// lease is free or expired, oldest first.
func (d *Dir) Claim(ctx context.Context, owner string, until time.Time, max int) ([]visengine.JournalEntry, error) {
	if err := checkClaim(owner, until, max); err != nil {
		return nil, err
	}
	if err := d.begin(ctx); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	now := time.Now()
	var out []visengine.JournalEntry
	for _, e := range d.entries {
		if !e.Finished() && free(e, now) {
			out = append(out, e)
		}
	}
	sortEntries(out)
	if len(out) > max {
		out = out[:max]
	}
	for i := range out {
		out[i].LeaseOwner, out[i].LeaseUntil = owner, normTime(until)
		d.entries[out[i].Ref] = out[i]
	}
	return out, nil
}

// ClaimRef leases the entry ref to owner until until, unless another owner
// holds an unexpired lease on it (visengine.ErrLeaseHeld).
func (d *Dir) ClaimRef(ctx context.Context, ref, owner string, until time.Time) (visengine.JournalEntry, error) {
	if err := cmp.Or(checkRef(ref), checkClaim(owner, until, 1)); err != nil {
		return visengine.JournalEntry{}, err
	}
	if err := d.begin(ctx); err != nil {
		return visengine.JournalEntry{}, err
	}
	defer d.mu.Unlock()
	e, ok := d.entries[ref]
	if !ok {
		return visengine.JournalEntry{}, notFound(ref)
	}
	if e.LeaseOwner != owner && !free(e, time.Now()) {
		return visengine.JournalEntry{}, fmt.Errorf("visengine: journal entry %s: %w", ref, visengine.ErrLeaseHeld)
	}
	e.LeaseOwner, e.LeaseUntil = owner, normTime(until)
	d.entries[ref] = e
	return e, nil
}

// Release ends owner's lease on ref, if owner holds it.
func (d *Dir) Release(ctx context.Context, ref, owner string) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	if err := d.begin(ctx); err != nil {
		return err
	}
	defer d.mu.Unlock()
	e, ok := d.entries[ref]
	if !ok {
		return notFound(ref)
	}
	if e.LeaseOwner == owner {
		e.LeaseOwner, e.LeaseUntil = "", time.Time{}
		d.entries[ref] = e
	}
	return nil
}

// Get returns the entry ref, with its lease.
func (d *Dir) Get(ctx context.Context, ref string) (visengine.JournalEntry, error) {
	if err := checkRef(ref); err != nil {
		return visengine.JournalEntry{}, err
	}
	if err := d.begin(ctx); err != nil {
		return visengine.JournalEntry{}, err
	}
	defer d.mu.Unlock()
	e, ok := d.entries[ref]
	if !ok {
		return visengine.JournalEntry{}, notFound(ref)
	}
	return e, nil
}

// List returns the entries f selects, oldest first. It looks at every
// entry in memory.
func (d *Dir) List(ctx context.Context, f visengine.JournalFilter) ([]visengine.JournalEntry, error) {
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	if err := d.begin(ctx); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	var out []visengine.JournalEntry
	for _, e := range d.entries {
		if f.Matches(e) {
			out = append(out, e)
		}
	}
	sortEntries(out)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// sortEntries orders entries oldest first, then by Ref, as every journal
// lists them.
func sortEntries(es []visengine.JournalEntry) {
	slices.SortFunc(es, func(a, b visengine.JournalEntry) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.Ref, b.Ref))
	})
}
