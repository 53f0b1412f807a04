package visengine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/visengine-go/visengine/internal/transport"
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

// WithOptions chooses paid options by nome ("opzione_0") or tipo
// ("urgenza"); an option the service does not offer is an error before
// anything is sent.
func WithOptions(nameOrTipo ...string) SubmitOption {
	return func(c *submitConfig) { c.options = append(c.options, nameOrTipo...) }
}

// WithValidation passes opts (Strict, MaxFileSize) to the local Validate
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
	r, err := c.closeOnce(ctx, draft.ID)
	if err != nil {
		return nil, &SubmitError{Step: "close", ID: draft.ID, Err: err}
	}
	return r, nil
}

// closeAttempts bounds how often Submit closes a draft that reads back open.
const closeAttempts = 3

// closeOnce closes id. After an unknown outcome it waits a moment, reads the
// richiesta back and closes again only while it is still open; if that close
// is refused as already closed, the lost one did apply, and the richiesta is
// read back rather than the refusal reported (which would invite paying
// again).
func (c *Client) closeOnce(ctx context.Context, id string) (*Richiesta, error) {
	var unknown error
	for range closeAttempts {
		r, err := c.CloseRichiesta(ctx, id)
		switch {
		case err == nil:
			return r, nil
		case unknown != nil && alreadyClosed(err):
			return c.readBack(ctx, id, unknown)
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

// ReconcileOption configures Reconcile.
type ReconcileOption func(*reconcileConfig)

type reconcileConfig struct{ window time.Duration }

// ReconcileWindow sets how far from sentAt a richiesta's creation time may
// be and still count (default 10 minutes, for clock skew between the two
// machines).
func ReconcileWindow(d time.Duration) ReconcileOption {
	return func(c *reconcileConfig) { c.window = d }
}

// Reconcile finds the richiesta that a POST /richiesta with an unknown
// outcome created: among the account's richieste of the same service created
// around sentAt (OutcomeUnknownError.SentAt), it reads only those candidates
// and compares their submitted values with values. A candidate whose values
// cannot be read back is accepted only when it is the sole candidate; when
// several such candidates remain, the error wraps ErrOutcomeUnknown, since
// any of them may be the one. When no richiesta matches, the error wraps
// ErrNotFound: the POST never arrived and sending it again is safe.
func (c *Client) Reconcile(ctx context.Context, hash string, values Values, sentAt time.Time, opts ...ReconcileOption) (*Richiesta, error) {
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	cfg := reconcileConfig{window: 10 * time.Minute}
	for _, opt := range opts {
		opt(&cfg)
	}
	list, err := c.ListRichieste(ctx)
	if err != nil {
		return nil, fmt.Errorf("visengine: reconcile: %w", err)
	}
	candidates := reconcileCandidates(list, hash, sentAt, cfg.window)
	var unverifiable []*Richiesta
	for _, id := range candidates {
		r, err := c.GetRichiesta(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("visengine: reconcile: %w", err)
		}
		got := submittedValues(r)
		if got == nil {
			unverifiable = append(unverifiable, r)
			continue
		}
		if sameValues(got, values) {
			return r, nil
		}
	}
	if len(candidates) == 1 && len(unverifiable) == 1 {
		return unverifiable[0], nil
	}
	if len(unverifiable) > 0 {
		// Any of these may be the one the POST created: "not found" would
		// tell the caller that sending it again is safe, which it is not.
		return nil, fmt.Errorf("visengine: reconcile: %d richieste of %s created within %s of %s show no values to compare: %w",
			len(unverifiable), hash, cfg.window, sentAt.UTC().Format(time.RFC3339), ErrOutcomeUnknown)
	}
	return nil, fmt.Errorf("visengine: reconcile: no richiesta of %s created within %s of %s has these values: %w",
		hash, cfg.window, sentAt.UTC().Format(time.RFC3339), ErrNotFound)
}

// reconcileCandidates returns the ids of richieste of hash created within
// window of sentAt, closest first.
func reconcileCandidates(list []RichiestaSummary, hash string, sentAt time.Time, window time.Duration) []string {
	type cand struct {
		id   string
		dist time.Duration
	}
	var cs []cand
	for _, s := range list {
		d := s.TimestampCreation.Sub(sentAt.Truncate(time.Second)).Abs()
		if s.HashVisura == hash && !s.TimestampCreation.IsZero() && d <= window {
			cs = append(cs, cand{s.ID, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].dist < cs[j].dist })
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.id
	}
	return ids
}

// submittedValues are the values of the richiesta's first search, which
// Visengine fills from json_visura.
func submittedValues(r *Richiesta) Values {
	if len(r.Ricerche) == 0 {
		return nil
	}
	return r.Ricerche[0].Valori
}

// sameValues compares the filled values of a and b, ignoring blanks around
// them and keys left empty.
func sameValues(a, b Values) bool {
	filled := func(v Values) map[string]string {
		m := map[string]string{}
		for k, s := range v {
			if s = strings.TrimSpace(s); s != "" {
				m[k] = s
			}
		}
		return m
	}
	fa, fb := filled(a), filled(b)
	if len(fa) != len(fb) {
		return false
	}
	for k, s := range fa {
		if fb[k] != s {
			return false
		}
	}
	return true
}

// ErrCancelled: the richiesta was cancelled ("Annullata").
var ErrCancelled = errors.New("visengine: richiesta cancelled")

// CancelledError is returned by Wait when the richiesta was cancelled.
type CancelledError struct {
	Richiesta *Richiesta // as last read
}

// Error implements error.
func (e *CancelledError) Error() string {
	return fmt.Sprintf("visengine: richiesta %s was cancelled (%s)", e.Richiesta.ID, StatoAnnullata)
}

// Is matches ErrCancelled.
func (e *CancelledError) Is(target error) bool { return target == ErrCancelled }

// WaitOption configures Wait.
type WaitOption func(*waitConfig)

type waitConfig struct {
	min, max    time.Duration
	onChange    func(*Richiesta)
	maxFailures int
}

// PollInterval sets the first and the longest wait between polls (default
// 15s growing to 10m: documents made by operators take hours). Tests can
// use milliseconds.
func PollInterval(first, longest time.Duration) WaitOption {
	return func(c *waitConfig) { c.min, c.max = first, max(first, longest) }
}

// OnChange calls fn with the richiesta each time its state is seen to
// change, starting with the first poll.
func OnChange(fn func(*Richiesta)) WaitOption { return func(c *waitConfig) { c.onChange = fn } }

// Wait polls the richiesta until its document is ready, its search results
// wait for a choice, or it is cancelled (an error wrapping ErrCancelled that
// carries the richiesta). Temporary failures (5xx, 429, network) are
// tolerated up to five in a row. It returns ctx.Err() as soon as ctx ends.
func (c *Client) Wait(ctx context.Context, id string, opts ...WaitOption) (*Richiesta, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	cfg := waitConfig{min: 15 * time.Second, max: 10 * time.Minute, maxFailures: 5}
	for _, opt := range opts {
		opt(&cfg)
	}
	var last Stato
	failures := 0
	for attempt := 0; ; attempt++ {
		r, err := c.GetRichiesta(ctx, id)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && (!temporary(err) || failures+1 >= cfg.maxFailures):
			return nil, err
		case err != nil:
			failures++
		default:
			failures = 0
			if done, err := waitStep(r, &last, cfg.onChange); done {
				return r, err
			}
		}
		if err := sleep(ctx, transport.Jittered(cfg.min, cfg.max, attempt)); err != nil {
			return nil, err
		}
	}
}

// waitStep reports a state change and whether waiting is over.
func waitStep(r *Richiesta, last *Stato, onChange func(*Richiesta)) (bool, error) {
	if r.StatoRichiesta != *last {
		*last = r.StatoRichiesta
		if onChange != nil {
			onChange(r)
		}
	}
	switch {
	case r.StatoRichiesta == StatoAnnullata:
		return true, &CancelledError{Richiesta: r}
	case r.DocumentReady(), r.SearchResultsReady():
		return true, nil
	}
	return false, nil
}

// temporary says whether a failed poll is worth repeating.
func temporary(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Temporary() || errors.Is(err, ErrUnexpectedResponse)
	}
	return !errors.Is(err, ErrInvalidArgument)
}

// sleep waits d or until ctx ends, without leaving a timer behind.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
