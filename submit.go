package visengine

import (
	"context"
	"errors"
	"net/http"
)

// SubmitOption configures Submit and DryRun.
type SubmitOption func(*submitConfig)

type submitConfig struct {
	callback *Callback
	email    string
	options  []string
	validate []ValidateOption
	credit   *creditCheck // WithCreditCheck (credit.go)
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

// SubmitStep names a step of Submit.
type SubmitStep string

// The steps of Submit, in order.
const (
	StepDraft SubmitStep = "draft" // POST /richiesta with state 0: free
	StepClose SubmitStep = "close" // PUT /richiesta/{id} with state 1: paid
)

// SubmitError says at which step Submit failed and, once the draft exists,
// its id, so the caller can resume (GetRichiesta, CloseRichiesta) instead of
// creating and paying for another richiesta. Err says whether the step was
// sent: it matches ErrOutcomeUnknown when the step may have reached the
// server, and context.Canceled or context.DeadlineExceeded (and not
// ErrOutcomeUnknown) when the context ended before the step was sent. A
// local argument or validation error is returned as itself, never as a
// SubmitError: nothing was sent.
type SubmitError struct {
	Step SubmitStep // StepDraft or StepClose
	ID   string     // the draft's id; "" when the draft's outcome is unknown
	Err  error      // the cause
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

// Submit is the safe way to pay for a document (POST /richiesta, then PUT
// /richiesta/{id}). It validates values against v locally (an invalid
// applicant costs nothing and sends nothing), creates a free draft (state
// 0) and closes it (state 1), which charges the wallet.
//
// If the draft's outcome is unknown, nothing is closed: the error wraps
// ErrOutcomeUnknown and Reconcile finds the draft, if it exists. If the
// close's outcome is unknown, the richiesta is read back and closed again
// only if it is still open; closing is the only paid step and Visengine
// refuses to close twice, so at most one charge is made per Submit.
// Failures of a step are *SubmitError; see there.
func (c *Client) Submit(ctx context.Context, v *Visura, values Values, opts ...SubmitOption) (*Richiesta, error) {
	body, err := c.submitBody(ctx, v, values, opts)
	if err != nil {
		return nil, err
	}
	if err := c.checkCredit(ctx, v, opts); err != nil {
		return nil, err
	}
	draft, err := c.richiestaCall(ctx, http.MethodPost, "/richiesta", body)
	if err != nil {
		return nil, &SubmitError{Step: StepDraft, Err: err}
	}
	if draft.State != StateDraft {
		return draft, nil // the server closed it already; closing again would be refused
	}
	r, err := c.closeOnce(ctx, draft.ID)
	if err != nil {
		return nil, &SubmitError{Step: StepClose, ID: draft.ID, Err: err}
	}
	return r, nil
}

// DryRunResult is what a dry run answers. Nothing was stored or charged.
type DryRunResult struct {
	// Echo is the richiesta as the server echoed it, priced and marked
	// started, but already deleted: its ID cannot be read back (GET
	// /richiesta/{id} answers 404) and nothing will come of it.
	Echo *Richiesta
	// Message is the envelope's message as sent, "Test Request, deleting"
	// on Visengine and on visenginetest.
	Message string
}

// Total is what the richiesta would cost: see Richiesta.Total.
func (d *DryRunResult) Total() (Price, error) {
	if d == nil || d.Echo == nil {
		return 0, invalidArg("dry run result", "is nil")
	}
	return d.Echo.Total()
}

// DryRun checks a submission without paying for it (POST /richiesta with
// "test": true): it validates values against v locally as Submit does, then
// the server validates and prices the richiesta, stores nothing and charges
// nothing. opts are Submit's. The result's Echo looks like a started
// richiesta but was deleted at once: its ID cannot be read back.
func (c *Client) DryRun(ctx context.Context, v *Visura, values Values, opts ...SubmitOption) (*DryRunResult, error) {
	body, err := c.submitBody(ctx, v, values, opts)
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
func (c *Client) submitBody(ctx context.Context, v *Visura, values Values, opts []SubmitOption) (*richiestaBody, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, invalidArg("visura", "is nil")
	}
	if values == nil {
		return nil, invalidArg("values", "are nil")
	}
	var cfg submitConfig
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if err := v.Validate(values, cfg.validate...); err != nil {
		return nil, err
	}
	p := &RichiestaParams{HashVisura: v.HashVisura, JSONVisura: values, CallbackData: cfg.callback,
		EmailTarget: cfg.email, Opzioni: cfg.options, Visura: v}
	return p.body()
}

// closeAttempts bounds how often Submit closes a draft that reads back open.
const closeAttempts = 3

// closeOnce closes id. After an unknown outcome it waits a moment, reads the
// richiesta back and closes again only while it is still open. Once an
// outcome was unknown, no later answer can make it known as a failure: a
// refusal of the next close (429, 402, or 239 "already closed" with a read
// back that still shows a draft) may be caused by the lost close itself, so
// the caller hears ErrOutcomeUnknown, never a plain error that invites
// paying again.
func (c *Client) closeOnce(ctx context.Context, id string) (*Richiesta, error) {
	var unknown error
	for range closeAttempts {
		r, err := c.CloseRichiesta(ctx, id)
		switch {
		case err == nil:
			return r, nil
		case unknown != nil && alreadyClosed(err):
			return c.closedAfterAll(ctx, id, unknown)
		case unknown != nil && !errors.Is(err, ErrOutcomeUnknown):
			return nil, errorf("%w (closing again: %v)", unknown, err)
		case !errors.Is(err, ErrOutcomeUnknown):
			return nil, err
		}
		unknown = err
		if err := sleep(ctx, c.http.SettleDelay()); err != nil {
			return nil, errorf("%w (not read back: %v)", unknown, err)
		}
		cur, err := c.readBack(ctx, id, unknown)
		if err != nil || cur.State != StateDraft {
			return cur, err
		}
	}
	return nil, unknown
}

// closedAfterAll handles "already closed" after a lost close: the lost one
// applied, and the richiesta read back should show it; if the read still
// shows a draft (a lagging replica), the outcome stays unknown.
func (c *Client) closedAfterAll(ctx context.Context, id string, unknown error) (*Richiesta, error) {
	cur, err := c.readBack(ctx, id, unknown)
	if err == nil && cur.State == StateDraft {
		return nil, errorf("%w (refused as already closed, yet read back open)", unknown)
	}
	return cur, err
}

// readBack reads id after a close whose outcome is unknown; if even that
// fails, the unknown outcome is what the caller must hear.
func (c *Client) readBack(ctx context.Context, id string, unknown error) (*Richiesta, error) {
	cur, err := c.GetRichiesta(ctx, id)
	if err != nil {
		return nil, errorf("%w (reading it back also failed: %v)", unknown, err)
	}
	return cur, nil
}

// alreadyClosed reports Visengine's refusal to close a closed richiesta
// (400, CodeAlreadyClosed).
func alreadyClosed(err error) bool { return errors.Is(err, ErrAlreadyClosed) }
