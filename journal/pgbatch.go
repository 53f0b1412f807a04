package journal

import (
	"context"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/visengine-go/visengine"
)

// A Postgres journal commits Creates and Updates in groups: writes go one
// statement at a time (the writer), and the calls that queue meanwhile go
// together in the next statement of their kind, one INSERT or one
// UPDATE … FROM (VALUES …) for up to maxBatch entries (a plain INSERT or
// UPDATE for one, see written); each call returns once the statement that
// carried it committed. So a pool of two connections serves many
// submissions in flight with a few statements each. A statement that
// carries only intents and completed outcomes (needsSync) commits with
// synchronous_commit off (asyncCommit); one write that needs a sync makes
// its whole statement synchronous.

// maxBatch bounds the entries of one statement.
const maxBatch = 32

// batchTimeout bounds a statement that carries other calls' writes too:
// it is not cut short when the context of the call that sends it ends.
const batchTimeout = 30 * time.Second

// pgWrite is one Create or Update waiting for its statement.
type pgWrite struct {
	e      visengine.JournalEntry
	micros int64 // the lease's length, on the caller's clock when it called
	behind bool  // written behind: its Update returned, nobody waits for it (pgbehind.go)
	done   chan struct{}
	err    error
}

// pgQueue is the writes of one kind waiting for a statement.
type pgQueue struct {
	mu  sync.Mutex
	ops []*pgWrite
}

func (q *pgQueue) push(w *pgWrite) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ops = append(q.ops, w)
}

// remove takes w out of the queue, if no statement took it yet.
func (q *pgQueue) remove(w *pgWrite) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, o := range q.ops {
		if o == w {
			q.ops = append(q.ops[:i], q.ops[i+1:]...)
			return true
		}
	}
	return false
}

// take removes up to maxBatch writes for one statement, oldest first, one
// per Ref: a later write of the same Ref waits for the next statement.
// The writes written behind go only in a statement sent for them (behind):
// one that a caller waits for stays as short as it can (pgbehind.go).
func (q *pgQueue) take(behind bool) []*pgWrite {
	q.mu.Lock()
	defer q.mu.Unlock()
	var batch, rest []*pgWrite
	refs := map[string]bool{}
	for _, o := range q.ops {
		if len(batch) < maxBatch && !refs[o.e.Ref] && (behind || !o.behind) {
			refs[o.e.Ref] = true
			batch = append(batch, o)
		} else {
			rest = append(rest, o)
		}
	}
	q.ops = rest
	return batch
}

// write queues w in q and returns once a statement carried it.
func (p *Postgres) write(ctx context.Context, q *pgQueue, w *pgWrite, run func(context.Context, []*pgWrite) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.done = make(chan struct{})
	q.push(w)
	return p.carry(ctx, q, w, run)
}

// carry returns once a statement carried w, queued in q: one this call
// sends when it holds the writer's turn and a statement slot, or one
// another call sent first. Writes go one statement at a time (the
// writer), so that those that queue meanwhile share the next; reads keep
// the other slots. run sends a batch and sets each write's err. When ctx
// ends first, w leaves the queue, unless it is written behind (it is
// nobody's to drop) or a statement has it already.
func (p *Postgres) carry(ctx context.Context, q *pgQueue, w *pgWrite, run func(context.Context, []*pgWrite) error) error {
	for _, sem := range []chan struct{}{p.writer, p.slots} {
		select {
		case sem <- struct{}{}:
		case <-w.done:
			return w.err
		case <-ctx.Done():
			if w.behind {
				return ctx.Err()
			}
			if q.remove(w) {
				return fmt.Errorf("visengine: journal table %s: waiting for a connection: %w", p.name, ctx.Err())
			}
			<-w.done // on its way already
			return w.err
		}
		defer func() { <-sem }()
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
	defer cancel()
	for {
		select {
		case <-w.done:
			return w.err
		default:
		}
		batch := q.take(w.behind)
		if len(batch) == 0 {
			<-w.done // another call's statement carries it
			return w.err
		}
		p.stmts.Add(1)
		if err := run(bctx, batch); err != nil {
			for _, o := range batch {
				o.err = err
			}
		}
		for _, o := range batch {
			close(o.done)
		}
	}
}

// insertBatch inserts batch in one statement; a Ref the table holds
// already fails its write with visengine.ErrJournalConflict.
func (p *Postgres) insertBatch(ctx context.Context, batch []*pgWrite) error {
	lazy := lazyBatch(batch)
	done, err := p.written(ctx, "creating entries", p.insertSQL(len(batch), lazy), batch, len(batch), lazy)
	if err != nil {
		return err
	}
	p.grown.Add(uint64(len(done)))
	for _, w := range batch {
		if !done[w.e.Ref] {
			w.err = fmt.Errorf("visengine: journal entry %s: %w", w.e.Ref, visengine.ErrJournalConflict)
		}
	}
	return nil
}

// insertSQL is insertBatch's statement for n entries.
func (p *Postgres) insertSQL(n int, lazy bool) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO ` + p.rel() + ` (` + columns + `) VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		k := 10 * i
		fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, now(), $%d, %s)",
			k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8, k+9, leaseEnd(k+10))
	}
	sb.WriteString(` ON CONFLICT (ref) DO NOTHING`)
	sb.WriteString(returning(n, lazy, "ref"))
	return sb.String()
}

// writeArgs are w's ten parameters, in the order of the placeholders of
// insertSQL, updateSQL and updateOneSQL, and of padRow (the lease's end
// as its length).
func writeArgs(w *pgWrite) []any {
	e := w.e
	return []any{e.Ref, e.HashVisura, e.Digest, e.CreatedAt, e.DraftID, nullTime(e.CloseSentAt),
		string(e.Outcome), e.Note, e.LeaseOwner, w.micros}
}

// updateBatch updates batch in one statement, each row only while its
// writer holds an unexpired lease by the database's clock; a write that
// matched no row learns why (missingOr).
func (p *Postgres) updateBatch(ctx context.Context, batch []*pgWrite) error {
	lazy := lazyBatch(batch)
	rows := groupRows(len(batch))
	done, err := p.written(ctx, "updating entries", p.updateSQL(rows, lazy), batch, rows, lazy)
	if err != nil {
		return err
	}
	for _, w := range batch {
		switch {
		case done[w.e.Ref]:
		case w.behind: // nobody waits to learn why
			w.err = visengine.ErrLeaseLost
		default:
			w.err = p.missingOr(ctx, w.e.Ref, visengine.ErrLeaseLost)
		}
	}
	return nil
}

// groupRows is the number of rows of parameters of the UPDATE for n
// entries: n rounded up to a power of two, the rows beyond the entries
// matching none (padRow), so that five statement texts serve every group
// of 2 to maxBatch (for each commit mode and rel comment). A driver
// prepares each statement text once per connection, and PostgreSQL plans
// anew the first executions of each: with a text per number of entries,
// most grouped UPDATEs were planned anew, and planning took a third of
// their time in the database (pg_stat_statements).
func groupRows(n int) int {
	if n <= 1 {
		return n
	}
	return 1 << bits.Len(uint(n-1))
}

// padRow is the parameters of a row of a grouped UPDATE that matches no
// entry: none has an empty Ref.
var padRow = []any{"", "", "", time.Time{}, "", nil, "", "", "", int64(0)}

// updateSQL is updateBatch's statement for n rows of parameters
// (groupRows): updateOneSQL for one. Otherwise the refs are listed
// twice, in the VALUES and in an IN list: the IN list tells the planner
// how many rows of the table the statement touches, so that even the
// generic plan PostgreSQL caches for a prepared statement looks them up
// in the primary key; joined with the VALUES alone, it came to read the
// whole table for each statement once the table held a few thousand
// entries (the cost of a write grew with the journal).
func (p *Postgres) updateSQL(n int, lazy bool) string {
	if n == 1 {
		return p.updateOneSQL(lazy)
	}
	var sb strings.Builder
	sb.WriteString(`UPDATE ` + p.rel() + ` AS j SET
		hash_visura = v.hash_visura, digest = v.digest, created_at = v.created_at, draft_id = v.draft_id,
		close_sent_at = v.close_sent_at, outcome = v.outcome, note = v.note, updated_at = now(),
		lease_owner = CASE WHEN v.micros > 0 THEN j.lease_owner ELSE '' END,
		lease_until = CASE WHEN v.micros > 0 THEN now() + v.micros * interval '1 microsecond' END
		FROM (VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		k := 10 * i
		fmt.Fprintf(&sb, "($%d::text, $%d::text, $%d::text, $%d::timestamptz, $%d::text, $%d::timestamptz, $%d::text, $%d::text, $%d::text, $%d::bigint)",
			k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8, k+9, k+10)
	}
	sb.WriteString(`) AS v (ref, hash_visura, digest, created_at, draft_id, close_sent_at, outcome, note, owner, micros)
		WHERE j.ref = v.ref AND j.lease_owner = v.owner AND j.lease_until > now() AND j.ref IN (`)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "$%d", 10*i+1)
	}
	sb.WriteString(`)`)
	sb.WriteString(returning(n, lazy, "j.ref"))
	return sb.String()
}

// updateOneSQL is updateSQL for one entry: a plain UPDATE of its row, with
// the same parameters.
func (p *Postgres) updateOneSQL(lazy bool) string {
	return `UPDATE ` + p.rel() + ` SET
		hash_visura = $2, digest = $3, created_at = $4, draft_id = $5,
		close_sent_at = $6, outcome = $7, note = $8, updated_at = now(),
		lease_owner = CASE WHEN $10::bigint > 0 THEN lease_owner ELSE '' END,
		lease_until = CASE WHEN $10::bigint > 0 THEN ` + leaseEnd(10) + ` END
		WHERE ref = $1 AND lease_owner = $9 AND lease_until > now()` + returning(1, lazy, "")
}

// asyncCommit, in a statement's RETURNING list, sets synchronous_commit
// to off for the statement's own transaction, the implicit one that
// commits as the statement ends (the equivalent of SET LOCAL for one
// statement, with no round trip more); lazyBatch says when it may. Such a
// commit returns before its WAL is flushed: crash-safe for the database,
// which after an OS crash or power cut may lose the last few hundred
// milliseconds of such commits, never corrupting. A statement that writes
// no row (every write refused) commits synchronously, which is harmless.
const asyncCommit = `set_config('synchronous_commit', 'off', true)`

// returning is the RETURNING clause of a write statement for n entries: a
// statement of several returns the refs it wrote (ref names the column,
// see returnedRefs), one of one entry nothing but asyncCommit when lazy
// (its row count is enough, see written).
func returning(n int, lazy bool, ref string) string {
	switch {
	case n > 1 && lazy:
		return ` RETURNING ` + ref + `, ` + asyncCommit
	case n > 1:
		return ` RETURNING ` + ref
	case lazy:
		return ` RETURNING ` + asyncCommit
	}
	return ""
}

// lazyBatch reports whether no write of batch needs a sync of its own.
func lazyBatch(batch []*pgWrite) bool {
	for _, w := range batch {
		if needsSync(w.e) {
			return false
		}
	}
	return true
}

// written sends a write statement of rows rows of parameters, each
// write's writeArgs and then padRow, and returns the refs it wrote. A
// statement of one entry is an Exec of a plain statement, and its row
// count says whether it wrote: no VALUES to join nor rows to read back,
// which at one submission in flight makes each write about a tenth
// quicker.
func (p *Postgres) written(ctx context.Context, doing, q string, batch []*pgWrite, rows int, lazy bool) (map[string]bool, error) {
	args := make([]any, 0, 10*rows)
	for _, w := range batch {
		args = append(args, writeArgs(w)...)
	}
	for range rows - len(batch) {
		args = append(args, padRow...)
	}
	if len(batch) > 1 {
		return p.returnedRefs(ctx, doing, q, args, lazy)
	}
	res, err := p.db.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, p.fail(doing, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, p.fail(doing, err)
	}
	if n != 1 {
		return map[string]bool{}, nil // the caller counts the refs written
	}
	return map[string]bool{batch[0].e.Ref: true}, nil
}

// returnedRefs runs a statement that returns refs, and collects them;
// lazy: each row has asyncCommit's column too.
func (p *Postgres) returnedRefs(ctx context.Context, doing, q string, args []any, lazy bool) (map[string]bool, error) {
	rows, err := p.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, p.fail(doing, err)
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var ref, setting string
		dest := []any{&ref}
		if lazy {
			dest = append(dest, &setting)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, p.fail(doing, err)
		}
		done[ref] = true
	}
	if err := rows.Err(); err != nil {
		return nil, p.fail(doing, err)
	}
	return done, nil
}
