package journal_test

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/pgtest"
	"github.com/visengine-go/visengine/journal"
)

// lazyEnv makes the test binary, run again as a child process, write the
// records of lazyChild to the Dir it names and wait to be killed (see
// TestMain).
const lazyEnv = "JOURNAL_TEST_LAZY_DIR"

// lazyRefs are the entries lazyChild writes: an intent, then an entry
// whose draft is recorded (synced) and whose completed outcome is not,
// then another intent, after the last sync.
var lazyRefs = [3]string{
	"1a2a3a4a5a6a7a8a9a0a1a2a3a4a5a6a",
	"2b2b3b4b5b6b7b8b9b0b1b2b3b4b5b6b",
	"3c2c3c4c5c6c7c8c9c0c1c2c3c4c5c6c",
}

// lazyChild writes lazyRefs, prints the Dir's syncs and "DONE", and waits
// to be killed.
func lazyChild(path string) {
	d, err := journal.OpenDir(path)
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	entry := func(ref string) visengine.JournalEntry {
		return visengine.JournalEntry{Ref: ref, HashVisura: hashA2, Digest: strings.Repeat("ab", 32),
			CreatedAt: time.Now(), LeaseOwner: "c", LeaseUntil: time.Now().Add(time.Hour)}
	}
	check := func(err error) {
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
	}
	check(d.Create(ctx, entry(lazyRefs[0])))
	e := entry(lazyRefs[1])
	e.DraftID, e.CloseSentAt = "draft1", time.Now()
	check(d.Create(ctx, e))
	e.Outcome, e.LeaseUntil = visengine.JournalCompleted, time.Now().Add(-time.Second)
	check(d.Update(ctx, e))
	check(d.Create(ctx, entry(lazyRefs[2])))
	fmt.Println("SYNCS", journal.Flushes(d))
	fmt.Println("DONE")
	time.Sleep(time.Minute) // the parent kills it long before
}

// The records that need no sync of their own (intents, a completed
// outcome) are in the log as soon as their call returns: a process
// SIGKILLed right after leaves them for the next OpenDir, though only the
// draft's record was synced.
func TestDirLazyRecordsSurviveKill(t *testing.T) {
	path := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lazyEnv+"="+path, "GORACE=atexit_sleep_ms=0")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var lines []string
	for sc := bufio.NewScanner(out); sc.Scan(); {
		lines = append(lines, sc.Text())
		if sc.Text() == "DONE" {
			require.NoError(t, cmd.Process.Kill())
		}
	}
	_ = cmd.Wait()
	require.Equal(t, []string{"SYNCS 1", "DONE"}, lines, "one sync: the draft's record only")

	d := openDir(t, path)
	got, err := d.Get(ctx, lazyRefs[0])
	require.NoError(t, err, "the intent was written before Create returned")
	assert.Equal(t, visengine.JournalUnfinished, got.Outcome)
	got, err = d.Get(ctx, lazyRefs[1])
	require.NoError(t, err)
	assert.Equal(t, visengine.JournalCompleted, got.Outcome, "the outcome was written before Update returned")
	_, err = d.Get(ctx, lazyRefs[2])
	require.NoError(t, err, "the intent after the last sync was written too")
}

// The durability classes of a Dir: each Create or Update syncs the log
// before it returns, unless its record is an intent or a completed
// outcome; a refusal (failed) and an abandoned outcome are synced.
func TestDirSyncsAllButIntentsAndCompletions(t *testing.T) {
	d := openDir(t, t.TempDir())
	syncs := func(f func() error) uint64 {
		t.Helper()
		before := journal.Flushes(d)
		require.NoError(t, f())
		return journal.Flushes(d) - before
	}
	for i, out := range []visengine.JournalOutcome{visengine.JournalCompleted, visengine.JournalFailed, visengine.JournalAbandoned} {
		e := newEntry(t, i, "owner", time.Hour)
		assert.Zero(t, syncs(func() error { return d.Create(ctx, e) }), "an intent")
		e.Note = "renewed"
		assert.Zero(t, syncs(func() error { return d.Update(ctx, e) }), "still an intent")
		e.DraftID = fmt.Sprint("draft", i)
		assert.EqualValues(t, 1, syncs(func() error { return d.Update(ctx, e) }), "the draft's id")
		e.CloseSentAt = time.Now()
		assert.EqualValues(t, 1, syncs(func() error { return d.Update(ctx, e) }), "the close's time")
		e.Outcome, e.LeaseUntil = out, time.Now().Add(-time.Second)
		want := uint64(1)
		if out == visengine.JournalCompleted {
			want = 0
		}
		assert.Equal(t, want, syncs(func() error { return d.Update(ctx, e) }), "the outcome %s", out)
	}
	e := newEntry(t, 9, "owner", time.Hour)
	e.Outcome = visengine.JournalFailed
	assert.EqualValues(t, 1, syncs(func() error { return d.Create(ctx, e) }), "a failed outcome created at once")
}

// A Postgres commits the statements that carry only intents or completed
// outcomes with synchronous_commit off: PostgreSQL writes their WAL in
// the background instead of once per commit. Counted with pg_stat_wal on
// a database whose synchronous_commit is on (the test cluster's default
// is off).
func TestPostgresCommitsLazyRecordsAsynchronously(t *testing.T) {
	url := pgtest.Start(t)
	db0 := openPool(t, url)
	_, err := db0.Exec(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = on', current_database()); END $$`)
	require.NoError(t, err)
	require.NoError(t, db0.Close())
	db, err := sql.Open("pgx", url) // one connection: its statistics are flushed below
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	p, err := journal.OpenPostgres(ctx, db, journal.WithMaxConns(1))
	require.NoError(t, err)
	var setting string
	require.NoError(t, db.QueryRow(`SHOW synchronous_commit`).Scan(&setting))
	require.Equal(t, "on", setting)
	walWrites := func() int64 {
		var n int64
		_, err := db.Exec(`SELECT pg_stat_force_next_flush()`)
		require.NoError(t, err)
		_, err = db.Exec(`SELECT 1`) // flushes this backend's statistics
		require.NoError(t, err)
		require.NoError(t, db.QueryRow(`SELECT wal_write FROM pg_stat_wal`).Scan(&n))
		return n
	}
	const n = 100
	w0 := walWrites()
	for i := range n {
		e := newEntry(t, i, "o", time.Hour)
		require.NoError(t, p.Create(ctx, e))
		e.Outcome = visengine.JournalCompleted
		require.NoError(t, p.Update(ctx, e))
	}
	w1 := walWrites()
	for i := range n {
		e := newEntry(t, n+i, "o", time.Hour)
		e.DraftID = fmt.Sprint("draft", i)
		require.NoError(t, p.Create(ctx, e))
		e.Outcome = visengine.JournalFailed
		require.NoError(t, p.Update(ctx, e))
	}
	w2 := walWrites()
	const rounds, group = 50, 4
	for r := range rounds { // intents created together: one statement each round
		var calls []func() error
		for i := range group {
			e := newEntry(t, 2*n+group*r+i, "o", time.Hour)
			calls = append(calls, func() error { return p.Create(ctx, e) })
		}
		for _, err := range queuedTogether(t, p, journal.HoldWriter, calls) {
			require.NoError(t, err)
		}
	}
	w3 := walWrites()
	t.Logf("WAL writes: %d for %d lazy commits, %d for %d synced ones, %d for %d grouped lazy ones",
		w1-w0, 2*n, w2-w1, 2*n, w3-w2, rounds)
	assert.GreaterOrEqual(t, w2-w1, int64(2*n), "a synced commit writes its WAL")
	assert.Less(t, w1-w0, int64(n), "lazy commits leave their WAL to the background writer")
	assert.Less(t, w3-w2, int64(rounds), "so do grouped ones (synced, each would write)")
}
