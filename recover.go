package visengine

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// recoverBatch is how many entries Recover claims at a time.
const recoverBatch = 10

// RecoverReport is what Recover did: one Resolution per journal entry it
// claimed, in the order it looked at them. It prints without personal data.
type RecoverReport struct {
	Resolutions []Resolution
}

// Count returns how many entries ended with status s.
func (r *RecoverReport) Count(s ResolutionStatus) int {
	if r == nil {
		return 0
	}
	n := 0
	for _, res := range r.Resolutions {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Format prints the counts by status on one line ("visengine.RecoverReport{
// completed:1 resumed:2 …}") and, with %+v, each Resolution on a line of
// its own after it.
func (r RecoverReport) Format(f fmt.State, verb rune) {
	var b strings.Builder
	b.WriteString("visengine.RecoverReport{")
	for i, s := range []ResolutionStatus{ResolutionCompleted, ResolutionResumed, ResolutionAbandoned,
		ResolutionPending, ResolutionFailed, ResolutionUnknown} {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%d", s, r.Count(s))
	}
	b.WriteString("}")
	if verb == 'v' && f.Flag('+') {
		for _, res := range r.Resolutions {
			fmt.Fprintf(&b, "\n  %v", res)
		}
	}
	_, _ = f.Write([]byte(b.String()))
}

// Recover finishes or reports every unfinished submission of journal j:
// those a crash, a lost answer or a dead replica left behind. It claims
// them in turns (leased to this call, so that replicas running Recover at
// once never work on the same entry, and the entries a live Submit holds
// are left alone), resolves each by reading the server, records the
// outcome and releases the leases. Each entry is looked at once the settle
// time (WithCloseSettle) has passed since its last step (on the journal's
// clock, Journal.JournalNow, and counting the closes this client sent
// itself):
//
//   - draft known, closed: completed;
//   - draft known, still a draft: closed once (recorded first), resumed, if
//     it is proven to be the entry's (its client reference in callback_data,
//     or the digest of its own values); a draft not proven is left open,
//     unknown, with the reason; a refusal is failed (a 429 only once its
//     retries are used up; unknown if the journal could not record it, since
//     the next run closes the draft), a close with an unknown outcome pending;
//   - draft never confirmed (the POST's answer was lost, or its id could not
//     be journalled, and Submit then kept it from Resume): abandoned, safe to
//     submit again, since Submit only posts free drafts; a draft it finds
//     for it (by client reference, else by values) is left open and never
//     closed, because the caller may have submitted again meanwhile.
//     Only a closed richiesta carrying the entry's reference is completed;
//     a closed one with the same values but without it is unknown;
//   - anything it cannot prove, or a read that failed: unknown, left
//     unfinished for the next run, with what is known. Nothing is guessed.
//
// What it learns of the account is shared by every entry of one call: the
// list of richieste is read once, the journal is asked which entry owns a
// listed draft a page at a time (Journal.ListDrafts), and each candidate
// richiesta is read at most once. Per entry, the reads and lookups that
// earlier entries did not make already are bounded by
// DefaultReconcileMaxReads; beyond it the entry is unknown.
//
// It is idempotent: safe to run on every replica at start-up and then
// periodically. The error reports what stopped it (the journal failing,
// ctx ending); the report holds what was done until then.
func (c *Client) Recover(ctx context.Context, j Journal) (*RecoverReport, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if j == nil {
		return nil, invalidArg("journal", "is nil")
	}
	owner := c.newOwner()
	rep := &RecoverReport{}
	var held []*record
	defer func() {
		for _, rec := range held {
			rec.release(ctx)
		}
	}()
	list := lazyList{scan: newLostScan()}
	seen := map[string]bool{}
	for {
		batch, err := j.Claim(ctx, owner, time.Now().Add(c.eo.lease), recoverBatch)
		if err != nil {
			return rep, errorf("visengine: recover: %w", err)
		}
		fresh := 0
		for _, e := range batch {
			rec := claimed(j, owner, c.eo.lease, e)
			held = append(held, rec) // kept until the end, so no turn claims it again
			if seen[e.Ref] {
				continue // its lease ran out during this call: done with it already
			}
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			seen[e.Ref], fresh = true, fresh+1
			rep.Resolutions = append(rep.Resolutions, c.recoverEntry(ctx, rec, &list))
		}
		if fresh == 0 {
			return rep, nil
		}
	}
}

// recoverEntry resolves one claimed entry.
func (c *Client) recoverEntry(ctx context.Context, rec *record, list *lazyList) Resolution {
	e := rec.e
	res := Resolution{Ref: e.Ref, HashVisura: e.HashVisura, DraftID: e.DraftID, CloseSentAt: e.CloseSentAt}
	lastClose, last, err := c.settleFrom(ctx, rec)
	if err != nil {
		return *res.unknown("could not read the journal's clock: will try again", err)
	}
	res.CloseSentAt = lastClose
	settled := last.Add(c.eo.settle)
	if time.Now().Before(settled) {
		res.Status, res.RetryAt, res.Reason = ResolutionPending, settled, "its last step is too recent"
		return res
	}
	if e.DraftID == "" {
		return c.recoverLost(ctx, rec, list, res, settled)
	}
	out, err := c.finish(ctx, rec, e.DraftID, true, lastClose)
	if err != nil {
		return *res.unknown("could not finish it: will try again", err)
	}
	return *out
}

// recoverLost resolves an entry whose draft was never confirmed.
func (c *Client) recoverLost(ctx context.Context, rec *record, list *lazyList, res Resolution, settled time.Time) Resolution {
	e := rec.e
	entries, err := list.get(ctx, c, settled)
	if err != nil {
		return *res.unknown("could not list the richieste: will try again", err)
	}
	secret, _ := c.digestSecret(ctx, rec.j) // unreadable: the unkeyed digest only, as before keys
	q := lostQuery{hash: e.HashVisura, since: e.CreatedAt, skew: DefaultReconcileSkew, ref: e.Ref,
		maxReads: DefaultReconcileMaxReads, journal: rec.j,
		same: func(r *Richiesta) (bool, bool) {
			got := submittedValues(r)
			return digestMatches(secret, e, got, opzioneNomi(r)), got != nil
		}}
	found, err := c.findLost(ctx, entries, q, list.scan)
	switch {
	case err != nil:
		return *res.unknown("could not read the candidates: will try again", err)
	case found.match != nil && found.match.State == StateSubmitted && found.byRef:
		rec.e.DraftID = found.match.ID // written with the outcome
		list.scan.owns(found.match.ID, e.Ref)
		rec.end(ctx, JournalCompleted, "closed, found by its reference")
		res.Status, res.DraftID, res.Richiesta, res.Reason = ResolutionCompleted, found.match.ID, found.match, "closed, found by its reference"
		return res
	case found.match != nil && found.match.State == StateSubmitted:
		return *res.unknown(fmt.Sprintf("richiesta %s, closed, has these values but not this submission's reference", found.match.ID), nil)
	}
	note := "the draft was never confirmed; nothing was charged"
	if found.match != nil {
		note = fmt.Sprintf("draft %s was never confirmed and is left open; nothing was charged", found.match.ID)
	}
	rec.end(ctx, JournalAbandoned, note)
	res.Status, res.Reason = ResolutionAbandoned, note
	return res
}

// opzioneNomi are the nomi of r's chosen options, as JournalDigest takes them.
func opzioneNomi(r *Richiesta) []string {
	var nomi []string
	for _, o := range r.Opzioni {
		nomi = append(nomi, o.Nome)
	}
	return nomi
}

// lazyList lists the account's richieste when first needed, and again for
// an entry whose settle time ended after the list was sent (entries come
// oldest first, so that is rare): a list sent before then may not show the
// entry's richiesta yet. It keeps what the search for lost drafts learns
// of them (scan): each is looked up in the journal and read at most once
// per Recover.
type lazyList struct {
	done    bool
	at      time.Time // when the list was sent
	entries []listEntry
	err     error
	scan    *lostScan
}

func (l *lazyList) get(ctx context.Context, c *Client, notBefore time.Time) ([]listEntry, error) {
	if !l.done || l.at.Before(notBefore) {
		l.at = time.Now()
		l.entries, l.err = c.listEntries(ctx)
		l.done = l.err == nil // a failed list is tried again for the next entry
	}
	return l.entries, l.err
}
