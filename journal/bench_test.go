package journal_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/pgtest"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/visenginetest"
)

// BenchmarkSubmitJournal compares Submit on the fake without a journal
// (the baseline), with a Dir, with a Postgres on a *sql.DB opened with
// sql.Open's defaults (as ExampleOpenPostgres opens it), with one of 32
// connections, and, at one submission in flight, with pgfloor, a
// yardstick that is no journal (see floorJournal). "conc" is the number
// of submissions in flight. The machine is shared, so each iteration runs
// a round of each contender in turn, and the metrics compare them round
// by round (a Postgres journal's round ends once the completed outcomes it
// writes behind are written):
//
//   - <name>-submits/s, and <name>/none: the throughput against the baseline's;
//
//   - dir-fsyncs/submit: the Dir's log syncs (fsyncs) per submission; a
//     successful Submit needs one, for the draft's record (the intent and
//     the completed outcome ride it or the next one);
//
//   - pg-stmts/submit: the statements the Postgres journal ran per submission;
//
//   - <name>-failed: submissions that failed (the target is 0);
//
//   - pgdefault-closed/submit: connections database/sql closed for want of an
//     idle slot, per submission (each a new PostgreSQL process next time).
//
//     go test -run '^$' -bench SubmitJournal -benchtime 30x -count 5 ./journal
//
// On a shared 2-core machine a ratio moves by ±20% between counts, and
// the medians of two such runs still differ by up to 20%: compare runs
// made one after the other, never a single figure with a target.
//
// The Dir syncs its log, but pgtest's server syncs nothing unless
// VISENGINE_PGTEST_DURABLE=1 (see pgtest.Durable), when its commits wait
// for the WAL's flush as a production server's do; pg-durable says which
// (1 or 0).
func BenchmarkSubmitJournal(b *testing.B) {
	url := pgtest.Start(b)
	srv := visenginetest.NewServer(visenginetest.WithWallet(visengine.Micros(visengine.MaxPriceMicros / 2)))
	defer srv.Close()
	dir, err := journal.OpenDir(filepath.Join(b.TempDir(), "journal"))
	if err != nil {
		b.Fatal(err)
	}
	defer dir.Close()
	defaults, err := sql.Open("pgx", url) // no pool settings at all
	if err != nil {
		b.Fatal(err)
	}
	defer defaults.Close()
	pgDefault, err := journal.OpenPostgres(context.Background(), defaults)
	if err != nil {
		b.Fatal(err)
	}
	pool32, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	defer pool32.Close()
	pool32.SetMaxOpenConns(32)
	pool32.SetMaxIdleConns(32)
	pg32, err := journal.OpenPostgres(context.Background(), pool32, journal.WithTable("journal32"))
	if err != nil {
		b.Fatal(err)
	}
	floor := openFloor(b, url)
	contenders := []submitContender{
		{name: "none", c: srv.Client()},
		{name: "dir", c: srv.Client(visengine.WithJournal(dir))},
		{name: "pgdefault", c: srv.Client(visengine.WithJournal(pgDefault)), behind: pgDefault},
		{name: "pg32", c: srv.Client(visengine.WithJournal(pg32)), behind: pg32},
		{name: "pgfloor", c: srv.Client(visengine.WithJournal(floor)), only: 1},
	}
	v, err := contenders[0].c.GetVisura(context.Background(), hashOrdinaria)
	if err != nil {
		b.Fatal(err)
	}
	var applicant atomic.Int64
	for _, conc := range []int{1, 16, 256} {
		b.Run("conc="+strconv.Itoa(conc), func(b *testing.B) {
			var running []*submitContender
			for i := range contenders {
				if c := &contenders[i]; c.only == 0 || c.only == conc {
					c.spent, c.failed = 0, 0
					running = append(running, c)
				}
			}
			round := max(2*conc, 64)
			fsyncs0, stmts0, closed0 := journal.Flushes(dir), journal.Statements(pgDefault), defaults.Stats().MaxIdleClosed
			turn := 0
			for b.Loop() {
				for i := range running {
					c := running[(i+turn)%len(running)] // each goes first in turn: the load drifts
					c.spent += runRound(conc, round, func() error {
						_, err := c.c.Submit(context.Background(), v, applicantValues(int(applicant.Add(1))))
						return err
					}, &c.failed)
					c.spent += c.writeBehind(b)
				}
				turn++
			}
			n := float64(b.N * round)
			for _, c := range running {
				b.ReportMetric(n/c.spent.Seconds(), c.name+"-submits/s")
				b.ReportMetric(float64(c.failed), c.name+"-failed")
				if c.name != "none" {
					b.ReportMetric(float64(running[0].spent)/float64(c.spent), c.name+"/none")
				}
			}
			b.ReportMetric(float64(journal.Flushes(dir)-fsyncs0)/n, "dir-fsyncs/submit")
			b.ReportMetric(float64(journal.Statements(pgDefault)-stmts0)/n, "pg-stmts/submit")
			b.ReportMetric(float64(defaults.Stats().MaxIdleClosed-closed0)/n, "pgdefault-closed/submit")
			durable := 0.0
			if pgtest.Durable() {
				durable = 1
			}
			b.ReportMetric(durable, "pg-durable")
		})
	}
}

// floorJournal is a yardstick, not a journal: it makes the two writes a
// Submit waits for (the intent before the draft's POST, the draft's id
// with the close's time before the close), one statement each, written by
// hand with nothing around them, and drops the completed outcome. Beside
// the baseline at one submission in flight, it is the least a PostgreSQL
// journal that writes each record before its step costs on this machine
// and database. It groups nothing, so it runs at one in flight only.
type floorJournal struct {
	*journal.Postgres // its table, secret and clock; Submit calls nothing else
	db                *sql.DB
}

// openFloor returns a floorJournal on a *sql.DB of its own opened with
// sql.Open's defaults, in a table like the journal's (same indexes).
func openFloor(b *testing.B, url string) floorJournal {
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	p, err := journal.OpenPostgres(context.Background(), db, journal.WithTable("journalfloor"))
	if err != nil {
		b.Fatal(err)
	}
	return floorJournal{Postgres: p, db: db}
}

// floorTimeout bounds each statement, as the journal bounds its own: a
// caller's context is cancellable in practice, and that costs database/sql
// and the driver a goroutine each per statement.
const floorTimeout = 30 * time.Second

func (f floorJournal) Create(ctx context.Context, e visengine.JournalEntry) error {
	ctx, cancel := context.WithTimeout(ctx, floorTimeout)
	defer cancel()
	// An intent needs no sync of its own: it commits as the journal's do.
	_, err := f.db.ExecContext(ctx, `INSERT INTO journalfloor (ref, hash_visura, digest, created_at, updated_at, lease_owner, lease_until)
		VALUES ($1, $2, $3, $4, now(), $5, $6) RETURNING set_config('synchronous_commit', 'off', true)`,
		e.Ref, e.HashVisura, e.Digest, e.CreatedAt, e.LeaseOwner, e.LeaseUntil)
	return err
}

func (f floorJournal) Update(ctx context.Context, e visengine.JournalEntry) error {
	if e.Outcome != "" {
		return nil // the outcome: nothing waits for it
	}
	ctx, cancel := context.WithTimeout(ctx, floorTimeout)
	defer cancel()
	_, err := f.db.ExecContext(ctx, `UPDATE journalfloor SET draft_id = $2, close_sent_at = $3, updated_at = now()
		WHERE ref = $1 AND lease_owner = $4`, e.Ref, e.DraftID, e.CloseSentAt, e.LeaseOwner)
	return err
}

type submitContender struct {
	name   string
	c      *visengine.Client
	only   int               // runs only at this many in flight, if not 0
	behind *journal.Postgres // its journal, whose outcomes written behind end its round
	spent  time.Duration
	failed int64
}

// writeBehind writes the completed outcomes c's journal holds back, and
// returns how long it took: each round ends with them, so that their cost
// is counted in the round that made them, not in the next contender's.
func (c *submitContender) writeBehind(b *testing.B) time.Duration {
	if c.behind == nil {
		return 0
	}
	start := time.Now()
	if err := journal.WriteBehindNow(c.behind); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// runRound makes n calls of f with conc in flight and returns how long
// they took; failures are counted in failed.
func runRound(conc, n int, f func() error, failed *int64) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := f(); err != nil {
					atomic.AddInt64(failed, 1)
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkRecover measures Recover per entry on an account of mixed
// unfinished entries, at 100 and 1,000 of them, with each journal: per
// ten entries, four drafts known and never closed (resumed), four known
// and closed (completed), one lost whose draft was made, with its
// reference (abandoned, the draft left open), and one lost with no draft
// (abandoned). Each iteration recovers a round of 100 and one of 1,000,
// so that the two are compared under the same load: ms/entry@N is the
// time of Recover alone per entry, 1000/100 their ratio (the target is at
// most 1.6), GETs/lost the reads of single richieste beyond one per known
// draft, per lost entry (at most 5), lookups/entry the journal's List,
// ListDrafts and Get calls Recover made.
//
//	go test -run '^$' -bench 'Recover$' -benchtime 3x -count 3 ./journal
func BenchmarkRecover(b *testing.B) {
	url := pgtest.Start(b)
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, st := range benchStores(db) {
		b.Run(st.name, func(b *testing.B) {
			sizes := []int{100, 1000}
			spent := make([]time.Duration, len(sizes))
			var gets, lookups, lost, known, entries int
			turn := 0
			for b.Loop() {
				for k := range sizes {
					i := (k + turn) % len(sizes) // each goes first in turn: the load drifts
					n := sizes[i]
					r := recoverRound(b, st.open(b), n)
					spent[i] += r.spent
					gets, lookups, entries = gets+r.gets, lookups+r.lookups, entries+n
					lost, known = lost+n/10*2, known+n/10*8
				}
				turn++
			}
			for i, n := range sizes {
				b.ReportMetric(float64(spent[i].Microseconds())/1000/float64(b.N*n), fmt.Sprintf("ms/entry@%d", n))
			}
			b.ReportMetric(float64(spent[1])/float64(sizes[1])/(float64(spent[0])/float64(sizes[0])), "1000/100")
			b.ReportMetric(float64(gets-known)/float64(lost), "GETs/lost")
			b.ReportMetric(float64(lookups)/float64(entries), "lookups/entry")
		})
	}
}

// BenchmarkRecoverOldLost recovers one lost entry older than the 10,000
// richieste of the account, each journalled as another submission's
// draft: every one is a candidate. lookups is the journal calls Recover
// made (the target is at most 50), GETs the richieste it read.
//
//	go test -run '^$' -bench RecoverOldLost -benchtime 3x ./journal
func BenchmarkRecoverOldLost(b *testing.B) {
	const accounts = 10000
	url := pgtest.Start(b)
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	srv := visenginetest.NewServer(visenginetest.WithWallet(visengine.Micros(visengine.MaxPriceMicros / 2)))
	defer srv.Close()
	ids := make([]string, accounts)
	setup := srv.Client()
	var failed int64
	var next atomic.Int64
	runRound(32, accounts, func() error {
		n := int(next.Add(1)) - 1
		r, err := setup.CreateRichiesta(context.Background(), &visengine.RichiestaParams{HashVisura: hashOrdinaria, JSONVisura: applicantValues(n)})
		if err == nil {
			ids[n] = r.ID
		}
		return err
	}, &failed)
	if failed > 0 {
		b.Fatal(failed, "richieste not created")
	}
	for _, st := range benchStores(db) {
		b.Run(st.name, func(b *testing.B) {
			var spent time.Duration
			var gets, lookups int
			for b.Loop() {
				j := st.open(b)
				fillOwned(b, j, ids)
				lost := visengine.JournalEntry{Ref: fmt.Sprintf("%032x", accounts+1), HashVisura: hashOrdinaria,
					Digest:    visengine.JournalDigest(hashOrdinaria, visengine.Values{"$0": "lost"}, nil),
					CreatedAt: time.Now().Add(-10 * time.Minute), LeaseOwner: "dead", LeaseUntil: time.Now().Add(time.Millisecond)}
				if err := j.Create(context.Background(), lost); err != nil {
					b.Fatal(err)
				}
				time.Sleep(2 * time.Millisecond)
				counted := &countingJournal{Journal: j}
				n0 := len(srv.Requests())
				start := time.Now()
				rep, err := srv.Client(visengine.WithCloseSettle(time.Minute)).Recover(context.Background(), counted)
				spent += time.Since(start)
				if err != nil || len(rep.Resolutions) != 1 || rep.Resolutions[0].Status != visengine.ResolutionAbandoned {
					b.Fatalf("%v %+v", err, rep)
				}
				gets += countGets(srv.Requests()[n0:])
				lookups += int(counted.lookups.Load())
			}
			b.ReportMetric(float64(spent.Microseconds())/1000/float64(b.N), "ms/entry")
			b.ReportMetric(float64(lookups)/float64(b.N), "lookups")
			b.ReportMetric(float64(gets)/float64(b.N), "GETs")
		})
	}
}

// fillOwned journals each of ids as the draft of a completed submission,
// 32 at a time.
func fillOwned(b *testing.B, j visengine.Journal, ids []string) {
	var next atomic.Int64
	var failed int64
	runRound(32, len(ids), func() error {
		n := int(next.Add(1)) - 1
		return j.Create(context.Background(), visengine.JournalEntry{Ref: fmt.Sprintf("%032x", n+1), HashVisura: hashOrdinaria,
			Digest: visengine.JournalDigest(hashOrdinaria, applicantValues(n), nil), CreatedAt: time.Now(), DraftID: ids[n],
			Outcome: visengine.JournalCompleted, LeaseOwner: "setup", LeaseUntil: time.Now().Add(time.Millisecond)})
	}, &failed)
	if failed > 0 {
		b.Fatal(failed, "entries not created")
	}
}

// benchStores are the journals the Recover benchmarks compare: a fresh one
// for each call of open.
func benchStores(db *sql.DB) []struct {
	name string
	open func(b *testing.B) visengine.Journal
} {
	tables := 0
	return []struct {
		name string
		open func(b *testing.B) visengine.Journal
	}{
		{"dir", func(b *testing.B) visengine.Journal {
			d, err := journal.OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = d.Close() })
			return d
		}},
		{"pg", func(b *testing.B) visengine.Journal {
			tables++
			p, err := journal.OpenPostgres(context.Background(), db, journal.WithTable(fmt.Sprint("recover", tables)))
			if err != nil {
				b.Fatal(err)
			}
			return p
		}},
	}
}

func countGets(reqs []visenginetest.Request) int {
	n := 0
	for _, q := range reqs {
		if q.Method == http.MethodGet && strings.HasPrefix(q.Path, "/richiesta/") {
			n++
		}
	}
	return n
}

type recoverResult struct {
	spent         time.Duration
	gets, lookups int
}

// recoverRound fills a fresh fake and journal j with entries unfinished
// entries (see BenchmarkRecover) and recovers them.
func recoverRound(b *testing.B, j visengine.Journal, entries int) recoverResult {
	ctx := context.Background()
	srv := visenginetest.NewServer(visenginetest.WithWallet(visengine.Micros(visengine.MaxPriceMicros / 2)))
	defer srv.Close()
	setup := srv.Client()
	for n := range entries {
		e := visengine.JournalEntry{Ref: fmt.Sprintf("%032x", n+1), HashVisura: hashOrdinaria,
			Digest: visengine.JournalDigest(hashOrdinaria, applicantValues(n), nil), CreatedAt: time.Now(),
			LeaseOwner: "dead", LeaseUntil: time.Now().Add(time.Millisecond)}
		p := &visengine.RichiestaParams{HashVisura: hashOrdinaria, JSONVisura: applicantValues(n)}
		switch kind := n % 10; {
		case kind < 8:
			r, err := setup.CreateRichiesta(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			e.DraftID, e.CloseSentAt = r.ID, time.Now().Add(-time.Hour)
			if kind >= 4 {
				if _, err := setup.CloseRichiesta(ctx, r.ID); err != nil {
					b.Fatal(err)
				}
			}
		case kind == 8:
			p.CallbackData = &visengine.Callback{URL: "https://caf.example/cb", Method: "JSON",
				Data: map[string]any{visengine.CallbackRefKey: e.Ref}}
			if _, err := setup.CreateRichiesta(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
		if err := j.Create(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond) // leases end, steps settle
	counted := &countingJournal{Journal: j}
	c := srv.Client(visengine.WithCloseSettle(time.Millisecond))
	n0 := len(srv.Requests())
	start := time.Now()
	rep, err := c.Recover(ctx, counted)
	spent := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if len(rep.Resolutions) != entries {
		b.Fatalf("%d resolutions for %d entries", len(rep.Resolutions), entries)
	}
	return recoverResult{spent: spent, gets: countGets(srv.Requests()[n0:]), lookups: int(counted.lookups.Load())}
}

// countingJournal counts the lookups made through it. It wraps a Journal
// as a user's metrics would: ListDrafts, part of the interface, passes
// through the embedding.
type countingJournal struct {
	visengine.Journal
	lookups atomic.Int64
}

func (c *countingJournal) List(ctx context.Context, f visengine.JournalFilter) ([]visengine.JournalEntry, error) {
	c.lookups.Add(1)
	return c.Journal.List(ctx, f)
}

func (c *countingJournal) ListDrafts(ctx context.Context, ids []string) ([]visengine.JournalEntry, error) {
	c.lookups.Add(1)
	return c.Journal.ListDrafts(ctx, ids)
}

func (c *countingJournal) Get(ctx context.Context, ref string) (visengine.JournalEntry, error) {
	c.lookups.Add(1)
	return c.Journal.Get(ctx, ref)
}
