package visengine

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// ReconcileOption configures Reconcile.
type ReconcileOption func(*reconcileConfig)

type reconcileConfig struct{ window, settle time.Duration }

// ReconcileWindow sets how far from sentAt a richiesta's creation time may
// be and still count (default 10 minutes, for clock skew between the two
// machines).
func ReconcileWindow(d time.Duration) ReconcileOption {
	return func(c *reconcileConfig) { c.window = d }
}

// ReconcileSettle sets how long after sentAt an absence is conclusive
// (default 2 minutes). A gateway can time out while the backend is still
// creating the richiesta; until then "none found" only means "not yet".
func ReconcileSettle(d time.Duration) ReconcileOption {
	return func(c *reconcileConfig) { c.settle = d }
}

// Reconcile finds the richiesta that a POST /richiesta with an unknown
// outcome created: among the account's richieste of the same service created
// around sentAt (OutcomeUnknownError.SentAt), it reads only those candidates
// and returns the one whose submitted values equal values.
//
// It answers ErrNotFound only when that is safe to act on: no candidate
// matches, none hides its values, and the settle time has passed since
// sentAt. Otherwise the error still wraps ErrOutcomeUnknown: a candidate
// whose values cannot be read may be the one (it is never guessed, since
// closing another applicant's draft would charge for the wrong person), or
// the richiesta may not be visible yet. For a lost draft (Submit's first
// step), submitting again is free whatever Reconcile says: drafts are not
// charged, and an orphan draft is never closed.
func (c *Client) Reconcile(ctx context.Context, hash string, values Values, sentAt time.Time, opts ...ReconcileOption) (*Richiesta, error) {
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	cfg := reconcileConfig{window: 10 * time.Minute, settle: 2 * time.Minute}
	for _, opt := range opts {
		opt(&cfg)
	}
	if sentAt.IsZero() || sentAt.After(time.Now().Add(cfg.window)) {
		return nil, invalidArg("sentAt", "must be when the lost request was sent (OutcomeUnknownError.SentAt)")
	}
	entries, err := c.listEntries(ctx)
	if err != nil {
		return nil, fmt.Errorf("visengine: reconcile: %w", err)
	}
	var unverifiable []string
	for _, id := range reconcileCandidates(entries, hash, sentAt, cfg.window) {
		r, err := c.candidate(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("visengine: reconcile: %w", err)
		}
		got := Values(nil)
		if r != nil {
			got = submittedValues(r)
		}
		if got == nil {
			unverifiable = append(unverifiable, idLabel(id))
			continue
		}
		if sameValues(got, values) {
			return r, nil
		}
	}
	return nil, reconcileMiss(hash, sentAt, cfg, unverifiable)
}

// idLabel names an id in an error only when it is a well-formed id.
func idLabel(id string) string {
	if checkID("id", id) != nil {
		return "(an entry without a usable id)"
	}
	return id
}

// candidate reads a possible match; nil (without error) when it cannot be
// read as a richiesta, so it counts as unverifiable rather than ending the
// search.
func (c *Client) candidate(ctx context.Context, id string) (*Richiesta, error) {
	if checkID("id", id) != nil {
		return nil, nil
	}
	r, err := c.GetRichiesta(ctx, id)
	if errors.Is(err, ErrUnexpectedResponse) {
		return nil, nil
	}
	return r, err
}

// reconcileMiss says why nothing was found, and whether that is conclusive.
func reconcileMiss(hash string, sentAt time.Time, cfg reconcileConfig, unverifiable []string) error {
	around := fmt.Sprintf("%s created within %s of %s", hash, cfg.window, sentAt.UTC().Format(time.RFC3339))
	switch {
	case len(unverifiable) > 0:
		return fmt.Errorf("visengine: reconcile: richieste of %s show no values to compare (%s): %w",
			around, strings.Join(unverifiable, ", "), ErrOutcomeUnknown)
	case time.Since(sentAt) < cfg.settle:
		return fmt.Errorf("visengine: reconcile: no richiesta of %s yet; ask again after %s: %w",
			around, sentAt.Add(cfg.settle).UTC().Format(time.RFC3339), ErrOutcomeUnknown)
	}
	return fmt.Errorf("visengine: reconcile: no richiesta of %s has these values: %w", around, ErrNotFound)
}

// reconcileCandidates returns the ids of richieste of hash created within
// window of sentAt, closest first; those whose creation time cannot be read
// come last, since they may be the one.
func reconcileCandidates(entries []listEntry, hash string, sentAt time.Time, window time.Duration) []string {
	type cand struct {
		id   string
		dist time.Duration
	}
	var cs []cand
	for _, e := range entries {
		d := time.Duration(math.MaxInt64)
		if !e.created.IsZero() {
			d = e.created.Sub(sentAt.Truncate(time.Second)).Abs()
		}
		if e.hash == hash && (e.created.IsZero() || d <= window) {
			cs = append(cs, cand{e.id, d})
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

// ErrSearchFailed: the richiesta's last search found nothing or was refused
// ("Errore su richiesta dati"); it waits for another search (AddRicerca).
var ErrSearchFailed = errors.New("visengine: search failed")

// SearchFailedError is returned by Wait when the last search failed, since
// nothing will change until the caller adds a search.
type SearchFailedError struct {
	Richiesta *Richiesta // as last read; LastRicerca and Esito say more
}

// Error implements error. The provider's esito text is left out: it may
// quote the searched values.
func (e *SearchFailedError) Error() string {
	return fmt.Sprintf("visengine: search %s of richiesta %s failed (esito %s); add another with AddRicerca",
		e.Richiesta.LastRicerca().IDRicerca, e.Richiesta.ID, e.Richiesta.Esito.Codice)
}

// Is matches ErrSearchFailed.
func (e *SearchFailedError) Is(target error) bool { return target == ErrSearchFailed }

func searchFailed(r *Richiesta) bool {
	last := r.LastRicerca()
	return r.StatoRichiesta == StatoInRicerca && last != nil && last.StatoRicerca == RicercaErrore
}

// WaitOption configures Wait.
type WaitOption func(*waitConfig)

type waitConfig struct {
	min, max    time.Duration
	onChange    func(*Richiesta)
	maxFailures int
}

// PollInterval sets the first and the longest wait between polls (default
// 15s growing to 10m: documents made by operators take hours). Tests can
// use milliseconds; a first wait of zero or less means one second, so a
// mistake cannot turn Wait into a busy loop against the API.
func PollInterval(first, longest time.Duration) WaitOption {
	if first <= 0 {
		first = time.Second
	}
	return func(c *waitConfig) { c.min, c.max = first, max(first, longest) }
}

// OnChange calls fn with the richiesta each time its state is seen to
// change, starting with the first poll.
func OnChange(fn func(*Richiesta)) WaitOption { return func(c *waitConfig) { c.onChange = fn } }

// Wait polls the richiesta until its document is ready, its search results
// wait for a choice, its last search failed (a *SearchFailedError, matching
// ErrSearchFailed) or it is cancelled (a *CancelledError, matching
// ErrCancelled); both errors carry the richiesta. A draft never progresses,
// so waiting on one ends at once with an error matching ErrInvalidRequest.
// Temporary failures (5xx, 429, network) are polled through; the fifth in a
// row ends the wait. It returns ctx.Err() as soon as ctx ends.
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
	case searchFailed(r):
		return true, &SearchFailedError{Richiesta: r}
	case r.State == StateDraft:
		return true, fmt.Errorf("visengine: richiesta %s is a draft and will not progress until closed: %w", r.ID, ErrInvalidRequest)
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
