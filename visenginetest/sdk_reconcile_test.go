package visenginetest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// draftShapes are the shapes a draft may have on the real API, which no
// spec example shows: the SDK's Reconcile is tested against each.
var draftShapes = []struct {
	name  string
	shape visenginetest.DraftShape
}{
	{"values in ricerche", visenginetest.DraftValuesInRicerche},
	{"values absent", visenginetest.DraftValuesAbsent},
}

// TestSDKSubmitCreateDroppedThenReconcile loses the answer to the draft's
// POST on a busy account. Submit must not close anything; Reconcile must
// find the draft with one list and reads of candidates only, when drafts
// show their values; closing it then charges once. When drafts show no
// values, Reconcile says unknown, never guesses, and reads a bounded number.
func TestSDKSubmitCreateDroppedThenReconcile(t *testing.T) {
	for _, ds := range draftShapes {
		t.Run(ds.name, func(t *testing.T) { testCreateDroppedThenReconcile(t, ds.shape) })
	}
}

func testCreateDroppedThenReconcile(t *testing.T, shape visenginetest.DraftShape) {
	srv, c := fake(t, visenginetest.WithDraftShape(shape))
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	values := applicant(4)

	// A busy account: 300 drafts of various services and applicants, among
	// them A2 drafts of other people, created moments ago like ours.
	others := map[string]string{} // id → hash
	fill := []struct {
		hash   string
		values func(i int) visengine.Values
	}{
		{hashA2, func(i int) visengine.Values { return applicant(5 + i%25) }},
		{hashOrdinaria, func(i int) visengine.Values { return visengine.Values{"$0": "1378273", "$1": "RM"} }},
		{hashCariche, func(i int) visengine.Values { return visengine.Values{"$0": codiceFiscale("RSSMRA80A01H501")} }},
		{hashRicerca, func(i int) visengine.Values { return visengine.Values{"$0": "ALTRAVIA"} }},
		{"tot0b5cv7yd66626i5i90p00453c3p0u", func(i int) visengine.Values { return visengine.Values{"$1": "12485671007"} }},
	}
	for i := range 300 {
		f := fill[i%len(fill)]
		r, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: f.hash, JSONVisura: f.values(i)})
		require.NoError(t, err)
		require.Equal(t, visengine.StateDraft, r.State)
		others[r.ID] = f.hash
	}

	srv.Fault("POST", "/richiesta", visenginetest.Fault{Drop: visenginetest.DropAfterApply})
	n0 := len(srv.Requests())
	_, err := c.Submit(ctx, v, values)
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
	var se *visengine.SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, visengine.StepDraft, se.Step)
	assert.Empty(t, se.ID, "the draft's id is unknown")
	var ou *visengine.OutcomeUnknownError
	require.ErrorAs(t, err, &ou)
	assert.Equal(t, "POST", ou.Method)
	assert.WithinDuration(t, time.Now(), ou.SentAt, 5*time.Second)
	reqs := since(srv, n0)
	assert.Equal(t, 1, count(reqs, "POST", "/richiesta"), "the POST is never resent: %s", summary(reqs))
	assert.Zero(t, count(reqs, "PUT", "/richiesta/*"), "nothing is closed")
	assert.Len(t, reqs, 1, summary(reqs))
	n, _ := srv.Charges()
	assert.Zero(t, n)

	n1 := len(srv.Requests())
	// The bound is raised so that the A2 drafts of others created in the
	// same second as ours (Visengine's timestamps are whole seconds) cannot
	// exhaust it before ours is read.
	if shape == visenginetest.DraftValuesAbsent {
		_, err := c.Reconcile(ctx, hashA2, values, ou.SentAt, visengine.WithReconcileDraft(), visengine.WithReconcileSettle(0))
		require.ErrorIs(t, err, visengine.ErrOutcomeUnknown, "drafts that show no values are never guessed to be ours")
		require.NotErrorIs(t, err, visengine.ErrNotFound)
		reqs := since(srv, n1)
		assert.Equal(t, 1, count(reqs, "GET", "/richiesta"), summary(reqs))
		assert.LessOrEqual(t, count(reqs, "GET", "/richiesta/*"), visengine.DefaultReconcileMaxReads, "bounded reads")
		assert.Zero(t, count(reqs, "PUT", "/richiesta/*"))
		return
	}
	r, err := c.Reconcile(ctx, hashA2, values, ou.SentAt, visengine.WithReconcileMaxReads(100))
	require.NoError(t, err)
	assert.NotContains(t, others, r.ID, "found one of the other drafts")
	assert.Equal(t, visengine.StateDraft, r.State)
	assert.Equal(t, hashA2, r.HashVisura)

	reqs = since(srv, n1)
	assert.Equal(t, 1, count(reqs, "GET", "/richiesta"), summary(reqs))
	var read []string
	for _, q := range reqs {
		if q.Method == "GET" && pathMatches("/richiesta/*", q.Path) {
			read = append(read, strings.TrimPrefix(q.Path, "/richiesta/"))
		}
	}
	assert.Len(t, reqs, 1+len(read), "only the list and candidate reads: %s", summary(reqs))
	require.NotEmpty(t, read)
	assert.Equal(t, r.ID, read[len(read)-1], "stops at the match")
	seen := map[string]bool{}
	for _, id := range read {
		assert.False(t, seen[id], "read %s twice", id)
		seen[id] = true
		if id != r.ID {
			assert.Equal(t, hashA2, others[id], "read a richiesta that is not a candidate")
		}
	}
	a2Others := 0
	for _, h := range others {
		if h == hashA2 {
			a2Others++
		}
	}
	assert.LessOrEqual(t, len(read), a2Others+1)

	closed, err := c.CloseRichiesta(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, closed.State)
	n, sum := srv.Charges()
	assert.Equal(t, 1, n)
	assert.Equal(t, visengine.Cents(2000), sum)
	assert.Equal(t, r.ID, srv.ChargeLog()[0].RichiestaID)
}

// TestSDKReconcileNothingArrived: when the draft's POST was dropped before
// it was applied, Reconcile says so with ErrNotFound once the settle time
// is over, whatever drafts show, so creating again is safe.
func TestSDKReconcileNothingArrived(t *testing.T) {
	for _, ds := range draftShapes {
		t.Run(ds.name, func(t *testing.T) {
			srv, c := fake(t, visenginetest.WithDraftShape(ds.shape))
			ctx := testCtx(t)
			v := getVisura(t, c, hashA2)
			_, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashOrdinaria, JSONVisura: visengine.Values{"$0": "1", "$1": "RM"}})
			require.NoError(t, err)
			srv.Fault("POST", "/richiesta", visenginetest.Fault{Drop: visenginetest.DropBeforeApply})
			_, err = c.Submit(ctx, v, applicant(6))
			var ou *visengine.OutcomeUnknownError
			require.ErrorAs(t, err, &ou)
			// Right after the loss an absence is not conclusive: the backend may
			// still be creating it.
			_, err = c.Reconcile(ctx, hashA2, applicant(6), ou.SentAt, visengine.WithReconcileDraft())
			require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
			require.NotErrorIs(t, err, visengine.ErrNotFound)
			// The fake applies at once, so no settle time is needed here.
			_, err = c.Reconcile(ctx, hashA2, applicant(6), ou.SentAt, visengine.WithReconcileSettle(0), visengine.WithReconcileDraft())
			require.ErrorIs(t, err, visengine.ErrNotFound)
			// Had the lost POST been a paid one, its absence would prove nothing.
			_, err = c.Reconcile(ctx, hashA2, applicant(6), ou.SentAt, visengine.WithReconcileSettle(0))
			require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)

			r, err := c.Submit(ctx, v, applicant(6))
			require.NoError(t, err)
			assert.Equal(t, visengine.StateSubmitted, r.State)
			n, _ := srv.Charges()
			assert.Equal(t, 1, n)
		})
	}
}
