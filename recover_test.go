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
