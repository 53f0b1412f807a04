package visenginetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

func TestSDKCodiceFiscaleHelper(t *testing.T) {
	// The brief's known-good code, so the generator is checked against the
	// SDK's own validation and not only against itself.
	assert.Equal(t, "RSSMRA80A01H501U", codiceFiscale("RSSMRA80A01H501"))
	_, c := fake(t)
	v := getVisura(t, c, hashA2)
	for n := range 31 {
		require.NoError(t, v.Validate(applicant(n)), "applicant %d", n)
	}
}

// TestSDKSubmitA2 pays for an A2 with the urgency option through Submit: a
// free draft, then one closing PUT, one charge of exactly €24.00.
func TestSDKSubmitA2(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	total, err := v.Total("urgenza")
	require.NoError(t, err)
	require.Equal(t, visengine.Cents(2400), total, "20 + 4 from the catalogue")
	values := applicant(0)
	require.Equal(t, "RSSMRA80A01H501U", values["$4"])

	n0 := len(srv.Requests())
	r, err := c.Submit(ctx, v, values, visengine.WithOpzioni("urgenza"))
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, r.State)
	assert.Equal(t, visengine.StatoInErogazione, r.StatoRichiesta)
	assert.Equal(t, hashA2, r.HashVisura)
	assert.Equal(t, visengine.Cents(2000), r.PrezzoVisura)
	require.Len(t, r.Opzioni, 1)
	assert.Equal(t, "urgenza", r.Opzioni[0].Tipo)
	require.NotEmpty(t, r.Ricerche)
	assert.Equal(t, values, r.Ricerche[0].Valori(), "the fake saw exactly the values sent")

	n, sum := srv.Charges()
	assert.Equal(t, 1, n)
	assert.Equal(t, visengine.Cents(2400), sum)
	assert.Equal(t, "€24.00", sum.String())
	log := srv.ChargeLog()
	require.Len(t, log, 1)
	assert.Equal(t, r.ID, log[0].RichiestaID)
	assert.Equal(t, "visura", log[0].What)
	assert.Equal(t, visengine.Cents(100_000-2400), srv.Balance())
	charged, err := r.Total()
	require.NoError(t, err)
	assert.Equal(t, sum, charged, "Richiesta.Total is what the fake charged, the option included")

	reqs := since(srv, n0)
	require.Len(t, reqs, 2, summary(reqs))
	var create struct {
		Hash    string            `json:"hash_visura"`
		State   *int              `json:"state"`
		Test    bool              `json:"test"`
		Values  map[string]string `json:"json_visura"`
		Opzioni map[string]bool   `json:"opzioni"`
	}
	assert.Equal(t, []string{"POST", "/richiesta"}, []string{reqs[0].Method, reqs[0].Path})
	require.NoError(t, json.Unmarshal(reqs[0].Body, &create))
	require.NotNil(t, create.State)
	assert.Equal(t, 0, *create.State, "the create is a free draft")
	assert.Contains(t, string(reqs[0].Body), `"state":0`)
	assert.False(t, create.Test)
	assert.Equal(t, hashA2, create.Hash)
	assert.Equal(t, map[string]string(values), create.Values)
	assert.Equal(t, map[string]bool{"opzione_0": true}, create.Opzioni)
	assert.Equal(t, []string{"PUT", "/richiesta/" + r.ID}, []string{reqs[1].Method, reqs[1].Path})
	assert.JSONEq(t, `{"state":1}`, string(reqs[1].Body))
	for _, q := range reqs {
		assert.Equal(t, "Bearer "+srv.Token, q.Header.Get("Authorization"))
		assert.Empty(t, q.Header.Get("Idempotency-Key"))
	}
}

// TestSDKSubmitInvalidApplicant: a broken applicant is refused locally and
// costs nothing, not even a request.
func TestSDKSubmitInvalidApplicant(t *testing.T) {
	srv, c := fake(t)
	v := getVisura(t, c, hashA2)
	cases := map[string]func(visengine.Values){
		"bad check character": func(vs visengine.Values) { vs["$4"] = "RSSMRA80A01H501X" },
		"missing file":        func(vs visengine.Values) { delete(vs, "$6") },
		"bad e-mail":          func(vs visengine.Values) { vs["$2"] = "mario.rossi@" },
		"unknown key":         func(vs visengine.Values) { vs["$9"] = "x" },
		"file not inline":     func(vs visengine.Values) { vs["$5"] = "documento.pdf" },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			values := applicant(1)
			spoil(values)
			n0 := len(srv.Requests())
			r, err := c.Submit(testCtx(t), v, values, visengine.WithOpzioni("urgenza"))
			require.ErrorIs(t, err, visengine.ErrInvalidFields)
			assert.Nil(t, r)
			var ve *visengine.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Empty(t, since(srv, n0), "nothing may be sent for an invalid applicant")
			for _, s := range values {
				if len(s) > 3 {
					assert.NotContains(t, err.Error(), s, "no value in the error")
				}
			}
		})
	}
	n, _ := srv.Charges()
	assert.Zero(t, n)
}

// TestSDKSubmitCloseFaults breaks the paid closing PUT in every way the fake
// can. Submit sends one close and reads back once: when the close went
// through it succeeds; when it did not, it returns the unknown outcome and
// Resume closes after the settle time. One charge in the end, always.
func TestSDKSubmitCloseFaults(t *testing.T) {
	cases := []struct {
		name    string
		fault   visenginetest.Fault
		applied bool // whether the faulted close went through
	}{
		{"dropped after apply", visenginetest.Fault{Drop: visenginetest.DropAfterApply}, true},
		{"dropped before apply", visenginetest.Fault{Drop: visenginetest.DropBeforeApply}, false},
		{"answer truncated", visenginetest.Fault{Truncate: 40}, true},
		{"gateway 502, not applied", visenginetest.Fault{Status: http.StatusBadGateway}, false},
		{"gateway 504, applied", visenginetest.Fault{Status: http.StatusGatewayTimeout, Apply: true}, true},
		{"delayed then dropped after apply", visenginetest.Fault{Delay: 20 * time.Millisecond, Drop: visenginetest.DropAfterApply}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const settle = 50 * time.Millisecond
			srv := visenginetest.NewServer()
			t.Cleanup(srv.Close)
			c := srv.Client(visengine.WithCloseSettle(settle))
			v := getVisura(t, c, hashA2)
			srv.Fault("PUT", "/richiesta/{id}", tc.fault)
			n0 := len(srv.Requests())
			r, err := c.Submit(testCtx(t), v, applicant(2))
			id := ""
			if tc.applied {
				require.NoError(t, err, "Submit reads the richiesta back after an unknown outcome")
				assert.Equal(t, visengine.StateSubmitted, r.State)
				id = r.ID
			} else {
				require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
				var se *visengine.SubmitError
				require.ErrorAs(t, err, &se)
				id = se.ID
				n, _ := srv.Charges()
				assert.Zero(t, n)
				time.Sleep(time.Until(se.CloseSentAt.Add(settle)))
				res, err := c.Resume(testCtx(t), id, visengine.WithCloseSentAt(se.CloseSentAt))
				require.NoError(t, err)
				assert.Equal(t, visengine.ResolutionResumed, res.Status, "%v", res)
			}
			reqs := since(srv, n0)
			assert.Equal(t, 1, count(reqs, "POST", "/richiesta"), summary(reqs))
			wantCloses, wantReads := 1, 1
			if !tc.applied {
				wantCloses, wantReads = 2, 2 // Submit's, then Resume's
			}
			assert.Equal(t, wantCloses, closes(reqs, id), summary(reqs))
			assert.Equal(t, wantReads, count(reqs, "GET", "/richiesta/*"), summary(reqs))
			assert.Len(t, reqs, 1+wantCloses+wantReads, summary(reqs))
			n, sum := srv.Charges()
			assert.Equal(t, 1, n, "exactly one charge")
			assert.Equal(t, visengine.Cents(2000), sum)
			stato, _ := srv.Stato(id)
			assert.Equal(t, visengine.StatoInErogazione, stato)
		})
	}
}

// TestSDKSubmitCloseKeepsFailing: when every closing PUT is dropped before
// it is applied, Submit sends one and reports the draft's id; each Resume
// after the settle time sends one more and stays pending; once the network
// is back, Resume closes it. Nothing is charged until then, once after.
func TestSDKSubmitCloseKeepsFailing(t *testing.T) {
	const settle = time.Second // the Resume right after ClearFaults comes within it, on a loaded machine too
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client(visengine.WithCloseSettle(settle))
	v := getVisura(t, c, hashA2)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Drop: visenginetest.DropBeforeApply, Times: -1})
	n0 := len(srv.Requests())
	_, err := c.Submit(testCtx(t), v, applicant(3))
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
	var se *visengine.SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, visengine.StepClose, se.Step)
	require.Len(t, se.ID, 24)
	assert.Equal(t, 1, closes(since(srv, n0), se.ID))

	last := se.CloseSentAt
	for i := range 2 {
		time.Sleep(time.Until(last.Add(settle)))
		res, err := c.Resume(testCtx(t), se.ID, visengine.WithCloseSentAt(last))
		require.NoError(t, err)
		assert.Equal(t, visengine.ResolutionPending, res.Status, "%v", res)
		require.ErrorIs(t, res.Err, visengine.ErrOutcomeUnknown)
		assert.True(t, res.CloseSentAt.After(last))
		assert.Equal(t, 2+i, closes(since(srv, n0), se.ID), "one close per Resume")
		last = res.CloseSentAt
	}
	n, _ := srv.Charges()
	assert.Zero(t, n)

	srv.ClearFaults()
	res, err := c.Resume(testCtx(t), se.ID, visengine.WithCloseSentAt(time.Now()))
	require.NoError(t, err)
	assert.Equal(t, visengine.ResolutionPending, res.Status, "not before the settle time")
	time.Sleep(time.Until(res.RetryAt))
	res, err = c.Resume(testCtx(t), se.ID, visengine.WithCloseSentAt(last))
	require.NoError(t, err)
	assert.Equal(t, visengine.ResolutionResumed, res.Status)
	n, _ = srv.Charges()
	assert.Equal(t, 1, n)
}

// TestSDKSubmitInsufficientCredit: a wallet short of the price refuses the
// close with 402; the error carries the balance and nothing is charged.
func TestSDKSubmitInsufficientCredit(t *testing.T) {
	srv, c := fake(t, visenginetest.WithWallet(visengine.Cents(1503)))
	v := getVisura(t, c, hashA2)
	n0 := len(srv.Requests())
	r, err := c.Submit(testCtx(t), v, applicant(7), visengine.WithOpzioni("urgenza"))
	require.ErrorIs(t, err, visengine.ErrInsufficientCredit)
	assert.Nil(t, r)
	assert.NotErrorIs(t, err, visengine.ErrOutcomeUnknown)
	var apiErr *visengine.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusPaymentRequired, apiErr.StatusCode)
	assert.Equal(t, visenginetest.CodeInsufficientCreditClose, apiErr.Code, "the fake's own code: the spec has no 402 for PUT")
	assert.NotEqual(t, visengine.CodeInsufficientCredit, apiErr.Code)
	assert.Contains(t, apiErr.Message, "15.03")
	assert.Contains(t, err.Error(), "Insufficient Credit in Wallet: 15.03")
	var se *visengine.SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, visengine.StepClose, se.Step)
	reqs := since(srv, n0)
	assert.Equal(t, 1, closes(reqs, se.ID), "a refusal is an answer: no read-back, no second close: %s", summary(reqs))
	assert.Len(t, reqs, 2, summary(reqs))
	n, _ := srv.Charges()
	assert.Zero(t, n)
	assert.Equal(t, visengine.Cents(1503), srv.Balance())
	stato, _ := c.GetRichiesta(testCtx(t), se.ID)
	assert.Equal(t, visengine.StateDraft, stato.State, "still an open draft, to close after a top-up")

	srv.SetBalance(visengine.Cents(2400))
	closed, err := c.CloseRichiesta(testCtx(t), se.ID)
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, closed.State)
	assert.Equal(t, visengine.Cents(0), srv.Balance())
}

// TestSDKRetryAfterOnGet: a 503 with Retry-After on an idempotent GET is
// retried once, after the server's delay (capped by the client's maxWait).
func TestSDKRetryAfterOnGet(t *testing.T) {
	cases := []struct {
		name    string
		retry   visengine.Option
		minWait time.Duration
	}{
		{"Retry-After capped at maxWait", visengine.WithRetry(4, time.Millisecond, 200*time.Millisecond), 200 * time.Millisecond},
		{"fake's fast default client", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := visenginetest.NewServer()
			t.Cleanup(srv.Close)
			c := srv.Client()
			if tc.retry != nil {
				c = srv.Client(tc.retry)
			}
			srv.Fault("GET", "/visure/{hash}", visenginetest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "1"})
			n0 := len(srv.Requests())
			start := time.Now()
			v, err := c.GetVisura(testCtx(t), hashA2)
			elapsed := time.Since(start)
			require.NoError(t, err)
			assert.Equal(t, hashA2, v.HashVisura)
			assert.Equal(t, 2, count(since(srv, n0), "GET", "/visure/"+hashA2), "one retry")
			assert.GreaterOrEqual(t, elapsed, tc.minWait, "Retry-After honoured up to maxWait")
			assert.Less(t, elapsed, 900*time.Millisecond, "a 1s Retry-After never beyond maxWait")
		})
	}
}

// TestSDKPermanentStatusNotRetried: a 503 that persists is retried only as
// often as the client allows and then surfaces as ErrServer.
func TestSDKPermanentStatusNotRetried(t *testing.T) {
	srv, c := fake(t)
	srv.Fault("GET", "/visure/{hash}", visenginetest.Fault{Status: http.StatusServiceUnavailable, Times: -1})
	n0 := len(srv.Requests())
	_, err := c.GetVisura(testCtx(t), hashA2)
	require.ErrorIs(t, err, visengine.ErrServer)
	assert.Equal(t, 4, count(since(srv, n0), "GET", "/visure/*"), "WithRetry(4, …) of Server.Client")
	var apiErr *visengine.APIError
	require.True(t, errors.As(err, &apiErr))
	assert.True(t, apiErr.Temporary())
}

// TestSDKEndedContextSendsNothing: with a context already cancelled or past
// its deadline, no call leaves the process (the fake records nothing) and
// the error is the context's, not an unknown outcome; Submit says which
// step was not started.
func TestSDKEndedContextSendsNothing(t *testing.T) {
	srv, c := fake(t)
	v := getVisura(t, c, hashA2)
	draft, err := c.CreateRichiesta(testCtx(t), &visengine.RichiestaParams{HashVisura: hashA2, JSONVisura: applicant(1)})
	require.NoError(t, err)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, ctx := range []context.Context{cancelled, expired} {
		calls := map[string]func() error{
			"Submit":         func() error { _, err := c.Submit(ctx, v, applicant(2)); return err },
			"DryRun":         func() error { _, err := c.DryRun(ctx, v, applicant(2)); return err },
			"CloseRichiesta": func() error { _, err := c.CloseRichiesta(ctx, draft.ID); return err },
			"CreateRichiesta": func() error {
				_, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashA2, State: visengine.StateSubmitted})
				return err
			},
			"UpdateRichiesta": func() error {
				_, err := c.UpdateRichiesta(ctx, draft.ID, &visengine.UpdateParams{EmailTarget: "a@b.it"})
				return err
			},
			"AddRicerca":      func() error { _, err := c.AddRicerca(ctx, draft.ID, visengine.Values{"$0": "x"}); return err },
			"ChooseRisultato": func() error { _, err := c.ChooseRisultato(ctx, draft.ID, draft.ID+"_0", 0); return err },
			"GetRichiesta":    func() error { _, err := c.GetRichiesta(ctx, draft.ID); return err },
			"ListVisure":      func() error { _, err := c.ListVisure(ctx); return err },
		}
		for name, call := range calls {
			n0 := len(srv.Requests())
			err := call()
			require.ErrorIs(t, err, ctx.Err(), name)
			assert.NotErrorIs(t, err, visengine.ErrOutcomeUnknown, name)
			assert.Empty(t, summary(since(srv, n0)), "%s sent a request", name)
			assert.Contains(t, err.Error(), "not sent", name)
			assert.Equal(t, 1, strings.Count(err.Error(), "visengine: "), "%s: %v", name, err)
		}
		_, err := c.Submit(ctx, v, applicant(2))
		var se *visengine.SubmitError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, visengine.StepDraft, se.Step, "the draft was not started")
		assert.Empty(t, se.ID)
	}
	n, _ := srv.Charges()
	assert.Zero(t, n)
	r, err := c.GetRichiesta(testCtx(t), draft.ID)
	require.NoError(t, err)
	assert.Equal(t, visengine.StateDraft, r.State, "the draft is still open")
}

// TestSDKDryRun: a dry run is validated and priced by the server, stores
// and charges nothing, and says so; its echoed id cannot be read back.
func TestSDKDryRun(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	n0 := len(srv.Requests())
	res, err := c.DryRun(ctx, v, applicant(3), visengine.WithOpzioni("urgenza"))
	require.NoError(t, err)
	assert.Equal(t, "Test Request, deleting", res.Message)
	require.NotNil(t, res.Echo)
	assert.Equal(t, visengine.StateSubmitted, res.Echo.State)
	total, err := res.Total()
	require.NoError(t, err)
	want, err := v.Total("urgenza")
	require.NoError(t, err)
	assert.Equal(t, want, total)

	reqs := since(srv, n0)
	require.Len(t, reqs, 1, summary(reqs))
	var body struct {
		State *int `json:"state"`
		Test  bool `json:"test"`
	}
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	require.NotNil(t, body.State)
	assert.Equal(t, 1, *body.State)
	assert.True(t, body.Test)
	n, _ := srv.Charges()
	assert.Zero(t, n, "a dry run charges nothing")

	_, err = c.GetRichiesta(ctx, res.Echo.ID)
	assert.ErrorIs(t, err, visengine.ErrNotFound, "the dry run's richiesta was deleted")

	_, err = c.DryRun(ctx, v, visengine.Values{"$0": "Mario"})
	assert.ErrorIs(t, err, visengine.ErrInvalidFields, "validated locally first, as Submit")
	var se *visengine.SubmitError
	assert.False(t, errors.As(err, &se))
}

// TestSDKAlreadyClosed: closing twice is refused with ErrAlreadyClosed,
// which is also a conflict and (by its status) an invalid request.
func TestSDKAlreadyClosed(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	r, err := c.Submit(ctx, v, applicant(4))
	require.NoError(t, err)
	_, err = c.CloseRichiesta(ctx, r.ID)
	require.ErrorIs(t, err, visengine.ErrAlreadyClosed)
	assert.ErrorIs(t, err, visengine.ErrConflict)
	assert.ErrorIs(t, err, visengine.ErrInvalidRequest)
	var apiErr *visengine.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, visengine.CodeAlreadyClosed, apiErr.Code)
	assert.Equal(t, "visengine: PUT /richiesta/"+r.ID+": HTTP 400 (Visengine error 239): the request has already been closed", err.Error())
	n, _ := srv.Charges()
	assert.Equal(t, 1, n)
}

// TestSDKWrongHash: an unknown hash is not found, and the message does not
// read like an HTTP 200.
func TestSDKWrongHash(t *testing.T) {
	_, c := fake(t)
	_, err := c.GetVisura(testCtx(t), "00000000000000000000000000000000")
	require.ErrorIs(t, err, visengine.ErrNotFound)
	assert.ErrorIs(t, err, visengine.ErrInvalidRequest)
	assert.Equal(t, "visengine: GET /visure/00000000000000000000000000000000: HTTP 400 (Visengine error 200): wrong hash_visura", err.Error())
}
