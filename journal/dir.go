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
	logName    = "journal.log"
)

// errLocked is returned by lockDir; OpenDir names the directory.
var errLocked = visengine.ErrJournalLocked

// Dir is a Journal in a directory of the local file system, for a single
// process: an append-only log of entries (see the package documentation
// for the format), each record written to it (write(2)) before its call
// returns, and synced (fsync) before it returns unless it is an intent or
// a completed outcome (the durability classes of the Journal interface:
// such a record survives a kill of the process and rides the next sync).
// Records written while a sync is in progress are synced together by the
// next one (group commit): concurrent submissions share their fsyncs, and
// each call that needs it still returns only once its own record is
// durable. A write or sync that fails leaves the log's end unknown, so
// every call after it fails too: close the Dir and open it again, which reads back
// what reached the disk. The process holds an OS lock on the directory
// while the Dir is open.
//
// All entries are read into memory when it is opened and served from
// there, through indexes by draft id, digest and outcome; leases are kept
// in memory only, since no other process can share the directory: entries
// left leased by a process that died are free as soon as the directory is
// opened again.
type Dir struct {
	path string

	mu      sync.Mutex
	lock    io.Closer // nil once closed
	entries map[string]visengine.JournalEntry
	idx     dirIndex
	w       logWriter // the log

	flushMu sync.Mutex  // held by the one sync in progress
	secret  secretCache // DigestSecret's (secret.go)
}

var _ visengine.Journal = (*Dir)(nil)

// OpenDir opens the journal in the directory path, creating it (mode 0700)
// if needed, and reads its entries. It fails with an error matching
// visengine.ErrJournalLocked while another Dir, in this process or
// another, has the directory open, and with a *CorruptEntryError if an
// entry cannot be read back: an entry file (move that file away, after
// reading it, to open the journal without it) or a record in the middle
// of the log (whose other records are then worth saving by hand). Call
// Close when done.
//
// Like ssh with ~/.ssh, it refuses (an error matching ErrUnsafe, saying
// what to change) a directory owned by another user or writable by its
// group or others, and a log or entry file that is a symlink or not a
// regular file; it never blocks on a FIFO. Other regular files in the
// directory are left alone.
func OpenDir(path string) (*Dir, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: journal directory is empty", visengine.ErrInvalidArgument)
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("visengine: journal: %w", err)
	}
	if err := checkDir(path); err != nil {
		return nil, err
	}
	lock, err := lockDir(path)
	var unsafe *unsafeError
	switch {
	case errors.As(err, &unsafe):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("visengine: journal %s: %w", path, err)
	}
	d := &Dir{path: path, lock: lock, idx: newDirIndex()}
	if err := d.load(); err != nil {
		_ = lock.Close()
		return nil, err
	}
	return d, nil
}

// load reads the entry files of d.path, then its log over them, and opens
// the log for appending.
func (d *Dir) load() error {
	entries, legacy, err := loadDir(d.path)
	if err != nil {
		return err
	}
	w, err := openLog(d.path, func(e visengine.JournalEntry) { entries[e.Ref] = e })
	if err != nil {
		return err
	}
	w.legacy = legacy
	d.entries, d.w = entries, w
	d.idx.build(entries)
	return nil
}

// Close waits for the writes in progress, syncs the records not yet
// synced, then releases the directory for another process. Calls after Close fail with an error matching
// os.ErrClosed.
func (d *Dir) Close() error {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lock == nil {
		return nil
	}
	err := d.w.syncWritten() // the records that rode no sync yet
	if cerr := d.w.close(); err == nil {
		err = cerr
	}
	if cerr := d.lock.Close(); err == nil {
		err = cerr
	}
	d.lock, d.entries = nil, nil
	if err != nil {
		return fmt.Errorf("visengine: journal %s: %w", d.path, err)
	}
	return nil
}

// loadDir reads every entry file of path (the format before the log, and
// still read), and removes the temporary files that an interrupted write
// left. It returns the files' paths too, for compact to remove once the
// log holds their entries.
func loadDir(path string) (map[string]visengine.JournalEntry, []string, error) {
	names, err := os.ReadDir(path)
	if err != nil {
		return nil, nil, fmt.Errorf("visengine: journal: %w", err)
	}
	entries := make(map[string]visengine.JournalEntry, len(names))
	var files []string
	for _, de := range names {
		name := de.Name()
		switch {
		case strings.HasPrefix(name, tempPrefix):
			if err := os.Remove(filepath.Join(path, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, nil, fmt.Errorf("visengine: journal: %w", err)
			}
		case strings.HasSuffix(name, entryExt):
			if err := checkEntryType(path, de); err != nil {
				return nil, nil, err
			}
			e, err := loadEntry(filepath.Join(path, name))
			if err != nil {
				return nil, nil, err
			}
			entries[e.Ref] = e
			files = append(files, filepath.Join(path, name))
		}
	}
	return entries, files, nil
}

// loadEntry reads one entry file, checking that its name is its Ref.
func loadEntry(file string) (visengine.JournalEntry, error) {
	f, err := openEntry(file)
	var unsafe *unsafeError
	switch {
	case errors.As(err, &unsafe):
		return visengine.JournalEntry{}, err
	case err != nil:
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
	if d.w.failed != nil {
		d.mu.Unlock()
		return fmt.Errorf("visengine: journal %s: a write failed, so what is on disk is unknown: close and open it again: %w", d.path, d.w.failed)
	}
	return nil
}

// Create records e, leased to e.LeaseOwner until e.LeaseUntil, and returns
// once its record is durable (an intent: once it is written to the log,
// see needsSync). An existing Ref fails with
// visengine.ErrJournalConflict.
func (d *Dir) Create(ctx context.Context, e visengine.JournalEntry) error {
	e = normalize(e)
	if err := checkLeased(e); err != nil {
		return err
	}
	return d.put(ctx, e, func(_ visengine.JournalEntry, exists bool) error {
		if exists {
			return fmt.Errorf("visengine: journal entry %s: %w", e.Ref, visengine.ErrJournalConflict)
		}
		return nil
	})
}

// put writes e, stamped now, to the log if check accepts what d holds for
// its Ref, and returns once it is durable, or once it is in the file for
// a record that needsSync says may ride the next sync. It is visible to
// other calls as soon as it is written: a write or sync that fails stops
// every later call (see begin).
func (d *Dir) put(ctx context.Context, e visengine.JournalEntry, check func(cur visengine.JournalEntry, ok bool) error) error {
	if err := d.begin(ctx); err != nil {
		return err
	}
	cur, ok := d.entries[e.Ref]
	if err := check(cur, ok); err != nil {
		d.mu.Unlock()
		return err
	}
	e.UpdatedAt = normTime(time.Now())
	if ok {
		d.idx.update(cur, e)
	} else {
		d.idx.add(e)
	}
	d.entries[e.Ref] = e
	seq, err := d.w.write(e)
	compact := d.compactDue()
	d.mu.Unlock()
	if err != nil {
		return fmt.Errorf("visengine: journal %s: writing the log: %w", d.path, err)
	}
	if !needsSync(e) && !compact {
		return nil // in the file already; the next sync carries it
	}
	return d.commit(seq)
}

// Update replaces the entry e.Ref by e and renews the lease to
// e.LeaseUntil, while e.LeaseOwner holds an unexpired lease on it;
// otherwise it fails with visengine.ErrLeaseLost. A LeaseUntil not after
// now ends the lease.
func (d *Dir) Update(ctx context.Context, e visengine.JournalEntry) error {
	e = normalize(e)
	if err := checkLeased(e); err != nil {
		return err
	}
	now, owner := time.Now(), e.LeaseOwner
	if !e.LeaseUntil.After(now) {
		e.LeaseOwner, e.LeaseUntil = "", time.Time{}
	}
	return d.put(ctx, e, func(cur visengine.JournalEntry, ok bool) error {
		if !ok {
			return notFound(e.Ref)
		}
		if !holds(cur, owner, now) {
			return fmt.Errorf("visengine: journal entry %s: %w", e.Ref, visengine.ErrLeaseLost)
		}
		return nil
	})
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
	d.idx.eachUnfinished(d.entries, func(e visengine.JournalEntry) bool {
		if free(e, now) {
			out = append(out, e)
		}
		return len(out) < max
	})
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

// List returns the entries f selects, oldest first. A filter by draft id,
// digest or unfinished entries goes through an index; the zero filter
// looks at every entry.
func (d *Dir) List(ctx context.Context, f visengine.JournalFilter) ([]visengine.JournalEntry, error) {
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	if err := d.begin(ctx); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	var out []visengine.JournalEntry
	d.idx.each(f, d.entries, func(e visengine.JournalEntry) {
		if f.Matches(e) {
			out = append(out, e)
		}
	})
	sortEntries(out)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// sortEntries orders entries oldest first, then by Ref, as every journal
// lists them.
func sortEntries(es []visengine.JournalEntry) {
	slices.SortFunc(es, compareEntries)
}

// compareEntries orders two entries as sortEntries does.
func compareEntries(a, b visengine.JournalEntry) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.Ref, b.Ref))
}

// ListDrafts returns the entries whose DraftID is one of ids, through the
// index by draft id.
func (d *Dir) ListDrafts(ctx context.Context, ids []string) ([]visengine.JournalEntry, error) {
	if err := d.begin(ctx); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	var out []visengine.JournalEntry
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		for _, ref := range d.idx.drafts[id] {
			out = append(out, d.entries[ref])
		}
	}
	return out, nil
}

// JournalNow returns this machine's time: a directory journal belongs to
// one process, whose clock its leases run on (see
// visengine.Journal.JournalNow). It fails only once ctx has ended.
func (d *Dir) JournalNow(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	return time.Now(), nil
}

// dirIndex finds a Dir's entries without looking at every one: by draft
// id, by digest, and the unfinished ones, also oldest first. It holds Refs.
type dirIndex struct {
	drafts     map[string][]string
	digests    map[string][]string
	unfinished map[string]time.Time // Ref → CreatedAt
	// byAge is the unfinished entries in list order (sortEntries), from
	// which Claim takes the oldest free ones without reading the rest,
	// and stale keys: of entries finished since, or whose CreatedAt
	// changed. Claim drops those it passes at the front; the others go
	// once they outnumber the live ones (add).
	byAge []ageKey
}

// ageKey is an unfinished entry's place in byAge. Its time is the entry's
// CreatedAt as every path into the Dir normalizes it (normTime: UTC, no
// monotonic reading), so that Compare, which orders byAge, and Equal, which
// tells a live key, agree.
type ageKey struct {
	at  time.Time
	ref string
}

func compareAge(a, b ageKey) int {
	return cmp.Or(a.at.Compare(b.at), strings.Compare(a.ref, b.ref))
}

func newDirIndex() dirIndex {
	return dirIndex{drafts: map[string][]string{}, digests: map[string][]string{}, unfinished: map[string]time.Time{}}
}

// build indexes entries, read from the files: byAge is sorted once, not
// kept in order at each of them.
func (x *dirIndex) build(entries map[string]visengine.JournalEntry) {
	for _, e := range entries {
		x.file(e)
		if !e.Finished() {
			x.unfinished[e.Ref] = e.CreatedAt
			x.byAge = append(x.byAge, ageKey{e.CreatedAt, e.Ref})
		}
	}
	slices.SortFunc(x.byAge, compareAge)
}

func (x *dirIndex) add(e visengine.JournalEntry) {
	x.file(e)
	x.setUnfinished(e)
}

// file files a new entry's Ref under its draft id, if any, and its digest.
func (x *dirIndex) file(e visengine.JournalEntry) {
	if e.DraftID != "" {
		x.drafts[e.DraftID] = append(x.drafts[e.DraftID], e.Ref)
	}
	x.digests[e.Digest] = append(x.digests[e.Digest], e.Ref)
}

// setUnfinished files e among the unfinished entries, or takes it out,
// as its outcome says. An entry is mostly created last, so its key goes
// at or near the end of byAge.
func (x *dirIndex) setUnfinished(e visengine.JournalEntry) {
	if e.Finished() {
		delete(x.unfinished, e.Ref) // its key is stale now
		return
	}
	x.unfinished[e.Ref] = e.CreatedAt
	k := ageKey{e.CreatedAt, e.Ref}
	if i, found := slices.BinarySearchFunc(x.byAge, k, compareAge); !found {
		x.byAge = slices.Insert(x.byAge, i, k)
	}
	if len(x.byAge) > 2*len(x.unfinished)+staleAgeKeys {
		x.byAge = slices.DeleteFunc(x.byAge, func(k ageKey) bool { return !x.live(k) })
	}
}

// staleAgeKeys is how many stale keys byAge may hold beyond as many as
// the live ones before they are swept: a sweep reads every key, so that
// it comes once per that many writes at least.
const staleAgeKeys = 1024

// live reports whether k is an unfinished entry's key in byAge.
func (x *dirIndex) live(k ageKey) bool {
	at, ok := x.unfinished[k.ref]
	return ok && at.Equal(k.at)
}

// update moves e's Ref from the keys of cur, its last write, to its own,
// touching only the keys that changed: an Update keeps the digest, and
// every entry of the same service and values shares one, so that moving
// the Ref at each write cost as many steps as there were such entries.
func (x *dirIndex) update(cur, e visengine.JournalEntry) {
	if cur.DraftID != e.DraftID {
		if cur.DraftID != "" {
			dropRef(x.drafts, cur.DraftID, cur.Ref)
		}
		if e.DraftID != "" {
			x.drafts[e.DraftID] = append(x.drafts[e.DraftID], e.Ref)
		}
	}
	if cur.Digest != e.Digest {
		dropRef(x.digests, cur.Digest, cur.Ref)
		x.digests[e.Digest] = append(x.digests[e.Digest], e.Ref)
	}
	if e.Finished() != cur.Finished() || !e.CreatedAt.Equal(cur.CreatedAt) {
		x.setUnfinished(e)
	}
}

// dropRef takes ref out of m[key].
func dropRef(m map[string][]string, key, ref string) {
	refs := slices.DeleteFunc(m[key], func(r string) bool { return r == ref })
	if len(refs) == 0 {
		delete(m, key)
	} else {
		m[key] = refs
	}
}

// eachUnfinished calls fn with the unfinished entries, oldest first, until
// it returns false; the stale keys it passes at the front of byAge go. fn
// must not write to the index, which it walks as it trims it.
func (x *dirIndex) eachUnfinished(entries map[string]visengine.JournalEntry, fn func(visengine.JournalEntry) bool) {
	front := true
	for i, k := range x.byAge {
		if !x.live(k) {
			if front {
				x.byAge[i] = ageKey{}
			}
			continue
		}
		if front {
			x.byAge, front = x.byAge[i:], false
		}
		if !fn(entries[k.ref]) {
			return
		}
	}
	if front {
		x.byAge = x.byAge[:0]
	}
}

// each calls fn with every entry f may select, from the narrowest index
// that applies (f.Matches still decides).
func (x *dirIndex) each(f visengine.JournalFilter, entries map[string]visengine.JournalEntry, fn func(visengine.JournalEntry)) {
	switch {
	case f.DraftID != "":
		for _, ref := range x.drafts[f.DraftID] {
			fn(entries[ref])
		}
	case f.Digest != "":
		for _, ref := range x.digests[f.Digest] {
			fn(entries[ref])
		}
	case f.Unfinished:
		for ref := range x.unfinished {
			fn(entries[ref])
		}
	default:
		for _, e := range entries {
			fn(e)
		}
	}
}
