package journal

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/visengine-go/visengine"
)

// DefaultTable is the table a Postgres journal uses unless WithTable says
// otherwise.
const DefaultTable = "visengine_journal"

// Postgres is a Journal in a PostgreSQL table, shared by every replica
// that opens it on the same database. It goes through database/sql only:
// the caller opens the *sql.DB with the driver of its choice (pgx's stdlib,
// lib/pq), and this package imports none.
//
// Every lease check uses the database's clock (now()), and a lease's end
// given by a caller is applied as a duration to that clock (see
// visengine.Journal), so replicas whose clocks disagree still agree on who
// holds a lease. Durability is the database's: with synchronous_commit on
// (PostgreSQL's default), a call that returned nil survives a crash, but
// for the durability classes of visengine.Journal: a completed outcome
// is written behind, so call Close before the process exits (see the
// package documentation).
type Postgres struct {
	db     *sql.DB
	table  string        // quoted, maybe schema-qualified
	name   string        // as configured, for messages
	slots  chan struct{} // one per statement in flight: WithMaxConns
	writer chan struct{} // one write statement in flight at a time (pgbatch.go)
	stmts  atomic.Uint64 // statements sent, for the benchmarks
	grown  atomic.Uint64 // entries this process inserted: how the table grew, for rel

	bmu           sync.Mutex    // guards armed, closed and pending (pgbehind.go)
	armed         bool          // a flush of the writes written behind is due
	closed        bool          // Close was called: nothing more is written behind
	pending       []*pgWrite    // written behind and not known to be done
	behindAfter   time.Duration // behindDelay, but for tests
	behindTimeout time.Duration // how long the timer and Close wait for statements: batchTimeout, but for tests

	creates, updates pgQueue     // writes waiting for a statement (pgbatch.go)
	secret           secretCache // DigestSecret's (secret.go)
}

var _ visengine.Journal = (*Postgres)(nil)

type pgConfig struct {
	table    string
	maxConns int
}

// PostgresOption configures OpenPostgres.
type PostgresOption func(*pgConfig) error

// tableName is what WithTable accepts: lowercase, unquoted-style SQL
// names, optionally schema-qualified, short enough that the index names
// derived from them fit PostgreSQL's 63 bytes.
var tableName = regexp.MustCompile(`^([a-z_][a-z0-9_]{0,47}\.)?[a-z_][a-z0-9_]{0,47}$`)

// WithTable stores the journal in table name instead of DefaultTable:
// lowercase letters, digits and underscores, at most 48 of them, not
// starting with a digit, optionally prefixed by a schema ("intake.journal").
// Replicas that share a journal must use the same name.
func WithTable(name string) PostgresOption {
	return func(c *pgConfig) error {
		if !tableName.MatchString(name) {
			return fmt.Errorf("%w: journal table name must be [schema.]name of lowercase letters, digits and _ (at most 48 each)", visengine.ErrInvalidArgument)
		}
		c.table = name
		return nil
	}
}

// DefaultMaxConns is how many statements a Postgres journal has in flight
// at most, unless WithMaxConns says otherwise or db has a limit of its own
// (sql.DB.SetMaxOpenConns): database/sql's default number of idle
// connections, so that a *sql.DB opened with sql.Open's defaults keeps
// its connections instead of opening one per statement.
const DefaultMaxConns = 2

// WithMaxConns bounds the statements the journal has in flight on its
// *sql.DB to n (at least 1); the calls beyond wait their turn, or for
// their context to end. Give the *sql.DB at least as many idle
// connections (sql.DB.SetMaxIdleConns(n)): database/sql closes a
// connection that finds no idle slot, and PostgreSQL forks a process for
// each new one. The default is the *sql.DB's own limit
// (SetMaxOpenConns) if it has one, DefaultMaxConns otherwise.
func WithMaxConns(n int) PostgresOption {
	return func(c *pgConfig) error {
		if n < 1 {
			return fmt.Errorf("%w: journal WithMaxConns(%d): needs at least 1", visengine.ErrInvalidArgument, n)
		}
		c.maxConns = n
		return nil
	}
}

// OpenPostgres returns the journal in db, creating its table and indexes
// if they are missing (see the package documentation for the schema). It
// is safe to call from several replicas at once. db stays the caller's to
// close.
func OpenPostgres(ctx context.Context, db *sql.DB, opts ...PostgresOption) (*Postgres, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: journal *sql.DB is nil", visengine.ErrInvalidArgument)
	}
	cfg := pgConfig{table: DefaultTable}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: journal option is nil", visengine.ErrInvalidArgument)
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.maxConns == 0 {
		cfg.maxConns = cmp.Or(db.Stats().MaxOpenConnections, DefaultMaxConns)
	}
	p := &Postgres{db: db, table: quoteTable(cfg.table), name: cfg.table, slots: make(chan struct{}, cfg.maxConns),
		writer: make(chan struct{}, 1), behindAfter: behindDelay, behindTimeout: batchTimeout}
	if err := p.migrate(ctx, cfg.table); err != nil {
		return nil, fmt.Errorf("visengine: journal table %s: %w", cfg.table, err)
	}
	return p, nil
}

// quoteTable quotes each part of a validated table name.
func quoteTable(name string) string {
	parts := strings.Split(name, ".")
	for i, part := range parts {
		parts[i] = `"` + part + `"`
	}
	return strings.Join(parts, ".")
}

// schemaSQL creates the table and its indexes; %[1]s is the quoted table,
// %[2]s the bare table name that prefixes the index names.
const schemaSQL = `
CREATE TABLE IF NOT EXISTS %[1]s (
	ref           text        PRIMARY KEY,
	hash_visura   text        NOT NULL,
	digest        text        NOT NULL,
	created_at    timestamptz NOT NULL,
	draft_id      text        NOT NULL DEFAULT '',
	close_sent_at timestamptz,
	outcome       text        NOT NULL DEFAULT '',
	note          text        NOT NULL DEFAULT '',
	updated_at    timestamptz NOT NULL,
	lease_owner   text        NOT NULL DEFAULT '',
	lease_until   timestamptz
);
CREATE INDEX IF NOT EXISTS "%[2]s_unfinished" ON %[1]s (created_at, ref) WHERE outcome = '';
CREATE INDEX IF NOT EXISTS "%[2]s_draft_id" ON %[1]s (draft_id) WHERE draft_id <> '';
CREATE INDEX IF NOT EXISTS "%[2]s_digest" ON %[1]s (hash_visura, digest);
`

// migrate creates the table under a transaction-scoped advisory lock:
// concurrent CREATE TABLE IF NOT EXISTS can otherwise fail on PostgreSQL's
// catalog. It then checks that the table has the journal's columns.
func (p *Postgres) migrate(ctx context.Context, name string) error {
	done, err := p.slot(ctx, "")
	if err != nil {
		return err
	}
	defer done()
	return lockedTx(ctx, p.db, name, func(tx *sql.Tx) error {
		stmts := strings.Split(fmt.Sprintf(schemaSQL, p.table, bareName(name)), ";")
		if _, err := tx.ExecContext(ctx, stmts[0]); err != nil { // the table
			return err
		}
		if _, err := tx.ExecContext(ctx, `SELECT `+columns+` FROM `+p.table+` LIMIT 0`); err != nil {
			return fmt.Errorf("exists but is not a journal: %w", err)
		}
		for _, stmt := range stmts[1:] { // the indexes
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
}

// lockedTx runs fn in a transaction holding the advisory lock of the
// journal name, which every schema change of that journal (its table, the
// secret's, the callbacks') takes: concurrent CREATE … IF NOT EXISTS can
// otherwise fail on the catalog. It commits when fn succeeds.
func lockedTx(ctx context.Context, db *sql.DB, name string, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "visengine journal "+name); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// bareName is the journal's table name without its schema, for the names
// of the indexes and tables beside it.
func bareName(name string) string { return name[strings.LastIndex(name, ".")+1:] }

// slot waits for one of the journal's statement slots (WithMaxConns) and
// returns the function that gives it back. Each exported method takes one
// for all its statements: helpers called under it take none. The
// completed outcomes written behind go first, so that the method sees
// them: those of ref, or all when ref is "".
func (p *Postgres) slot(ctx context.Context, ref string) (func(), error) {
	if err := p.flushBehind(ctx, ref); err != nil {
		return nil, err
	}
	select {
	case p.slots <- struct{}{}:
		p.stmts.Add(1)
		return func() { <-p.slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("visengine: journal table %s: waiting for a connection: %w", p.name, ctx.Err())
	}
}

// rel is the journal's table as the statements on its rows name it:
// followed by a comment that changes each time the entries this process
// inserted double, up to maxPlanGrowth. A driver such as pgx prepares
// each statement text once per connection, and PostgreSQL keeps a
// prepared statement's generic plan until the table is analyzed again,
// which autovacuum does about once a minute at most: a plan made while the
// table held a few entries reads it whole (the cheapest way then) and
// would go on doing so as the table grows by thousands of entries
// meanwhile. A new text is a new statement, planned on the table as it
// is. Only this process's inserts count: a replica that inserts little
// while others fill the table plans again when autovacuum analyzes it.
func (p *Postgres) rel() string {
	return p.table + " /* plan " + strconv.Itoa(min(bits.Len64(p.grown.Load()), maxPlanGrowth)) + " */"
}

// maxPlanGrowth bounds rel's comments, and so the statements a driver
// keeps prepared: once this process has inserted 2^15 entries the table
// holds at least as many, and a plan that uses the indexes stays the
// cheapest however much it grows.
const maxPlanGrowth = 16

// columns are an entry's columns in the order scanEntry reads them.
const columns = `ref, hash_visura, digest, created_at, draft_id, close_sent_at, outcome, note, updated_at, lease_owner, lease_until`

// leaseEnd is the SQL for a lease's end: the database's now() plus the
// duration, in microseconds, that the caller's lease end is ahead of the
// caller's clock.
func leaseEnd(param int) string {
	return "now() + $" + strconv.Itoa(param) + "::bigint * interval '1 microsecond'"
}

func leaseMicros(until time.Time) int64 { return time.Until(until).Microseconds() }

// nullTime is t for a nullable column: NULL when zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// Create inserts e, leased to e.LeaseOwner for as long as e.LeaseUntil is
// ahead of the caller's clock, in one statement with the Creates that
// queued meanwhile. An existing Ref fails with
// visengine.ErrJournalConflict.
func (p *Postgres) Create(ctx context.Context, e visengine.JournalEntry) error {
	e = normalize(e)
	if err := checkLeased(e); err != nil {
		return err
	}
	return p.write(ctx, &p.creates, &pgWrite{e: e, micros: leaseMicros(e.LeaseUntil)}, p.insertBatch)
}

// Update replaces the row e.Ref by e and renews its lease, in one
// statement (with the Updates that queued meanwhile) that matches only
// while e.LeaseOwner holds an unexpired lease by the database's clock;
// otherwise it fails with visengine.ErrLeaseLost.
// A LeaseUntil not after the caller's now ends the lease in the same
// statement. A completed outcome that ends the lease is written behind
// (see the package documentation), and a later Update of the same entry
// waits for it.
func (p *Postgres) Update(ctx context.Context, e visengine.JournalEntry) error {
	e = normalize(e)
	if err := checkLeased(e); err != nil {
		return err
	}
	// An outcome of this entry written behind is the write before this
	// one: it goes first, as it would have, had it been written at once.
	if err := p.flushBehind(ctx, e.Ref); err != nil {
		return err
	}
	w := &pgWrite{e: e, micros: leaseMicros(e.LeaseUntil)}
	if ctx.Err() == nil && p.writeBehind(w) {
		return nil
	}
	return p.write(ctx, &p.updates, w, p.updateBatch) // which reports an ended ctx
}

// missingOr tells why a statement on ref matched no row: the row is
// missing (ErrNotFound), or it exists and the lease did not allow it.
func (p *Postgres) missingOr(ctx context.Context, ref string, leaseErr error) error {
	ok, err := p.exists(ctx, ref)
	switch {
	case err != nil:
		return err
	case !ok:
		return notFound(ref)
	}
	return fmt.Errorf("visengine: journal entry %s: %w", ref, leaseErr)
}

func (p *Postgres) exists(ctx context.Context, ref string) (bool, error) {
	var ok bool
	p.stmts.Add(1)
	err := p.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+p.rel()+` WHERE ref = $1)`, ref).Scan(&ok)
	if err != nil {
		return false, p.fail("reading entry "+ref, err)
	}
	return ok, nil
}

// Claim leases to owner up to max unfinished entries whose lease is free
// or expired, oldest first, in one statement: the rows are picked with
// SELECT … FOR UPDATE SKIP LOCKED, so concurrent claimers on any replica
// skip each other's rows instead of waiting for them or sharing them.
func (p *Postgres) Claim(ctx context.Context, owner string, until time.Time, max int) ([]visengine.JournalEntry, error) {
	if err := checkClaim(owner, until, max); err != nil {
		return nil, err
	}
	done, err := p.slot(ctx, "")
	if err != nil {
		return nil, err
	}
	defer done()
	table := p.rel()
	rows, err := p.db.QueryContext(ctx, `WITH picked AS (
			SELECT ref FROM `+table+`
			WHERE outcome = '' AND (lease_until IS NULL OR lease_until <= now())
			ORDER BY created_at, ref
			LIMIT $3
			FOR UPDATE SKIP LOCKED
		)
		UPDATE `+table+` AS j SET lease_owner = $1, lease_until = `+leaseEnd(2)+`
		FROM picked WHERE j.ref = picked.ref
		RETURNING `+prefixed("j.", columns),
		owner, leaseMicros(until), max)
	if err != nil {
		return nil, p.fail("claiming entries", err)
	}
	out, err := p.scanAll(rows)
	if err != nil {
		return nil, err
	}
	sortEntries(out) // RETURNING keeps no order
	return out, nil
}

func prefixed(prefix, cols string) string {
	return prefix + strings.ReplaceAll(cols, ", ", ", "+prefix)
}

// ClaimRef leases the row ref to owner, in one statement that matches only
// while no other owner holds an unexpired lease on it; otherwise it fails
// with visengine.ErrLeaseHeld.
func (p *Postgres) ClaimRef(ctx context.Context, ref, owner string, until time.Time) (visengine.JournalEntry, error) {
	if err := cmp.Or(checkRef(ref), checkClaim(owner, until, 1)); err != nil {
		return visengine.JournalEntry{}, err
	}
	done, err := p.slot(ctx, ref)
	if err != nil {
		return visengine.JournalEntry{}, err
	}
	defer done()
	rows, err := p.db.QueryContext(ctx, `UPDATE `+p.rel()+`
		SET lease_owner = $2, lease_until = `+leaseEnd(3)+`
		WHERE ref = $1 AND (lease_owner IN ('', $2) OR lease_until IS NULL OR lease_until <= now())
		RETURNING `+columns, ref, owner, leaseMicros(until))
	if err != nil {
		return visengine.JournalEntry{}, p.fail("claiming entry "+ref, err)
	}
	out, err := p.scanAll(rows)
	if err != nil {
		return visengine.JournalEntry{}, err
	}
	if len(out) == 0 {
		return visengine.JournalEntry{}, p.missingOr(ctx, ref, visengine.ErrLeaseHeld)
	}
	return out[0], nil
}

// Release ends owner's lease on ref, if owner holds it.
func (p *Postgres) Release(ctx context.Context, ref, owner string) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	done, err := p.slot(ctx, ref)
	if err != nil {
		return err
	}
	defer done()
	res, err := p.db.ExecContext(ctx, `UPDATE `+p.rel()+` SET lease_owner = '', lease_until = NULL
		WHERE ref = $1 AND lease_owner = $2`, ref, owner)
	if err != nil {
		return p.fail("releasing entry "+ref, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return p.fail("releasing entry "+ref, err)
	} else if n == 1 {
		return nil
	}
	if ok, err := p.exists(ctx, ref); err != nil {
		return err
	} else if !ok {
		return notFound(ref)
	}
	return nil // owner did not hold the lease: nothing to release
}

// Get returns the row ref, with its lease.
func (p *Postgres) Get(ctx context.Context, ref string) (visengine.JournalEntry, error) {
	if err := checkRef(ref); err != nil {
		return visengine.JournalEntry{}, err
	}
	done, err := p.slot(ctx, ref)
	if err != nil {
		return visengine.JournalEntry{}, err
	}
	defer done()
	rows, err := p.db.QueryContext(ctx, `SELECT `+columns+` FROM `+p.rel()+` WHERE ref = $1`, ref)
	if err != nil {
		return visengine.JournalEntry{}, p.fail("reading entry "+ref, err)
	}
	out, err := p.scanAll(rows)
	if err != nil {
		return visengine.JournalEntry{}, err
	}
	if len(out) == 0 {
		return visengine.JournalEntry{}, notFound(ref)
	}
	return out[0], nil
}

// List returns the rows f selects, oldest first, through the indexes on
// draft_id, (hash_visura, digest) and unfinished rows.
func (p *Postgres) List(ctx context.Context, f visengine.JournalFilter) ([]visengine.JournalEntry, error) {
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.DraftID != "" {
		add("draft_id = $%d", f.DraftID)
	}
	if f.HashVisura != "" {
		add("hash_visura = $%d", f.HashVisura)
	}
	if f.Digest != "" {
		add("digest = $%d", f.Digest)
	}
	q := `SELECT ` + columns + ` FROM ` + p.rel()
	if f.Unfinished {
		where = append(where, "outcome = ''")
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at, ref"
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += " LIMIT $" + strconv.Itoa(len(args))
	}
	done, err := p.slot(ctx, "")
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := p.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, p.fail("listing entries", err)
	}
	return p.scanAll(rows)
}

// ListDrafts returns the rows whose draft_id is one of ids, in one
// statement through the index on draft_id. The ids go as one text
// parameter, split by the database, so that any driver can send them.
func (p *Postgres) ListDrafts(ctx context.Context, ids []string) ([]visengine.JournalEntry, error) {
	var keep []string
	for _, id := range ids {
		if id != "" && draftIDOK(id) { // a blank would split it; no entry holds one
			keep = append(keep, id)
		}
	}
	if len(keep) == 0 {
		return nil, ctx.Err()
	}
	done, err := p.slot(ctx, "")
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := p.db.QueryContext(ctx, `SELECT `+columns+` FROM `+p.rel()+`
		WHERE draft_id <> '' AND draft_id = ANY (string_to_array($1, ' '))`, strings.Join(keep, " "))
	if err != nil {
		return nil, p.fail("listing entries by draft", err)
	}
	return p.scanAll(rows)
}

// draftIDOK reports whether id can be an entry's DraftID.
func draftIDOK(id string) bool {
	probe := validProbe
	probe.DraftID = id
	return probe.Validate() == nil
}

// scanAll reads and closes rows of columns.
func (p *Postgres) scanAll(rows *sql.Rows) ([]visengine.JournalEntry, error) {
	defer rows.Close()
	var out []visengine.JournalEntry
	for rows.Next() {
		e, err := p.scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, p.fail("reading entries", err)
	}
	return out, nil
}

// scanEntry reads one row and checks it as Validate does: a row edited
// by hand into something no journal writes is a *CorruptEntryError.
func (p *Postgres) scanEntry(rows *sql.Rows) (visengine.JournalEntry, error) {
	var e visengine.JournalEntry
	var outcome string
	var closeSent, leaseUntil sql.NullTime
	err := rows.Scan(&e.Ref, &e.HashVisura, &e.Digest, &e.CreatedAt, &e.DraftID, &closeSent,
		&outcome, &e.Note, &e.UpdatedAt, &e.LeaseOwner, &leaseUntil)
	if err != nil {
		return e, p.fail("reading entries", err)
	}
	e.Outcome, e.CloseSentAt, e.LeaseUntil = visengine.JournalOutcome(outcome), closeSent.Time, leaseUntil.Time
	e = normalize(e)
	if err := e.Validate(); err != nil {
		where := p.name + " row with an invalid ref"
		if checkRef(e.Ref) == nil {
			where = p.name + " row " + e.Ref
		}
		return visengine.JournalEntry{}, &CorruptEntryError{Where: where, Reason: invalidReason(err)}
	}
	return e, nil
}

// fail wraps a database error with what was being done.
func (p *Postgres) fail(doing string, err error) error {
	return fmt.Errorf("visengine: journal table %s: %s: %w", p.name, doing, err)
}
