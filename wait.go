package visengine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/visengine-go/visengine/internal/transport"
)

// CancelledError is returned by Wait when the richiesta was cancelled.
type CancelledError struct {
	Richiesta *Richiesta // as last read
}

// Error implements error.
func (e *CancelledError) Error() string {
	if e == nil || e.Richiesta == nil {
		return "visengine: richiesta was cancelled (" + string(StatoAnnullata) + ")"
	}
	return fmt.Sprintf("visengine: richiesta %s was cancelled (%s)", e.Richiesta.ID, StatoAnnullata)
}

// Is matches ErrCancelled.
func (e *CancelledError) Is(target error) bool { return target == ErrCancelled }

// SearchFailedError is returned by Wait when the last search failed, since
// nothing will change until the caller adds a search.
type SearchFailedError struct {
	Richiesta *Richiesta // as last read; LastRicerca and Esito say more
}

// Error implements error. The provider's esito text is left out: it may
// quote the searched values. The search's id and the esito's code are the
// server's, printed as APIError prints a message (cleaned and capped), so
// they cannot forge log lines.
func (e *SearchFailedError) Error() string {
	if e == nil || e.Richiesta.LastRicerca() == nil {
		return "visengine: search failed; add another with AddRicerca"
	}
	return fmt.Sprintf("visengine: search %s of richiesta %s failed (esito %s); add another with AddRicerca",
		cleanMessage(e.Richiesta.LastRicerca().IDRicerca), e.Richiesta.ID, cleanMessage(e.Richiesta.Esito.Codice))
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

// WithPollInterval sets the first and the longest wait between polls (default
// 15s growing to 10m: documents made by operators take hours). Tests can
// use milliseconds; a first wait of zero or less means one second, so a
// mistake cannot turn Wait into a busy loop against the API.
func WithPollInterval(first, longest time.Duration) WaitOption {
	if first <= 0 {
		first = time.Second
	}
	return func(c *waitConfig) { c.min, c.max = first, max(first, longest) }
}

// WithOnChange calls fn with the richiesta each time its state is seen to
// change, starting with the first poll.
func WithOnChange(fn func(*Richiesta)) WaitOption { return func(c *waitConfig) { c.onChange = fn } }

// Wait polls the richiesta (GET /richiesta/{id}) until its document is ready, its search results
// wait for a choice, its last search failed (a *SearchFailedError, matching
// ErrSearchFailed) or it is cancelled (a *CancelledError, matching
// ErrCancelled); both errors carry the richiesta. A draft never progresses,
// so waiting on one ends at once with an error matching ErrInvalidRequest.
// Temporary failures (5xx, 429, network) are polled through; the fifth in a
// row ends the wait. It returns ctx.Err() as soon as ctx ends.
func (c *Client) Wait(ctx context.Context, id string, opts ...WaitOption) (*Richiesta, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	cfg := waitConfig{min: 15 * time.Second, max: 10 * time.Minute, maxFailures: 5}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
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
		return true, errorf("visengine: richiesta %s is a draft and will not progress until closed: %w", r.ID, ErrInvalidRequest)
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
	// A missing scope or token will not appear by polling again.
	return !errors.Is(err, ErrInvalidArgument) && !errors.Is(err, ErrMissingScope)
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
