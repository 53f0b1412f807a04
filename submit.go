package visengine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// SubmitOption configures Submit.
type SubmitOption func(*submitConfig)

type submitConfig struct {
	callback *Callback
	email    string
	options  []string
	dryRun   bool
	validate []ValidateOption
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

// DryRun makes Submit a single test request: the server validates and
// prices the richiesta, stores nothing and charges nothing.
func DryRun() SubmitOption { return func(c *submitConfig) { c.dryRun = true } }

// SubmitError says at which step Submit failed and, once the draft exists,
// its id, so the caller can resume (GetRichiesta, CloseRichiesta) instead of
// creating and paying for another richiesta.
type SubmitError struct {
	Step string // "draft" or "close"
	ID   string // the draft's id; "" when the draft's outcome is unknown
	Err  error  // the cause
}

// Error implements error.
func (e *SubmitError) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("visengine: submit: %s: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("visengine: submit: %s of richiesta %s: %v", e.Step, e.ID, e.Err)
}

// Unwrap returns the cause.
func (e *SubmitError) Unwrap() error { return e.Err }

// Submit is the safe way to pay for a document. It validates values against
// v locally (an invalid applicant costs nothing and sends nothing), creates a
// free draft (state 0) and closes it (state 1), which charges the wallet.
//
// If the draft's outcome is unknown, nothing is closed: the error wraps
// ErrOutcomeUnknown and Reconcile finds the draft, if it exists. If the
// close's outcome is unknown, the richiesta is read back and closed again
// only if it is still open; closing is the only paid step and Visengine
// refuses to close twice, so at most one charge is made per Submit.
func (c *Client) Submit(ctx context.Context, v *Visura, values Values, opts ...SubmitOption) (*Richiesta, error) {
	if v == nil {
		return nil, invalidArg("visura", "is nil")
	}
	var cfg submitConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := v.Validate(values, cfg.validate...); err != nil {
		return nil, err
	}
	p := &RichiestaParams{HashVisura: v.HashVisura, JSONVisura: values, CallbackData: cfg.callback,
		EmailTarget: cfg.email, Opzioni: cfg.options, Visura: v}
	if cfg.dryRun {
		p.State, p.Test = StateSubmitted, true
		return c.CreateRichiesta(ctx, p)
	}
	draft, err := c.CreateRichiesta(ctx, p)
	if err != nil {
		return nil, &SubmitError{Step: "draft", Err: err}
	}
	if draft.State != StateDraft {
		return draft, nil // the server closed it already; closing again would be refused
	}
	r, err := c.closeOnce(ctx, draft.ID)
	if err != nil {
		return nil, &SubmitError{Step: "close", ID: draft.ID, Err: err}
	}
	return r, nil
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
			return nil, fmt.Errorf("%w (closing again: %v)", unknown, err)
		case !errors.Is(err, ErrOutcomeUnknown):
			return nil, err
		}
		unknown = err
		if err := sleep(ctx, c.http.RetryWaitMin); err != nil {
			return nil, fmt.Errorf("%w (not read back: %v)", unknown, err)
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
		return nil, fmt.Errorf("%w (refused as already closed, yet read back open)", unknown)
	}
	return cur, err
}

// readBack reads id after a close whose outcome is unknown; if even that
// fails, the unknown outcome is what the caller must hear.
func (c *Client) readBack(ctx context.Context, id string, unknown error) (*Richiesta, error) {
	cur, err := c.GetRichiesta(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%w (reading it back also failed: %v)", unknown, err)
	}
	return cur, nil
}

// alreadyClosed reports Visengine's refusal to close a closed richiesta
// (400, error 239).
func alreadyClosed(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest && apiErr.Code == 239
}
