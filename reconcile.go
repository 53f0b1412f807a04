package visengine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// ReconcileOption configures Reconcile.
type ReconcileOption func(*reconcileConfig)

type reconcileConfig struct{ window, settle time.Duration }

// WithReconcileWindow sets how far from sentAt a richiesta's creation time may
// be and still count (default 10 minutes, for clock skew between the two
// machines).
func WithReconcileWindow(d time.Duration) ReconcileOption {
	return func(c *reconcileConfig) { c.window = d }
}

// WithReconcileSettle sets how long after sentAt an absence is conclusive
// (default 2 minutes). A gateway can time out while the backend is still
// creating the richiesta; until then "none found" only means "not yet".
func WithReconcileSettle(d time.Duration) ReconcileOption {
	return func(c *reconcileConfig) { c.settle = d }
}

// Reconcile finds the richiesta that a POST /richiesta with an unknown
// outcome created: it lists the account's richieste (GET /richiesta), reads
// only those of the same service created around sentAt
// (OutcomeUnknownError.SentAt) with GET /richiesta/{id}, and returns the one
// whose submitted values equal values.
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
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	if values == nil {
		return nil, invalidArg("values", "are nil")
	}
	cfg := reconcileConfig{window: 10 * time.Minute, settle: 2 * time.Minute}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if sentAt.IsZero() || sentAt.After(time.Now().Add(cfg.window)) {
		return nil, invalidArg("sentAt", "must be when the lost request was sent (OutcomeUnknownError.SentAt)")
	}
	entries, err := c.listEntries(ctx)
	if err != nil {
		return nil, errorf("visengine: reconcile: %w", err)
	}
	var unverifiable []string
	for _, id := range reconcileCandidates(entries, hash, sentAt, cfg.window) {
		r, err := c.candidate(ctx, id)
		if err != nil {
			return nil, errorf("visengine: reconcile: %w", err)
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
		return errorf("visengine: reconcile: richieste of %s show no values to compare (%s): %w",
			around, strings.Join(unverifiable, ", "), ErrOutcomeUnknown)
	case time.Since(sentAt) < cfg.settle:
		return errorf("visengine: reconcile: no richiesta of %s yet; ask again after %s: %w",
			around, sentAt.Add(cfg.settle).UTC().Format(time.RFC3339), ErrOutcomeUnknown)
	}
	return errorf("visengine: reconcile: no richiesta of %s has these values: %w", around, ErrNotFound)
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
	return r.Ricerche[0].Valori()
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
