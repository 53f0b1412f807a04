package journal_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/pgtest"
	"github.com/visengine-go/visengine/journal"
)

// openPool opens a *sql.DB on url, closed when the test ends.
func openPool(t testing.TB, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	db.SetMaxOpenConns(10)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func openPostgres(t *testing.T, url string, opts ...journal.PostgresOption) *journal.Postgres {
	t.Helper()
	p, err := journal.OpenPostgres(ctx, openPool(t, url), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() }) // before the pool's: cleanups run last first
	return p
}

func TestPostgresConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) (visengine.Journal, func(*testing.T) visengine.Journal) {
		url := pgtest.Start(t)
		return openPostgres(t, url), func(t *testing.T) visengine.Journal { return openPostgres(t, url) }
	})
}

// The table is the documented one, and opening it again (another replica,
// a new SDK start) keeps what is in it.
func TestPostgresSchemaAndReopen(t *testing.T) {
	url := pgtest.Start(t)
	p := openPostgres(t, url, journal.WithTable("intake_journal"))
	e := create(t, p, 1, "owner-a", time.Hour)

	db := openPool(t, url)
	rows, err := db.QueryContext(ctx, `SELECT column_name, data_type, is_nullable FROM information_schema.columns
		WHERE table_name = 'intake_journal' ORDER BY ordinal_position`)
	require.NoError(t, err)
	var cols []string
	for rows.Next() {
		var name, typ, nullable string
		require.NoError(t, rows.Scan(&name, &typ, &nullable))
		cols = append(cols, name+" "+typ+" "+nullable)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{
		"ref text NO", "hash_visura text NO", "digest text NO", "created_at timestamp with time zone NO",
		"draft_id text NO", "close_sent_at timestamp with time zone YES", "outcome text NO", "note text NO",
		"updated_at timestamp with time zone NO", "lease_owner text NO", "lease_until timestamp with time zone YES",
	}, cols)
	var indexes int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'intake_journal'`).Scan(&indexes))
	assert.Equal(t, 4, indexes, "primary key, unfinished, draft_id, digest")

	again := openPostgres(t, url, journal.WithTable("intake_journal"))
	got, err := again.Get(ctx, e.Ref)
	require.NoError(t, err)
	requireSame(t, e, got)
	_, err = openPostgres(t, url).Get(ctx, e.Ref)
	require.ErrorIs(t, err, visengine.ErrNotFound, "the default table is another journal")
}

func TestPostgresTableNames(t *testing.T) {
	url := pgtest.Start(t)
	db := openPool(t, url)
	for _, bad := range []string{"", "Journal", `j"; DROP TABLE x; --`, "a.b.c", "1journal", "j-1", "a234567890123456789012345678901234567890123456789"} {
		_, err := journal.OpenPostgres(ctx, db, journal.WithTable(bad))
		require.ErrorIs(t, err, visengine.ErrInvalidArgument, bad)
	}
	_, err := journal.OpenPostgres(ctx, nil)
	require.ErrorIs(t, err, visengine.ErrInvalidArgument)
	_, err = journal.OpenPostgres(ctx, db, nil)
	require.ErrorIs(t, err, visengine.ErrInvalidArgument, "a nil option is refused, not called")

	_, err = db.ExecContext(ctx, `CREATE SCHEMA intake`)
	require.NoError(t, err)
	p := openPostgres(t, url, journal.WithTable("intake.journal"))
	e := create(t, p, 1, "o", time.Hour)
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM intake.journal WHERE ref = $1`, e.Ref).Scan(&n))
	assert.Equal(t, 1, n)

	_, err = db.ExecContext(ctx, `CREATE TABLE not_a_journal (id int)`)
	require.NoError(t, err)
	_, err = journal.OpenPostgres(ctx, db, journal.WithTable("not_a_journal"))
	require.ErrorContains(t, err, "exists but is not a journal")
}

// A row edited by hand into something no journal writes is reported, by
// table and ref, without its content.
func TestPostgresReportsCorruptRows(t *testing.T) {
	url := pgtest.Start(t)
	p := openPostgres(t, url)
	e := create(t, p, 1, "o", time.Hour)
	db := openPool(t, url)
	_, err := db.ExecContext(ctx, `UPDATE visengine_journal SET digest = 'RSSMRA85M01H501Q' WHERE ref = $1`, e.Ref)
	require.NoError(t, err)
	for _, call := range []func() error{
		func() error { _, err := p.Get(ctx, e.Ref); return err },
		func() error { _, err := p.List(ctx, visengine.JournalFilter{}); return err },
	} {
		err := call()
		var ce *journal.CorruptEntryError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "visengine_journal row "+e.Ref, ce.Where)
		assert.NotContains(t, err.Error(), "RSSMRA85M01H501Q")
	}
}

// Leases are checked and granted on the database's clock: a replica whose
// clock is an hour behind still gets a lease of the length it asked for,
// and an hour-fast replica cannot make a lease outlast its length.
func TestPostgresLeasesUseTheDatabaseClock(t *testing.T) {
	url := pgtest.Start(t)
	p := openPostgres(t, url)
	e := create(t, p, 1, "creator", time.Hour)
	require.NoError(t, p.Release(ctx, e.Ref, "creator"))

	var dbNow time.Time
	require.NoError(t, openPool(t, url).QueryRowContext(ctx, `SELECT now()`).Scan(&dbNow))
	got, err := p.Claim(ctx, "slow-clock", time.Now().Add(time.Minute), 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.WithinDuration(t, dbNow.Add(time.Minute), got[0].LeaseUntil, leaseSlack)

	// What matters is the length: until − the caller's now, as the caller
	// measures it. A lease of 200 ms ends 200 ms later by the database.
	require.NoError(t, p.Release(ctx, e.Ref, "slow-clock"))
	got, err = p.Claim(ctx, "short", time.Now().Add(200*time.Millisecond), 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.WithinDuration(t, time.Now().Add(200*time.Millisecond), got[0].LeaseUntil, leaseSlack)
}

// Many replicas opening the journal at once all succeed: the table is
// created under an advisory lock.
func TestPostgresConcurrentOpen(t *testing.T) {
	url := pgtest.Start(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		db := openPool(t, url)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = journal.OpenPostgres(ctx, db, journal.WithTable("race_journal"))
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
}

// A *sql.DB opened with sql.Open's defaults (no limit on open connections,
// two idle ones), as ExampleOpenPostgres opens it: however many calls run
// at once, the journal keeps its own statements to DefaultMaxConns, so it
// neither exhausts the server nor opens a connection per statement.
func TestPostgresBoundsItsConnections(t *testing.T) {
	url := pgtest.Start(t)
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	p, err := journal.OpenPostgres(ctx, db)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for n := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newEntry(t, n, "owner", time.Hour)
			if err := p.Create(ctx, e); err != nil {
				errs <- err
				return
			}
			e.Outcome, e.LeaseUntil = visengine.JournalCompleted, time.Now()
			errs <- p.Update(ctx, e)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	st := db.Stats()
	assert.LessOrEqual(t, st.OpenConnections, journal.DefaultMaxConns)
	assert.Zero(t, st.MaxIdleClosed, "no connection was opened only to be closed")

	_, err = journal.OpenPostgres(ctx, db, journal.WithMaxConns(0))
	assert.ErrorIs(t, err, visengine.ErrInvalidArgument)
}

// queuedTogether makes calls at once while hold keeps p's statements back,
// so that their writes queue for the same statement, then lets them go
// and returns each call's error.
func queuedTogether(t *testing.T, p *journal.Postgres, hold func(*journal.Postgres) func(), calls []func() error) []error {
	t.Helper()
	release := hold(p)
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = call() }()
	}
	require.Eventually(t, func() bool { return journal.QueuedWrites(p) == len(calls) }, 5*time.Second, time.Millisecond)
	release()
	wg.Wait()
	return errs
}

// Writes that queue while every statement slot is busy go in one
// statement of their kind, each with its own answer: a Ref that exists
// already is a conflict, an Update without the lease is lease lost, a
// missing entry not found, and the others are written.
func TestPostgresGroupsWrites(t *testing.T) {
	p := openPostgres(t, pgtest.Start(t), journal.WithMaxConns(1))
	// The completed outcomes below are written behind, in a statement of
	// their own: sent here by WriteBehindNow, not by the timer, which a slow
	// machine lets fire before the statements are counted.
	journal.WriteBehindAfter(p, time.Hour)
	existing := create(t, p, 0, "o", time.Hour)
	const n = 16
	run := func(calls []func() error) []error { return queuedTogether(t, p, journal.HoldSlots, calls) }
	entries := make([]visengine.JournalEntry, n)
	var calls []func() error
	for i := range entries {
		entries[i] = newEntry(t, i+1, "o", time.Hour)
		calls = append(calls, func() error { return p.Create(ctx, entries[i]) })
	}
	dup := newEntry(t, 99, "o", time.Hour)
	dup.Ref = existing.Ref
	calls = append(calls, func() error { return p.Create(ctx, dup) })
	s0 := journal.Statements(p)
	errs := run(calls)
	assert.Equal(t, uint64(1), journal.Statements(p)-s0, "one INSERT for all")
	for _, err := range errs[:n] {
		require.NoError(t, err)
	}
	require.ErrorIs(t, errs[n], visengine.ErrJournalConflict)

	calls = nil
	for i := range entries {
		entries[i].Outcome, entries[i].LeaseUntil = visengine.JournalCompleted, time.Now()
		calls = append(calls, func() error { return p.Update(ctx, entries[i]) })
	}
	thief := existing
	thief.LeaseOwner, thief.Note = "thief", "stolen"
	missing := newEntry(t, 98, "o", time.Hour)
	calls = append(calls, func() error { return p.Update(ctx, thief) }, func() error { return p.Update(ctx, missing) })
	late := create(t, p, 97, "o", 50*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // its lease ends, by the database's clock too
	late.Note = "after the lease"
	calls = append(calls, func() error { return p.Update(ctx, late) })
	s0 = journal.Statements(p)
	errs = run(calls)
	assert.Equal(t, uint64(4), journal.Statements(p)-s0, "one UPDATE, then a look at each of the three it did not match")
	for _, err := range errs[:n] {
		require.NoError(t, err)
	}
	require.ErrorIs(t, errs[n], visengine.ErrLeaseLost)
	require.ErrorIs(t, errs[n+1], visengine.ErrNotFound)
	require.ErrorIs(t, errs[n+2], visengine.ErrLeaseLost, "a lease that ended")
	s0 = journal.Statements(p)
	require.NoError(t, journal.WriteBehindNow(p))
	assert.Equal(t, uint64(1), journal.Statements(p)-s0, "the completed outcomes written behind, in one UPDATE")
	for _, e := range entries {
		got, err := p.Get(ctx, e.Ref)
		require.NoError(t, err)
		assert.Equal(t, visengine.JournalCompleted, got.Outcome)
		assert.Empty(t, got.LeaseOwner)
	}
	got, err := p.Get(ctx, existing.Ref)
	require.NoError(t, err)
	assert.Empty(t, got.Note, "the thief wrote nothing")
}

// A grouped statement writes each entry's own fields, whatever the others
// hold: entries created together, and updated together, read back as
// written, a close time or an outcome on some and not on others.
func TestPostgresGroupedWritesKeepEachEntrysFields(t *testing.T) {
	p := openPostgres(t, pgtest.Start(t), journal.WithMaxConns(2))
	entries := make([]visengine.JournalEntry, 5)
	for i := range entries {
		entries[i] = newEntry(t, i, fmt.Sprint("owner-", i), time.Duration(i+1)*time.Hour)
		entries[i].CreatedAt = time.Now().Add(time.Duration(i) * time.Minute)
		entries[i].Note = fmt.Sprint("note ", i)
	}
	entries[1].DraftID, entries[1].CloseSentAt = "draft-1", time.Now()
	entries[2].Outcome = visengine.JournalFailed
	together := func(write func(visengine.JournalEntry) error) {
		t.Helper()
		var calls []func() error
		for _, e := range entries {
			calls = append(calls, func() error { return write(e) })
		}
		s0 := journal.Statements(p)
		for _, err := range queuedTogether(t, p, journal.HoldWriter, calls) {
			require.NoError(t, err)
		}
		require.Equal(t, uint64(1), journal.Statements(p)-s0, "one statement for all")
		for _, e := range entries {
			got, err := p.Get(ctx, e.Ref)
			require.NoError(t, err)
			requireSame(t, e, got)
		}
	}
	together(func(e visengine.JournalEntry) error { return p.Create(ctx, e) })

	entries[0].DraftID, entries[0].CloseSentAt = "draft-0", time.Now()
	entries[1].DraftID, entries[1].CloseSentAt, entries[1].Note = "", time.Time{}, ""
	entries[3].Outcome, entries[3].Note = visengine.JournalAbandoned, "abandoned"
	entries[4].HashVisura, entries[4].LeaseUntil = "anotherhash", time.Now().Add(5*time.Minute)
	together(func(e visengine.JournalEntry) error { return p.Update(ctx, e) })
}

// The grouped UPDATEs of 2 to 32 entries come in five statements, so that
// each is prepared and planned once per connection and then reused: rows
// beyond the entries match none.
func TestPostgresGroupedUpdatesComeInFewStatements(t *testing.T) {
	p := openPostgres(t, pgtest.Start(t))
	texts := map[string]bool{}
	for n := 2; n <= 32; n++ {
		texts[journal.UpdateSQL(p, n)] = true
	}
	assert.Len(t, texts, 5)
	assert.Equal(t, journal.UpdateSQL(p, 8), journal.UpdateSQL(p, 5))
	assert.NotEqual(t, journal.UpdateSQL(p, 1), journal.UpdateSQL(p, 2), "one entry has a statement of its own")
}

// A grouped UPDATE finds its rows by primary key, even in the generic plan
// PostgreSQL caches for a prepared statement and on a table of thousands
// of entries: the cost of a write must not grow with the journal.
func TestPostgresGroupedUpdatesUseThePrimaryKey(t *testing.T) {
	url := pgtest.Start(t)
	db := openPool(t, url)
	p, err := journal.OpenPostgres(ctx, db)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO visengine_journal (ref, hash_visura, digest, created_at, outcome, updated_at)
		SELECT md5(i::text), 'h', md5(i::text), now(), 'completed', now() FROM generate_series(1, 5000) i`)
	require.NoError(t, err)
	_, err = db.Exec(`ANALYZE visengine_journal`)
	require.NoError(t, err)
	conn := genericPlans(t, db)
	for _, n := range []int{1, 2, 8, 32} {
		name := fmt.Sprintf("u%d", n)
		_, err := conn.ExecContext(ctx, fmt.Sprintf("PREPARE %s AS %s", name, journal.UpdateSQL(p, n)))
		require.NoError(t, err)
		plan := explainUpdate(t, conn, name, journal.UpdateRows(n))
		assert.NotContains(t, plan, "Seq Scan on visengine_journal", "%d entries:\n%s", n, plan)
		assert.Contains(t, plan, "visengine_journal_pkey", "%d entries:\n%s", n, plan)
	}
}

// Only the entries a Create inserted count as the table's growth (the
// plan comment of rel): a Create refused as a conflict inserted nothing.
func TestPostgresRefusedCreatesDoNotCountAsGrowth(t *testing.T) {
	p := openPostgres(t, pgtest.Start(t))
	e := create(t, p, 0, "o", time.Hour)
	before := journal.UpdateSQL(p, 2)
	for range 10 {
		require.ErrorIs(t, p.Create(ctx, e), visengine.ErrJournalConflict)
	}
	assert.Equal(t, before, journal.UpdateSQL(p, 2), "the same statement, planned for the same table")
}

// A driver such as pgx prepares each statement text once per connection,
// and PostgreSQL keeps a prepared statement's generic plan until the table
// is analyzed again, which autovacuum does about once a minute at most: a
// plan made while the table held a few entries reads it whole, the
// cheapest way then, and would go on doing so as the table grows by
// thousands of entries meanwhile. The statement the journal sends once it
// has grown must be planned again, and use the primary key.
func TestPostgresPlansAgainAsTheTableGrows(t *testing.T) {
	url := pgtest.Start(t)
	db := openPool(t, url)
	p, err := journal.OpenPostgres(ctx, db)
	require.NoError(t, err)
	_, err = db.Exec(`ALTER TABLE visengine_journal SET (autovacuum_enabled = false)`) // no ANALYZE plans it again
	require.NoError(t, err)
	for i := range 20 {
		create(t, p, i, "o", time.Hour)
	}
	_, err = db.Exec(`ANALYZE visengine_journal`)
	require.NoError(t, err)
	conn := genericPlans(t, db)
	prepared := map[string]string{} // statement text → prepared name: the driver's cache
	plan := func(n int) string {
		text := journal.UpdateSQL(p, n)
		name, ok := prepared[text]
		if !ok {
			name = fmt.Sprintf("s%d", len(prepared))
			_, err := conn.ExecContext(ctx, fmt.Sprintf("PREPARE %s AS %s", name, text))
			require.NoError(t, err)
			prepared[text] = name
		}
		return explainUpdate(t, conn, name, journal.UpdateRows(n))
	}
	const n = 16
	require.Contains(t, plan(n), "Seq Scan on visengine_journal", "planned on 20 entries, the update reads the table whole")

	const grown, workers = 20000, 32
	entries := make([]visengine.JournalEntry, grown)
	for i := range entries {
		entries[i] = newEntry(t, 100+i, "o", time.Hour)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < grown; i += workers {
				if err := p.Create(ctx, entries[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(t, <-errs)
	got := plan(n)
	assert.NotContains(t, got, "Seq Scan on visengine_journal", "%d entries later:\n%s", grown, got)
	assert.Contains(t, got, "visengine_journal_pkey", "%d entries later:\n%s", grown, got)
}

// genericPlans returns a connection of db on which every prepared
// statement runs its generic plan, as PostgreSQL settles on after five
// executions.
func genericPlans(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`)
	require.NoError(t, err)
	return conn
}

// explainUpdate returns the plan of the prepared update name of n rows
// of parameters (journal.UpdateRows).
func explainUpdate(t *testing.T, conn *sql.Conn, name string, n int) string {
	t.Helper()
	args := strings.Repeat(", 'ref', 'h', 'd', now(), '', NULL, '', '', 'o', 1000000", n)[2:]
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("EXPLAIN EXECUTE %s(%s)", name, args))
	require.NoError(t, err)
	defer func() { _ = rows.Close() }()
	var plan strings.Builder
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan.WriteString(line + "\n")
	}
	require.NoError(t, rows.Err())
	return plan.String()
}

// Writes go one statement at a time, whatever the statement slots: those
// that arrive meanwhile queue for the next one, which carries them all
// (PostgreSQL spends less per entry on one grouped statement than on
// several racing for the same index pages), while reads use the other
// slots.
func TestPostgresWritesOneStatementAtATime(t *testing.T) {
	p := openPostgres(t, pgtest.Start(t), journal.WithMaxConns(8))
	existing := create(t, p, 0, "o", time.Hour)
	release := journal.HoldWriter(p)
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		e := newEntry(t, i+1, "o", time.Hour)
		go func() { errs <- p.Create(ctx, e) }()
	}
	require.Eventually(t, func() bool { return journal.QueuedWrites(p) == n }, 5*time.Second, time.Millisecond)
	got, err := p.Get(ctx, existing.Ref)
	require.NoError(t, err, "a read does not wait for the writer")
	assert.Equal(t, existing.Ref, got.Ref)
	s0 := journal.Statements(p)
	release()
	for range n {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, uint64(1), journal.Statements(p)-s0, "one INSERT for all")
}
