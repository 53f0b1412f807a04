package visenginetest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// TestSDKSubmit504ThenCommit is the first case: the gateway answers
// 504 to the closing PUT at once and the backend commits it two seconds
// later. Submit sends exactly one close and returns the unknown outcome;
// Resume within the settle time sends nothing; after it, Resume finds the
// richiesta closed. One close, one charge.
func TestSDKSubmit504ThenCommit(t *testing.T) {
	t.Parallel()
	const commit = 2 * time.Second
	const settle = commit + 300*time.Millisecond
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client(visengine.WithCloseSettle(settle))
	v := getVisura(t, c, hashA2)
	srv.Fault("PUT", "/richiesta/{id}", visenginetest.Fault{Status: http.StatusGatewayTimeout, ApplyAfter: commit})
	n0 := len(srv.Requests())
	_, err := c.Submit(testCtx(t), v, applicant(20))
	require.ErrorIs(t, err, visengine.ErrOutcomeUnknown)
	var se *visengine.SubmitError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, visengine.StepClose, se.Step)
	require.NotEmpty(t, se.ID)
	assert.WithinDuration(t, time.Now(), se.CloseSentAt, time.Second)
	assert.Equal(t, 1, closes(since(srv, n0), se.ID), "exactly one closing PUT")

	res, err := c.Resume(testCtx(t), se.ID, visengine.WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	assert.Equal(t, visengine.ResolutionPending, res.Status, "%v", res)
	assert.Equal(t, se.CloseSentAt.Add(settle), res.RetryAt)

	time.Sleep(time.Until(res.RetryAt))
	res, err = c.Resume(testCtx(t), se.ID, visengine.WithCloseSentAt(se.CloseSentAt))
	require.NoError(t, err)
	assert.Equal(t, visengine.ResolutionCompleted, res.Status, "the late commit went through: %v", res)
	reqs := since(srv, n0)
	assert.Equal(t, 1, closes(reqs, se.ID), "still one closing PUT: %s", summary(reqs))
	n, sum := srv.Charges()
	assert.Equal(t, 1, n, "one charge")
	assert.Equal(t, visengine.Cents(2000), sum)
}

// TestSDKReconcileByReference: a lost draft sent with a callback carries its
// client reference in callback_data, which the fake echoes like Visengine:
// Reconcile finds it by the reference even when drafts show no values, and
// without the reference says unknown rather than guess.
func TestSDKReconcileByReference(t *testing.T) {
	for _, ds := range draftShapes {
		t.Run(ds.name, func(t *testing.T) {
			srv, c := fake(t, visenginetest.WithDraftShape(ds.shape))
			ctx := testCtx(t)
			v := getVisura(t, c, hashA2)
			cb, err := visengine.NewCallback("https://hooks.example.com/visengine", visengine.CallbackJSON)
			require.NoError(t, err)
			_, err = c.Submit(ctx, v, applicant(21), visengine.WithCallback(cb)) // another applicant's draft, same second
			require.NoError(t, err)
			srv.Fault("POST", "/richiesta", visenginetest.Fault{Drop: visenginetest.DropAfterApply})
			_, err = c.Submit(ctx, v, applicant(22), visengine.WithCallback(cb))
			var se *visengine.SubmitError
			require.ErrorAs(t, err, &se)
			var ou *visengine.OutcomeUnknownError
			require.ErrorAs(t, err, &ou)

			r, err := c.Reconcile(ctx, hashA2, applicant(22), ou.SentAt, visengine.WithReconcileRef(se.Ref))
			require.NoError(t, err)
			assert.Equal(t, visengine.StateDraft, r.State)
			require.NotNil(t, r.CallbackData)
			assert.Equal(t, se.Ref, r.CallbackData.Data[visengine.CallbackRefKey])
			assert.Equal(t, cb.Secret(), r.CallbackData.Secret(), "the secret is kept next to it")

			_, err = c.Reconcile(ctx, hashA2, applicant(22), ou.SentAt)
			if ds.shape == visenginetest.DraftValuesAbsent {
				require.ErrorIs(t, err, visengine.ErrOutcomeUnknown, "no values, no reference: never guessed")
			} else {
				require.NoError(t, err, "found by its values")
			}
			n, _ := srv.Charges()
			assert.Equal(t, 1, n, "only the first submission was charged")
		})
	}
}
