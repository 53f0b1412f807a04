package visengine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// WithJournalSecret keys the client's journal digests and idempotency
// keys with secret (at least MinDigestSecret bytes) instead of the
// journal's own (Journal.DigestSecret), which is then never asked for:
// for a Journal of your own that keeps no secret (its DigestSecret
// returns nil) or whose secret the application holds rather than the
// journal (read from a secret manager at start). Every client sharing the
// journal must be given the same secret for the journal's whole life;
// keep it apart from the entries. The journals of package journal keep
// their own and need no such option; given one anyway, the client uses it
// for them too, so every client of such a journal must then be given it.
func WithJournalSecret(secret []byte) Option {
	return func(c *config) error {
		if len(secret) < MinDigestSecret {
			return invalidArg("WithJournalSecret", "needs at least 32 bytes")
		}
		c.eo.secret = append([]byte(nil), secret...)
		return nil
	}
}

// SubmitInfo is what Submit tells about the submission besides its result
// (WithSubmitInfo).
type SubmitInfo struct {
	// Ref is the submission's client reference (its journal entry's key).
	Ref string
	// Replayed says that the result is an earlier submission's under the
	// same idempotency key: nothing was created or paid by this call.
	Replayed bool
}

// WithSubmitInfo has Submit fill info, even when it fails once anything
// was recorded: its Ref, and whether an idempotency key replayed an
// earlier result (paid before, not now).
func WithSubmitInfo(info *SubmitInfo) SubmitOption {
	return func(c *submitConfig) { c.info = info }
}

// digestSecret returns the secret the client keys j's digests with:
// WithJournalSecret's, else j's own (Journal.DigestSecret), else nil
// (unkeyed). The journals cache it, so this costs a call only the first
// time.
func (c *Client) digestSecret(ctx context.Context, j Journal) ([]byte, error) {
	if c.eo.secret != nil && !sameJournal(j, c.eo.keys) {
		return c.eo.secret, nil
	}
	s, err := j.DigestSecret(ctx)
	switch {
	case err != nil:
		return nil, errorf("visengine: journal: reading its secret: %w", err)
	case s == nil:
		return nil, nil // a journal that keeps no secret
	case len(s) < MinDigestSecret:
		return nil, errorf("visengine: journal: its secret is shorter than %d bytes", MinDigestSecret)
	}
	return s, nil
}

// bodyNomi are the nomi of the options a draft's body chooses.
func bodyNomi(b *richiestaBody) []string {
	var nomi []string
	for nome, on := range b.Opzioni {
		if on {
			nomi = append(nomi, nome)
		}
	}
	return nomi
}

// keyJournal is where keyed submissions are recorded: the client's
// journal, or its memory.
func (c *Client) keyJournal() Journal {
	if c.eo.journal != nil {
		return c.eo.journal
	}
	return c.eo.keys
}

// submitKeyed is Submit with an idempotency key: the key's entry is
// created, or found and leased (waiting while another call holds it);
// a new one is submitted, a known one replayed or finished.
func (c *Client) submitKeyed(ctx context.Context, v *Visura, body *richiestaBody, cfg *submitConfig, opts []SubmitOption) (*Richiesta, error) {
	j := c.keyJournal()
	secret, err := c.digestSecret(ctx, j)
	if err != nil {
		return nil, &SubmitError{Step: StepDraft, Err: err}
	}
	if secret == nil {
		return nil, invalidArg("idempotency key", "needs a journal that keeps a secret (Journal.DigestSecret) or WithJournalSecret")
	}
	ref := IdempotencyRef(secret, cfg.key)
	body.CallbackData = withRef(body.CallbackData, ref)
	digest := KeyedJournalDigest(secret, body.HashVisura, body.JSONVisura, bodyNomi(body))
	rec, fresh, err := c.takeKey(ctx, j, ref, body.HashVisura, digest)
	if err != nil {
		return nil, err
	}
	defer rec.release(ctx)
	if cfg.info != nil {
		cfg.info.Ref = ref
	}
	if fresh {
		return c.submitFresh(ctx, v, rec, body, opts)
	}
	return c.replayKey(ctx, v, rec, body, cfg, opts)
}

// Waits between looks at a key that another call holds.
const (
	keyWaitMin = 10 * time.Millisecond
	keyWaitMax = 250 * time.Millisecond
)

// takeKey creates the key's entry, leased to a new owner (fresh), or,
// when the journal holds it already, checks that it is for the same
// service and values and leases it, waiting while another call holds it.
// The journal's uniqueness of Refs decides which of concurrent callers
// creates it: never a read followed by a write.
func (c *Client) takeKey(ctx context.Context, j Journal, ref, hash, digest string) (*record, bool, error) {
	owner := c.newOwner()
	now := time.Now()
	created, err := c.journalTime(ctx, j, now)
	if err != nil {
		return nil, false, &SubmitError{Step: StepDraft, Ref: ref, Err: err}
	}
	e := JournalEntry{Ref: ref, HashVisura: hash, Digest: digest, CreatedAt: created,
		LeaseOwner: owner, LeaseUntil: now.Add(c.eo.lease)}
	held := false // another call was seen holding the key
	for wait := keyWaitMin; ; wait = min(wait*2, keyWaitMax) {
		err := j.Create(ctx, e)
		if err == nil {
			return claimed(j, owner, c.eo.lease, e), true, nil
		}
		if !errors.Is(err, ErrJournalConflict) {
			return nil, false, keyError(ctx, ref, held, errorf("visengine: journal: recording the intent: %w", err))
		}
		got, busy, err := c.leaseKey(ctx, j, ref, owner, hash, digest)
		if err != nil {
			return nil, false, keyError(ctx, ref, held, err)
		}
		if got != nil {
			return got, false, nil
		}
		held = held || busy
		if err := sleep(ctx, wait); err != nil {
			return nil, false, keyError(ctx, ref, held, err)
		}
	}
}

// keyError is takeKey's error. A wait for another call that ends with the
// context says so whichever step it ended in: a look at a slow journal is
// as much a part of the wait as the pause between looks.
func keyError(ctx context.Context, ref string, held bool, err error) error {
	switch {
	case errors.Is(err, ErrIdempotencyKeyReused):
		return err
	case held && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		err = errorf("visengine: idempotency key: its submission is under way in another call, which did not end in time: %w", err)
	}
	return &SubmitError{Step: StepDraft, Ref: ref, Err: err}
}

// leaseKey leases the existing entry ref for the same service and values.
// It returns no record and no error when the caller should look again:
// held when another call holds the entry, or not when the entry vanished.
func (c *Client) leaseKey(ctx context.Context, j Journal, ref, owner, hash, digest string) (_ *record, held bool, _ error) {
	cur, err := j.Get(ctx, ref)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, false, nil // forgotten meanwhile (a bounded memory): create it again
	case err != nil:
		return nil, false, errorf("visengine: journal: %w", err)
	case cur.HashVisura != hash || cur.Digest != digest:
		return nil, false, errorf("visengine: idempotency key used before for another service, other values or other options: %w", ErrIdempotencyKeyReused)
	}
	e, err := j.ClaimRef(ctx, ref, owner, time.Now().Add(c.eo.lease))
	switch {
	case err == nil:
		return claimed(j, owner, c.eo.lease, e), false, nil
	case errors.Is(err, ErrLeaseHeld):
		return nil, true, nil
	case errors.Is(err, ErrNotFound):
		return nil, false, nil
	}
	return nil, false, errorf("visengine: journal: %w", err)
}

// submitFresh submits a keyed entry's values: the credit check, the draft,
// the close. A credit check that fails leaves the entry abandoned, for the
// same key to submit again.
func (c *Client) submitFresh(ctx context.Context, v *Visura, rec *record, body *richiestaBody, opts []SubmitOption) (*Richiesta, error) {
	if err := c.checkCredit(ctx, v, opts); err != nil {
		rec.end(ctx, JournalAbandoned, "not sent: the credit check failed")
		return nil, err
	}
	return c.submitSteps(ctx, rec, body)
}

// replayKey answers a key whose entry exists: a paid submission is read
// back and returned; one that never made a draft, or whose draft made
// nothing, is submitted again under the same entry; a draft whose close
// was refused or is in doubt is finished as Resume would.
func (c *Client) replayKey(ctx context.Context, v *Visura, rec *record, body *richiestaBody, cfg *submitConfig, opts []SubmitOption) (*Richiesta, error) {
	e := rec.e
	switch {
	case e.Outcome == JournalCompleted && e.DraftID != "":
		r, err := c.GetRichiesta(ctx, e.DraftID)
		if err != nil {
			return nil, errorf("visengine: richiesta %s was paid under this idempotency key, but reading it back failed: %w", e.DraftID, err)
		}
		if cfg.info != nil {
			cfg.info.Replayed = true
		}
		return r, nil
	case e.Outcome == JournalCompleted:
		return nil, &SubmitError{Step: StepDraft, Ref: e.Ref, Err: errorf(
			"visengine: the journal records this idempotency key paid, without a richiesta id: %w", ErrOutcomeUnknown)}
	case e.DraftID == "":
		return c.restartKey(ctx, v, rec, body, opts)
	}
	return c.finishKeyed(ctx, rec)
}

// restartKey submits again under an entry that made nothing that can be
// charged: abandoned, refused at the draft, or whose draft's POST had an
// unknown outcome (a draft never recorded is never closed, by anyone).
func (c *Client) restartKey(ctx context.Context, v *Visura, rec *record, body *richiestaBody, opts []SubmitOption) (*Richiesta, error) {
	created, err := c.journalTime(ctx, rec.j, time.Now())
	if err == nil {
		err = rec.step(ctx, func(e *JournalEntry) {
			e.CreatedAt, e.CloseSentAt, e.Outcome = created, time.Time{}, JournalUnfinished
			e.Note = "submitted again under the same idempotency key"
		})
	}
	if err != nil {
		return nil, &SubmitError{Step: StepDraft, Ref: rec.e.Ref, Err: err}
	}
	return c.submitFresh(ctx, v, rec, body, opts)
}

// finishKeyed finishes an entry's draft: closed, it is returned; still a
// draft, it is closed once the settle time since the last close that may
// have been applied has passed (a refused close counts for nothing).
func (c *Client) finishKeyed(ctx context.Context, rec *record) (*Richiesta, error) {
	e := rec.e
	last := c.eo.closes.last(e.DraftID)
	if e.Outcome != JournalFailed { // a failed one stays so until a close is recorded (recordClose)
		var err error
		if last, err = c.lastClose(ctx, rec, e.DraftID, time.Time{}); err != nil {
			return nil, &SubmitError{Step: StepClose, ID: e.DraftID, Ref: e.Ref, Err: err}
		}
	}
	res, err := c.finish(ctx, rec, e.DraftID, true, last)
	if err != nil {
		return nil, &SubmitError{Step: StepClose, ID: e.DraftID, Ref: e.Ref, CloseSentAt: last, Err: unreadDraft(e.DraftID, last, err)}
	}
	return res.submitResult()
}

// unreadDraft is the cause of a failed finishKeyed that sent nothing: the
// draft could not be read back, or its close recorded. After a close that
// may have been applied that proves nothing either way, so it is an
// unknown outcome, never an *APIError that would read as a refusal
// (nothing charged) and invite a new submission.
func unreadDraft(id string, lastClose time.Time, err error) error {
	if lastClose.IsZero() {
		return err
	}
	return &OutcomeUnknownError{Method: http.MethodPut, Path: "/richiesta/" + id, SentAt: lastClose,
		Err: errorf("visengine: an earlier close may have been applied, and nothing more is known: %w", err)}
}

// submitResult is Submit's answer for a submission Resume's logic
// finished: the richiesta once it is closed, or a *SubmitError that says
// what stands in the way, as Submit's own would.
func (res *Resolution) submitResult() (*Richiesta, error) {
	fail := func(err error) error {
		return &SubmitError{Step: StepClose, ID: res.DraftID, Ref: res.Ref, CloseSentAt: res.CloseSentAt, Err: err}
	}
	switch res.Status {
	case ResolutionCompleted, ResolutionResumed:
		return res.Richiesta, nil
	case ResolutionFailed:
		return nil, fail(res.Err)
	case ResolutionAbandoned:
		return nil, fail(errorf("visengine: %s: %w", res.Reason, ErrCancelled))
	case ResolutionPending:
		if res.Err != nil {
			return nil, fail(res.Err)
		}
		return nil, fail(errorf("visengine: %s; no other close before %s (Resume): %w", res.Reason,
			res.RetryAt.UTC().Format(time.RFC3339), ErrOutcomeUnknown))
	}
	if res.Err != nil {
		return nil, fail(errorf("visengine: %s: %w: %w", res.Reason, ErrOutcomeUnknown, res.Err))
	}
	return nil, fail(errorf("visengine: %s: %w", res.Reason, ErrOutcomeUnknown))
}

// provenDraft says whether r, read back for rec's entry, is that entry's
// submission: it carries the entry's client reference in callback_data, or
// its own values and options have the entry's digest (keyed, or the
// unkeyed one of entries written before keys). If not, it says why.
func (c *Client) provenDraft(ctx context.Context, rec *record, r *Richiesta) (bool, string) {
	e := rec.e
	switch ref := refOf(r); {
	case ref == e.Ref:
		return true, ""
	case ref != "":
		return false, "the draft carries another submission's client reference"
	}
	vals := submittedValues(r)
	if vals == nil {
		return false, "the draft carries no client reference and shows no values to compare"
	}
	secret, err := c.digestSecret(ctx, rec.j)
	if err != nil {
		return false, fmt.Sprintf("the journal's secret could not be read (%v)", bare(err))
	}
	if digestMatches(secret, rec.e, vals, opzioneNomi(r)) {
		return true, ""
	}
	return false, "the draft's values are not the entry's"
}

// entryDigest is the digest a journal records for a submission: keyed
// with its secret (KeyedJournalDigest), or JournalDigest for a journal
// that keeps none (nil).
func entryDigest(secret []byte, hash string, values Values, nomi []string) string {
	if secret == nil {
		return JournalDigest(hash, values, nomi)
	}
	return KeyedJournalDigest(secret, hash, values, nomi)
}

// digestMatches says whether values and options (nomi) of e's service
// have e's digest: keyed with the journal's secret, or unkeyed as in
// entries written before digests were keyed. A nil secret (none, or one
// that could not be read) compares the unkeyed digest only.
func digestMatches(secret []byte, e JournalEntry, values Values, nomi []string) bool {
	if values == nil {
		return false
	}
	if secret != nil && KeyedJournalDigest(secret, e.HashVisura, values, nomi) == e.Digest {
		return true
	}
	return JournalDigest(e.HashVisura, values, nomi) == e.Digest
}
