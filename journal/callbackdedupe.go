package journal

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/visengine-go/visengine"
)

// PostgresCallbacks is the memory of callback events that the replicas of
// a service share through a Postgres journal's database, so that a
// delivery reaching two of them calls the CallbackFunc once: give it to
// visengine.WithCallbackDedupeStore. Its table is the journal's name with
// "_callbacks" appended (visengine_journal_callbacks by default), created
// on first use:
//
//	CREATE TABLE IF NOT EXISTS visengine_journal_callbacks (
//		key        text        PRIMARY KEY, -- a fingerprint of id and stato
//		holder     text        NOT NULL,    -- the CallbackHandler holding it
//		done       boolean     NOT NULL,    -- handled (else: being handled)
//		expires_at timestamptz NOT NULL     -- the lease's or the window's end
//	);
//
// Times are the database's (now()), so replicas whose clocks disagree
// agree on what has expired. Expired rows are swept now and then by
// SettleCallback; the table holds about one row per event of the dedupe
// window. It is safe for concurrent use.
type PostgresCallbacks struct {
	db    *sql.DB
	table string // quoted
	name  string // as configured, for messages

	mu      sync.Mutex
	ready   bool          // the table exists
	settles atomic.Uint32 // every sweepEvery-th settle sweeps expired rows
}

var _ visengine.CallbackDedupe = (*PostgresCallbacks)(nil)

// sweepEvery and sweepRows bound the work of removing expired rows: a
// sweep every 64 settles, of at most 1,000 rows.
const (
	sweepEvery = 64
	sweepRows  = 1000
)

// CallbackDedupe returns the memory of callback events kept beside the
// journal, in the same database; every replica that opens the journal
// with the same table name shares it.
func (p *Postgres) CallbackDedupe() *PostgresCallbacks {
	name := p.name + "_callbacks"
	return &PostgresCallbacks{db: p.db, table: quoteTable(name), name: name}
}

const callbacksSchemaSQL = `CREATE TABLE IF NOT EXISTS %[1]s (
	key        text        PRIMARY KEY,
	holder     text        NOT NULL,
	done       boolean     NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS "%[2]s_expires_at" ON %[1]s (expires_at)`

// ensure creates the table on first use, under a transaction-scoped
// advisory lock as OpenPostgres does (concurrent CREATE TABLE IF NOT
// EXISTS can fail on the catalog). A failure is retried on the next call.
func (c *PostgresCallbacks) ensure(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ready {
		return nil
	}
	err := lockedTx(ctx, c.db, c.name, func(tx *sql.Tx) error {
		for _, stmt := range strings.Split(fmt.Sprintf(callbacksSchemaSQL, c.table, bareName(c.name)), ";") {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.ready = true
	return nil
}

// checkMark refuses what no CallbackHandler passes: an empty or oversized
// key or holder, a duration that is not positive.
func checkMark(key, holder string, d time.Duration) error {
	if key == "" || len(key) > 128 || holder == "" || len(holder) > 128 || d <= 0 {
		return fmt.Errorf("%w: callback mark needs a key and a holder of 1 to 128 bytes and a positive duration", visengine.ErrInvalidArgument)
	}
	return nil
}

// ClaimCallback implements visengine.CallbackDedupe: one statement that
// inserts the key, or takes over a mark whose time is up, and otherwise
// reads the live mark. A mark committed by another replica while the
// statement ran is reported busy, which only delays the delivery.
func (c *PostgresCallbacks) ClaimCallback(ctx context.Context, key, holder string, lease time.Duration) (visengine.CallbackClaim, error) {
	if err := checkMark(key, holder, lease); err != nil {
		return 0, err
	}
	if err := c.ensure(ctx); err != nil {
		return 0, fmt.Errorf("visengine: callback table %s: %w", c.name, err)
	}
	var claimed bool
	var done sql.NullBool
	err := c.db.QueryRowContext(ctx, `WITH claimed AS (
			INSERT INTO `+c.table+` AS m (key, holder, done, expires_at)
			VALUES ($1, $2, false, now() + $3::bigint * interval '1 microsecond')
			ON CONFLICT (key) DO UPDATE SET holder = EXCLUDED.holder, done = false, expires_at = EXCLUDED.expires_at
			WHERE m.expires_at <= now()
			RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM claimed), (SELECT done FROM `+c.table+` WHERE key = $1 AND expires_at > now())`,
		key, holder, lease.Microseconds()).Scan(&claimed, &done)
	switch {
	case err != nil:
		return 0, fmt.Errorf("visengine: claiming a callback event: %w", err)
	case claimed:
		return visengine.CallbackClaimed, nil
	case done.Valid && done.Bool:
		return visengine.CallbackDone, nil
	}
	return visengine.CallbackBusy, nil
}

// SettleCallback implements visengine.CallbackDedupe. Only holder's
// claim, still being handled, is changed.
func (c *PostgresCallbacks) SettleCallback(ctx context.Context, key, holder string, handled bool, ttl time.Duration) error {
	if err := checkMark(key, holder, ttl); err != nil {
		return err
	}
	if err := c.ensure(ctx); err != nil {
		return fmt.Errorf("visengine: callback table %s: %w", c.name, err)
	}
	var err error
	if handled {
		_, err = c.db.ExecContext(ctx, `UPDATE `+c.table+` SET done = true, expires_at = now() + $3::bigint * interval '1 microsecond'
			WHERE key = $1 AND holder = $2 AND NOT done`, key, holder, ttl.Microseconds())
	} else {
		_, err = c.db.ExecContext(ctx, `DELETE FROM `+c.table+` WHERE key = $1 AND holder = $2 AND NOT done`, key, holder)
	}
	if err != nil {
		return fmt.Errorf("visengine: settling a callback event: %w", err)
	}
	if c.settles.Add(1)%sweepEvery == 0 {
		return c.sweep(ctx)
	}
	return nil
}

// sweep removes expired marks, a bounded number at a time.
func (c *PostgresCallbacks) sweep(ctx context.Context) error {
	_, err := c.db.ExecContext(ctx, `DELETE FROM `+c.table+` WHERE key IN (
		SELECT key FROM `+c.table+` WHERE expires_at <= now() ORDER BY expires_at LIMIT $1)`, sweepRows)
	if err != nil {
		return fmt.Errorf("visengine: sweeping expired callback events: %w", err)
	}
	return nil
}
