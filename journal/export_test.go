package journal

import "time"

// Flushes returns how many times d has synced its log: the durable writes
// the benchmarks count.
func Flushes(d *Dir) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w.flushes
}

// Statements returns how many statements p has sent (a transaction counts
// as one): what the benchmarks count per submission.
func Statements(p *Postgres) uint64 { return p.stmts.Load() }

// HoldFlush keeps d from starting a sync until the returned function is
// called: the records written meanwhile wait for one sync.
func HoldFlush(d *Dir) func() {
	d.flushMu.Lock()
	return d.flushMu.Unlock
}

// Queued returns how many records d has written since it was opened.
func Queued(d *Dir) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w.seq
}

// CompactAt sets how many records d's log holds at least before it is
// compacted.
func CompactAt(d *Dir, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w.compactAt = n
}

// LogName is the name of a Dir's log in its directory.
const LogName = logName

// HoldSlots takes every statement slot of p until the returned function
// is called: the writes made meanwhile queue up.
func HoldSlots(p *Postgres) func() {
	for range cap(p.slots) {
		p.slots <- struct{}{}
	}
	return func() {
		for range cap(p.slots) {
			<-p.slots
		}
	}
}

// QueuedWrites returns how many Creates and Updates wait for a statement.
func QueuedWrites(p *Postgres) int {
	p.creates.mu.Lock()
	n := len(p.creates.ops)
	p.creates.mu.Unlock()
	p.updates.mu.Lock()
	defer p.updates.mu.Unlock()
	return n + len(p.updates.ops)
}

// UpdateSQL is the statement p sends to update n entries at once.
func UpdateSQL(p *Postgres, n int) string { return p.updateSQL(groupRows(n), false) }

// UpdateRows is how many rows of parameters the statement that updates n
// entries at once has.
func UpdateRows(n int) int { return groupRows(n) }

// HoldWriter takes p's writer's turn until the returned function is
// called: Creates and Updates queue up, reads go on.
func HoldWriter(p *Postgres) func() {
	p.writer <- struct{}{}
	return func() { <-p.writer }
}

// WriteBehindAfter sets how long p's completed outcomes wait for the
// statement that carries them.
func WriteBehindAfter(p *Postgres, d time.Duration) { p.behindAfter = d }

// WriteBehindTimeout sets how long the timer that sends p's completed
// outcomes waits for a statement before it tries again later.
func WriteBehindTimeout(p *Postgres, d time.Duration) { p.behindTimeout = d }

// WriteBehindNow writes p's completed outcomes written behind, without
// waiting for the timer.
func WriteBehindNow(p *Postgres) error { return p.flushAll() }
