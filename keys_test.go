package visengine

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// skewJournal is a memJournal shared by machines whose clock is skew
// ahead of this one's (behind when negative): it tells its own time.
type skewJournal struct {
	*memJournal
	skew time.Duration
}

func (s skewJournal) JournalNow(context.Context) (time.Time, error) {
	return time.Now().Add(s.skew), nil
}

// A submitter records its close on the journal's clock, and a replica
// measures the settle time on it: with the journal's clock 5 s behind
// this one, Recover right after an unknown close still waits the whole
// settle time instead of closing at once.
func TestSettleMeasuredOnTheJournalsClock(t *testing.T) {
	j := skewJournal{newMemJournal(), -5 * time.Second}
	settleOnTheJournalsClock(t, j, j)
}

// settleOnTheJournalsClock runs the skew scenario through j, which is
// inner or a wrapper of it.
func settleOnTheJournalsClock(t *testing.T, inner skewJournal, j Journal) {
	t.Helper()
	fs := newFlowServer(t)
	submitter := fs.client(WithJournal(j), WithCloseSettle(2*time.Second))
	fs.dropCloseBefore.Store(true)
	_, err := submitter.Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	e, n := inner.only()
	require.Equal(t, 1, n)
	assert.WithinDuration(t, time.Now().Add(inner.skew), e.CloseSentAt, time.Second, "recorded on the journal's clock")
	assert.WithinDuration(t, time.Now().Add(inner.skew), e.CreatedAt, time.Second)

	replica := fs.client(WithJournal(j), WithCloseSettle(2*time.Second)) // remembers no close of its own
	require.NoError(t, j.Release(context.Background(), e.Ref, e.LeaseOwner))
	rep, err := replica.Recover(context.Background(), j)
	require.NoError(t, err)
	require.Len(t, rep.Resolutions, 1)
	res := rep.Resolutions[0]
	assert.Equal(t, ResolutionPending, res.Status, "%v", res)
	assert.WithinDuration(t, time.Now().Add(2*time.Second), res.RetryAt, time.Second, "on this machine's clock")
	assert.EqualValues(t, 1, fs.closes.Load(), "no second close")
}

// Resume without a journal remembers the closes the client sent itself:
// an older WithCloseSentAt does not let it close again before the settle
// time of the last close has passed.
func TestResumeUsesTheLatestCloseItSent(t *testing.T) {
	fs := newFlowServer(t)
	const settle = time.Second // the second Resume comes within it, on a loaded machine too
	c := fs.client(WithCloseSettle(settle))
	fs.dropCloseBefore.Store(true)
	_, err := c.Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	time.Sleep(settle + 10*time.Millisecond)
	fs.dropCloseBefore.Store(true) // the second close is lost too
	res, err := c.Resume(context.Background(), se.ID, WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	require.Equal(t, ResolutionPending, res.Status, "%v", res)
	require.EqualValues(t, 2, fs.closes.Load())
	res, err = c.Resume(context.Background(), se.ID, WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	assert.Equal(t, ResolutionPending, res.Status, "the first close's settle time has passed, the second's has not: %v", res)
	assert.True(t, res.RetryAt.After(se.CloseSentAt.Add(settle)))
	assert.EqualValues(t, 2, fs.closes.Load(), "no third close")
}

// A read-back sent within the settle time but answered after it shows the
// draft as it was before the settle time ended: it proves nothing about a
// close that may still be applied, so Resume does not close on it.
func TestResumeJudgesTheSettleTimeWhenItsReadStarts(t *testing.T) {
	const settle = time.Second // Resume's read starts within it, on a loaded machine too
	fs := &flowServer{t: t, rich: map[string]*flowRichiesta{}}
	var slowRead atomic.Bool
	fs.srv = newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && slowRead.Load() && strings.HasPrefix(r.URL.Path, "/richiesta/") {
			rec := httptest.NewRecorder()
			fs.serve(rec, r)                          // the state on arrival
			time.Sleep(settle + 200*time.Millisecond) // answered after the settle time
			maps.Copy(w.Header(), rec.Header())
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		fs.serve(w, r)
	})
	fs.dropCloseBefore.Store(true)
	c := fs.client(WithCloseSettle(settle))
	_, err := c.Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	slowRead.Store(true)
	res, err := c.Resume(context.Background(), se.ID, WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	assert.Equal(t, ResolutionPending, res.Status, "the read began within the settle time: %v", res)
	assert.EqualValues(t, 1, fs.closes.Load(), "no second close on a read sent within the settle time")
}

// A close answered 429 is sent again after the wait; the journal never
// records it failed, and one charge is made.
func TestSubmitSendsAgainAfter429(t *testing.T) {
	fs := newFlowServer(t)
	j := newMemJournal()
	c := fs.client(WithJournal(j))
	var outcomes []JournalOutcome
	fs.hook = func(method, _ string, _ []byte) {
		if e, n := j.only(); n == 1 {
			outcomes = append(outcomes, e.Outcome)
		}
	}
	fs.refuseClose.Store(http.StatusTooManyRequests)
	r, err := c.Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
	require.NoError(t, err)
	assert.Equal(t, StateSubmitted, r.State)
	assert.EqualValues(t, 2, fs.closes.Load())
	assert.EqualValues(t, 1, fs.charges.Load())
	assert.NotContains(t, outcomes, JournalFailed)
	e, _ := j.only()
	assert.Equal(t, JournalCompleted, e.Outcome)
}

// APIError carries the server's Retry-After.
func TestAPIErrorRetryAfter(t *testing.T) {
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		writeJSON(w, http.StatusTooManyRequests, `{"data":null,"success":false,"message":"slow down","error":429}`)
	})
	c := newTestClient(t, srv.URL, WithRetry(1, 0, 0))
	_, err := c.CreateRichiesta(context.Background(), &RichiestaParams{HashVisura: "abc", State: StateDraft})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a 429 is a refusal")
	assert.Equal(t, 7*time.Second, apiErr.RetryAfter)
}

// The key memory forgets the oldest finished submissions beyond its
// bound, never one under way.
func TestKeyMemoryIsBounded(t *testing.T) {
	ctx := context.Background()
	m := newKeyMemory(3)
	mk := func(n int, outcome JournalOutcome) JournalEntry {
		e := JournalEntry{Ref: fmt.Sprintf("%032x", n), HashVisura: "h", Digest: JournalDigest("h", nil, nil),
			CreatedAt: time.Now(), LeaseOwner: "o", LeaseUntil: time.Now().Add(time.Hour)}
		require.NoError(t, m.Create(ctx, e))
		e.Outcome = outcome
		require.NoError(t, m.Update(ctx, e))
		require.NoError(t, m.Release(ctx, e.Ref, "o"))
		return e
	}
	under := mk(1, JournalUnfinished)
	done := mk(2, JournalCompleted)
	mk(3, JournalCompleted)
	mk(4, JournalCompleted) // evicts 2, the oldest finished
	_, err := m.Get(ctx, done.Ref)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = m.Get(ctx, under.Ref)
	assert.NoError(t, err, "one under way is kept")
	all, err := m.List(ctx, JournalFilter{})
	require.NoError(t, err)
	assert.Len(t, all, 3)
}

// lookStallJournal is a memJournal whose reads of an entry, once armed and
// after the first, last until the caller's context ends, as a busy disk's
// can.
type lookStallJournal struct {
	*memJournal
	armed *atomic.Bool
	looks *atomic.Int32 // since armed
}

func (s lookStallJournal) Get(ctx context.Context, ref string) (JournalEntry, error) {
	if !s.armed.Load() || s.looks.Add(1) == 1 {
		return s.memJournal.Get(ctx, ref)
	}
	<-ctx.Done()
	return JournalEntry{}, ctx.Err()
}

// A key held by another call whose wait ends inside a look at the journal,
// not between looks, still says what it waited for: the other call, not a
// journal fault.
func TestKeyWaitEndingInAJournalLookSaysWhatItWaitedFor(t *testing.T) {
	fs := newFlowServer(t)
	j := lookStallJournal{newMemJournal().withSecret(), new(atomic.Bool), new(atomic.Int32)}
	c := fs.client(WithJournal(j))
	a2, key := decodeVisura(t, "visura_a2.json"), WithIdempotencyKey("pratica-12")
	_, err := c.Submit(context.Background(), a2, validA2Values(t), key)
	require.NoError(t, err)
	_, err = j.ClaimRef(context.Background(), IdempotencyRef(j.secret, "pratica-12"), "another-replica", time.Now().Add(time.Hour))
	require.NoError(t, err)

	j.armed.Store(true)
	// The second look lasts until the deadline, so a long one costs nothing
	// more than its own length; the first look, the claim and the 10 ms pause
	// before the second must fit in it, on a loaded machine too.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = c.Submit(ctx, a2, validA2Values(t), key)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepDraft, se.Step)
	assert.Contains(t, err.Error(), "under way in another call")
	assert.EqualValues(t, 1, fs.creates.Load(), "nothing sent again")
	assert.EqualValues(t, 2, j.looks.Load(), "the wait ended in its second look")
}
