package visenginetest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/visenginetest"
)

// keyJournals are the reaches of an idempotency key: the client's memory
// (no journal) and a directory journal.
var keyJournals = []struct {
	name string
	opts func(t *testing.T) []visengine.Option
}{
	{"no journal", func(*testing.T) []visengine.Option { return nil }},
	{"directory journal", func(t *testing.T) []visengine.Option {
		d, err := journal.OpenDir(t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { _ = d.Close() })
		return []visengine.Option{visengine.WithJournal(d)}
	}},
}

// The same key twice in a row, then from 8 goroutines at once: one POST,
// one charge, one richiesta for all, and the later ones say they replayed.
func TestSDKKeySameKeyOnePayment(t *testing.T) {
	for _, kj := range keyJournals {
		t.Run(kj.name, func(t *testing.T) {
			srv := visenginetest.NewServer()
			t.Cleanup(srv.Close)
			c := srv.Client(kj.opts(t)...)
			ctx := testCtx(t)
			v := getVisura(t, c, hashA2)
			n0 := len(srv.Requests())
			var first, second visengine.SubmitInfo
			r1, err := c.Submit(ctx, v, applicant(1), visengine.WithIdempotencyKey("pratica-1"), visengine.WithSubmitInfo(&first))
			require.NoError(t, err)
			r2, err := c.Submit(ctx, v, applicant(1), visengine.WithIdempotencyKey("pratica-1"), visengine.WithSubmitInfo(&second))
			require.NoError(t, err)
			assert.Equal(t, r1.ID, r2.ID)
			assert.False(t, first.Replayed)
			assert.True(t, second.Replayed, "paid before, not now")
			assert.Equal(t, first.Ref, second.Ref)

			ids := submitConcurrently(t, c, v, 8, "pratica-2", applicant(2))
			for _, id := range ids {
				assert.Equal(t, ids[0], id, "one richiesta for all")
			}
			reqs := since(srv, n0)
			assert.Equal(t, 2, count(reqs, "POST", "/richiesta"), "one POST per key: %s", summary(reqs))
			n, _ := srv.Charges()
			assert.Equal(t, 2, n, "one charge per key")
		})
	}
}

// submitConcurrently submits values under key from n goroutines at once
// and returns the richiesta ids they got.
func submitConcurrently(t *testing.T, c *visengine.Client, v *visengine.Visura, n int, key string, values visengine.Values) []string {
	t.Helper()
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := c.Submit(testCtx(t), v, values, visengine.WithIdempotencyKey(key))
			if err == nil {
				ids[i] = r.ID
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return ids
}

// The same key with one value changed, another service or other options
// fails before anything is sent; an option named by tipo or by nome is
// one submission.
func TestSDKKeyReusedWithOtherParameters(t *testing.T) {
	for _, kj := range keyJournals {
		t.Run(kj.name, func(t *testing.T) {
			srv := visenginetest.NewServer()
			t.Cleanup(srv.Close)
			c := srv.Client(kj.opts(t)...)
			ctx := testCtx(t)
			v := getVisura(t, c, hashA2)
			key := visengine.WithIdempotencyKey("RSSMRA80A01H501U")
			_, err := c.Submit(ctx, v, applicant(3), key, visengine.WithOpzioni("urgenza"))
			require.NoError(t, err)
			n0 := len(srv.Requests())
			changed := applicant(3)
			changed["$1"] = "Bianchi"
			_, err = c.Submit(ctx, v, changed, key, visengine.WithOpzioni("urgenza"))
			require.ErrorIs(t, err, visengine.ErrIdempotencyKeyReused)
			assert.NotContains(t, err.Error(), "RSSMRA", "the key is not quoted")
			_, err = c.Submit(ctx, v, applicant(3), key)
			require.ErrorIs(t, err, visengine.ErrIdempotencyKeyReused, "without the option")
			assert.Empty(t, since(srv, n0), "nothing sent")

			_, err = c.Submit(ctx, v, applicant(3), key, visengine.WithOpzioni("opzione_0"))
			require.NoError(t, err, "the same option by nome")
			assert.Zero(t, count(since(srv, n0), "POST", "/richiesta"))
			n, _ := srv.Charges()
			assert.Equal(t, 1, n)
		})
	}
}

// The first close is refused for credit; the wallet is topped up and the
// same key submitted again: the same draft is closed, one charge in all.
func TestSDKKeyCreditRefusedThenToppedUp(t *testing.T) {
	for _, kj := range keyJournals {
		t.Run(kj.name, func(t *testing.T) {
			srv := visenginetest.NewServer()
			t.Cleanup(srv.Close)
			c := srv.Client(kj.opts(t)...)
			ctx := testCtx(t)
			v := getVisura(t, c, hashA2)
			srv.SetBalance(visengine.Cents(500))
			n0 := len(srv.Requests())
			_, err := c.Submit(ctx, v, applicant(4), visengine.WithIdempotencyKey("pratica-4"))
			require.ErrorIs(t, err, visengine.ErrInsufficientCredit)
			var se *visengine.SubmitError
			require.ErrorAs(t, err, &se)
			require.NotEmpty(t, se.ID)

			srv.SetBalance(visengine.Cents(10000))
			r, err := c.Submit(ctx, v, applicant(4), visengine.WithIdempotencyKey("pratica-4"))
			require.NoError(t, err)
			assert.Equal(t, se.ID, r.ID, "the same draft, closed")
			reqs := since(srv, n0)
			assert.Equal(t, 1, count(reqs, "POST", "/richiesta"), summary(reqs))
			n, _ := srv.Charges()
			assert.Equal(t, 1, n)
		})
	}
}

// The README's finishLater, called in a loop with the first SubmitError,
// against a backend that answers 504 at once and commits each close later
// without checking again: the client waits the settle time from the last
// close it sent, not the one it was told, so it pays once. The first close
// is lost before the backend (nothing applied); every later one commits
// after the commit delay.
func TestSDKFinishLaterLoopPaysOnce(t *testing.T) {
	t.Parallel()
	const commit = 400 * time.Millisecond
	const settle = commit + 200*time.Millisecond
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client(visengine.WithCloseSettle(settle))
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusGatewayTimeout})
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusGatewayTimeout, ApplyAfter: commit,
		ChargeAgain: true, Times: -1})
	_, submitErr := c.Submit(ctx, v, applicant(5))
	require.ErrorIs(t, submitErr, visengine.ErrOutcomeUnknown)
	deadline := time.Now().Add(4 * settle)
	var res *visengine.Resolution
	for time.Now().Before(deadline) {
		var err error
		res, err = finishLater(ctx, c, submitErr)
		require.NoError(t, err)
		if res.Status == visengine.ResolutionCompleted {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, visengine.ResolutionCompleted, res.Status, "%v", res)
	time.Sleep(commit + 100*time.Millisecond) // any close still queued would charge by now
	n, _ := srv.Charges()
	assert.Equal(t, 1, n, "one charge: %s", summary(srv.Requests()))
	var se *visengine.SubmitError
	require.ErrorAs(t, submitErr, &se)
	assert.Equal(t, 2, closes(srv.Requests(), se.ID), "the lost close and one after its settle time")
}

// finishLater is the README's: after an unknown close, Resume with the
// SubmitError's CloseSentAt.
func finishLater(ctx context.Context, c *visengine.Client, submitErr error) (*visengine.Resolution, error) {
	var se *visengine.SubmitError
	if !errors.As(submitErr, &se) || se.Step != visengine.StepClose || !errors.Is(submitErr, visengine.ErrOutcomeUnknown) {
		return nil, submitErr
	}
	return c.Resume(ctx, se.ID, visengine.WithCloseSentAt(se.CloseSentAt))
}

// A journal row (stray or forged) naming an open draft that is not its
// submission's — other values, no client reference: Recover leaves the
// draft open and reports the entry unknown, with the reason.
func TestSDKRecoverLeavesUnrelatedDraftOpen(t *testing.T) {
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	d, err := journal.OpenDir(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	c := srv.Client(visengine.WithJournal(d), visengine.WithCloseSettle(time.Millisecond))
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	draft, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashA2, JSONVisura: applicant(6), Visura: v})
	require.NoError(t, err)
	secret, err := d.DigestSecret(ctx)
	require.NoError(t, err)
	ref, err := visengine.NewJournalRef()
	require.NoError(t, err)
	row := visengine.JournalEntry{Ref: ref, HashVisura: hashA2, DraftID: draft.ID,
		Digest:    visengine.KeyedJournalDigest(secret, hashA2, applicant(7), nil),
		CreatedAt: time.Now().Add(-time.Hour), LeaseOwner: "forger", LeaseUntil: time.Now().Add(time.Millisecond)}
	require.NoError(t, d.Create(ctx, row))
	time.Sleep(5 * time.Millisecond)

	rep, err := c.Recover(ctx, d)
	require.NoError(t, err)
	require.Len(t, rep.Resolutions, 1)
	res := rep.Resolutions[0]
	assert.Equal(t, visengine.ResolutionUnknown, res.Status, "%v", res)
	assert.Contains(t, res.Reason, "values are not the entry's")
	r, err := c.GetRichiesta(ctx, draft.ID)
	require.NoError(t, err)
	assert.Equal(t, visengine.StateDraft, r.State, "left open")
	assert.Zero(t, closes(srv.Requests(), draft.ID))
	n, _ := srv.Charges()
	assert.Zero(t, n)

	// The entry's own draft, proven by its values, is closed.
	own, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashA2, JSONVisura: applicant(8), Visura: v})
	require.NoError(t, err)
	ref2, err := visengine.NewJournalRef()
	require.NoError(t, err)
	row2 := row
	row2.Ref, row2.DraftID, row2.Digest = ref2, own.ID, visengine.KeyedJournalDigest(secret, hashA2, applicant(8), nil)
	require.NoError(t, d.Create(ctx, row2))
	time.Sleep(5 * time.Millisecond)
	rep, err = c.Recover(ctx, d)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Count(visengine.ResolutionResumed), "%+v", rep)
	n, _ = srv.Charges()
	assert.Equal(t, 1, n)
}

// A day's batch: 200 applicants, 16 in flight, each under its own key,
// with a 429 (Retry-After: 1) on one draft POST and one close in ten: all
// 200 paid once, none failed, and the client's limiter keeps its rate.
func TestSDKBatchThrough429s(t *testing.T) {
	t.Parallel()
	const applicants, inFlight = 200, 16
	const rate, burst = 400.0, 8
	srv := visenginetest.NewServer(visenginetest.WithWallet(visengine.Cents(applicants * 2000)))
	t.Cleanup(srv.Close)
	sent := &sendTimes{}
	tr := srvTransport(srv)
	t.Cleanup(tr.(*http.Transport).CloseIdleConnections)
	hc := &http.Client{Transport: sent.wrap(tr)}
	c := srv.Client(visengine.WithHTTPClient(hc), visengine.WithRateLimit(rate, burst))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v := getVisura(t, c, hashA2)
	tooMany := visenginetest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1", Every: 10, Times: -1}
	srv.Fault("POST", "/richiesta", tooMany)
	srv.Fault("PUT", "/richiesta/{id}", tooMany)
	n0 := len(srv.Requests())

	sem := make(chan struct{}, inFlight)
	errs := make(chan error, applicants)
	for i := range applicants {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := c.Submit(ctx, v, applicant(i%31), visengine.WithIdempotencyKey(fmt.Sprintf("applicant-%03d", i)))
			errs <- err
		}()
	}
	failed := 0
	for range applicants {
		if err := <-errs; err != nil {
			failed++
			t.Log(err)
		}
	}
	assert.Zero(t, failed)
	n, _ := srv.Charges()
	assert.Equal(t, applicants, n)
	reqs := since(srv, n0)
	assert.GreaterOrEqual(t, count(reqs, "POST", "/richiesta"), applicants+applicants/10-1, "the 429s were met")
	assertRate(t, sent.times(), rate, burst)
}

// srvTransport is a transport for the fake (plain HTTP on loopback),
// closed with the test's server.
func srvTransport(*visenginetest.Server) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// sendTimes records when each request left the client, below its
// limiter: what the limiter lets through, free of the server's scheduling.
type sendTimes struct {
	mu sync.Mutex
	at []time.Time
}

func (s *sendTimes) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		s.mu.Lock()
		s.at = append(s.at, time.Now())
		s.mu.Unlock()
		return next.RoundTrip(r)
	})
}

func (s *sendTimes) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.at...)
}

// assertRate checks that no stretch of reqs has more requests than the
// token bucket allows: burst, plus rate per second of its length, plus a
// little for the scheduler; without the limiter a batch sends hundreds
// beyond it.
func assertRate(t *testing.T, reqs []time.Time, rate float64, burst int) {
	t.Helper()
	require.NotEmpty(t, reqs)
	worst := 0.0
	for i := range reqs {
		for j := i; j < len(reqs); j++ {
			span := reqs[j].Sub(reqs[i]).Seconds()
			excess := float64(j-i+1) - float64(burst) - rate*span
			worst = max(worst, excess)
		}
	}
	// Waiters are released on their reservations; one woken late by the
	// scheduler lands beside the next one: allow one burst of jitter.
	assert.LessOrEqual(t, worst, float64(burst), "requests beyond the limiter's rate")
	span := reqs[len(reqs)-1].Sub(reqs[0]).Seconds()
	assert.LessOrEqual(t, float64(len(reqs)), float64(burst)+rate*span+1, "the average rate")
}

// Recover matches a lost POST's richiesta by values with the keyed digest
// too: a closed richiesta with the entry's values but not its reference
// is unknown, never "abandoned, submit again".
func TestSDKRecoverMatchesKeyedDigests(t *testing.T) {
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	d, err := journal.OpenDir(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	c := srv.Client(visengine.WithJournal(d), visengine.WithCloseSettle(time.Millisecond))
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	secret, err := d.DigestSecret(ctx)
	require.NoError(t, err)
	ref, err := visengine.NewJournalRef()
	require.NoError(t, err)
	require.NoError(t, d.Create(ctx, visengine.JournalEntry{Ref: ref, HashVisura: hashA2,
		Digest:    visengine.KeyedJournalDigest(secret, hashA2, applicant(9), nil),
		CreatedAt: time.Now().Add(-time.Minute), LeaseOwner: "dead", LeaseUntil: time.Now().Add(time.Millisecond)}))
	_, err = c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashA2, JSONVisura: applicant(9),
		Visura: v, State: visengine.StateSubmitted})
	require.NoError(t, err)
	time.Sleep(5 * time.Millisecond)
	rep, err := c.Recover(ctx, d)
	require.NoError(t, err)
	require.Len(t, rep.Resolutions, 1)
	assert.Equal(t, visengine.ResolutionUnknown, rep.Resolutions[0].Status, "%v", rep.Resolutions[0])
	assert.Contains(t, rep.Resolutions[0].Reason, "not this submission's reference")
}

// The same key after an unknown close: no POST and no PUT within the
// settle time, the first one's unknown outcome with its draft's id; after
// it, the same draft is finished. One charge.
func TestSDKKeyReplaysAnUnknownClose(t *testing.T) {
	for _, kj := range keyJournals {
		t.Run(kj.name, func(t *testing.T) {
			srv := visenginetest.NewServer()
			t.Cleanup(srv.Close)
			const settle = time.Second // the replay comes within it, on a loaded machine too
			c := srv.Client(append(kj.opts(t), visengine.WithCloseSettle(settle))...)
			ctx := testCtx(t)
			v := getVisura(t, c, hashA2)
			key := visengine.WithIdempotencyKey("pratica-10")
			srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusGatewayTimeout})
			_, err := c.Submit(ctx, v, applicant(10), key)
			var first *visengine.SubmitError
			require.ErrorAs(t, err, &first)
			require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)

			n0 := len(srv.Requests())
			_, err = c.Submit(ctx, v, applicant(10), key)
			var again *visengine.SubmitError
			require.ErrorAs(t, err, &again)
			assert.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
			assert.Equal(t, first.ID, again.ID)
			reqs := since(srv, n0)
			assert.Zero(t, count(reqs, "POST", "/richiesta")+count(reqs, "PUT", "/richiesta/*"), summary(reqs))

			// The journal's clock is read with a margin of a millisecond
			// or so, which makes the settle time end that much later.
			time.Sleep(time.Until(first.CloseSentAt.Add(settle + 20*time.Millisecond)))
			r, err := c.Submit(ctx, v, applicant(10), key)
			require.NoError(t, err)
			assert.Equal(t, first.ID, r.ID)
			n, _ := srv.Charges()
			assert.Equal(t, 1, n)
		})
	}
}

// A key replayed while its close is in doubt, whose read-back fails (404
// from a lagging replica), is still in doubt: never an error that reads as
// a refusal, which would tell the caller nothing was charged.
func TestSDKKeyReplayWithAFailedReadBackStaysUnknown(t *testing.T) {
	for _, kj := range keyJournals {
		t.Run(kj.name, func(t *testing.T) {
			srv := visenginetest.NewServer()
			t.Cleanup(srv.Close)
			c := srv.Client(append(kj.opts(t), visengine.WithCloseSettle(time.Hour))...)
			ctx := testCtx(t)
			v := getVisura(t, c, hashA2)
			key := visengine.WithIdempotencyKey("pratica-11")
			srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Drop: visenginetest.DropAfterApply})
			srv.Fault("GET", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusNotFound, Times: -1})
			_, err := c.Submit(ctx, v, applicant(11), key)
			require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)

			_, err = c.Submit(ctx, v, applicant(11), key)
			var again *visengine.SubmitError
			require.ErrorAs(t, err, &again)
			assert.ErrorIs(t, err, visengine.ErrOutcomeUnknown, "%v", err)
			var ou *visengine.OutcomeUnknownError
			assert.ErrorAs(t, again.Err, &ou, "the cause, not a refusal")
			n, _ := srv.Charges()
			assert.Equal(t, 1, n)
		})
	}
}

// A key held by a call that does not end: Submit waits for it until its
// context ends, then fails without sending anything.
func TestSDKKeyWaitsForTheCallHoldingIt(t *testing.T) {
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	d, err := journal.OpenDir(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	c := srv.Client(visengine.WithJournal(d))
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	_, err = c.Submit(ctx, v, applicant(11), visengine.WithIdempotencyKey("pratica-11"))
	require.NoError(t, err)
	secret, err := d.DigestSecret(ctx)
	require.NoError(t, err)
	_, err = d.ClaimRef(ctx, visengine.IdempotencyRef(secret, "pratica-11"), "another-replica", time.Now().Add(time.Hour))
	require.NoError(t, err)

	n0 := len(srv.Requests())
	short, cancel := context.WithTimeout(ctx, 400*time.Millisecond) // room for a slow first look
	defer cancel()
	_, err = c.Submit(short, v, applicant(11), visengine.WithIdempotencyKey("pratica-11"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "under way in another call")
	assert.Empty(t, since(srv, n0), "nothing sent while waiting")

	require.NoError(t, d.Release(ctx, visengine.IdempotencyRef(secret, "pratica-11"), "another-replica"))
	var info visengine.SubmitInfo
	_, err = c.Submit(ctx, v, applicant(11), visengine.WithIdempotencyKey("pratica-11"), visengine.WithSubmitInfo(&info))
	require.NoError(t, err)
	assert.True(t, info.Replayed)
}
