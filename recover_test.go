package visengine

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recoverCase is one unfinished entry and what Recover must make of it.
type recoverCase struct {
	name    string
	setup   func(t *testing.T, fs *flowServer, e *JournalEntry) // fills the server and the entry
	want    ResolutionStatus
	outcome JournalOutcome // recorded after; JournalUnfinished: left for the next run
	closes  int32          // closing PUTs Recover sends for it
	reason  string         // part of Resolution.Reason
}

func TestRecoverResolvesEachKindOfEntry(t *testing.T) {
	const hash = "2631ec9b62135de4186f509fea7d954b"
	values := func(n int) map[string]string { return map[string]string{"$0": fmt.Sprint("Applicant ", n)} }
	long := -time.Hour
	cases := []recoverCase{
		{"draft known, closed", func(t *testing.T, fs *flowServer, e *JournalEntry) {
			e.DraftID = fs.add(hash, time.Now(), values(1), StateSubmitted)
			e.CloseSentAt = time.Now().Add(long)
		}, ResolutionCompleted, JournalCompleted, 0, "closed"},
		{"draft known, never closed", func(t *testing.T, fs *flowServer, e *JournalEntry) {
			e.DraftID = fs.add(hash, time.Now(), values(2), StateDraft)
			e.Digest = JournalDigest(hash, values(2), nil) // the draft is proven the entry's by its values
		}, ResolutionResumed, JournalCompleted, 1, "closed now"},
		{"draft known, close long ago", func(t *testing.T, fs *flowServer, e *JournalEntry) {
			e.DraftID = fs.add(hash, time.Now(), values(3), StateDraft)
			e.Digest = JournalDigest(hash, values(3), nil) // the draft is proven the entry's by its values
			e.CloseSentAt = time.Now().Add(long)
		}, ResolutionResumed, JournalCompleted, 1, "closed now"},
		{"draft known, close too recent", func(t *testing.T, fs *flowServer, e *JournalEntry) {
			e.DraftID = fs.add(hash, time.Now(), values(4), StateDraft)
			e.CloseSentAt = time.Now()
		}, ResolutionPending, JournalUnfinished, 0, "too recent"},
		{"draft never confirmed, none made", func(t *testing.T, fs *flowServer, e *JournalEntry) {
		}, ResolutionAbandoned, JournalAbandoned, 0, "never confirmed; nothing was charged"},
		{"draft never confirmed, made", func(t *testing.T, fs *flowServer, e *JournalEntry) {
			fs.add(hash, time.Now(), values(6), StateDraft)
			e.Digest = JournalDigest(hash, values(6), nil)
		}, ResolutionAbandoned, JournalAbandoned, 0, "is left open"},
		{"draft never confirmed, closed with its reference", func(t *testing.T, fs *flowServer, e *JournalEntry) {
			id := fs.add(hash, time.Now(), values(7), StateSubmitted)
			fs.rich[id].Callback = []byte(`{"url":"https://h.example/x","method":"JSON","data":{"visengine_ref":"` + e.Ref + `"}}`)
		}, ResolutionCompleted, JournalCompleted, 0, "found by its reference"},
		{"draft never confirmed, a closed one with its values", func(t *testing.T, fs *flowServer, e *JournalEntry) {
			fs.add(hash, time.Now(), values(8), StateSubmitted)
			e.Digest = JournalDigest(hash, values(8), nil)
		}, ResolutionUnknown, JournalUnfinished, 0, "not this submission's reference"},
		{"draft reads as another richiesta", func(t *testing.T, fs *flowServer, e *JournalEntry) {
			e.DraftID = fs.add(hash, time.Now(), values(9), StateDraft)
			fs.rich[e.DraftID].ID = "0000000000000000000000ee"
		}, ResolutionUnknown, JournalUnfinished, 0, "another richiesta"},
	}
	fs := newFlowServer(t)
	j := newMemJournal()
	c := fs.client(WithCloseSettle(time.Minute))
	wantFor := map[string]recoverCase{}
	for i, tc := range cases {
		ref := fmt.Sprintf("%032x", i+1)
		e := JournalEntry{Ref: ref, HashVisura: hash, Digest: JournalDigest(hash, values(100+i), nil),
			CreatedAt: time.Now().Add(-2 * time.Minute).Add(time.Duration(i) * time.Millisecond), LeaseOwner: "dead", LeaseUntil: time.Now().Add(-time.Second)}
		tc.setup(t, fs, &e)
		require.NoError(t, j.Create(context.Background(), e), tc.name)
		wantFor[ref] = tc
	}
	rep, err := c.Recover(context.Background(), j)
	require.NoError(t, err)
	require.Len(t, rep.Resolutions, len(cases))
	for _, res := range rep.Resolutions {
		tc := wantFor[res.Ref]
		assert.Equal(t, tc.want, res.Status, "%s: %v", tc.name, res)
		assert.Contains(t, res.Reason, tc.reason, tc.name)
		e, err := j.Get(context.Background(), res.Ref)
		require.NoError(t, err)
		assert.Equal(t, tc.outcome, e.Outcome, tc.name)
		assert.Equal(t, res.DraftID, e.DraftID, "%s: the journal knows what the report says", tc.name)
		assert.Empty(t, e.LeaseOwner, "%s: lease released", tc.name)
		if tc.closes == 0 && e.DraftID != "" && res.Status != ResolutionCompleted {
			assert.Zero(t, closesOf(fs, e.DraftID), tc.name)
		}
	}
	assert.EqualValues(t, 2, fs.closes.Load(), "only the two known drafts are closed")
	assert.EqualValues(t, 2, fs.charges.Load())
	assert.Equal(t, 2, rep.Count(ResolutionResumed))
	assert.Equal(t, "visengine.RecoverReport{completed:2 resumed:2 abandoned:2 pending:1 failed:0 unknown:2}", fmt.Sprint(rep))
	assert.Equal(t, len(cases)+1, strings.Count(fmt.Sprintf("%+v", rep), "\n")+1)

	// Idempotent: a second run sends no close and finds only what is left.
	rep, err = c.Recover(context.Background(), j)
	require.NoError(t, err)
	assert.Equal(t, 3, len(rep.Resolutions), "the pending and the unknown ones: %+v", rep)
	assert.EqualValues(t, 2, fs.closes.Load())
}

func closesOf(fs *flowServer, id string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if r := fs.rich[id]; r != nil && r.State == int(StateSubmitted) {
		return 1
	}
	return 0
}

// A refused close is failed and recorded so; a read that fails leaves the
// entry unfinished and says unknown; a lease held by a live submitter is
// left alone.
func TestRecoverFailuresAndLiveLeases(t *testing.T) {
	const hash = "2631ec9b62135de4186f509fea7d954b"
	fs := newFlowServer(t)
	j := newMemJournal()
	c := fs.client(WithCloseSettle(time.Minute), WithRetry(1, 0, 0))
	vals := map[string]string{"$0": "Applicant"}
	mk := func(n int, draft string, owner string, until time.Time) JournalEntry {
		e := JournalEntry{Ref: fmt.Sprintf("%032x", n), HashVisura: hash, Digest: JournalDigest(hash, vals, nil),
			CreatedAt: time.Now().Add(-time.Hour), DraftID: draft, LeaseOwner: owner, LeaseUntil: until}
		require.NoError(t, j.Create(context.Background(), e))
		return e
	}
	refused := mk(1, fs.add(hash, time.Now(), vals, StateDraft), "dead", time.Now())
	live := mk(2, fs.add(hash, time.Now(), vals, StateDraft), "alive", time.Now().Add(time.Hour))
	fs.refuseClose.Store(http.StatusPaymentRequired)
	rep, err := c.Recover(context.Background(), j)
	require.NoError(t, err)
	require.Len(t, rep.Resolutions, 1, "the live submitter's entry is not claimed")
	res := rep.Resolutions[0]
	assert.Equal(t, refused.Ref, res.Ref)
	assert.Equal(t, ResolutionFailed, res.Status)
	assert.ErrorIs(t, res.Err, ErrInsufficientCredit)
	e, _ := j.Get(context.Background(), refused.Ref)
	assert.Equal(t, JournalFailed, e.Outcome)
	e, _ = j.Get(context.Background(), live.Ref)
	assert.Equal(t, "alive", e.LeaseOwner)

	gone := mk(3, "0000000000000000000000dd", "", time.Time{}) // reads fail: no such richiesta on this server
	rep, err = c.Recover(context.Background(), j)
	require.NoError(t, err)
	require.Len(t, rep.Resolutions, 1)
	assert.Equal(t, ResolutionUnknown, rep.Resolutions[0].Status)
	assert.Error(t, rep.Resolutions[0].Err)
	e, _ = j.Get(context.Background(), gone.Ref)
	assert.Equal(t, JournalUnfinished, e.Outcome, "left for the next run")
	assert.Empty(t, e.LeaseOwner)

	_, err = c.Recover(context.Background(), nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Recover(cancelled, j)
	assert.ErrorIs(t, err, context.Canceled)
}

// Printing a resolution or a report shows ids and statuses, never a value.
func TestResolutionPrintsNoValues(t *testing.T) {
	r := &Richiesta{ID: "x", Ricerche: []Ricerca{{JSONRicerca: `{"$0":"RSSMRA80A01H501U"}`}}}
	res := Resolution{Ref: "0123456789abcdef0123456789abcdef", DraftID: "x", Status: ResolutionResumed,
		CloseSentAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), Reason: "was a draft; closed now", Richiesta: r}
	want := `visengine.Resolution{Status:resumed Ref:0123456789abcdef0123456789abcdef DraftID:x CloseSentAt:2025-03-01T10:00:00Z Reason:"was a draft; closed now"}`
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.Equal(t, want, fmt.Sprintf(verb, res), verb)
		assert.NotContains(t, fmt.Sprintf(verb, RecoverReport{Resolutions: []Resolution{res}}), "RSSMRA")
	}
	assert.Contains(t, fmt.Sprintf("%+v", RecoverReport{Resolutions: []Resolution{res}}), want)
}

// An old lost entry on an account of 10,000 journalled richieste: every
// richiesta since is a candidate, each the draft of another entry. Recover
// asks the journal about them a page at a time (Journal.ListDrafts), never
// once per richiesta, and reads none of them.
func TestRecoverOldLostEntryIsBounded(t *testing.T) {
	const hash, accounts = "2631ec9b62135de4186f509fea7d954b", 10000
	fs := newFlowServer(t)
	j := newMemJournal()
	ctx := context.Background()
	lost := JournalEntry{Ref: fmt.Sprintf("%032x", 1), HashVisura: hash, Digest: JournalDigest(hash, Values{"$0": "lost"}, nil),
		CreatedAt: time.Now().Add(-10 * time.Minute), LeaseOwner: "dead", LeaseUntil: time.Now().Add(-time.Second)}
	require.NoError(t, j.Create(ctx, lost))
	for n := range accounts {
		id := fs.add(hash, time.Now(), map[string]string{"$0": fmt.Sprint(n)}, StateSubmitted)
		require.NoError(t, j.Create(ctx, JournalEntry{Ref: fmt.Sprintf("%032x", n+2), HashVisura: hash,
			Digest: JournalDigest(hash, Values{"$0": fmt.Sprint(n)}, nil), CreatedAt: time.Now(), DraftID: id,
			Outcome: JournalCompleted, LeaseOwner: "dead", LeaseUntil: time.Now().Add(-time.Second)}))
	}
	j.calls = nil
	rep, err := fs.client(WithCloseSettle(time.Minute)).Recover(ctx, j)
	require.NoError(t, err)
	require.Len(t, rep.Resolutions, 1)
	assert.Equal(t, ResolutionAbandoned, rep.Resolutions[0].Status, "%v", rep.Resolutions[0])
	lookups := 0
	for _, c := range j.calls {
		assert.NotEqual(t, "List", c, "no lookup per richiesta")
		if c == "ListDrafts" {
			lookups++
		}
	}
	assert.LessOrEqual(t, lookups, 50)
	assert.Equal(t, accounts/JournalLookupMax, lookups)
	assert.Empty(t, fs.fetched, "every candidate is another entry's draft: none is read")
}

// Lost entries share what Recover learns: each candidate richiesta is read
// at most once per Recover, however many lost entries it is a candidate
// of, and one found by its reference is the entry's for the entries after.
func TestRecoverReadsEachCandidateOnce(t *testing.T) {
	const hash = "2631ec9b62135de4186f509fea7d954b"
	fs := newFlowServer(t)
	j := newMemJournal()
	ctx := context.Background()
	created := time.Now().Add(-10 * time.Minute)
	for n := range 20 {
		ref := fmt.Sprintf("%032x", n+1)
		vals := map[string]string{"$0": fmt.Sprint("applicant ", n)}
		if n%2 == 0 { // its draft was made: closed, with its reference
			id := fs.add(hash, time.Now(), vals, StateSubmitted)
			fs.rich[id].Callback = []byte(`{"url":"https://h.example/x","method":"JSON","data":{"visengine_ref":"` + ref + `"}}`)
		}
		require.NoError(t, j.Create(ctx, JournalEntry{Ref: ref, HashVisura: hash, Digest: JournalDigest(hash, vals, nil),
			CreatedAt: created.Add(time.Duration(n) * time.Millisecond), LeaseOwner: "dead", LeaseUntil: time.Now().Add(-time.Second)}))
	}
	rep, err := fs.client(WithCloseSettle(time.Minute)).Recover(ctx, j)
	require.NoError(t, err)
	assert.Equal(t, 10, rep.Count(ResolutionCompleted), "%+v", rep)
	assert.Equal(t, 10, rep.Count(ResolutionAbandoned), "%+v", rep)
	seen := map[string]int{}
	for _, id := range fs.fetched {
		seen[id]++
	}
	assert.Len(t, seen, 10)
	for id, n := range seen {
		assert.Equal(t, 1, n, "%s read %d times", id, n)
	}
}

// Recover lists the account once for the entries whose draft was never
// confirmed, but an entry whose settle time ended after that list was sent
// is judged on a new one: the old list may not show its richiesta yet, and
// "abandoned" tells the caller nothing was charged.
func TestRecoverJudgesEachLostEntryOnAListSentAfterItsSettleTime(t *testing.T) {
	const settle = 2 * time.Second
	srv, lists := slowEmptyList(t, 1500*time.Millisecond)
	hash := decodeVisura(t, "visura_a2.json").HashVisura
	j, now := newMemJournal(), time.Now()
	for i, created := range []time.Time{
		now.Add(-time.Hour),            // settled long ago
		now.Add(-settle + time.Second), // settles while the first list is under way
	} {
		require.NoError(t, j.Create(context.Background(), JournalEntry{Ref: fmt.Sprintf("%032x", i+1), HashVisura: hash,
			Digest: JournalDigest(hash, Values{"$0": fmt.Sprint(i)}, nil), CreatedAt: created,
			LeaseOwner: "dead", LeaseUntil: now.Add(-time.Second)}))
	}
	rep, err := newTestClient(t, srv.URL, WithCloseSettle(settle)).Recover(context.Background(), j)
	require.NoError(t, err)
	require.Len(t, rep.Resolutions, 2)
	for _, res := range rep.Resolutions {
		assert.Equal(t, ResolutionAbandoned, res.Status, "%v", res)
	}
	assert.EqualValues(t, 2, lists.Load(), "the second entry is judged on a list sent after its settle time")
}
