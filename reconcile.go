package visengine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Defaults of Reconcile.
const (
	// DefaultReconcileSkew is how far Visengine's clock may be behind ours
	// (WithReconcileSkew).
	DefaultReconcileSkew = time.Minute
	// DefaultReconcileMaxReads bounds the richieste Reconcile reads one by
	// one (WithReconcileMaxReads).
	DefaultReconcileMaxReads = 25
)

// ReconcileOption configures Reconcile.
type ReconcileOption func(*reconcileConfig)

type reconcileConfig struct {
	skew, settle time.Duration
	maxReads     int
	ref          string
	draft        bool
}

// WithReconcileSkew sets how far Visengine's clock may be behind ours
// (default DefaultReconcileSkew, one minute): only richieste created at or
// after sentAt minus this are candidates. A richiesta cannot be created
// before its POST was sent, so older ones, however alike, are never taken.
func WithReconcileSkew(d time.Duration) ReconcileOption {
	return func(c *reconcileConfig) { c.skew = max(d, 0) }
}

// WithReconcileSettle sets how long after sentAt the absence of a lost
// draft is conclusive (default 2 minutes; see WithReconcileDraft): a
// gateway can time out while the backend is still creating it.
func WithReconcileSettle(d time.Duration) ReconcileOption {
	return func(c *reconcileConfig) { c.settle = d }
}

// WithReconcileMaxReads bounds how many candidates Reconcile reads with GET
// /richiesta/{id}, and journal lookups it makes (each asks about up to
// JournalLookupMax candidates at once), together (default
// DefaultReconcileMaxReads, 25; at least 1). When more are left unread,
// the outcome stays unknown.
func WithReconcileMaxReads(n int) ReconcileOption {
	return func(c *reconcileConfig) { c.maxReads = max(n, 1) }
}

// WithReconcileRef gives the lost submission's client reference
// (SubmitError.Ref). A richiesta whose callback_data carries it (Submit
// puts it there when a callback is used) is the one, whatever its values;
// one that carries another reference is another submission's.
func WithReconcileRef(ref string) ReconcileOption {
	return func(c *reconcileConfig) { c.ref = ref }
}

// WithReconcileDraft says that the lost POST created a draft (state 0), as
// Submit's first step does. Only then can Reconcile answer ErrNotFound: a
// draft costs nothing, so when it cannot be found (or was never made),
// submitting again is safe. Without it, the lost POST is taken to be a paid
// one, and its richiesta's absence from the list is never conclusive.
func WithReconcileDraft() ReconcileOption {
	return func(c *reconcileConfig) { c.draft = true }
}

// Reconcile finds the richiesta that a POST /richiesta with an unknown
// outcome created. It lists the account's richieste once (GET /richiesta)
// and reads, with GET /richiesta/{id}, only those of the same service
// created at or after sentAt (OutcomeUnknownError.SentAt) minus the clock
// skew, earliest first, each once however often it is listed, within
// WithReconcileMaxReads. It skips those a journal (WithJournal) records as
// another submission's draft, asking it about a page of candidates at a
// time (Journal.ListDrafts). A candidate is the one when its
// callback_data carries the reference of WithReconcileRef, or else when
// its submitted values equal values (compared as JournalDigest does:
// blanks around them and empty ones ignored); the read-back's _id and
// hash_visura must equal the list entry's. Options are not compared.
//
// When no candidate is the one, the error wraps ErrOutcomeUnknown as long
// as anything is unproven: a candidate whose values cannot be read (an
// empty or unreadable json_ricerca, a draft that shows none) may be it, and
// is never guessed, since closing another applicant's draft would charge
// for the wrong person; candidates were left unread beyond the bound; or
// the lost POST was a paid one (see WithReconcileDraft), whose richiesta
// may exist but not be listed yet. It answers ErrNotFound only for a lost
// draft (WithReconcileDraft), once the settle time has passed since sentAt:
// submitting again is then safe.
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
	cfg := reconcileConfig{skew: DefaultReconcileSkew, settle: 2 * time.Minute, maxReads: DefaultReconcileMaxReads}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if sentAt.IsZero() || sentAt.After(time.Now().Add(cfg.skew)) {
		return nil, invalidArg("sentAt", "must be when the lost request was sent (OutcomeUnknownError.SentAt)")
	}
	listedAt := time.Now() // the settle time is judged when the list is sent
	entries, err := c.listEntries(ctx)
	if err != nil {
		return nil, errorf("visengine: reconcile: %w", err)
	}
	want := JournalDigest(hash, values, nil)
	q := lostQuery{hash: hash, since: sentAt, skew: cfg.skew, ref: cfg.ref, maxReads: cfg.maxReads, journal: c.eo.journal,
		same: func(r *Richiesta) (bool, bool) {
			got := submittedValues(r)
			return JournalDigest(hash, got, nil) == want, got != nil
		}}
	found, err := c.findLost(ctx, entries, q, newLostScan())
	switch {
	case err != nil:
		return nil, errorf("visengine: reconcile: %w", err)
	case found.match != nil:
		return found.match, nil
	}
	return nil, reconcileMiss(q, cfg, found, listedAt)
}

// lostQuery is what is known of a POST /richiesta whose answer was lost.
type lostQuery struct {
	hash     string
	since    time.Time     // when it was sent (or intended)
	skew     time.Duration // how far the server's clock may be behind
	ref      string        // its client reference, "" when none
	maxReads int
	journal  Journal // to skip other submissions' drafts; nil: none
	// same reports whether r's submitted values are the lost POST's, and
	// whether they could be read at all.
	same func(r *Richiesta) (match, readable bool)
}

// lostFound is what findLost found.
type lostFound struct {
	match        *Richiesta // the one; nil when none was proven
	byRef        bool       // proven by its client reference
	unverifiable []string   // candidates that may be it
	unread       int        // candidates left unread beyond maxReads
}

// findLost reads the candidates of q in entries until one is proven to be
// the lost POST's richiesta. Journal lookups (a page of candidates at a
// time) and reads that sc does not answer already count against
// q.maxReads; sc keeps what they found for the next call.
func (c *Client) findLost(ctx context.Context, entries []listEntry, q lostQuery, sc *lostScan) (lostFound, error) {
	var found lostFound
	ids := lostCandidates(sc.prune(entries), q)
	budget := q.maxReads
	for i, id := range ids {
		if checkID("id", id) != nil {
			found.unverifiable = append(found.unverifiable, idLabel(id))
			continue
		}
		if !sc.looked(q.journal, id) {
			if budget--; budget < 0 {
				found.unread = len(ids) - i
				return found, nil
			}
			if err := sc.lookup(ctx, q.journal, ids[i:]); err != nil {
				return found, err
			}
		}
		if sc.ownedByAnother(id, q.ref) {
			continue
		}
		read, ok := sc.reads[id]
		if !ok {
			if budget--; budget < 0 {
				found.unread = len(ids) - i
				return found, nil
			}
			read = c.readOnce(ctx, sc, id)
		}
		r, verdict, err := judgeCandidate(read, id, q)
		switch {
		case err != nil:
			return found, err
		case verdict == candidateUnverifiable:
			found.unverifiable = append(found.unverifiable, id)
		case verdict != candidateOther:
			found.match, found.byRef = r, verdict == candidateByRef
			return found, nil
		}
	}
	return found, nil
}

// lostScan is what the search for lost richieste learned, kept for one
// Reconcile or shared by every entry of one Recover: which journal entries
// record each listed richiesta as their draft (looked up a page at a time
// through Journal.ListDrafts) and each richiesta read, so that none is
// read twice.
type lostScan struct {
	owners map[string][]string      // draft id → the Refs recording it; present once looked up
	reads  map[string]candidateRead // id → its read
	// pruned is listed without the richieste the journal gives to an
	// entry: none of them is a lost draft, so later entries skip them
	// without looking at each. stale: owners changed since.
	listed, pruned []listEntry
	stale          bool
}

// candidateRead is one GET /richiesta/{id} and what came of it.
type candidateRead struct {
	r   *Richiesta
	err error
}

func newLostScan() *lostScan {
	return &lostScan{owners: map[string][]string{}, reads: map[string]candidateRead{}}
}

// prune returns entries without the richieste known to be an entry's
// draft, computed again only when a lookup taught sc more.
func (sc *lostScan) prune(entries []listEntry) []listEntry {
	same := len(entries) == len(sc.listed) && (len(entries) == 0 || &entries[0] == &sc.listed[0])
	if same && !sc.stale {
		return sc.pruned
	}
	sc.listed, sc.pruned, sc.stale = entries, nil, false
	for _, e := range entries {
		if len(sc.owners[e.id]) == 0 {
			sc.pruned = append(sc.pruned, e)
		}
	}
	return sc.pruned
}

// looked reports whether the journal was asked about id already, or need
// not be (no journal).
func (sc *lostScan) looked(j Journal, id string) bool {
	if j == nil {
		return true
	}
	_, ok := sc.owners[id]
	return ok
}

// lookup asks j, in one call, which entries record ids[0] and the next
// candidates not yet looked up (JournalLookupMax at most) as their draft.
func (sc *lostScan) lookup(ctx context.Context, j Journal, ids []string) error {
	page := make([]string, 0, min(len(ids), JournalLookupMax))
	for _, id := range ids {
		if len(page) == JournalLookupMax {
			break
		}
		if _, ok := sc.owners[id]; !ok && checkID("id", id) == nil { // ids holds each id once
			page = append(page, id)
		}
	}
	es, err := j.ListDrafts(ctx, page)
	if err != nil {
		return errorf("visengine: journal: %w", err)
	}
	for _, id := range page {
		sc.owners[id] = []string{}
	}
	sc.stale = true
	for _, e := range es {
		if _, asked := sc.owners[e.DraftID]; asked {
			sc.owners[e.DraftID] = append(sc.owners[e.DraftID], e.Ref)
		}
	}
	return nil
}

// owns records that entry ref now holds draft id.
func (sc *lostScan) owns(id, ref string) {
	if refs, ok := sc.owners[id]; ok && !slices.Contains(refs, ref) {
		sc.owners[id] = append(refs, ref)
	}
}

// ownedByAnother reports whether the journal records id as the draft of a
// submission other than ref's.
func (sc *lostScan) ownedByAnother(id, ref string) bool {
	for _, r := range sc.owners[id] {
		if r != ref {
			return true
		}
	}
	return false
}

// readOnce reads id and keeps the read in sc.
func (c *Client) readOnce(ctx context.Context, sc *lostScan, id string) candidateRead {
	r, err := c.GetRichiesta(ctx, id)
	read := candidateRead{r: r, err: err}
	if ctx.Err() == nil { // a read cut by the caller's context is no answer
		sc.reads[id] = read
	}
	return read
}

// candidateVerdict is what reading one candidate proved.
type candidateVerdict int

const (
	candidateOther        candidateVerdict = iota // proven not to be it
	candidateUnverifiable                         // may be it: nothing proven
	candidateByRef                                // proven by its client reference
	candidateByValues                             // its values are the lost POST's
)

// judgeCandidate judges the read of id for q. An answer that cannot be read
// as richiesta id of the service proves nothing either way.
func judgeCandidate(read candidateRead, id string, q lostQuery) (*Richiesta, candidateVerdict, error) {
	r, err := read.r, read.err
	switch {
	case errors.Is(err, ErrUnexpectedResponse), errors.Is(err, ErrNotFound):
		return nil, candidateUnverifiable, nil // unreadable, or listed but not readable yet
	case err != nil:
		return nil, candidateOther, err
	case r.ID != id || r.HashVisura != q.hash:
		return nil, candidateUnverifiable, nil // not the richiesta the list named
	}
	if got := refOf(r); q.ref != "" && got != "" {
		if got == q.ref {
			return r, candidateByRef, nil
		}
		return r, candidateOther, nil
	}
	switch match, readable := q.same(r); {
	case !readable:
		return r, candidateUnverifiable, nil
	case match:
		return r, candidateByValues, nil
	}
	return r, candidateOther, nil
}

// refOf returns the client reference r's callback_data carries, or "".
func refOf(r *Richiesta) string {
	if r == nil || r.CallbackData == nil {
		return ""
	}
	s, _ := r.CallbackData.Data[CallbackRefKey].(string)
	return s
}

// reconcileMiss says why nothing was found, and whether that is conclusive.
func reconcileMiss(q lostQuery, cfg reconcileConfig, found lostFound, listedAt time.Time) error {
	since := q.since.Add(-q.skew).UTC().Format(time.RFC3339)
	around := fmt.Sprintf("%s created since %s", q.hash, since)
	switch {
	case len(found.unverifiable) > 0:
		return errorf("visengine: reconcile: richieste of %s show no values to compare (%s): %w",
			around, strings.Join(found.unverifiable, ", "), ErrOutcomeUnknown)
	case found.unread > 0:
		return errorf("visengine: reconcile: %d richieste of %s left unread beyond the bound of %d: %w",
			found.unread, around, cfg.maxReads, ErrOutcomeUnknown)
	case !cfg.draft:
		return errorf("visengine: reconcile: no richiesta of %s has these values, but the list may not show it yet: "+
			"a paid POST's absence is never conclusive: %w", around, ErrOutcomeUnknown)
	case listedAt.Sub(q.since) < cfg.settle:
		return errorf("visengine: reconcile: no richiesta of %s yet; ask again after %s: %w",
			around, q.since.Add(cfg.settle).UTC().Format(time.RFC3339), ErrOutcomeUnknown)
	}
	return errorf("visengine: reconcile: no draft of %s has these values; nothing was charged: %w", around, ErrNotFound)
}

// idLabel names an id in an error only when it is a well-formed id.
func idLabel(id string) string {
	if checkID("id", id) != nil {
		return "(an entry without a usable id)"
	}
	return id
}

// lostCandidates returns the ids of q's service listed as created at or
// after q.since minus q.skew (to the second, Visengine's precision), each
// once, in the order most likely to find the lost one first: those created
// since q.since, earliest first (a tie keeps the list's order, newest
// first on Visengine); then those within the skew before it, latest first;
// last those whose creation time cannot be read, since they may be it.
func lostCandidates(entries []listEntry, q lostQuery) []string {
	sent := q.since.Truncate(time.Second)
	from := q.since.Add(-q.skew).Truncate(time.Second)
	type cand struct {
		id    string
		group int           // 0 since sentAt, 1 within the skew, 2 unknown time
		key   time.Duration // order within the group
	}
	var cs []cand
	seen := map[string]bool{}
	for _, e := range entries {
		if e.hash != q.hash || seen[e.id] || !e.created.IsZero() && e.created.Before(from) {
			continue
		}
		seen[e.id] = true
		c := cand{id: e.id, group: 2}
		if !e.created.IsZero() {
			c.group, c.key = 0, e.created.Sub(sent)
			if c.key < 0 {
				c.group, c.key = 1, -c.key
			}
		}
		cs = append(cs, c)
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].group != cs[j].group {
			return cs[i].group < cs[j].group
		}
		return cs[i].key < cs[j].key
	})
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.id
	}
	return ids
}

// submittedValues are the values of the richiesta's first search, which
// Visengine fills from json_visura; nil when it shows none (no search, an
// empty or unreadable json_ricerca, only blank values), which is not the
// same as showing other values.
func submittedValues(r *Richiesta) Values {
	if r == nil || len(r.Ricerche) == 0 {
		return nil
	}
	vals := r.Ricerche[0].Valori()
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return vals
		}
	}
	return nil
}
