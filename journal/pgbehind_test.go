package journal_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/pgtest"
	"github.com/visengine-go/visengine/journal"
)

// behindReplicas returns a Postgres whose completed outcomes wait after
// for the statement that carries them, and another replica on the same
// database.
func behindReplicas(t *testing.T, after time.Duration, opts ...journal.PostgresOption) (p, other *journal.Postgres) {
	t.Helper()
	url := pgtest.Start(t)
	p = openPostgres(t, url, opts...)
	journal.WriteBehindAfter(p, after)
	return p, openPostgres(t, url)
}

// completed returns e with a completed outcome that ends its lease: the
// entry's last write, the one a Postgres writes behind.
func completed(e visengine.JournalEntry) visengine.JournalEntry {
	e.Outcome, e.Note, e.LeaseUntil = visengine.JournalCompleted, "closed", time.Now()
	return e
}

// A completed outcome is written behind: Update returns before any
// statement carries it, and until one does the entry stays leased, so
// that another replica sees it unfinished but cannot take it. The
// journal's own reads write it first.
func TestPostgresWritesCompletedOutcomesBehind(t *testing.T) {
	p, other := behindReplicas(t, time.Hour, journal.WithMaxConns(1))
	e := create(t, p, 1, "o", time.Hour)

	release := journal.HoldSlots(p)
	require.NoError(t, p.Update(ctx, completed(e)), "returns with every slot held: no statement needed")
	release()
	got, err := other.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Empty(t, got.Outcome, "not written yet")
	assert.Equal(t, "o", got.LeaseOwner, "still leased")
	taken, err := other.Claim(ctx, "thief", time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, taken, "no replica takes it meanwhile")
	_, err = other.ClaimRef(ctx, e.Ref, "thief", time.Now().Add(time.Hour))
	require.ErrorIs(t, err, visengine.ErrLeaseHeld)

	got, err = p.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Equal(t, visengine.JournalCompleted, got.Outcome, "the journal's own read wrote it first")
	got, err = other.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Equal(t, visengine.JournalCompleted, got.Outcome)
	assert.Empty(t, got.LeaseOwner, "its lease ended with it")
}

// A statement that a caller waits for carries no completed outcome
// written behind, however many wait: the statement that Close (here) or
// the timer sends carries them all.
func TestPostgresWaitedForStatementsCarryNoOutcomeBehind(t *testing.T) {
	p, other := behindReplicas(t, time.Hour)
	var done []visengine.JournalEntry
	for i := range 3 {
		e := create(t, p, i, "o", time.Hour)
		require.NoError(t, p.Update(ctx, completed(e)))
		done = append(done, e)
	}
	e := create(t, p, 3, "o", time.Hour)
	e.DraftID, e.CloseSentAt = "draft-3", time.Now()
	s0 := journal.Statements(p)
	require.NoError(t, p.Update(ctx, e))
	assert.Equal(t, uint64(1), journal.Statements(p)-s0)
	assert.Equal(t, 3, journal.QueuedWrites(p), "the outcomes still wait")
	got, err := other.Get(ctx, done[0].Ref)
	require.NoError(t, err)
	assert.Empty(t, got.Outcome)

	s0 = journal.Statements(p)
	require.NoError(t, p.Close())
	assert.Equal(t, uint64(1), journal.Statements(p)-s0, "one statement for the three")
	for _, e := range done {
		got, err := other.Get(ctx, e.Ref)
		require.NoError(t, err)
		assert.Equal(t, visengine.JournalCompleted, got.Outcome)
	}
	got, err = other.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Equal(t, "draft-3", got.DraftID)
}

// With nothing else happening here, the timer sends the completed
// outcomes written behind soon after the first, in one statement:
// another replica sees them.
func TestPostgresWritesOutcomesBehindSoon(t *testing.T) {
	p, other := behindReplicas(t, 10*time.Millisecond)
	var done []visengine.JournalEntry
	for i := range 3 {
		done = append(done, create(t, p, i, "o", time.Hour))
	}
	s0 := journal.Statements(p)
	release := journal.HoldWriter(p) // however late a timer fires, the three wait for the same statement
	for _, e := range done {
		require.NoError(t, p.Update(ctx, completed(e)))
	}
	release()
	for _, e := range done {
		eventuallyCompleted(t, other, e.Ref)
	}
	assert.Equal(t, uint64(1), journal.Statements(p)-s0)
}

// Close writes what is written behind, and from then on each completed
// outcome is written before its Update returns.
func TestPostgresCloseWritesOutcomesBehind(t *testing.T) {
	p, other := behindReplicas(t, time.Hour, journal.WithMaxConns(1))
	first, second := create(t, p, 1, "o", time.Hour), create(t, p, 2, "o", time.Hour)
	require.NoError(t, p.Update(ctx, completed(first)))
	require.NoError(t, p.Close())
	got, err := other.Get(ctx, first.Ref)
	require.NoError(t, err)
	assert.Equal(t, visengine.JournalCompleted, got.Outcome, "Close wrote it")

	release := journal.HoldSlots(p)
	done := make(chan error, 1)
	go func() { done <- p.Update(ctx, completed(second)) }()
	require.Eventually(t, func() bool { return journal.QueuedWrites(p) == 1 }, 5*time.Second, time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Update returned (%v) before any statement could carry it", err)
	default:
	}
	release()
	require.NoError(t, <-done)
	got, err = other.Get(ctx, second.Ref)
	require.NoError(t, err)
	assert.Equal(t, visengine.JournalCompleted, got.Outcome)
	require.NoError(t, p.Close(), "Close twice is fine")
}

// lockRow holds a row lock on ref from another session until the
// returned function is called: an UPDATE of the row waits meanwhile.
func lockRow(t *testing.T, db *sql.DB, ref string) func() {
	t.Helper()
	tx, err := db.Begin()
	require.NoError(t, err)
	var got string
	require.NoError(t, tx.QueryRow(`SELECT ref FROM visengine_journal WHERE ref = $1 FOR UPDATE`, ref).Scan(&got))
	return func() { _ = tx.Rollback() }
}

// A completed outcome already in a statement that has not committed yet
// (held here by another session's row lock) is still this process's to
// see: Get and Close wait for it.
func TestPostgresReadsWaitForOutcomesInFlight(t *testing.T) {
	url := pgtest.Start(t)
	p := openPostgres(t, url, journal.WithMaxConns(2))
	other := openPool(t, url)
	journal.WriteBehindAfter(p, time.Millisecond)
	for _, read := range []string{"Get", "Close"} {
		e := create(t, p, 1, "o", time.Hour)
		unlock := lockRow(t, other, e.Ref)
		require.NoError(t, p.Update(ctx, completed(e)))
		require.Eventually(t, func() bool { return journal.QueuedWrites(p) == 0 }, 5*time.Second, time.Millisecond,
			"the timer's statement took it")
		time.AfterFunc(100*time.Millisecond, unlock)
		var outcome visengine.JournalOutcome
		if read == "Get" {
			got, err := p.Get(ctx, e.Ref)
			require.NoError(t, err)
			outcome = got.Outcome
		} else {
			require.NoError(t, p.Close())
			require.NoError(t, other.QueryRow(`SELECT outcome FROM visengine_journal WHERE ref = $1`, e.Ref).Scan(&outcome))
		}
		assert.Equal(t, visengine.JournalCompleted, outcome, "%s waited for the statement", read)
	}
}

// A read of one entry waits only for that entry's outcome written behind:
// another's, stuck behind a slow write, does not hold it up.
func TestPostgresReadOfAnotherEntryDoesNotWait(t *testing.T) {
	p := openPostgres(t, pgtest.Start(t), journal.WithMaxConns(4))
	journal.WriteBehindAfter(p, time.Hour)
	first, second := create(t, p, 1, "o", time.Hour), create(t, p, 2, "o", time.Hour)
	release := journal.HoldWriter(p) // a slow write
	defer release()
	require.NoError(t, p.Update(ctx, completed(first)))
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	got, err := p.Get(short, second.Ref)
	require.NoError(t, err)
	assert.Equal(t, second.Ref, got.Ref)
	_, err = p.Get(short, first.Ref)
	require.ErrorIs(t, err, context.DeadlineExceeded, "its own entry's read waits")
	assert.Contains(t, err.Error(), "waiting for this process's completed outcomes to be written")
}

// An Update after the entry's completed outcome, written behind, comes
// after it, as if that had been written at once: the lease ended with
// the outcome, so the Update fails with ErrLeaseLost and the outcome
// stays.
func TestPostgresUpdateAfterAnOutcomeBehindComesAfterIt(t *testing.T) {
	p, other := behindReplicas(t, time.Hour)
	e := create(t, p, 1, "o", time.Hour)
	require.NoError(t, p.Update(ctx, completed(e)))
	again := e
	again.Note, again.LeaseUntil = "again", time.Now().Add(time.Hour)
	require.ErrorIs(t, p.Update(ctx, again), visengine.ErrLeaseLost)
	got, err := other.Get(ctx, e.Ref)
	require.NoError(t, err)
	assert.Equal(t, visengine.JournalCompleted, got.Outcome)
	assert.Equal(t, "closed", got.Note)
}

// When the timer cannot get a statement before its timeout (the writer
// held meanwhile), it tries again later: the outcome is not left waiting
// for a read or Close.
func TestPostgresTimerTriesAgain(t *testing.T) {
	p, other := behindReplicas(t, 10*time.Millisecond)
	journal.WriteBehindTimeout(p, 50*time.Millisecond)
	e := create(t, p, 1, "o", time.Hour)
	release := journal.HoldWriter(p)
	require.NoError(t, p.Update(ctx, completed(e)))
	time.Sleep(300 * time.Millisecond) // the timer's first try times out meanwhile
	release()
	eventuallyCompleted(t, other, e.Ref)
}

// eventuallyCompleted waits until j reads ref completed.
func eventuallyCompleted(t *testing.T, j visengine.Journal, ref string) {
	t.Helper()
	require.Eventually(t, func() bool {
		got, err := j.Get(ctx, ref)
		return err == nil && got.Outcome == visengine.JournalCompleted
	}, 5*time.Second, 5*time.Millisecond, "entry %s completed", ref)
}
