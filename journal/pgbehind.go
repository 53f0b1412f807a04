package journal

import (
	"context"
	"fmt"
	"time"

	"github.com/visengine-go/visengine"
)

// A Postgres journal writes a completed outcome behind: Update queues it
// and returns, and a statement of the journal's own carries it behindDelay
// later, with the others written behind meanwhile. A Submit thus waits
// for two statements, not three: the outcome is the entry's last write,
// recorded after the close was answered, and nothing waits for it. Nor
// does a statement that a caller waits for carry it (take): each row
// costs the statement's every waiter, and at 16 submissions in flight
// those statements carried as many outcomes as draft ids. Until it is
// written the entry keeps its lease, so no replica's Recover takes it;
// this process's own reads write it first (Get, ClaimRef and Release
// those of their entry, List, ListDrafts and Claim all), so does a later
// Update of the entry, and Close writes what is left. If the process ends
// before, the entry reads unfinished with its close time once its lease
// ends, and Recover or a keyed replay reads the richiesta back and
// completes it: one GET, nothing charged (see visengine.Journal's
// durability classes). So does the holder of a new lease, should this
// one run out before the write (a process stalled longer than its lease):
// the write then matches no row and is dropped, as a kill would drop it.

// behindDelay is how long a completed outcome waits for the statement
// that carries it: long enough that one statement carries many (about
// twenty at one submission in flight), short enough that another replica
// sees it soon.
const behindDelay = 20 * time.Millisecond

// writeBehind queues w and makes sure a statement carries it soon, if it
// is a completed outcome that ends its lease (the entry's last write) and
// the journal is open; it reports whether it did.
func (p *Postgres) writeBehind(w *pgWrite) bool {
	if w.e.Outcome != visengine.JournalCompleted || w.micros > 0 {
		return false
	}
	p.bmu.Lock()
	defer p.bmu.Unlock()
	if p.closed {
		return false
	}
	w.done, w.behind = make(chan struct{}), true
	p.updates.push(w)
	p.pending = append(p.pending, w)
	p.arm()
	return true
}

// arm makes sure sendBehind runs behindAfter from now, if it is not due
// already. The caller holds bmu.
func (p *Postgres) arm() {
	if !p.armed {
		p.armed = true
		time.AfterFunc(p.behindAfter, p.sendBehind)
	}
}

// sendBehind writes every write written behind, in as few statements as
// maxBatch allows; one written meanwhile arms the timer again. If it
// cannot get a statement in time (the writer or every slot held longer),
// it tries again later, until Close: a statement that a caller waits for
// would not carry them. A statement that fails drops its writes, as a
// kill would: Recover reads those richieste back.
func (p *Postgres) sendBehind() {
	p.bmu.Lock()
	p.armed = false
	p.bmu.Unlock()
	if p.flushAll() == nil {
		return
	}
	p.bmu.Lock()
	defer p.bmu.Unlock()
	if !p.closed {
		p.arm()
	}
}

// flushBehind returns once the writes written behind before the call
// (those of ref, or all when ref is "") are written, whether queued or in
// a statement already, or failed (the error is theirs, and nobody waits
// for it); or once ctx ends.
func (p *Postgres) flushBehind(ctx context.Context, ref string) error {
	for _, w := range p.pendingFor(ref) {
		if p.carry(ctx, &p.updates, w, p.updateBatch) != nil && ctx.Err() != nil {
			return fmt.Errorf("visengine: journal table %s: waiting for this process's completed outcomes to be written: %w", p.name, ctx.Err())
		}
	}
	return nil
}

// pendingFor returns the writes written behind that are not done yet:
// those of ref, or all when ref is "". It forgets those that are done.
func (p *Postgres) pendingFor(ref string) []*pgWrite {
	p.bmu.Lock()
	defer p.bmu.Unlock()
	live, ws := p.pending[:0], []*pgWrite(nil)
	for _, w := range p.pending {
		select {
		case <-w.done:
			continue
		default:
		}
		live = append(live, w)
		if ref == "" || w.e.Ref == ref {
			ws = append(ws, w)
		}
	}
	clear(p.pending[len(live):])
	p.pending = live
	return ws
}

// Close writes the completed outcomes still written behind, and from then
// on writes each before Update returns. It does not close the *sql.DB,
// which stays the caller's. Call it before the process exits: an outcome
// left unwritten costs Recover a GET.
func (p *Postgres) Close() error {
	p.bmu.Lock()
	p.closed = true
	p.bmu.Unlock()
	return p.flushAll()
}

// flushAll writes every write written behind, waiting at most
// behindTimeout for the statements.
func (p *Postgres) flushAll() error {
	ctx, cancel := context.WithTimeout(context.Background(), p.behindTimeout)
	defer cancel()
	return p.flushBehind(ctx, "")
}
