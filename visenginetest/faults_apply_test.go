package visenginetest_test

import (
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// These tests put the SDK's safety logic against a gateway that fails
// while the backend still does the work (Fault.Apply), does it later
// (Fault.ApplyAfter), and a read replica that lags (Fault.StaleReads): the
// cases where trusting an error as "nothing happened" would pay twice.

var ordinaria = visengine.Values{"$0": "1378273", "$1": "RM"}

// draft creates a free A2 draft through the SDK and returns its id.
func draft(t *testing.T, c *visengine.Client, n int) string {
	t.Helper()
	r, err := c.CreateRichiesta(testCtx(t), &visengine.RichiestaParams{HashVisura: hashA2, JSONVisura: applicant(n)})
	require.NoError(t, err)
	require.Equal(t, visengine.StateDraft, r.State)
	return r.ID
}

// rawPut sends PUT path with body and returns the status and body.
func rawPut(t *testing.T, srv *visenginetest.Server, path, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("PUT", srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Close = true // no idle connection outlives the test
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

// TestFaultApplyAnswersGatewayPage: Apply closes (and charges) the draft,
// then answers the gateway's status with an HTML page, not an envelope.
func TestFaultApplyAnswersGatewayPage(t *testing.T) {
	srv, c := fake(t)
	id := draft(t, c, 8)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusGatewayTimeout, Apply: true})
	status, body, h := rawPut(t, srv, "/richiesta/"+id, `{"state":1}`)
	assert.Equal(t, http.StatusGatewayTimeout, status)
	assert.Contains(t, body, "<h1>504 Gateway Timeout</h1>")
	assert.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	n, sum := srv.Charges()
	assert.Equal(t, 1, n, "applied behind the 504")
	assert.Equal(t, visengine.Cents(2000), sum)

	status, body, _ = rawPut(t, srv, "/richiesta/"+id, `{"state":1}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `"error":239`)
	assert.Contains(t, body, "the request has already been closed")
	n, _ = srv.Charges()
	assert.Equal(t, 1, n)
}

// TestFaultStatusAloneStillNotApplied: without Apply, Status keeps its old
// meaning and its Visengine envelope.
func TestFaultStatusAloneStillNotApplied(t *testing.T) {
	srv, c := fake(t)
	id := draft(t, c, 9)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusBadGateway})
	status, body, _ := rawPut(t, srv, "/richiesta/"+id, `{"state":1}`)
	assert.Equal(t, http.StatusBadGateway, status)
	assert.JSONEq(t, `{"success":false,"message":"Bad Gateway","error":502,"data":null}`, body)
	n, _ := srv.Charges()
	assert.Zero(t, n)
}

// TestFaultStaleReads: the next reads after the applied close still show
// the draft open, then the truth; a close that fails leaves nothing stale.
func TestFaultStaleReads(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	id := draft(t, c, 10)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusBadGateway, Apply: true, StaleReads: 2})
	_, err := c.CloseRichiesta(ctx, id)
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
	for i := range 2 {
		r, err := c.GetRichiesta(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, visengine.StateDraft, r.State, "stale read %d", i)
	}
	r, err := c.GetRichiesta(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, r.State, "the replica caught up")

	// A second close is refused (239): nothing changed, nothing is stale.
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Drop: visenginetest.DropAfterApply, StaleReads: 5})
	_, err = c.CloseRichiesta(ctx, id)
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
	r, err = c.GetRichiesta(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, r.State)
	n, _ := srv.Charges()
	assert.Equal(t, 1, n)
}

// TestFaultImpossibleCombinationsPanic: combinations that cannot be served
// as documented are a setup mistake.
func TestFaultImpossibleCombinationsPanic(t *testing.T) {
	srv, _ := fake(t)
	for name, f := range map[string]visenginetest.Fault{
		"Apply without Status":              {Apply: true},
		"Apply with DropBeforeApply":        {Apply: true, Status: 502, Drop: visenginetest.DropBeforeApply},
		"ApplyAfter without an answer":      {ApplyAfter: time.Second},
		"ApplyAfter with Truncate":          {ApplyAfter: time.Second, Truncate: 3},
		"ApplyAfter with DropBeforeApply":   {ApplyAfter: time.Second, Drop: visenginetest.DropBeforeApply},
		"StaleReads on a fault not applied": {Status: 502, StaleReads: 1},
		"negative StaleReads":               {Drop: visenginetest.DropAfterApply, StaleReads: -1},
	} {
		assert.Panics(t, func() { srv.Fault("PUT", "/richiesta/{id}", f) }, name)
	}
}

// TestSDKSubmitCloseApplied504: the gateway answers 504 to the closing PUT
// that the backend applied. Submit reads back, sees it closed and stops:
// one close, one charge.
func TestSDKSubmitCloseApplied504(t *testing.T) {
	srv, c := fake(t)
	v := getVisura(t, c, hashA2)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusGatewayTimeout, Apply: true})
	n0 := len(srv.Requests())
	r, err := c.Submit(testCtx(t), v, applicant(11))
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, r.State)
	assert.Equal(t, visengine.StatoInErogazione, r.StatoRichiesta)

	reqs := since(srv, n0)
	assert.Equal(t, 1, count(reqs, "POST", "/richiesta"), summary(reqs))
	assert.Equal(t, 1, closes(reqs, r.ID), "closed once: the read-back saw it closed: %s", summary(reqs))
	assert.Equal(t, 1, count(reqs, "GET", "/richiesta/*"), summary(reqs))
	n, sum := srv.Charges()
	assert.Equal(t, 1, n, "exactly one charge")
	assert.Equal(t, visengine.Cents(2000), sum)
}

// TestSDKSubmitCloseAppliedLaterStaleRead is the worst case for Submit: the
// closing PUT is dropped and committed a moment later; the read-back comes
// from a replica that has not caught up and shows the draft open. Submit
// must not close again (a backend that checks on arrival and charges on
// commit would charge twice): it returns the unknown outcome, and Resume,
// after the settle time, finds the richiesta closed. One close, one charge.
func TestSDKSubmitCloseAppliedLaterStaleRead(t *testing.T) {
	const commit = 20 * time.Millisecond
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client(visengine.WithCloseSettle(100 * time.Millisecond))
	v := getVisura(t, c, hashA2)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{
		Drop: visenginetest.DropAfterApply, ApplyAfter: commit, StaleReads: 1,
	})
	// The read-back is served well after the commit, from the stale replica.
	srv.Fault("GET", "/richiesta/{id}", visenginetest.Fault{Delay: 5 * commit})
	n0 := len(srv.Requests())
	_, err := c.Submit(testCtx(t), v, applicant(12))
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown, "the stale read-back proves nothing")
	var se *visengine.SubmitError
	require.ErrorAs(t, err, &se)
	reqs := since(srv, n0)
	assert.Equal(t, 1, closes(reqs, se.ID), "never closed again: %s", summary(reqs))
	assert.Equal(t, 1, count(reqs, "GET", "/richiesta/*"), "read back once: %s", summary(reqs))

	time.Sleep(time.Until(se.CloseSentAt.Add(100 * time.Millisecond)))
	res, err := c.Resume(testCtx(t), se.ID, visengine.WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	assert.Equal(t, visengine.ResolutionCompleted, res.Status, "%v", res)
	assert.Equal(t, 1, closes(since(srv, n0), se.ID))
	log := srv.ChargeLog()
	require.Len(t, log, 1, "exactly one charge")
	assert.Equal(t, se.ID, log[0].RichiestaID)
	assert.Equal(t, visengine.Cents(2000), log[0].Amount)
}

// TestSDKCreateAppliedLater504: the gateway answers 504 to a paid create at
// once and the backend commits it later. The SDK reports an unknown outcome
// and never sends the POST again; the fake shows the richiesta created and
// charged once, after the delay.
func TestSDKCreateAppliedLater504(t *testing.T) {
	const commit = 400 * time.Millisecond
	srv, c := fake(t)
	srv.Fault("POST", "/richiesta", visenginetest.Fault{Status: http.StatusGatewayTimeout, ApplyAfter: commit})
	n0 := len(srv.Requests())
	r, err := c.CreateRichiesta(testCtx(t), &visengine.RichiestaParams{
		HashVisura: hashOrdinaria, JSONVisura: ordinaria, State: visengine.StateSubmitted,
	})
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
	assert.Nil(t, r)
	n, _ := srv.Charges()
	assert.Zero(t, n, "answered at once, before the backend committed")

	require.Eventually(t, func() bool { n, _ := srv.Charges(); return n > 0 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(commit / 2) // room for a wrong second apply or create
	reqs := since(srv, n0)
	require.Len(t, reqs, 1, "the POST is never resent: %s", summary(reqs))
	log := srv.ChargeLog()
	require.Len(t, log, 1, "created and charged exactly once")
	assert.Equal(t, visengine.Cents(490), log[0].Amount)
	assert.GreaterOrEqual(t, log[0].Time.Sub(reqs[0].Time), commit, "applied after the delay")
	stato, found := srv.Stato(log[0].RichiestaID)
	require.True(t, found)
	assert.Equal(t, visengine.StatoInErogazione, stato)
}

// TestSDKSubmitDraftAppliedLater504: the same for Submit's free draft.
// Submit closes nothing; once the backend has committed, Reconcile finds
// the draft and closing it charges once.
func TestSDKSubmitDraftAppliedLater504(t *testing.T) {
	const commit = 100 * time.Millisecond
	srv, c := fake(t)
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	values := applicant(13)
	srv.Fault("POST", "/richiesta", visenginetest.Fault{Status: http.StatusGatewayTimeout, ApplyAfter: commit})
	n0 := len(srv.Requests())
	_, err := c.Submit(ctx, v, values)
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
	var se *visengine.SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, visengine.StepDraft, se.Step)
	var ou *visengine.OutcomeUnknownError
	require.ErrorAs(t, err, &ou)

	require.Eventually(t, func() bool {
		list, err := c.ListRichieste(ctx)
		return err == nil && len(list) == 1
	}, 5*time.Second, 10*time.Millisecond, "the draft appears once the backend commits")
	reqs := since(srv, n0)
	assert.Equal(t, 1, count(reqs, "POST", "/richiesta"), "no second create: %s", summary(reqs))
	assert.Zero(t, count(reqs, "PUT", "/richiesta/*"), "nothing closed: %s", summary(reqs))
	n, _ := srv.Charges()
	assert.Zero(t, n, "a draft is free")

	r, err := c.Reconcile(ctx, hashA2, values, ou.SentAt)
	require.NoError(t, err)
	assert.Equal(t, visengine.StateDraft, r.State)
	closed, err := c.CloseRichiesta(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, closed.State)
	n, _ = srv.Charges()
	assert.Equal(t, 1, n)
}

// TestCloseStopsPendingApply: Close does not wait out an ApplyAfter; the
// pending apply never happens and its goroutine is gone.
func TestCloseStopsPendingApply(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := visenginetest.NewServer()
	c := srv.Client()
	id := draft(t, c, 14)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Drop: visenginetest.DropAfterApply, ApplyAfter: time.Hour})
	srv.Fault("POST", "/richiesta", visenginetest.Fault{Status: http.StatusGatewayTimeout, ApplyAfter: time.Hour})
	_, err := c.CloseRichiesta(testCtx(t), id)
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
	_, err = c.CreateRichiesta(testCtx(t), &visengine.RichiestaParams{HashVisura: hashOrdinaria, JSONVisura: ordinaria})
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)

	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), time.Second, "Close does not wait out ApplyAfter")
	n, _ := srv.Charges()
	assert.Zero(t, n, "a pending apply never happens after Close")
	stato, _ := srv.Stato(id)
	assert.Equal(t, visengine.StatoInRicerca, stato, "still the untouched draft")

	var now int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if now = runtime.NumGoroutine(); now <= before {
			return
		}
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("goroutines: before %d, now %d\n%s", before, now, buf[:runtime.Stack(buf, true)])
}
