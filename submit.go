package visengine

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// SubmitOption configures Submit and DryRun.
type SubmitOption func(*submitConfig)

type submitConfig struct {
	callback *Callback
	email    string
	options  []string
	validate []ValidateOption
	credit   *creditCheck // WithCreditCheck (credit.go)
	key      string       // WithIdempotencyKey
	keySet   bool         // WithIdempotencyKey was given, even with ""
	info     *SubmitInfo  // WithSubmitInfo
}

// WithCallback asks Visengine to call cb back when search results or the
// document are ready.
func WithCallback(cb *Callback) SubmitOption { return func(c *submitConfig) { c.callback = cb } }

// WithEmailTarget has the document e-mailed to addr as well.
func WithEmailTarget(addr string) SubmitOption { return func(c *submitConfig) { c.email = addr } }

// WithOpzioni chooses paid options by nome ("opzione_0") or tipo
// ("urgenza"); an option the service does not offer is an error before
// anything is sent.
func WithOpzioni(nameOrTipo ...string) SubmitOption {
	return func(c *submitConfig) { c.options = append(c.options, nameOrTipo...) }
}

// WithValidation passes opts (WithStrict, WithMaxFileSize) to the local Validate
// that runs before anything is sent.
func WithValidation(opts ...ValidateOption) SubmitOption {
	return func(c *submitConfig) { c.validate = append(c.validate, opts...) }
}

// WithIdempotencyKey names the submission with a key chosen by the caller
// (an applicant's or a form's id): 1 to 255 printable ASCII characters.
// For one key at most one submission is ever made and paid, within the
// journal's reach (WithJournal: every process and replica sharing it), or
// the Client's without one (a memory of the last DefaultKeyMemory keys).
//
// A later Submit with the same key and the same service, values and
// options (by nome or tipo alike) sends no POST: it returns the first
// submission's richiesta, read back from the server; or its unknown
// outcome (a *SubmitError with the draft's ID, finished once the settle
// time has passed); or, if the first was refused without a charge
// (insufficient credit, 429), it closes the same draft; or, if the first
// made nothing (a draft refused or never confirmed), it submits under the
// same key. A Submit whose key is under way in another call waits for it,
// until its context ends. The same key with another service, other values
// or other options fails with ErrIdempotencyKeyReused before anything is
// sent; the callback and the e-mail target are not compared.
//
// The key itself is never stored nor sent: the journal entry's Ref, also
// put in callback_data, is IdempotencyRef, an HMAC of the key under the
// journal's secret (see Journal.DigestSecret). A journal that keeps no
// secret needs WithJournalSecret for keys.
func WithIdempotencyKey(key string) SubmitOption {
	return func(c *submitConfig) { c.key, c.keySet = key, true }
}

// checkIdempotencyKey says why key is not a valid idempotency key, without
// quoting it ("" when it is valid or not given).
func checkIdempotencyKey(key string, given bool) error {
	if !given {
		return nil
	}
	if len(key) < 1 || len(key) > 255 {
		return invalidArg("idempotency key", "is not 1 to 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < ' ' || c > '~' {
			return invalidArg("idempotency key", "has a character other than printable ASCII")
		}
	}
	return nil
}

// SubmitStep names a step of Submit.
type SubmitStep string

// The steps of Submit, in order.
const (
	StepDraft SubmitStep = "draft" // POST /richiesta with state 0: free
	StepClose SubmitStep = "close" // PUT /richiesta/{id} with state 1: paid
)

// SubmitError says at which step Submit failed and, once the draft exists,
// its id, so the caller can finish the submission (Resume) instead of
// creating and paying for another richiesta. Err says whether the step was
// sent: it matches ErrOutcomeUnknown when the step may have reached the
// server (or, at StepClose with CloseSentAt zero, when the close was not
// sent but a journal that could not be read back may make Recover send
// it), and context.Canceled or context.DeadlineExceeded (and not
// ErrOutcomeUnknown) when the context ended before the step was sent. A
// local argument or validation error is returned as itself, never as a
// SubmitError: nothing was sent.
//
// What to do: without an ID, nothing was charged and submitting again is
// safe. With an ID, the draft is the submission's: finish it with Resume
// (WithCloseSentAt(CloseSentAt), or WithNoCloseSent when CloseSentAt is
// zero), or, with a journal, leave it to Recover, and do not submit again
// (leave it to Recover, never Resume, when Err matches ErrOutcomeUnknown
// and CloseSentAt is zero: only Recover can tell whether the journal holds
// the draft's id, and it closes the draft only if it does);
// only a refusal by the server (Err is an *APIError, such as
// ErrInsufficientCredit, and does not match ErrOutcomeUnknown, which is to
// be checked first: nothing was charged, and Recover leaves the draft
// alone) lets you choose between Resume, once the cause is fixed, and a new
// submission. With an idempotency key (WithIdempotencyKey) the choice is
// made for you, whatever Err says: Submit again with the same key, at any
// time and as often as you like; it finishes this submission and never
// makes another.
type SubmitError struct {
	Step SubmitStep // StepDraft or StepClose
	ID   string     // the draft's id; "" when the draft's outcome is unknown, or it is proven not journalled
	// Ref is the submission's client reference: its journal entry's key,
	// also put in callback_data.data under CallbackRefKey. Reconcile
	// recognises the richiesta by it (WithReconcileRef).
	Ref string
	// CloseSentAt is when the closing PUT was sent, if it may have reached
	// the server; zero if none did. No other close is sent for the
	// richiesta until the settle time (WithCloseSettle) has passed since
	// then: pass it to Resume (WithCloseSentAt).
	CloseSentAt time.Time
	Err         error // the cause
}

// Error implements error: "visengine: submit (close of richiesta …):
// <cause>".
func (e *SubmitError) Error() string {
	if e == nil {
		return "visengine: <nil SubmitError>"
	}
	step := string(e.Step)
	if e.ID != "" {
		step += " of richiesta " + e.ID
	}
	if e.Err == nil {
		return "visengine: submit (" + step + ") failed"
	}
	return "visengine: submit (" + step + "): " + bare(e.Err)
}

// Unwrap returns the cause.
func (e *SubmitError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// CallbackRefKey is the key of callback_data.data under which Submit puts
// the submission's client reference (SubmitError.Ref, JournalEntry.Ref),
// next to the callback's secret. Visengine echoes callback_data back, so a
// richiesta carries the proof of which submission made it.
const CallbackRefKey = "visengine_ref"

// Submit is the safe way to pay for a document (POST /richiesta, then PUT
// /richiesta/{id}). It validates values against v locally (an invalid
// applicant costs nothing and sends nothing), creates a free draft (state
// 0) and closes it (state 1), which charges the wallet. It sends at most
// one closing PUT.
//
// If the draft's outcome is unknown, nothing is closed: the error wraps
// ErrOutcomeUnknown; nothing was charged, and submitting again is free. If
// the close's outcome is unknown, Submit reads the richiesta back once and
// succeeds if it shows it closed; otherwise it returns a *SubmitError
// matching ErrOutcomeUnknown with the draft's ID and CloseSentAt, and
// Resume finishes the submission once the settle time (WithCloseSettle)
// has passed: no other close is sent before, since the lost one may still
// be applied. A close answered "success" whose richiesta does not read as
// closed is an unknown outcome too, and so is one refused as already
// closed (ErrAlreadyClosed) that does not read back closed: such a refusal
// means it was charged, not spared.
//
// With a journal (WithJournal), each step is recorded before it is taken:
// the intent (a new Ref, the service and a keyed digest of the values and
// options, never the values), the draft's id, the time the close is sent,
// and the outcome. With an idempotency key (WithIdempotencyKey) one key is
// one submission, however often Submit is called. A step refused with 429
// is sent again after the server's Retry-After (WithRateLimitRetry). A journal write that fails (ErrLeaseLost above all)
// stops the submission before its next call. Recover finishes what a
// crash interrupted. With a callback (WithCallback), the Ref is put in its
// data under CallbackRefKey; the caller's Callback is not modified.
func (c *Client) Submit(ctx context.Context, v *Visura, values Values, opts ...SubmitOption) (*Richiesta, error) {
	body, cfg, err := c.submitBody(ctx, v, values, opts)
	if err != nil {
		return nil, err
	}
	if cfg.keySet {
		return c.submitKeyed(ctx, v, body, cfg, opts)
	}
	if err := c.checkCredit(ctx, v, opts); err != nil {
		return nil, err
	}
	ref, err := NewJournalRef()
	if err != nil {
		return nil, err
	}
	if cfg.info != nil {
		cfg.info.Ref = ref
	}
	body.CallbackData = withRef(body.CallbackData, ref)
	rec, err := c.startRecord(ctx, ref, body)
	if err != nil {
		return nil, &SubmitError{Step: StepDraft, Ref: ref, Err: err}
	}
	defer rec.release(ctx)
	return c.submitSteps(ctx, rec, body)
}

// submitSteps creates the draft and closes it, recording each step in
// rec's entry.
func (c *Client) submitSteps(ctx context.Context, rec *record, body *richiestaBody) (*Richiesta, error) {
	draft, err := c.createDraft(ctx, rec, body)
	if err != nil {
		return nil, err
	}
	if draft.State != StateDraft {
		// The server closed it already; closing again would be refused.
		rec.e.DraftID = draft.ID // written with the outcome
		rec.end(ctx, JournalCompleted, "closed by the server at creation")
		return draft, nil
	}
	return c.closeDraft(ctx, rec, draft.ID)
}

// withRef returns a copy of cb with ref in its data; nil stays nil. The
// caller's callback is shared by every submission and is not modified.
func withRef(cb *Callback, ref string) *Callback {
	if cb == nil {
		return nil
	}
	cp := *cb
	cp.Data = make(map[string]any, len(cb.Data)+1)
	for k, v := range cb.Data {
		cp.Data[k] = v
	}
	cp.Data[CallbackRefKey] = ref
	return &cp
}

// bodyDigest is the digest of what the draft's POST sends, as j records
// it: keyed with j's secret (KeyedJournalDigest), or JournalDigest for a
// journal that keeps none.
func (c *Client) bodyDigest(ctx context.Context, j Journal, b *richiestaBody) (string, error) {
	secret, err := c.digestSecret(ctx, j)
	if err != nil {
		return "", err
	}
	return entryDigest(secret, b.HashVisura, b.JSONVisura, bodyNomi(b)), nil
}

// postDraft sends the draft's POST, again after each 429 while the
// retries last (WithRateLimitRetry): a 429 created nothing.
func (c *Client) postDraft(ctx context.Context, body *richiestaBody) (*Richiesta, error) {
	for retry := 0; ; retry++ {
		draft, err := c.richiestaCall(ctx, http.MethodPost, "/richiesta", body)
		if !c.rateLimited(ctx, err, retry) {
			return draft, err
		}
	}
}

// createDraft sends the draft's POST. Its id is recorded by closeDraft,
// with the close's time, in one write: nothing is sent between the two.
func (c *Client) createDraft(ctx context.Context, rec *record, body *richiestaBody) (*Richiesta, error) {
	draft, err := c.postDraft(ctx, body)
	if err != nil {
		var apiErr *APIError
		switch {
		case errors.Is(err, ErrOutcomeUnknown):
			rec.note(ctx, "draft outcome unknown: never to be closed")
		case errors.As(err, &apiErr):
			rec.end(ctx, JournalFailed, refusalNote("draft", err))
		default:
			rec.end(ctx, JournalAbandoned, "draft not sent")
		}
		return nil, &SubmitError{Step: StepDraft, Ref: rec.e.Ref, Err: err}
	}
	return draft, nil
}

// unrecordedDraft is Submit's error when the journal refused the draft's
// id. Recover closes a draft whose id is in the journal and reports any
// other one abandoned (nothing charged, submit again), so the error must
// say what the journal holds, as far as it is known:
//   - the id is there after all (a write that failed after it landed, with
//     the close's time although no close left): the id, for Resume, which
//     then waits the settle time, or Recover;
//   - it is not (the write matched no entry: a lease lost, a missing entry;
//     or the entry reads back without it): the draft is never to be
//     closed, and costs nothing left open;
//   - the entry cannot be read back: unknown, and only Recover, once the
//     journal answers, can tell; the id is handed out so that nobody
//     submits again, with an error matching ErrOutcomeUnknown and no
//     CloseSentAt, which tells the caller not to Resume.
func unrecordedDraft(ctx context.Context, rec *record, id string, cause error) error {
	held := &SubmitError{Step: StepClose, ID: id, Ref: rec.e.Ref, Err: errorf("visengine: close not sent: %w", cause)}
	if rec.e.DraftID == id {
		return held // an earlier write recorded it: a close sent again after a 429
	}
	never := &SubmitError{Step: StepDraft, Ref: rec.e.Ref, Err: errorf(
		"visengine: draft %s made but not journalled, so left open and never to be closed; nothing was charged: %w", id, cause)}
	if wroteNothing(cause) {
		return never
	}
	jctx, cancel := afterStep(ctx)
	defer cancel()
	e, err := rec.j.Get(jctx, rec.e.Ref)
	switch {
	case err != nil && !errors.Is(err, ErrNotFound): // a missing entry names no draft
		return &SubmitError{Step: StepClose, ID: id, Ref: rec.e.Ref, Err: errorf(
			"visengine: close not sent, and whether the journal holds the draft's id is unknown (reading it back failed: %v), "+
				"so leave it to Recover, which closes the draft if the journal holds its id and otherwise reports it abandoned; "+
				"neither submit again nor Resume: %w (%w)", bare(err), ErrOutcomeUnknown, cause)}
	case err == nil && e.DraftID == id:
		return held
	}
	return never
}

// closeDraft records the draft's id and that the close is sent (one write,
// before the PUT), sends it once, and records what came of it. After an
// unknown outcome it reads the richiesta back once and never closes again.
func (c *Client) closeDraft(ctx context.Context, rec *record, id string) (*Richiesta, error) {
	fail := func(sentAt time.Time, err error) error {
		return &SubmitError{Step: StepClose, ID: id, Ref: rec.e.Ref, CloseSentAt: sentAt, Err: err}
	}
	r, sent, err := c.sendClose(ctx, rec, id)
	if sent.IsZero() && err != nil {
		return nil, unrecordedDraft(ctx, rec, id, err)
	}
	var ou *OutcomeUnknownError
	switch {
	case err == nil:
		rec.end(ctx, JournalCompleted, "closed")
		return r, nil
	case errors.As(err, &ou):
		// Handled below. (Its cause may be an *APIError, such as a 502.)
	case errors.Is(err, ErrAlreadyClosed):
		// Not a refusal that spared the wallet: it was closed, and
		// charged, before this PUT arrived. Proven only if read back.
		ou = &OutcomeUnknownError{Method: http.MethodPut, Path: "/richiesta/" + id, SentAt: sent, Err: err}
		err = ou
	case errors.As(err, new(*APIError)):
		// A refusal: nothing charged, and the caller is told so; Recover
		// must not close it behind them. If the journal cannot record
		// that, a later Recover will close the draft, so the caller must
		// not submit again: the outcome is unknown, not refused.
		if jerr := rec.endErr(ctx, JournalFailed, refusalNote("close", err)); jerr != nil {
			return nil, fail(sent, &OutcomeUnknownError{Method: http.MethodPut, Path: "/richiesta/" + id, SentAt: sent,
				Err: errorf("visengine: refused (%w), but the refusal was not journalled (%v): Recover may still close it", err, bare(jerr))})
		}
		return nil, fail(sent, err)
	default:
		// Provably not sent (the context ended): the draft is still this
		// submission's, for Resume or Recover to close.
		rec.note(ctx, "close not sent")
		return nil, fail(time.Time{}, err)
	}
	sent = later(sent, ou.SentAt)
	if r, ok := c.closedAfterAll(ctx, id); ok {
		rec.end(ctx, JournalCompleted, "closed (read back after an unknown outcome)")
		return r, nil
	}
	c.recordCloseNote(ctx, rec, sent, "close outcome unknown")
	return nil, fail(sent, errorf("%w; no other close before %s (Resume)", err,
		sent.Add(c.eo.settle).UTC().Format(time.RFC3339)))
}

// closedAfterAll reads id back once, after a short wait, and reports it if
// it shows it closed. Anything else (a draft, which a lagging replica may
// show although the close went through; a failed read) proves nothing.
func (c *Client) closedAfterAll(ctx context.Context, id string) (*Richiesta, bool) {
	if sleep(ctx, c.http.SettleDelay()) != nil {
		return nil, false
	}
	r, err := c.GetRichiesta(ctx, id)
	if err != nil || checkClosed(id, r) != nil {
		return nil, false
	}
	return r, true
}

// checkClosed says why r, the answer to closing id, does not prove the close.
func checkClosed(id string, r *Richiesta) error {
	switch {
	case r == nil:
		return errorf("%w: no richiesta", ErrUnexpectedResponse)
	case r.ID != id:
		return errorf("%w: the answer is richiesta %s, not %s", ErrUnexpectedResponse, idLabel(r.ID), id)
	case r.State != StateSubmitted:
		return errorf("%w: the richiesta reads %s, not closed", ErrUnexpectedResponse, r.State)
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// DryRunResult is what a dry run answers. Nothing was stored or charged.
type DryRunResult struct {
	// Echo is the richiesta as the server echoed it, priced and marked
	// started, but already deleted: its ID cannot be read back (GET
	// /richiesta/{id} answers 404) and nothing will come of it.
	Echo *Richiesta
	// Message is the envelope's message, "Test Request, deleting" on
	// Visengine and on visenginetest, less the token and the values the
	// call sent (as for APIError.Message).
	Message string
}

// Total is what the richiesta would cost: see Richiesta.Total.
func (d *DryRunResult) Total() (Price, error) {
	if d == nil || d.Echo == nil {
		return Price{}, invalidArg("dry run result", "is nil")
	}
	return d.Echo.Total()
}

// DryRun checks a submission without paying for it (POST /richiesta with
// "test": true): it validates values against v locally as Submit does, then
// the server validates and prices the richiesta, stores nothing and charges
// nothing. opts are Submit's. The result's Echo looks like a started
// richiesta but was deleted at once: its ID cannot be read back.
func (c *Client) DryRun(ctx context.Context, v *Visura, values Values, opts ...SubmitOption) (*DryRunResult, error) {
	body, _, err := c.submitBody(ctx, v, values, opts)
	if err != nil {
		return nil, err
	}
	body.State, body.Test = StateSubmitted, true
	var r Richiesta
	msg, err := c.callMessage(ctx, http.MethodPost, "/richiesta", body, &r)
	if err != nil {
		return nil, err
	}
	return &DryRunResult{Echo: &r, Message: msg}, nil
}

// submitBody runs every local check of Submit and DryRun (the arguments, the
// applicant's values, the options) and builds the draft's body. Nothing is
// sent, so its errors are never a SubmitError.
func (c *Client) submitBody(ctx context.Context, v *Visura, values Values, opts []SubmitOption) (*richiestaBody, *submitConfig, error) {
	if err := c.ready(ctx); err != nil {
		return nil, nil, err
	}
	if v == nil {
		return nil, nil, invalidArg("visura", "is nil")
	}
	if values == nil {
		return nil, nil, invalidArg("values", "are nil")
	}
	var cfg submitConfig
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if err := checkIdempotencyKey(cfg.key, cfg.keySet); err != nil {
		return nil, nil, err
	}
	if err := v.Validate(values, cfg.validate...); err != nil {
		return nil, nil, err
	}
	p := &RichiestaParams{HashVisura: v.HashVisura, JSONVisura: values, CallbackData: cfg.callback,
		EmailTarget: cfg.email, Opzioni: cfg.options, Visura: v}
	body, err := p.body()
	return body, &cfg, err
}
