package visengine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ResolutionStatus says where a submission stands once Resume or Recover
// has looked at it.
type ResolutionStatus string

// The statuses of a Resolution.
const (
	// ResolutionCompleted: the richiesta is closed, and so charged once.
	// Nothing is left to do.
	ResolutionCompleted ResolutionStatus = "completed"
	// ResolutionResumed: it was still a draft and has just been closed
	// (charged once).
	ResolutionResumed ResolutionStatus = "resumed"
	// ResolutionAbandoned: nothing was charged and the SDK will charge
	// nothing for it: submit the applicant again, from your own records,
	// if the document is still wanted. A draft it left stays open.
	ResolutionAbandoned ResolutionStatus = "abandoned"
	// ResolutionPending: a close was sent lately and may still be applied:
	// look again after RetryAt. Nothing was sent now, unless the close
	// sent now had an unknown outcome (Err matches ErrOutcomeUnknown and
	// CloseSentAt is its time).
	ResolutionPending ResolutionStatus = "pending"
	// ResolutionFailed: the server refused to close it (Err says why, such
	// as ErrInsufficientCredit). Nothing was charged; the draft is open.
	ResolutionFailed ResolutionStatus = "failed"
	// ResolutionUnknown: what happened cannot be proven (Reason, Err say
	// what is known). Nothing was closed; never submit again on a guess.
	ResolutionUnknown ResolutionStatus = "unknown"
)

// Resolution is what Resume or Recover found out about one submission, and
// what it did. Its Format prints every field but Richiesta in one line,
// without personal data (Err's text included: the SDK's errors carry none).
type Resolution struct {
	Ref         string           // the journal entry's Ref; "" when there was none
	HashVisura  string           // the service, when known
	DraftID     string           // the richiesta's _id, when known
	Status      ResolutionStatus // where it stands
	CloseSentAt time.Time        // when the last close was sent; zero if none is known
	RetryAt     time.Time        // for ResolutionPending: when to look again
	Reason      string           // what is known, in one line
	Err         error            // the error behind ResolutionFailed or ResolutionUnknown, if any
	Richiesta   *Richiesta       // as last read or as closed; nil when none was read
}

// Format prints the resolution in one line for every verb, with Err's
// text (the SDK's errors carry no personal data) and without Richiesta.
func (r Resolution) Format(f fmt.State, _ rune) {
	var b strings.Builder
	fmt.Fprintf(&b, "visengine.Resolution{Status:%s", r.Status)
	for _, kv := range [][2]string{{"Ref", r.Ref}, {"HashVisura", r.HashVisura}, {"DraftID", r.DraftID}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, " %s:%s", kv[0], kv[1])
		}
	}
	if !r.CloseSentAt.IsZero() {
		fmt.Fprintf(&b, " CloseSentAt:%s", formatTime(r.CloseSentAt))
	}
	if !r.RetryAt.IsZero() {
		fmt.Fprintf(&b, " RetryAt:%s", formatTime(r.RetryAt))
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, " Reason:%q", r.Reason)
	}
	if r.Err != nil {
		fmt.Fprintf(&b, " Err:%q", cleanMessage(r.Err.Error()))
	}
	b.WriteString("}")
	_, _ = f.Write([]byte(b.String()))
}

// ResumeOption configures Resume.
type ResumeOption func(*resumeConfig)

type resumeConfig struct {
	closeSentAt time.Time
	noClose     bool
}

// WithCloseSentAt tells Resume when the last close of the richiesta was
// sent (SubmitError.CloseSentAt): no close is sent again before the settle
// time has passed since then. A zero time tells nothing.
func WithCloseSentAt(t time.Time) ResumeOption {
	return func(c *resumeConfig) { c.closeSentAt = later(c.closeSentAt, t) }
}

// WithNoCloseSent asserts that no close of the richiesta was ever sent (a
// SubmitError whose CloseSentAt is zero, a draft made by CreateRichiesta
// and never closed), so that Resume may close it at once. Say it only
// when you know it: a close sent meanwhile may be applied later.
func WithNoCloseSent() ResumeOption { return func(c *resumeConfig) { c.noClose = true } }

// Resume finishes a submission whose close did not end in a known outcome
// (a *SubmitError with StepClose and the draft's ID). It reads the
// richiesta back (GET /richiesta/{id}) and closes it (PUT /richiesta/{id})
// only if it is still a draft and the settle time (WithCloseSettle) has
// passed since the last close was sent; otherwise it says what it found,
// and sends nothing. It never closes twice in one call.
//
// It waits the settle time from the latest close it knows of: the
// journal's record, the ones this client sent itself (CloseRichiesta,
// Submit, Resume remember them), and WithCloseSentAt; an older time
// passed again in a retry loop never lets a second close out early. With
// a journal entry for the draft, it closes only a draft proven to be that
// entry's submission (the entry's client reference in its callback_data,
// or the digest of its own values); without one, it closes no draft whose
// client reference (a submission with a callback) names an entry of the
// journal, or of the client's memory of keyed submissions, that does not
// hold it: that entry's draft id never reached the journal, or may not
// have, and Recover leaves its draft open. In those cases it answers
// ResolutionUnknown with the reason.
//
// Resume must know whether and when a close was sent: from the journal
// (WithJournal), whose entry for the draft it also leases, so that no
// other process works on it at once (ErrLeaseHeld otherwise) and records
// the close before sending it; or from the caller, with WithCloseSentAt or
// WithNoCloseSent. If neither says, it closes nothing and answers
// ResolutionUnknown. Two Resume calls of one client never work on the
// same draft at once (ErrLeaseHeld); across processes only a journal
// keeps them apart. The error is for what kept it from finding out (a
// read that failed, a journal that refused); the Resolution's Status says
// the rest.
func (c *Client) Resume(ctx context.Context, id string, opts ...ResumeOption) (*Resolution, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	var cfg resumeConfig
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if _, busy := c.eo.busy.LoadOrStore(id, true); busy {
		return nil, errorf("visengine: resume of %s: another Resume of this client works on it: %w", id, ErrLeaseHeld)
	}
	defer c.eo.busy.Delete(id)
	rec, err := c.claimDraft(ctx, id)
	if err != nil {
		return nil, err
	}
	defer rec.release(ctx)
	last, err := c.lastClose(ctx, rec, id, cfg.closeSentAt)
	if err != nil {
		return nil, err
	}
	known := rec.j != nil || cfg.noClose || !last.IsZero()
	return c.finish(ctx, rec, id, known, last)
}

// lastClose is the latest time a close of id that may have been applied
// is known to have been sent, on this machine's clock: the journal's
// record, this client's memory of its own closes, the caller's (given).
// Zero when none is known.
func (c *Client) lastClose(ctx context.Context, rec *record, id string, given time.Time) (time.Time, error) {
	journalled, err := c.localTime(ctx, rec.j, rec.e.CloseSentAt)
	if err != nil {
		return time.Time{}, err
	}
	return later(later(journalled, given), c.eo.closes.last(id)), nil
}

// claimDraft leases the journal's entry for draft id, if the client has a
// journal that holds one; otherwise it returns a record without journal.
func (c *Client) claimDraft(ctx context.Context, id string) (*record, error) {
	j := c.keyJournal() // without a journal, the memory of keyed submissions
	if j == nil {
		return &record{}, nil
	}
	es, err := j.List(ctx, JournalFilter{DraftID: id})
	switch {
	case err != nil:
		return nil, errorf("visengine: journal: %w", err)
	case len(es) == 0:
		return &record{}, nil
	case len(es) > 1:
		return nil, errorf("visengine: journal: %d entries name draft %s: %w", len(es), id, ErrJournalConflict)
	}
	owner := c.newOwner()
	e, err := j.ClaimRef(ctx, es[0].Ref, owner, time.Now().Add(c.eo.lease))
	if err != nil {
		return nil, errorf("visengine: journal: %w", err)
	}
	return claimed(j, owner, c.eo.lease, e), nil
}

// finish reads draft id back and closes it when that is safe: known says
// whether it is known if and when a close was sent (lastClose; zero for
// none). rec is the submission's journal record, maybe without a journal.
func (c *Client) finish(ctx context.Context, rec *record, id string, known bool, lastClose time.Time) (*Resolution, error) {
	res := &Resolution{Ref: rec.e.Ref, HashVisura: rec.e.HashVisura, DraftID: id, CloseSentAt: lastClose}
	// The settle time is judged when the read starts: a read sent within it
	// may show a draft whose last close is still to be applied, however late
	// its answer comes.
	readAt := time.Now()
	r, err := c.GetRichiesta(ctx, id)
	if err != nil {
		return nil, err
	}
	res.Richiesta = r
	switch {
	case r.ID != id:
		return res.unknown("read back as another richiesta", nil), nil
	case rec.j != nil && r.HashVisura != rec.e.HashVisura:
		return res.unknown("read back as a richiesta of another service", nil), nil
	case r.State == StateSubmitted:
		rec.end(ctx, JournalCompleted, "closed")
		res.Status, res.Reason = ResolutionCompleted, "closed"
		return res, nil
	case rec.e.Outcome == JournalCompleted:
		return res.unknown("the journal records it closed, yet it reads as a draft", nil), nil
	case r.StatoRichiesta == StatoAnnullata:
		rec.end(ctx, JournalAbandoned, "draft cancelled")
		res.Status, res.Reason = ResolutionAbandoned, "the draft was cancelled; nothing was charged"
		return res, nil
	case !known:
		return res.unknown("no record of whether or when a close was sent: pass WithCloseSentAt, or WithNoCloseSent if none was", nil), nil
	case !lastClose.IsZero() && readAt.Before(lastClose.Add(c.eo.settle)):
		res.Status, res.RetryAt = ResolutionPending, lastClose.Add(c.eo.settle)
		res.Reason = "still a draft, but the last close may still be applied"
		return res, nil
	}
	var why string
	if rec.j != nil {
		_, why = c.provenDraft(ctx, rec, r)
	} else {
		why = c.disowned(ctx, r)
	}
	if why != "" {
		return res.unknown("not closed: "+why, nil), nil
	}
	return c.closeAgain(ctx, rec, res)
}

// disowned says why the client's journal (without one, its memory of
// keyed submissions) forbids closing r, a draft that no entry names by its
// id, although the entry its client reference names (a submission with a
// callback) exists: that entry's draft id never reached the journal, or
// may not have, and Recover leaves such a draft open while its caller
// may have submitted again. "" when no entry claims r. A draft without a
// reference is not matched by its values: one applicant's values may be
// those of several submissions, some of which never made a draft.
func (c *Client) disowned(ctx context.Context, r *Richiesta) string {
	j, ref := c.keyJournal(), refOf(r)
	if j == nil || ref == "" {
		return ""
	}
	e, err := j.Get(ctx, ref)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalidArgument): // not a reference of this journal
		return ""
	case err != nil:
		return fmt.Sprintf("the journal's entry for the draft's client reference could not be read (%v)", bare(err))
	case e.DraftID == r.ID:
		return "a journal entry holds the draft, yet was not found by its id: try again"
	case e.Finished():
		return "the draft belongs to a submission settled without it: it stays open"
	case c.eo.journal == nil:
		return "the draft belongs to a keyed submission that does not hold it: submit again with the same key"
	case e.LeaseOwner != "":
		return "the draft belongs to a journal entry whose submission may be under way, or that Recover settles once its lease ends, leaving the draft open"
	}
	return "the draft belongs to a journal entry that does not hold it: Recover settles that entry and leaves the draft open"
}

func (res *Resolution) unknown(reason string, err error) *Resolution {
	res.Status, res.Reason, res.Err = ResolutionUnknown, reason, err
	return res
}

// closeAgain closes res.DraftID once, having recorded the close first.
func (c *Client) closeAgain(ctx context.Context, rec *record, res *Resolution) (*Resolution, error) {
	before := rec.e // a refused entry, should this close not be sent
	r, sent, err := c.sendClose(ctx, rec, res.DraftID)
	if sent.IsZero() && err != nil {
		return nil, rec.unsent(ctx, before, errorf("visengine: close not sent: %w", err))
	}
	res.CloseSentAt = sent
	var ou *OutcomeUnknownError
	var apiErr *APIError
	switch {
	case err == nil:
		rec.end(ctx, JournalCompleted, "closed on resume")
		res.Status, res.Reason, res.Richiesta = ResolutionResumed, "was a draft; closed now", r
	case errors.As(err, &ou):
		res.CloseSentAt = later(sent, ou.SentAt)
		c.recordCloseNote(ctx, rec, res.CloseSentAt, "close outcome unknown")
		res.Status, res.RetryAt, res.Err = ResolutionPending, res.CloseSentAt.Add(c.eo.settle), err
		res.Reason = "close outcome unknown; it may still be applied"
	case errors.Is(err, ErrAlreadyClosed):
		return c.refusedAsClosed(ctx, rec, res, err), nil
	case errors.As(err, &apiErr):
		// "Failed" tells the caller nothing was charged, which holds only
		// once the journal says so: Recover closes an unfinished entry's
		// draft, so an unrecorded refusal is unknown (as in closeDraft).
		note := refusalNote("close", err)
		if jerr := rec.endErr(ctx, JournalFailed, note); jerr != nil {
			return res.unknown(note+", but the refusal was not journalled ("+bare(jerr)+"): a later Recover may close it", err), nil
		}
		res.Status, res.Reason, res.Err = ResolutionFailed, note, err
	default:
		return nil, rec.unsent(ctx, before, err) // provably not sent (the context ended)
	}
	return res, nil
}

// unsent puts a refused entry's outcome back after a close that was not
// sent: recording the close made the entry unfinished (recordClose), and
// Recover would close its draft while the caller still holds the
// refusal, free to submit anew. err says why the close was not sent. A
// record refused for a lost lease or a missing entry wrote nothing (see
// Journal.Update), so the refusal stands. When it cannot be put back, the
// outcome is unknown: a later Recover may close the draft.
func (r *record) unsent(ctx context.Context, before JournalEntry, err error) error {
	if r.j == nil || before.Outcome != JournalFailed {
		return err
	}
	if r.e.Outcome == JournalFailed && wroteNothing(err) {
		return err // the record wrote nothing: the refusal stands
	}
	if jerr := r.endErr(ctx, JournalFailed, before.Note); jerr != nil {
		return errorf("%w; the refusal recorded before could not be put back (%v), so a later Recover may close the draft: %w",
			err, bare(jerr), ErrOutcomeUnknown)
	}
	return err
}

// refusedAsClosed handles a close refused as already closed: the richiesta
// read back must show it; a draft (a lagging replica) proves nothing.
func (c *Client) refusedAsClosed(ctx context.Context, rec *record, res *Resolution, refusal error) *Resolution {
	r, err := c.GetRichiesta(ctx, res.DraftID)
	if err != nil || checkClosed(res.DraftID, r) != nil {
		return res.unknown("close refused as already closed, yet not read back closed", refusal)
	}
	rec.end(ctx, JournalCompleted, "closed")
	res.Status, res.Reason, res.Richiesta = ResolutionCompleted, "closed", r
	return res
}

// noteClose records a later send time and a note after a close whose
// outcome is unknown; best effort, since the entry already holds an
// earlier time.
func (r *record) noteClose(ctx context.Context, sentAt time.Time, note string) {
	if r.j == nil {
		return
	}
	ctx, cancel := afterStep(ctx)
	defer cancel()
	_ = r.step(ctx, func(e *JournalEntry) { e.CloseSentAt, e.Note = sentAt, note })
}
