package journal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// A store is one Journal implementation under test. open returns a
// handle on a fresh, empty journal, and a function that returns more
// handles on the same journal, as other replicas would have (for
// PostgreSQL, each on its own *sql.DB pool; for a Dir, the same Dir: only
// one can be open on a directory).
type store func(t *testing.T) (j visengine.Journal, another func(t *testing.T) visengine.Journal)

// conformance is the behaviour every Journal must have, run against each
// implementation by runConformance.
var conformance = []struct {
	name string
	run  func(t *testing.T, j visengine.Journal, another func(t *testing.T) visengine.Journal)
}{
	{"CreateThenGet", testCreateThenGet},
	{"CreateRefusesDuplicateRef", testCreateRefusesDuplicate},
	{"CreateRefusesInvalidEntries", testCreateRefusesInvalid},
	{"GetMissing", testGetMissing},
	{"UpdateByHolderReplacesAndRenews", testUpdateByHolder},
	{"UpdateByAnotherOwnerIsLeaseLost", testUpdateByAnother},
	{"UpdateAfterExpiryIsLeaseLost", testUpdateAfterExpiry},
	{"UpdateMissing", testUpdateMissing},
	{"ClaimTakesFreeUnfinishedOldestFirst", testClaimOrder},
	{"ReleaseFreesForOthers", testRelease},
	{"ExpiredLeaseIsClaimedAndHolderLosesIt", testLeaseExpiry},
	{"ClaimRef", testClaimRef},
	{"ListFilters", testList},
	{"ArgumentsAreChecked", testArguments},
	{"CancelledContext", testCancelled},
	{"ConcurrentClaimersNeverShare", testConcurrentClaims},
	{"ListDrafts", testListDrafts},
	{"UpdateNotAfterNowEndsTheLease", testUpdateEndsLease},
}

func runConformance(t *testing.T, s store) {
	for _, tc := range conformance {
		t.Run(tc.name, func(t *testing.T) {
			j, another := s(t)
			tc.run(t, j, another)
		})
	}
}

const hashA2 = "2631ec9b62135de4186f509fea7d954b"

var ctx = context.Background()

// base is when the test entries were intended; each entry's n adds
// seconds, so that the order of CreatedAt is known.
var base = time.Date(2025, 3, 1, 9, 0, 0, 123456000, time.UTC)

func newEntry(t *testing.T, n int, owner string, lease time.Duration) visengine.JournalEntry {
	t.Helper()
	ref, err := visengine.NewJournalRef()
	require.NoError(t, err)
	return visengine.JournalEntry{
		Ref:        ref,
		HashVisura: hashA2,
		Digest:     visengine.JournalDigest(hashA2, visengine.Values{"$0": fmt.Sprint("applicant ", n)}, nil),
		CreatedAt:  base.Add(time.Duration(n) * time.Second),
		LeaseOwner: owner,
		LeaseUntil: time.Now().Add(lease),
	}
}

func create(t *testing.T, j visengine.Journal, n int, owner string, lease time.Duration) visengine.JournalEntry {
	t.Helper()
	e := newEntry(t, n, owner, lease)
	require.NoError(t, j.Create(ctx, e))
	return e
}

// leaseSlack is how far a stored lease end may be from the asked one: the
// PostgreSQL journal re-bases it on the database's clock, which takes the
// time of a round trip.
const leaseSlack = 2 * time.Second

// requireSame checks that got is want as stored: the same fields, times
// to the microsecond, the lease end within leaseSlack, UpdatedAt set.
func requireSame(t *testing.T, want, got visengine.JournalEntry) {
	t.Helper()
	assert.WithinDuration(t, want.LeaseUntil, got.LeaseUntil, leaseSlack, "LeaseUntil")
	assert.False(t, got.UpdatedAt.IsZero(), "UpdatedAt not set")
	want.CreatedAt = want.CreatedAt.Truncate(time.Microsecond).UTC()
	if !want.CloseSentAt.IsZero() {
		want.CloseSentAt = want.CloseSentAt.Truncate(time.Microsecond).UTC()
	}
	want.LeaseUntil, got.LeaseUntil = time.Time{}, time.Time{}
	want.UpdatedAt, got.UpdatedAt = time.Time{}, time.Time{}
	require.Equal(t, want, got)
}

func testCreateThenGet(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	before := time.Now().Add(-leaseSlack)
	e := newEntry(t, 1, "owner-a", time.Hour)
	e.CreatedAt = time.Now() // with nanoseconds and a monotonic reading
	e.UpdatedAt = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, j.Create(ctx, e))
	got, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	requireSame(t, e, got)
	assert.True(t, got.UpdatedAt.After(before), "UpdatedAt %v is the journal's time, not the caller's", got.UpdatedAt)
	assert.Equal(t, time.UTC, got.CreatedAt.Location())
	assert.Zero(t, got.CreatedAt.Nanosecond()%1000, "times are kept to the microsecond")
}

func testCreateRefusesDuplicate(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	e := create(t, j, 1, "owner-a", time.Hour)
	dup := newEntry(t, 2, "owner-b", time.Hour)
	dup.Ref = e.Ref
	require.ErrorIs(t, j.Create(ctx, dup), visengine.ErrJournalConflict)
	got, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	requireSame(t, e, got)
}

func testCreateRefusesInvalid(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	for name, edit := range map[string]func(*visengine.JournalEntry){
		"no lease owner":   func(e *visengine.JournalEntry) { e.LeaseOwner = "" },
		"no lease end":     func(e *visengine.JournalEntry) { e.LeaseUntil = time.Time{} },
		"a path as ref":    func(e *visengine.JournalEntry) { e.Ref = "../../../../tmp/x" },
		"values as digest": func(e *visengine.JournalEntry) { e.Digest = "RSSMRA85M01H501Q" },
		"unknown outcome":  func(e *visengine.JournalEntry) { e.Outcome = "paid" },
	} {
		e := newEntry(t, 1, "owner-a", time.Hour)
		edit(&e)
		require.ErrorIs(t, j.Create(ctx, e), visengine.ErrInvalidArgument, name)
	}
	all, err := j.List(ctx, visengine.JournalFilter{})
	require.NoError(t, err)
	require.Empty(t, all)
}

func testGetMissing(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	_, err := j.Get(ctx, "0123456789abcdef0123456789abcdef")
	require.ErrorIs(t, err, visengine.ErrNotFound)
	_, err = j.Get(ctx, "../LOCK")
	require.ErrorIs(t, err, visengine.ErrInvalidArgument)
}

func testUpdateByHolder(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	e := create(t, j, 1, "owner-a", time.Minute)
	first, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)

	e.DraftID, e.CloseSentAt, e.Note = "65f1c0ffee0123456789abcd", time.Now(), "close answered 504"
	e.LeaseUntil = time.Now().Add(time.Hour)
	require.NoError(t, j.Update(ctx, e))
	got, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	requireSame(t, e, got)
	assert.False(t, got.UpdatedAt.Before(first.UpdatedAt), "UpdatedAt went back")

	e.Outcome, e.Note = visengine.JournalCompleted, "closed"
	require.NoError(t, j.Update(ctx, e))
	got, err = j.Get(ctx, e.Ref)
	require.NoError(t, err)
	requireSame(t, e, got)
	assert.True(t, got.Finished())
}

func testUpdateByAnother(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	e := create(t, j, 1, "owner-a", time.Hour)
	other := e
	other.LeaseOwner, other.Outcome = "owner-b", visengine.JournalAbandoned
	require.ErrorIs(t, j.Update(ctx, other), visengine.ErrLeaseLost)
	got, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	requireSame(t, e, got)
}

func testUpdateAfterExpiry(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	e := create(t, j, 1, "owner-a", 50*time.Millisecond)
	time.Sleep(time.Until(e.LeaseUntil) + 100*time.Millisecond)
	e.Outcome = visengine.JournalCompleted
	e.LeaseUntil = time.Now().Add(time.Hour)
	require.ErrorIs(t, j.Update(ctx, e), visengine.ErrLeaseLost, "an expired lease may have been taken over")
	got, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.False(t, got.Finished())
}

func testUpdateMissing(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	e := newEntry(t, 1, "owner-a", time.Hour)
	require.ErrorIs(t, j.Update(ctx, e), visengine.ErrNotFound)
}

func testClaimOrder(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	// Created out of order; 3 and 5 are finished, 4 is leased to another.
	var free []visengine.JournalEntry
	for _, n := range []int{6, 2, 1, 7} {
		e := create(t, j, n, "creator", time.Hour)
		require.NoError(t, j.Release(ctx, e.Ref, "creator"))
		free = append(free, e)
	}
	for _, n := range []int{3, 5} {
		e := create(t, j, n, "creator", time.Hour)
		e.Outcome = visengine.JournalFailed
		require.NoError(t, j.Update(ctx, e))
		require.NoError(t, j.Release(ctx, e.Ref, "creator"))
	}
	create(t, j, 4, "busy", time.Hour)

	until := time.Now().Add(time.Hour)
	got, err := j.Claim(ctx, "worker", until, 3)
	require.NoError(t, err)
	require.Equal(t, []string{free[2].Ref, free[1].Ref, free[0].Ref}, refs(got), "oldest first: 1, 2, 6")
	for _, e := range got {
		assert.Equal(t, "worker", e.LeaseOwner)
		assert.WithinDuration(t, until, e.LeaseUntil, leaseSlack)
		assert.False(t, e.Finished())
	}
	stored, err := j.Get(ctx, free[2].Ref)
	require.NoError(t, err)
	assert.Equal(t, "worker", stored.LeaseOwner, "the lease is stored, not only returned")

	got, err = j.Claim(ctx, "worker2", until, 10)
	require.NoError(t, err)
	require.Equal(t, []string{free[3].Ref}, refs(got), "only 7 is left")
	got, err = j.Claim(ctx, "worker3", until, 10)
	require.NoError(t, err)
	require.Empty(t, got)
}

func refs(es []visengine.JournalEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Ref
	}
	return out
}

func testRelease(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	e := create(t, j, 1, "owner-a", time.Hour)
	require.NoError(t, j.Release(ctx, e.Ref, "owner-b"), "not held: nothing to do")
	got, err := j.Claim(ctx, "owner-b", time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, got, "still leased to owner-a")

	require.NoError(t, j.Release(ctx, e.Ref, "owner-a"))
	stored, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Empty(t, stored.LeaseOwner)
	assert.True(t, stored.LeaseUntil.IsZero())

	got, err = j.Claim(ctx, "owner-b", time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{e.Ref}, refs(got))
	require.ErrorIs(t, j.Release(ctx, "0123456789abcdef0123456789abcdef", "owner-b"), visengine.ErrNotFound)
}

func testLeaseExpiry(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	e := create(t, j, 1, "owner-a", time.Hour)
	require.NoError(t, j.Release(ctx, e.Ref, "owner-a"))
	got, err := j.Claim(ctx, "owner-a", time.Now().Add(100*time.Millisecond), 1)
	require.NoError(t, err)
	require.Len(t, got, 1)

	// owner-a's process "dies"; owner-b gets the entry once the lease ends.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err = j.Claim(ctx, "owner-b", time.Now().Add(time.Hour), 1)
		require.NoError(t, err)
		if len(got) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, []string{e.Ref}, refs(got), "the expired lease was not claimable")

	// owner-a wakes up and writes: it must learn it lost the entry.
	late := got[0]
	late.LeaseOwner, late.LeaseUntil, late.Outcome = "owner-a", time.Now().Add(time.Hour), visengine.JournalCompleted
	require.ErrorIs(t, j.Update(ctx, late), visengine.ErrLeaseLost)
	require.NoError(t, j.Release(ctx, e.Ref, "owner-a"), "releasing a lost lease does nothing")
	stored, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Equal(t, "owner-b", stored.LeaseOwner)
	assert.False(t, stored.Finished())

	e.LeaseOwner, e.LeaseUntil, e.DraftID = "owner-b", time.Now().Add(time.Hour), "65f1c0ffee0123456789abcd"
	require.NoError(t, j.Update(ctx, e), "the new holder can write")
}

func testClaimRef(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	until := time.Now().Add(time.Hour)
	e := create(t, j, 1, "owner-a", time.Hour)
	_, err := j.ClaimRef(ctx, e.Ref, "owner-b", until)
	require.ErrorIs(t, err, visengine.ErrLeaseHeld)

	renewed, err := j.ClaimRef(ctx, e.Ref, "owner-a", until.Add(time.Hour))
	require.NoError(t, err, "the holder may renew")
	assert.WithinDuration(t, until.Add(time.Hour), renewed.LeaseUntil, leaseSlack)

	e.Outcome, e.LeaseUntil = visengine.JournalCompleted, until
	require.NoError(t, j.Update(ctx, e))
	require.NoError(t, j.Release(ctx, e.Ref, "owner-a"))
	got, err := j.ClaimRef(ctx, e.Ref, "owner-b", until)
	require.NoError(t, err, "a finished entry can be claimed by ref")
	assert.Equal(t, "owner-b", got.LeaseOwner)
	assert.Equal(t, visengine.JournalCompleted, got.Outcome)
	stored, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Equal(t, "owner-b", stored.LeaseOwner)

	_, err = j.ClaimRef(ctx, "0123456789abcdef0123456789abcdef", "owner-b", until)
	require.ErrorIs(t, err, visengine.ErrNotFound)
}

func testList(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	a := create(t, j, 3, "o", time.Hour)
	b := create(t, j, 1, "o", time.Hour)
	c := create(t, j, 2, "o", time.Hour)
	b.DraftID = "draft-b"
	require.NoError(t, j.Update(ctx, b))
	c.DraftID, c.Outcome = "draft-c", visengine.JournalCompleted
	require.NoError(t, j.Update(ctx, c))
	dupOfA := newEntry(t, 4, "o", time.Hour) // the same applicant, submitted again
	dupOfA.Digest, dupOfA.Outcome = a.Digest, visengine.JournalAbandoned
	require.NoError(t, j.Create(ctx, dupOfA))

	cases := []struct {
		f    visengine.JournalFilter
		want []string
	}{
		{visengine.JournalFilter{}, []string{b.Ref, c.Ref, a.Ref, dupOfA.Ref}},
		{visengine.JournalFilter{Limit: 2}, []string{b.Ref, c.Ref}},
		{visengine.JournalFilter{DraftID: "draft-c"}, []string{c.Ref}},
		{visengine.JournalFilter{DraftID: "draft-x"}, nil},
		{visengine.JournalFilter{HashVisura: hashA2, Digest: a.Digest}, []string{a.Ref, dupOfA.Ref}},
		{visengine.JournalFilter{Digest: a.Digest, Unfinished: true}, []string{a.Ref}},
		{visengine.JournalFilter{Unfinished: true}, []string{b.Ref, a.Ref}},
		{visengine.JournalFilter{HashVisura: "ffffec9b62135de4186f509fea7d954b"}, nil},
	}
	for i, tc := range cases {
		got, err := j.List(ctx, tc.f)
		require.NoError(t, err)
		assert.Equal(t, tc.want, nilIfEmpty(refs(got)), "case %d", i)
	}
	got, err := j.List(ctx, visengine.JournalFilter{DraftID: "draft-b"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	requireSame(t, b, got[0])
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func testArguments(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	until := time.Now().Add(time.Hour)
	e := create(t, j, 1, "o", time.Hour)
	for name, err := range map[string]error{
		"claim of 0":          second(j.Claim(ctx, "w", until, 0)),
		"claim without owner": second(j.Claim(ctx, "", until, 1)),
		"claim without end":   second(j.Claim(ctx, "w", time.Time{}, 1)),
		"owner with a blank":  second(j.Claim(ctx, "w 1", until, 1)),
		"claimref bad ref":    second(j.ClaimRef(ctx, "x", "w", until)),
		"claimref no owner":   second(j.ClaimRef(ctx, e.Ref, "", until)),
		"release bad ref":     j.Release(ctx, "x/../y", "w"),
		"negative limit":      second(j.List(ctx, visengine.JournalFilter{Limit: -1})),
	} {
		assert.ErrorIs(t, err, visengine.ErrInvalidArgument, name)
	}
	stored, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Equal(t, "o", stored.LeaseOwner, "refused calls change nothing")
}

func second[T any](_ T, err error) error { return err }

func testCancelled(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	e := create(t, j, 1, "o", time.Hour)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	next := newEntry(t, 2, "o", time.Hour)
	assert.ErrorIs(t, j.Create(cctx, next), context.Canceled)
	assert.ErrorIs(t, j.Update(cctx, e), context.Canceled)
	assert.ErrorIs(t, second(j.Claim(cctx, "w", time.Now().Add(time.Hour), 1)), context.Canceled)
	assert.ErrorIs(t, second(j.Get(cctx, e.Ref)), context.Canceled)
	assert.ErrorIs(t, second(j.List(cctx, visengine.JournalFilter{})), context.Canceled)
	_, err := j.Get(ctx, next.Ref)
	assert.ErrorIs(t, err, visengine.ErrNotFound, "a cancelled Create stored nothing")
}

// Three handles (replicas) with several workers each claim from 100
// entries at once: every entry goes to exactly one worker, and after the
// workers release, no entry is left leased.
func testConcurrentClaims(t *testing.T, j visengine.Journal, another func(*testing.T) visengine.Journal) {
	const entries, replicas, workers = 100, 3, 8
	for n := range entries {
		e := create(t, j, n, "creator", time.Hour)
		require.NoError(t, j.Release(ctx, e.Ref, "creator"))
	}
	handles := make([]visengine.Journal, replicas)
	var wg sync.WaitGroup
	for i := range handles {
		wg.Add(1)
		go func() { defer wg.Done(); handles[i] = another(t) }() // replicas start together
	}
	wg.Wait()

	var mu sync.Mutex
	claimedBy := map[string][]string{}
	type worker struct {
		j     visengine.Journal
		owner string
		mine  []string
		err   error
	}
	var ws []*worker
	for r, h := range handles {
		for w := range workers {
			ws = append(ws, &worker{j: h, owner: fmt.Sprintf("replica%d-worker%d", r, w)})
		}
	}
	for _, w := range ws {
		wg.Add(1)
		go func() { defer wg.Done(); w.mine, w.err = claimAll(w.j, w.owner, &mu, claimedBy) }()
	}
	wg.Wait() // nobody releases before everybody is done claiming
	for _, w := range ws {
		require.NoError(t, w.err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ref := range w.mine {
				w.err = errors.Join(w.err, w.j.Release(ctx, ref, w.owner))
			}
		}()
	}
	wg.Wait()
	for _, w := range ws {
		require.NoError(t, w.err)
	}
	require.Len(t, claimedBy, entries, "every entry was claimed")
	for ref, owners := range claimedBy {
		require.Len(t, owners, 1, "entry %s claimed by %v", ref, owners)
	}
	all, err := j.List(ctx, visengine.JournalFilter{})
	require.NoError(t, err)
	require.Len(t, all, entries)
	for _, e := range all {
		require.Empty(t, e.LeaseOwner, "entry %s left leased", e.Ref)
	}
}

// claimAll claims a few entries at a time, holding them all, until none
// is left, and returns those it got.
func claimAll(j visengine.Journal, owner string, mu *sync.Mutex, claimedBy map[string][]string) ([]string, error) {
	var mine []string
	for {
		got, err := j.Claim(ctx, owner, time.Now().Add(time.Hour), 3)
		if err != nil {
			return mine, err
		}
		if len(got) == 0 {
			return mine, nil
		}
		mu.Lock()
		for _, e := range got {
			claimedBy[e.Ref] = append(claimedBy[e.Ref], owner)
			mine = append(mine, e.Ref)
		}
		mu.Unlock()
		for _, e := range got {
			if e.LeaseOwner != owner {
				return mine, fmt.Errorf("claimed %s shows owner %q", e.Ref, e.LeaseOwner)
			}
		}
	}
}

func testListDrafts(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	a := create(t, j, 1, "o", time.Hour)
	b := create(t, j, 2, "o", time.Hour)
	create(t, j, 3, "o", time.Hour) // no draft yet
	a.DraftID = "65f1c0ffee0123456789abc1"
	require.NoError(t, j.Update(ctx, a))
	b.DraftID, b.Outcome = "65f1c0ffee0123456789abc2", visengine.JournalCompleted
	require.NoError(t, j.Update(ctx, b))

	got, err := j.ListDrafts(ctx, []string{b.DraftID, "65f1c0ffee0123456789abcf", a.DraftID, a.DraftID, "a b", ""})
	require.NoError(t, err)
	gotRefs := refs(got)
	slices.Sort(gotRefs)
	wantRefs := []string{a.Ref, b.Ref}
	slices.Sort(wantRefs)
	assert.Equal(t, wantRefs, gotRefs, "finished or not, each once, unknown ids left out")
	for _, e := range got {
		if e.Ref == a.Ref {
			requireSame(t, a, e)
		}
	}
	got, err = j.ListDrafts(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, got)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, second(j.ListDrafts(cctx, []string{a.DraftID})), context.Canceled)
}

func testUpdateEndsLease(t *testing.T, j visengine.Journal, _ func(*testing.T) visengine.Journal) {
	e := create(t, j, 1, "owner-a", time.Hour)
	e.Outcome, e.LeaseUntil = visengine.JournalCompleted, time.Now()
	require.NoError(t, j.Update(ctx, e))
	stored, err := j.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Equal(t, visengine.JournalCompleted, stored.Outcome)
	assert.Empty(t, stored.LeaseOwner, "the last write released the lease")
	assert.True(t, stored.LeaseUntil.IsZero())
	e.Note, e.LeaseUntil = "again", time.Now().Add(time.Hour)
	require.ErrorIs(t, j.Update(ctx, e), visengine.ErrLeaseLost, "owner-a holds it no more")
	_, err = j.ClaimRef(ctx, e.Ref, "owner-b", time.Now().Add(time.Hour))
	require.NoError(t, err)
}
