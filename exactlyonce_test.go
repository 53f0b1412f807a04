package visengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each step of Submit is in the journal before the request that takes it
// arrives: the intent before the POST, the draft's id and the close's time
// before the PUT; the outcome after, and the lease released. The journal
// never holds a value.
func TestSubmitJournalsEachStepBeforeTakingIt(t *testing.T) {
	fs := newFlowServer(t)
	j := newMemJournal()
	a2 := decodeVisura(t, "visura_a2.json")
	values := validA2Values(t)
	var seen []string
	// Times are on the journal's clock (here this machine's), read with a
	// margin of a millisecond or so that moves them later, never sooner.
	margin := 10 * time.Millisecond
	fs.hook = func(method, path string, body []byte) {
		e, n := j.only()
		assert.Equal(t, 1, n, "one entry, created before anything is sent")
		switch {
		case method == "POST":
			assert.Empty(t, e.DraftID)
			assert.True(t, e.CloseSentAt.IsZero())
			assert.NotEmpty(t, e.LeaseOwner, "leased to the submitter")
			assert.Equal(t, JournalDigest(a2.HashVisura, values, []string{"opzione_0"}), e.Digest, "the digest of the values and the resolved option")
			assert.Equal(t, a2.HashVisura, e.HashVisura)
			assert.False(t, e.CreatedAt.After(time.Now().Add(margin)))
		case method == "PUT":
			assert.Equal(t, strings.TrimPrefix(path, "/richiesta/"), e.DraftID, "draft recorded before the close")
			assert.False(t, e.CloseSentAt.IsZero(), "close recorded before it is sent")
			assert.False(t, e.CloseSentAt.After(time.Now().Add(margin)))
		}
		assert.Equal(t, JournalUnfinished, e.Outcome)
		seen = append(seen, method)
	}
	r, err := fs.client(WithJournal(j)).Submit(context.Background(), a2, values, WithOpzioni("urgenza"))
	require.NoError(t, err)
	assert.Equal(t, []string{"POST", "PUT"}, seen)
	e, _ := j.only()
	assert.Equal(t, JournalCompleted, e.Outcome)
	assert.Equal(t, r.ID, e.DraftID)
	assert.Empty(t, e.LeaseOwner, "lease released")
	// The intent; the draft's id with the close's time (nothing is sent
	// between them); the outcome, which ends the lease without a Release.
	assert.Equal(t, []string{"Create", "Update", "Update"}, j.calls)
	dump := fmt.Sprintf("%#v %+v", j.all(), e) + e.Note + e.Digest
	for _, v := range values {
		assert.NotContains(t, dump, v)
	}
}

// A journal write that fails stops Submit before its next call: nothing
// is sent after a refused intent, no close after a refused draft id or
// close time, and the error says the close was not sent.
func TestSubmitStopsWhenTheJournalRefuses(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	cases := []struct {
		name          string
		failAt        func(op string, e JournalEntry) bool
		posts, closes int32
		step          SubmitStep
	}{
		{"intent", func(op string, _ JournalEntry) bool { return op == "Create" }, 0, 0, StepDraft},
		{"draft id and close time", func(op string, e JournalEntry) bool {
			return op == "Update" && e.DraftID != "" && !e.CloseSentAt.IsZero()
		}, 1, 0, StepDraft},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlowServer(t)
			j := newMemJournal()
			j.fail = func(op string, e JournalEntry) error {
				if tc.failAt(op, e) {
					return ErrLeaseLost
				}
				return nil
			}
			_, err := fs.client(WithJournal(j)).Submit(context.Background(), a2, validA2Values(t))
			require.ErrorIs(t, err, ErrLeaseLost)
			assert.NotErrorIs(t, err, ErrOutcomeUnknown, "nothing paid was sent")
			var se *SubmitError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.step, se.Step)
			assert.True(t, se.CloseSentAt.IsZero())
			assert.Equal(t, tc.posts, fs.creates.Load())
			assert.Equal(t, tc.closes, fs.closes.Load())
			assert.Zero(t, fs.charges.Load())
		})
	}
}

// A close answered "success" that does not show the richiesta closed, or
// shows another one, proves nothing: an unknown outcome, never a success,
// and never a second close.
func TestCloseAnsweredSuccessButNotClosed(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	answers := map[string]func(r *flowRichiesta) map[string]any{
		"state 0": func(r *flowRichiesta) map[string]any { w := r.wire(); w["state"] = 0; return w },
		"another _id": func(r *flowRichiesta) map[string]any {
			w := r.wire()
			w["_id"] = "0000000000000000000000ff"
			return w
		},
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			fs := newFlowServer(t)
			fs.closeAnswer = answer
			fs.staleReads.Store(1) // and the read-back shows a draft
			_, err := fs.client().Submit(context.Background(), a2, validA2Values(t))
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			var se *SubmitError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, StepClose, se.Step)
			assert.False(t, se.CloseSentAt.IsZero())
			assert.EqualValues(t, 1, fs.closes.Load())

			id := fs.add(a2.HashVisura, time.Now(), validA2Values(t), StateDraft)
			r, err := fs.client().CloseRichiesta(context.Background(), id)
			assert.Nil(t, r)
			var ou *OutcomeUnknownError
			require.ErrorAs(t, err, &ou)
			assert.Equal(t, "PUT", ou.Method)
			assert.Equal(t, "/richiesta/"+id, ou.Path)
			assert.ErrorIs(t, err, ErrUnexpectedResponse)
		})
	}
}

// Resume closes only when it knows whether and when a close was sent: by
// default it sends nothing; WithNoCloseSent lets it close at once;
// WithCloseSentAt makes it wait for the settle time.
func TestResumeNeedsToKnowAboutCloses(t *testing.T) {
	fs := newFlowServer(t)
	a2 := decodeVisura(t, "visura_a2.json")
	c := fs.client(WithCloseSettle(time.Hour))
	id := fs.add(a2.HashVisura, time.Now(), validA2Values(t), StateDraft)

	res, err := c.Resume(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, ResolutionUnknown, res.Status)
	assert.Contains(t, res.Reason, "WithNoCloseSent")
	res, err = c.Resume(context.Background(), id, WithCloseSentAt(time.Time{}))
	require.NoError(t, err)
	assert.Equal(t, ResolutionUnknown, res.Status, "a zero time tells nothing")
	res, err = c.Resume(context.Background(), id, WithCloseSentAt(time.Now().Add(-59*time.Minute)))
	require.NoError(t, err)
	assert.Equal(t, ResolutionPending, res.Status)
	assert.WithinDuration(t, time.Now().Add(time.Minute), res.RetryAt, 2*time.Second)
	assert.Zero(t, fs.closes.Load(), "nothing closed")

	res, err = c.Resume(context.Background(), id, WithNoCloseSent())
	require.NoError(t, err)
	assert.Equal(t, ResolutionResumed, res.Status)
	assert.EqualValues(t, 1, fs.charges.Load())
	res, err = c.Resume(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, ResolutionCompleted, res.Status, "closed: nothing more to do, whatever is known")
	assert.EqualValues(t, 1, fs.closes.Load())

	_, err = c.Resume(context.Background(), "../x")
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

// With a journal, Resume leases the draft's entry (a held lease keeps it
// off), takes the close's time from it, records a new close before sending
// it, and records the outcome.
func TestResumeThroughTheJournal(t *testing.T) {
	fs := newFlowServer(t)
	a2 := decodeVisura(t, "visura_a2.json")
	j := newMemJournal()
	c := fs.client(WithJournal(j), WithCloseSettle(time.Minute))
	id := fs.add(a2.HashVisura, time.Now(), validA2Values(t), StateDraft)
	e := JournalEntry{Ref: "0123456789abcdef0123456789abcdef", HashVisura: a2.HashVisura,
		Digest: JournalDigest(a2.HashVisura, validA2Values(t), nil), CreatedAt: time.Now().Add(-time.Hour),
		DraftID: id, CloseSentAt: time.Now().Add(-30 * time.Second), LeaseOwner: "crashed", LeaseUntil: time.Now().Add(time.Hour)}
	require.NoError(t, j.Create(context.Background(), e))

	_, err := c.Resume(context.Background(), id, WithNoCloseSent())
	require.ErrorIs(t, err, ErrLeaseHeld, "another process holds it")
	require.NoError(t, j.Release(context.Background(), e.Ref, "crashed"))

	res, err := c.Resume(context.Background(), id, WithNoCloseSent())
	require.NoError(t, err)
	assert.Equal(t, ResolutionPending, res.Status, "the journal's close time wins over the caller's claim")
	assert.Equal(t, e.Ref, res.Ref)
	assert.Zero(t, fs.closes.Load())

	e, _ = j.only()
	e.CloseSentAt, e.LeaseOwner, e.LeaseUntil = time.Now().Add(-2*time.Minute), "test", time.Now().Add(time.Minute)
	j.entries[e.Ref] = e // the settle time has passed
	require.NoError(t, j.Release(context.Background(), e.Ref, "test"))
	fs.hook = func(method, _ string, _ []byte) {
		if method == "PUT" {
			got, _ := j.only()
			assert.WithinDuration(t, time.Now(), got.CloseSentAt, time.Second, "the new close is recorded first")
		}
	}
	res, err = c.Resume(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, ResolutionResumed, res.Status)
	got, _ := j.only()
	assert.Equal(t, JournalCompleted, got.Outcome)
	assert.Empty(t, got.LeaseOwner)
	assert.EqualValues(t, 1, fs.charges.Load())
}

// gatewayBackend is a backend behind a gateway: a closing PUT is checked
// on arrival (a draft? then it will be committed) and charged on commit,
// commitAfter later; the gateway gives up after 300 ms with a 504. Two
// closes arriving before the commit are both charged, as the issue's
// backend was: only the client can prevent it.
type gatewayBackend struct {
	mu          sync.Mutex
	state       int
	charges     int
	closes      int
	commitAfter time.Duration
	commits     []time.Time // closes checked on arrival, each to charge at its time
	wg          sync.WaitGroup
}

const gatewayID = "65f1c0ffee0123456789abcd"

// commitDueLocked charges the closes whose commit time has come: on any
// request as well as by their timers, so that a timer a loaded machine
// runs late never shows a draft the backend has committed.
func (g *gatewayBackend) commitDueLocked() {
	now := time.Now()
	g.commits = slices.DeleteFunc(g.commits, func(at time.Time) bool {
		if at.After(now) {
			return false
		}
		g.state, g.charges = 1, g.charges+1
		return true
	})
}

func (g *gatewayBackend) serve(_ int32, w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.commitDueLocked()
	state := g.state
	g.mu.Unlock()
	item := func(state int) string {
		return fmt.Sprintf(`{"_id":%q,"state":%d,"hash_visura":"2631ec9b62135de4186f509fea7d954b","stato_richiesta":"In erogazione"}`, gatewayID, state)
	}
	switch {
	case r.Method == http.MethodPost:
		writeJSON(w, 200, `{"data":`+item(0)+`,"success":true,"message":"","error":null}`)
	case r.Method == http.MethodPut:
		g.mu.Lock()
		g.closes++
		if state == 0 { // checked on arrival, charged on commit
			g.commits = append(g.commits, time.Now().Add(g.commitAfter))
			g.wg.Add(1)
			time.AfterFunc(g.commitAfter, func() {
				defer g.wg.Done()
				g.mu.Lock()
				defer g.mu.Unlock()
				g.commitDueLocked()
			})
		}
		g.mu.Unlock()
		time.Sleep(300 * time.Millisecond) // the gateway gives up
		writeJSON(w, 504, "<html><body>504 Gateway Time-out</body></html>")
	default:
		writeJSON(w, 200, `{"data":`+item(state)+`,"success":true,"message":"","error":null}`)
	}
}

// The backend: it checks state on arrival and charges on commit,
// 500 ms after, behind a gateway that answers 504 after 300 ms. However
// Submit and Resume are called, sequentially or at once, it is charged once.
func TestGatewayThatCommitsLaterIsChargedOnce(t *testing.T) {
	for _, journal := range []bool{false, true} {
		t.Run(fmt.Sprintf("journal %t", journal), func(t *testing.T) {
			g := &gatewayBackend{commitAfter: 500 * time.Millisecond}
			srv := newCountingServer(t, g.serve)
			opts := []Option{WithCloseSettle(800 * time.Millisecond)} // the commit takes 500 ms
			if journal {
				opts = append(opts, WithJournal(newMemJournal()))
			}
			c := newTestClient(t, srv.URL, opts...)
			_, err := c.Submit(context.Background(), decodeVisura(t, "visura_a2.json"), validA2Values(t))
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			var se *SubmitError
			require.ErrorAs(t, err, &se)
			require.Equal(t, gatewayID, se.ID)

			// Resume, from several goroutines, until it is done.
			deadline := time.Now().Add(3 * time.Second)
			var done sync.WaitGroup
			var mu sync.Mutex
			var final []ResolutionStatus
			for range 3 {
				done.Add(1)
				go func() {
					defer done.Done()
					for time.Now().Before(deadline) {
						res, err := c.Resume(context.Background(), se.ID, WithCloseSentAt(se.CloseSentAt))
						if err == nil && (res.Status == ResolutionCompleted || res.Status == ResolutionResumed) {
							mu.Lock()
							final = append(final, res.Status)
							mu.Unlock()
							return
						}
						time.Sleep(50 * time.Millisecond)
					}
				}()
			}
			done.Wait()
			g.wg.Wait()
			assert.Len(t, final, 3, "every Resume ends with the richiesta closed")
			g.mu.Lock()
			defer g.mu.Unlock()
			assert.Equal(t, 1, g.charges, "charged once")
			assert.Equal(t, 1, g.closes, "the commit came within the settle time: no second close")
		})
	}
}

// The client reference goes into callback_data.data next to the secret,
// for every submission with a callback; the caller's callback is not
// touched, and Reconcile recognises the richiesta by it.
func TestSubmitPutsTheRefInTheCallback(t *testing.T) {
	fs := newFlowServer(t)
	a2 := decodeVisura(t, "visura_a2.json")
	cb, err := NewCallback("https://hooks.example.com/visengine", CallbackJSON)
	require.NoError(t, err)
	secret := cb.Secret()
	fs.dropCreateAfter.Store(true)
	c := fs.client()
	_, err = c.Submit(context.Background(), a2, validA2Values(t), WithCallback(cb))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	require.Regexp(t, `^[0-9a-f]{32}$`, se.Ref)
	assert.Equal(t, map[string]any{CallbackSecretKey: secret}, cb.Data, "the caller's callback is unchanged")

	fs.mu.Lock()
	id := fs.ids[len(fs.ids)-1]
	raw := fs.rich[id].Callback
	fs.mu.Unlock()
	var sent map[string]any
	require.NoError(t, json.Unmarshal(raw, &sent))
	assert.Equal(t, map[string]any{CallbackSecretKey: secret, CallbackRefKey: se.Ref}, sent["data"])

	// Two drafts with the same values: the reference tells which is ours,
	// even though the other was created first.
	fs.add(a2.HashVisura, time.Now().Add(-time.Second), validA2Values(t), StateDraft)
	var ou *OutcomeUnknownError
	require.ErrorAs(t, err, &ou)
	r, err := c.Reconcile(context.Background(), a2.HashVisura, Values{"$0": "other values"}, ou.SentAt, WithReconcileRef(se.Ref))
	require.NoError(t, err, "found by its reference, whatever the values")
	assert.Equal(t, id, r.ID)
}

// WithHTTPClient refuses a transport that retries on its own, also inside
// a wrapper; any other is accepted.
func TestWithHTTPClientRefusesRetryingTransports(t *testing.T) {
	type wrapper struct {
		http.RoundTripper
		name string
	}
	retrying := retryablehttp.NewClient().StandardClient()
	refused := map[string]*http.Client{
		"StandardClient":   retrying,
		"RoundTripper":     {Transport: &retryablehttp.RoundTripper{Client: retryablehttp.NewClient()}},
		"wrapped":          {Transport: &wrapper{RoundTripper: retrying.Transport, name: "w"}},
		"wrapped twice":    {Transport: &wrapper{RoundTripper: &wrapper{RoundTripper: retrying.Transport}}},
		"holds its Client": {Transport: &clientHolder{rc: retryablehttp.NewClient()}},
	}
	for name, hc := range refused {
		_, err := NewClient("token", WithHTTPClient(hc))
		require.ErrorIs(t, err, ErrInvalidArgument, name)
		assert.Contains(t, err.Error(), "retries requests on its own", name)
	}
	accepted := map[string]*http.Client{
		"default":   {},
		"transport": {Transport: http.DefaultTransport.(*http.Transport).Clone()},
		"wrapper":   {Transport: &wrapper{RoundTripper: http.DefaultTransport}},
	}
	for name, hc := range accepted {
		_, err := NewClient("token", WithHTTPClient(hc))
		require.NoError(t, err, name)
	}
}

// clientHolder is a transport that sends through a retrying client.
type clientHolder struct{ rc *retryablehttp.Client }

func (h *clientHolder) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("unused")
}

// What the journal holds after each way Submit can fail: an unknown
// outcome leaves the entry for Resume or Recover (with the close's time),
// a refusal is recorded as failed, a draft never sent as abandoned.
func TestSubmitFailuresInTheJournal(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	cases := []struct {
		name    string
		setup   func(fs *flowServer)
		outcome JournalOutcome
		draft   bool // the entry knows the draft
		closed  bool // the entry records a close sent
	}{
		{"draft outcome unknown", func(fs *flowServer) { fs.dropCreateAfter.Store(true) }, JournalUnfinished, false, false},
		{"close outcome unknown", func(fs *flowServer) { fs.dropCloseBefore.Store(true) }, JournalUnfinished, true, true},
		{"close answered 502", func(fs *flowServer) { fs.refuseClose.Store(http.StatusBadGateway) }, JournalUnfinished, true, true},
		{"close refused 402", func(fs *flowServer) { fs.refuseClose.Store(http.StatusPaymentRequired) }, JournalFailed, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlowServer(t)
			tc.setup(fs)
			j := newMemJournal()
			_, err := fs.client(WithJournal(j), WithRetry(1, 0, 0)).Submit(context.Background(), a2, validA2Values(t))
			var se *SubmitError
			require.ErrorAs(t, err, &se)
			e, n := j.only()
			require.Equal(t, 1, n)
			assert.Equal(t, tc.outcome, e.Outcome, "%v", e)
			assert.Equal(t, tc.draft, e.DraftID != "", "%v", e)
			assert.Equal(t, tc.closed, !e.CloseSentAt.IsZero(), "%v", e)
			assert.Empty(t, e.LeaseOwner, "released")
			assert.Equal(t, se.Ref, e.Ref)
			if tc.closed && errors.Is(err, ErrOutcomeUnknown) {
				assert.False(t, e.CloseSentAt.Before(se.CloseSentAt), "the journal keeps the latest send time")
			}
		})
	}
	t.Run("draft not sent", func(t *testing.T) {
		j := newMemJournal()
		c := newTestClient(t, closedPortURL(t), WithJournal(j), WithRetry(1, 0, 0))
		_, err := c.Submit(context.Background(), a2, validA2Values(t))
		require.Error(t, err)
		require.NotErrorIs(t, err, ErrOutcomeUnknown)
		e, _ := j.only()
		assert.Equal(t, JournalAbandoned, e.Outcome, "nothing exists and nothing was charged")
	})
}

// A close refused as already closed (239) is not a refusal that spared the
// wallet: the richiesta was closed, and charged, before this PUT arrived
// (a PUT resent by a gateway, say). Submit reads it back: closed, it is the
// submission's success; still read as a draft, the outcome is unknown.
// Never "failed, nothing charged", which invites paying again.
func TestSubmitCloseRefusedAsAlreadyClosed(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprintf("stale read-back %v", stale), func(t *testing.T) {
			fs := newFlowServer(t)
			fs.hook = func(method, path string, _ []byte) {
				if method == http.MethodPut {
					// Closed on its way here: the PUT finds it closed.
					r := fs.get(strings.TrimPrefix(path, "/richiesta/"))
					fs.mu.Lock()
					r.State = 1
					fs.mu.Unlock()
					fs.charges.Add(1)
					if stale {
						fs.staleReads.Store(1)
					}
				}
			}
			j := newMemJournal()
			r, err := fs.client(WithJournal(j)).Submit(context.Background(), a2, validA2Values(t))
			e, _ := j.only()
			assert.NotEqual(t, JournalFailed, e.Outcome, "%v", e)
			assert.EqualValues(t, 1, fs.closes.Load())
			if !stale {
				require.NoError(t, err)
				assert.Equal(t, StateSubmitted, r.State)
				assert.Equal(t, JournalCompleted, e.Outcome)
				return
			}
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			var se *SubmitError
			require.ErrorAs(t, err, &se)
			assert.False(t, se.CloseSentAt.IsZero(), "the close was sent")
			assert.Equal(t, JournalUnfinished, e.Outcome, "left for Resume or Recover")
		})
	}
}

// A draft whose id the journal refused to record is invisible to the
// journal: Recover reports its submission abandoned, "nothing was charged,
// submit again". So the SubmitError must not hand its id out for Resume:
// a caller who followed that advice after (or while) Recover said
// abandoned would pay for a submission the journal calls free, and then
// again for the new one.
func TestUnrecordedDraftIsNeverResumed(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	j := newMemJournal()
	j.fail = func(op string, e JournalEntry) error {
		if op == "Update" && e.DraftID != "" && e.Outcome == JournalUnfinished {
			return ErrLeaseLost // another replica's Recover took the entry
		}
		return nil
	}
	c := fs.client(WithJournal(j), WithCloseSettle(time.Millisecond))
	ctx := context.Background()
	_, err := c.Submit(ctx, a2, validA2Values(t))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, ErrLeaseLost)
	assert.EqualValues(t, 1, fs.creates.Load(), "the draft was made")

	time.Sleep(5 * time.Millisecond)
	j.fail = nil
	rep, err := c.Recover(ctx, j)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Count(ResolutionAbandoned), "%+v", rep)

	// The caller follows the SubmitError's documented advice.
	if se.ID != "" {
		_, err = c.Resume(ctx, se.ID, WithNoCloseSent())
		require.NoError(t, err)
	}
	assert.Zero(t, fs.charges.Load(), "the journal says nothing was charged: %+v", rep)
	assert.Zero(t, fs.closes.Load())
}

// appliedButFailed is a journal whose first write of a draft id lands but
// reports a failure, as a write whose answer was lost does (a Dir whose
// folder could not be synced after the rename, a database statement cut
// after it committed).
type appliedButFailed struct {
	*memJournal
	once sync.Once
}

func (j *appliedButFailed) Update(ctx context.Context, e JournalEntry) error {
	err := j.memJournal.Update(ctx, e)
	if err == nil && e.DraftID != "" && e.Outcome == JournalUnfinished {
		j.once.Do(func() { err = errors.New("visengine: journal: fsync: input/output error") })
	}
	return err
}

// When the draft's id did reach the journal despite the error, Recover
// will close that draft: the SubmitError must then hand the id out (the
// submission is not free to make again), as it did before the journal
// failed; only an id the journal does not hold is never to be closed.
func TestDraftIDWrittenDespiteAnErrorStaysTheSubmissions(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	j := &appliedButFailed{memJournal: newMemJournal()}
	c := fs.client(WithJournal(j), WithCloseSettle(time.Millisecond))
	se := failedSubmit(t, c, a2)
	assert.NotEmpty(t, se.ID, "the journal holds the draft: it is this submission's, not free to submit again")
	assert.Equal(t, StepClose, se.Step)

	recoverClosesOnce(t, c, j, fs)
}

// failedSubmit submits valid values for a2 and returns the *SubmitError
// that Submit must fail with.
func failedSubmit(t *testing.T, c *Client, a2 *Visura) *SubmitError {
	t.Helper()
	_, err := c.Submit(context.Background(), a2, validA2Values(t))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	return se
}

// unreadableRefusingDraftIDs is an unreadable journal, down, that refuses
// every draft id's write with err, writing nothing.
func unreadableRefusingDraftIDs(err error) *unreadable {
	j := &unreadable{appliedButFailed: &appliedButFailed{memJournal: newMemJournal()}}
	j.fail = func(op string, e JournalEntry) error {
		if op == "Update" && e.DraftID != "" && e.Outcome == JournalUnfinished {
			return err
		}
		return nil
	}
	j.down.Store(true)
	return j
}

// journalFlow returns the A2 service, a flow server, a memJournal and a
// client of both that tries each call once and settles in a millisecond.
func journalFlow(t *testing.T) (*Visura, *flowServer, *memJournal, *Client) {
	t.Helper()
	fs, j := newFlowServer(t), newMemJournal()
	return decodeVisura(t, "visura_a2.json"), fs, j, fs.client(WithJournal(j), WithRetry(1, 0, 0), WithCloseSettle(time.Millisecond))
}

// recoverClosesOnce runs Recover once the settle time has passed and checks
// that it closed the submission's draft, its only charge.
func recoverClosesOnce(t *testing.T, c *Client, j Journal, fs *flowServer) {
	t.Helper()
	time.Sleep(5 * time.Millisecond)
	rep, err := c.Recover(context.Background(), j)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Count(ResolutionResumed), "%+v", rep)
	assert.EqualValues(t, 1, fs.charges.Load())
}

// unreadable is appliedButFailed whose Get fails too, as it does while the
// database that lost the write's answer is out of reach.
type unreadable struct {
	*appliedButFailed
	down atomic.Bool
}

func (j *unreadable) Get(ctx context.Context, ref string) (JournalEntry, error) {
	if j.down.Load() {
		return JournalEntry{}, errors.New("visengine: journal table visengine_journal: reading entry: connection refused")
	}
	return j.appliedButFailed.Get(ctx, ref)
}

// When the draft's id may have reached the journal and reading it back
// fails too, nobody knows whether Recover will close that draft: the
// SubmitError must hand the id out, never say "never to be closed", which
// invites a second submission and, with Recover's close, a second charge;
// and it must say that the outcome is unknown, which Recover settles.
func TestDraftIDUnreadableAfterAnErrorStaysTheSubmissions(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	j := &unreadable{appliedButFailed: &appliedButFailed{memJournal: newMemJournal()}}
	j.down.Store(true)
	c := fs.client(WithJournal(j), WithCloseSettle(time.Millisecond))
	se := failedSubmit(t, c, a2)
	assert.NotEmpty(t, se.ID, "the journal may hold the draft: it is this submission's until proven otherwise")
	assert.Equal(t, StepClose, se.Step)
	assert.Zero(t, se.CloseSentAt, "no close was sent")
	assert.NotContains(t, se.Error(), "never to be closed")
	assert.ErrorIs(t, se, ErrOutcomeUnknown, "whether Recover will close it is unknown")
	assert.Contains(t, se.Error(), "neither submit again nor Resume")
	assert.Zero(t, fs.closes.Load())

	j.down.Store(false)
	recoverClosesOnce(t, c, j, fs)
}

// A draft id refused for a lost lease never reached the journal (Update
// checks the lease before it writes), so Recover never closes that draft,
// whether or not the entry can be read back: the caller hears "never to be
// closed" and may submit again, and nothing is charged for the first.
func TestDraftIDRefusedForALostLeaseIsNeverClosed(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	j := unreadableRefusingDraftIDs(ErrLeaseLost)
	c := fs.client(WithJournal(j), WithCloseSettle(time.Millisecond))
	se := failedSubmit(t, c, a2)
	assert.Equal(t, StepDraft, se.Step)
	assert.Empty(t, se.ID)
	assert.Contains(t, se.Error(), "never to be closed")

	j.down.Store(false)
	j.fail = nil
	time.Sleep(5 * time.Millisecond)
	rep, err := c.Recover(context.Background(), j)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Count(ResolutionAbandoned), "%+v", rep)
	assert.Zero(t, fs.charges.Load())
}

// The same holds for Recover's own close: refused, and the refusal not
// journalled, the entry stays unfinished with its draft, which the next
// Recover closes. Reported "failed" (nothing charged), it would invite a new
// submission, and the next Recover would charge for the first as well.
func TestRecoverUnrecordedRefusalIsNotARefusal(t *testing.T) {
	a2, fs, j, c := journalFlow(t)
	ctx := context.Background()
	fs.dropCloseBefore.Store(true) // the close is lost before the server applies it
	_, err := c.Submit(ctx, a2, validA2Values(t))
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	time.Sleep(5 * time.Millisecond)

	fs.refuseClose.Store(http.StatusPaymentRequired)
	j.fail = func(op string, e JournalEntry) error {
		if op == "Update" && e.Outcome == JournalFailed {
			return errors.New("visengine: journal: disk full")
		}
		return nil
	}
	rep, err := c.Recover(ctx, j)
	require.NoError(t, err)
	assert.Zero(t, rep.Count(ResolutionFailed), "%+v", rep)
	require.Equal(t, 1, rep.Count(ResolutionUnknown), "%+v", rep)
	var apiErr *APIError
	assert.ErrorAs(t, rep.Resolutions[0].Err, &apiErr, "the refusal stays reachable")
	e, _ := j.only()
	assert.Equal(t, JournalUnfinished, e.Outcome)

	fs.refuseClose.Store(0) // the wallet is topped up
	j.fail = nil
	recoverClosesOnce(t, c, j, fs)
}

// A refused close is "nothing charged" only once the journal says so:
// Recover closes an unfinished entry's draft. When the refusal cannot be
// journalled, the caller hears an unknown outcome (never "refused", which
// invites a new submission), and the one charge Recover may make later is
// the submission's only one.
func TestUnrecordedRefusalIsNotARefusal(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	fs.refuseClose.Store(http.StatusPaymentRequired)
	j := newMemJournal()
	j.fail = func(op string, e JournalEntry) error {
		if op == "Update" && e.Outcome == JournalFailed {
			return errors.New("visengine: journal: disk full")
		}
		return nil
	}
	c := fs.client(WithJournal(j), WithRetry(1, 0, 0), WithCloseSettle(time.Millisecond))
	_, err := c.Submit(context.Background(), a2, validA2Values(t))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, ErrOutcomeUnknown, "the journal still holds it unfinished")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr, "the refusal stays reachable")
	assert.Equal(t, http.StatusPaymentRequired, apiErr.StatusCode)
	assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), err.Error())

	e, _ := j.only()
	assert.Equal(t, JournalUnfinished, e.Outcome)
	fs.refuseClose.Store(0) // the wallet is topped up
	j.fail = nil
	recoverClosesOnce(t, c, j, fs)
}

// A keyed replay of a refused submission closes its draft again, so the
// entry is unfinished again from the moment that close is recorded, and
// not before: when the draft cannot even be read back, the entry stays
// failed (nothing charged, Recover leaves it alone), so that a caller who
// reads the error as a refusal and submits anew pays once.
func TestKeyedReplayThatCannotReadTheDraftLeavesTheRefusalRecorded(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	var get503 atomic.Bool
	srv := newCountingServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		if get503.Load() && r.Method == http.MethodGet {
			writeJSON(w, http.StatusServiceUnavailable, `{"data":null,"success":false,"message":"unavailable","error":null}`)
			return
		}
		fs.serve(w, r)
	})
	j := newMemJournal().withSecret()
	c := newTestClient(t, srv.URL, WithJournal(j), WithRetry(1, 0, 0), WithCloseSettle(time.Millisecond))
	ctx := context.Background()
	fs.refuseClose.Store(http.StatusPaymentRequired)
	_, err := c.Submit(ctx, a2, validA2Values(t), WithIdempotencyKey("applicant-1"))
	require.ErrorIs(t, err, ErrInsufficientCredit)

	get503.Store(true)
	_, err = c.Submit(ctx, a2, validA2Values(t), WithIdempotencyKey("applicant-1"))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepClose, se.Step)
	assert.NotEmpty(t, se.ID)
	e, _ := j.only()
	assert.Equal(t, JournalFailed, e.Outcome, "no close was recorded: the refusal still holds")
	get503.Store(false)

	_, err = c.Submit(ctx, a2, validA2Values(t)) // a new submission, without the key
	require.NoError(t, err)
	time.Sleep(5 * time.Millisecond)
	_, err = c.Recover(ctx, j)
	require.NoError(t, err)
	assert.EqualValues(t, 1, fs.charges.Load())
}

// Resume closes a refused submission's draft once the cause is fixed. If
// the process dies before the outcome is recorded, the entry must not read
// failed (nothing charged) with that close behind it: recording the close
// makes it unfinished again, and Recover completes it from the server.
func TestResumeOfARefusalReopensTheEntryBeforeClosing(t *testing.T) {
	a2, fs, j, c := journalFlow(t)
	ctx := context.Background()
	fs.refuseClose.Store(http.StatusPaymentRequired)
	se := failedSubmit(t, c, a2)
	require.ErrorIs(t, se, ErrInsufficientCredit)
	fs.refuseClose.Store(0) // the wallet is topped up

	j.fail = func(op string, e JournalEntry) error { // the process dies once the close is answered
		if op == "Update" && e.Outcome == JournalCompleted {
			return errors.New("visengine: journal: killed")
		}
		return nil
	}
	time.Sleep(5 * time.Millisecond) // the settle time, from the refused close
	res, err := c.Resume(ctx, se.ID, WithNoCloseSent())
	require.NoError(t, err)
	require.Equal(t, ResolutionResumed, res.Status)
	e, _ := j.only()
	assert.Equal(t, JournalUnfinished, e.Outcome, "closed, charged, and not recorded as failed")

	j.fail = nil
	time.Sleep(5 * time.Millisecond)
	rep, err := c.Recover(ctx, j)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Count(ResolutionCompleted), "%+v", rep)
	e, _ = j.only()
	assert.Equal(t, JournalCompleted, e.Outcome)
	assert.EqualValues(t, 1, fs.charges.Load())
}

// testLease is the lease of the tests that outlast one on purpose: long
// enough that the steps before the slow one keep it on a loaded machine.
const testLease = time.Second

// A close sent again after a 429 is recorded again first. When that second
// write is refused for a lost lease (the 429's wait outlasted it), the
// entry still holds the draft's id from the first write, and Recover will
// close the draft: the caller must get the id, never "never to be closed".
func TestLeaseLostOnACloseSentAgainKeepsTheDraftTheSubmissions(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	var puts atomic.Int32
	fs.hook = func(method, _ string, _ []byte) {
		if method == http.MethodPut && puts.Add(1) == 1 {
			time.Sleep(testLease + 200*time.Millisecond) // outlasts the lease
		}
	}
	j := newMemJournal()
	c := fs.client(WithJournal(j), WithJournalLease(testLease),
		WithRateLimitRetry(2, 5*time.Millisecond), WithCloseSettle(time.Millisecond))
	fs.refuseClose.Store(http.StatusTooManyRequests)
	se := failedSubmit(t, c, a2)
	require.ErrorIs(t, se, ErrLeaseLost)
	assert.Equal(t, StepClose, se.Step)
	assert.NotEmpty(t, se.ID, "the journal holds the draft since the first close")
	assert.NotContains(t, se.Error(), "never to be closed")
	e, _ := j.only()
	assert.Equal(t, se.ID, e.DraftID)

	recoverClosesOnce(t, c, j, fs)
}

// cancelOnClose ends the caller's context once a close is recorded, so
// that the close is never sent.
type cancelOnClose struct {
	*memJournal
	cancel context.CancelFunc
}

func (j *cancelOnClose) Update(ctx context.Context, e JournalEntry) error {
	err := j.memJournal.Update(ctx, e)
	if err == nil && j.cancel != nil && !e.CloseSentAt.IsZero() && e.LeaseUntil.After(time.Now()) {
		j.cancel()
	}
	return err
}

// cutResume is a refused submission (402) whose draft Resume closes with
// a context that ends as soon as the close is recorded: it is never sent.
type cutResume struct {
	a2  *Visura
	fs  *flowServer
	j   *cancelOnClose
	c   *Client
	se  *SubmitError // the refusal
	err error        // Resume's
}

// resumeCutAtItsRecord runs a cutResume; fail, if not nil, is the
// journal's fail hook during the Resume.
func resumeCutAtItsRecord(t *testing.T, fail func(op string, e JournalEntry) error) cutResume {
	t.Helper()
	r := cutResume{a2: decodeVisura(t, "visura_a2.json"), fs: newFlowServer(t), j: &cancelOnClose{memJournal: newMemJournal()}}
	r.c = r.fs.client(WithJournal(r.j), WithRetry(1, 0, 0), WithCloseSettle(time.Millisecond))
	r.fs.refuseClose.Store(http.StatusPaymentRequired)
	r.se = failedSubmit(t, r.c, r.a2)
	require.ErrorIs(t, r.se, ErrInsufficientCredit)

	time.Sleep(5 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	r.j.cancel, r.j.fail = cancel, fail
	_, r.err = r.c.Resume(ctx, r.se.ID, WithNoCloseSent())
	r.j.cancel, r.j.fail = nil, nil
	return r
}

// Recording a close re-opens a refused entry (recordClose). When Resume's
// context then ends before the close is sent, the refusal is put back:
// the caller, who still holds it, may submit anew, and Recover must not
// close the old draft behind them.
func TestResumeOfARefusalThatSendsNothingPutsTheRefusalBack(t *testing.T) {
	r := resumeCutAtItsRecord(t, nil)
	require.ErrorIs(t, r.err, context.Canceled)
	assert.EqualValues(t, 1, r.fs.closes.Load(), "only the refused close was sent")
	e, _ := r.j.Get(context.Background(), r.se.Ref)
	assert.Equal(t, JournalFailed, e.Outcome, "the refusal stands")

	_, err := r.c.Submit(context.Background(), r.a2, validA2Values(t)) // the caller submits anew
	require.NoError(t, err)
	time.Sleep(5 * time.Millisecond)
	_, err = r.c.Recover(context.Background(), r.j)
	require.NoError(t, err)
	assert.EqualValues(t, 1, r.fs.charges.Load())
}

// When the refusal cannot be put back after a close that was not sent,
// the entry stays unfinished and Recover will close the draft: the error
// must say the outcome is unknown, never just that the close was not sent
// (context.Canceled alone), which leaves the refusal standing in the
// caller's eyes.
func TestResumeOfARefusalThatCannotPutItBackIsUnknown(t *testing.T) {
	r := resumeCutAtItsRecord(t, func(op string, e JournalEntry) error {
		if op == "Update" && e.Outcome == JournalFailed {
			return errors.New("visengine: journal: disk full")
		}
		return nil
	})
	require.ErrorIs(t, r.err, ErrOutcomeUnknown)
	assert.Contains(t, r.err.Error(), "Recover may close the draft")
	e, _ := r.j.Get(context.Background(), r.se.Ref)
	assert.Equal(t, JournalUnfinished, e.Outcome)

	recoverClosesOnce(t, r.c, r.j, r.fs) // the submission's one charge
}

// A close's record refused for a lost lease wrote nothing: the refusal
// stands, Recover never looks at the entry, and the error must not say
// that Recover may close the draft.
func TestResumeOfARefusalWhoseLeaseRanOutLeavesTheRefusal(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	var slowGet atomic.Bool
	fs.hook = func(method, _ string, _ []byte) {
		if method == http.MethodGet && slowGet.Load() {
			time.Sleep(testLease + 200*time.Millisecond) // outlasts Resume's lease
		}
	}
	j := newMemJournal()
	c := fs.client(WithJournal(j), WithRetry(1, 0, 0), WithCloseSettle(time.Millisecond),
		WithJournalLease(testLease))
	fs.refuseClose.Store(http.StatusPaymentRequired)
	se := failedSubmit(t, c, a2)
	require.ErrorIs(t, se, ErrInsufficientCredit)

	time.Sleep(5 * time.Millisecond)
	slowGet.Store(true)
	_, err := c.Resume(context.Background(), se.ID, WithNoCloseSent())
	slowGet.Store(false)
	require.ErrorIs(t, err, ErrLeaseLost)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.NotContains(t, err.Error(), "Recover may close")
	e, _ := j.Get(context.Background(), se.Ref)
	assert.Equal(t, JournalFailed, e.Outcome, "nothing was written: the refusal stands")
	rep, err := c.Recover(context.Background(), j)
	require.NoError(t, err)
	assert.Empty(t, rep.Resolutions, "Recover leaves a refused entry alone")
	assert.EqualValues(t, 1, fs.closes.Load(), "only the refused close was sent")
}

// A Resume of a draft that no entry names, whose client reference names
// an entry that never recorded it, sends nothing: Recover reports that
// entry abandoned (submit again) and leaves its draft open, so closing it
// would charge for a submission the journal says cost nothing. This is
// the draft of an unreadable journal's unknown outcome, resumed against
// the error's advice.
func TestResumeLeavesADraftItsJournalEntryNeverRecorded(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	j := unreadableRefusingDraftIDs(errors.New("visengine: journal: connection refused"))
	c := fs.client(WithJournal(j), WithCloseSettle(time.Millisecond))
	cb, err := NewCallback("https://hooks.example.com/visengine", CallbackJSON)
	require.NoError(t, err)
	_, err = c.Submit(context.Background(), a2, validA2Values(t), WithCallback(cb))
	var se *SubmitError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, se, ErrOutcomeUnknown)
	j.down.Store(false)
	j.fail = nil

	time.Sleep(5 * time.Millisecond)
	res, err := c.Resume(context.Background(), se.ID, WithNoCloseSent())
	require.NoError(t, err)
	assert.Equal(t, ResolutionUnknown, res.Status, "%v", res)
	assert.Contains(t, res.Reason, "Recover settles that entry")
	assert.Zero(t, fs.closes.Load())

	rep, err := c.Recover(context.Background(), j)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Count(ResolutionAbandoned), "%+v", rep)

	res, err = c.Resume(context.Background(), se.ID, WithNoCloseSent()) // after Recover too
	require.NoError(t, err)
	assert.Equal(t, ResolutionUnknown, res.Status, "%v", res)
	assert.Contains(t, res.Reason, "settled without it")
	assert.Zero(t, fs.charges.Load())
}

// gated holds the first record of a close until released, so that a test
// can act while a Submit is under way. Its reached channel needs room for
// that one signal: the gate does not wait for a receiver, and the Submit
// may get there before the test waits (on a loaded machine it did, and the
// test waited forever).
type gated struct {
	*memJournal
	reached, release chan struct{}
}

func (j gated) Update(ctx context.Context, e JournalEntry) error {
	if e.DraftID != "" && !e.CloseSentAt.IsZero() && e.Outcome == JournalUnfinished {
		select {
		case j.reached <- struct{}{}:
			<-j.release
		default:
		}
	}
	return j.memJournal.Update(ctx, e)
}

// A Resume of a draft whose Submit (with a callback) is still under way
// sends nothing and says so: that Submit closes it, the submission's one
// charge.
func TestResumeLeavesTheDraftOfASubmitUnderWay(t *testing.T) {
	a2 := decodeVisura(t, "visura_a2.json")
	fs := newFlowServer(t)
	j := gated{newMemJournal(), make(chan struct{}, 1), make(chan struct{})}
	c := fs.client(WithJournal(j), WithCloseSettle(time.Millisecond))
	cb, err := NewCallback("https://hooks.example.com/visengine", CallbackJSON)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := c.Submit(context.Background(), a2, validA2Values(t), WithCallback(cb))
		done <- err
	}()
	<-j.reached
	fs.mu.Lock()
	id := fs.ids[0]
	fs.mu.Unlock()
	res, err := c.Resume(context.Background(), id, WithNoCloseSent())
	close(j.release)
	require.NoError(t, err)
	assert.Equal(t, ResolutionUnknown, res.Status, "%v", res)
	assert.Contains(t, res.Reason, "may be under way")
	require.NoError(t, <-done)
	assert.EqualValues(t, 1, fs.charges.Load())
}

// Without a journal, the client's memory of keyed submissions plays its
// part: the draft (with a callback) of a key's POST whose outcome was
// unknown is not closed,
// and the reason says what finishes it (the same key), not Recover, which
// cannot reach that memory.
func TestResumeLeavesAKeyedDraftOfAnUnknownPOST(t *testing.T) {
	k := newLostKeyedDraft(t)
	res, err := k.c.Resume(context.Background(), k.d1, WithNoCloseSent())
	require.NoError(t, err)
	assert.Equal(t, ResolutionUnknown, res.Status, "%v", res)
	assert.Contains(t, res.Reason, "same key")
	require.NoError(t, k.submitAgain(t))
	assert.EqualValues(t, 1, k.fs.charges.Load())
}

// lostKeyedDraft is a client without a journal whose first Submit under
// a key, with a callback, lost its POST's answer after the server made
// draft d1.
type lostKeyedDraft struct {
	a2 *Visura
	fs *flowServer
	c  *Client
	cb *Callback
	d1 string
}

func newLostKeyedDraft(t *testing.T) lostKeyedDraft {
	t.Helper()
	k := lostKeyedDraft{a2: decodeVisura(t, "visura_a2.json"), fs: newFlowServer(t)}
	k.c = k.fs.client(WithCloseSettle(time.Millisecond))
	var err error
	k.cb, err = NewCallback("https://hooks.example.com/visengine", CallbackJSON)
	require.NoError(t, err)
	k.fs.dropCreateAfter.Store(true)
	require.ErrorIs(t, k.submitAgain(t), ErrOutcomeUnknown)
	k.fs.mu.Lock()
	k.d1 = k.fs.ids[0]
	k.fs.mu.Unlock()
	return k
}

// submitAgain submits the same values under the same key.
func (k lostKeyedDraft) submitAgain(t *testing.T) error {
	_, err := k.c.Submit(context.Background(), k.a2, validA2Values(t), WithCallback(k.cb), WithIdempotencyKey("form-1"))
	return err
}

// A key whose submission completed with another draft replays that one:
// submitting the key again would not close this draft, which stays open.
func TestResumeLeavesTheOtherDraftOfACompletedKey(t *testing.T) {
	k := newLostKeyedDraft(t)
	require.NoError(t, k.submitAgain(t))
	res, err := k.c.Resume(context.Background(), k.d1, WithNoCloseSent())
	require.NoError(t, err)
	assert.Equal(t, ResolutionUnknown, res.Status, "%v", res)
	assert.Contains(t, res.Reason, "settled without it")
	assert.EqualValues(t, 1, k.fs.charges.Load())
}
