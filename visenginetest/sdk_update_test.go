package visenginetest_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/visenginetest"
)

// TestSDKUpdateAndClose: the edits and the close travel in one PUT, as in
// the spec's example; the richiesta is charged once, with the edits in
// place. A second one is refused as already closed, and its edits are not
// applied.
func TestSDKUpdateAndClose(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	d, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashOrdinaria, JSONVisura: visengine.Values{"$1": "BS"}})
	require.NoError(t, err)
	n0 := len(srv.Requests())

	r, err := c.UpdateAndCloseRichiesta(ctx, d.ID, &visengine.UpdateParams{Fields: visengine.Values{"$0": "altravia"}, EmailTarget: "caf@example.com"})
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, r.State)
	assert.Equal(t, visengine.StatoInErogazione, r.StatoRichiesta)
	assert.Equal(t, "caf@example.com", r.EmailTarget)
	require.Len(t, r.Ricerche, 1)
	assert.Equal(t, visengine.Values{"$0": "altravia", "$1": "BS"}, r.Ricerche[0].Valori(), "the search ran on the edited values")
	reqs := since(srv, n0)
	require.Len(t, reqs, 1, "one PUT: %s", summary(reqs))
	assert.JSONEq(t, `{"json_visura.$0":"altravia","email_target":"caf@example.com","state":1}`, string(reqs[0].Body))
	log := srv.ChargeLog()
	require.Len(t, log, 1)
	assert.Equal(t, visengine.Cents(490), log[0].Amount)

	_, err = c.UpdateAndCloseRichiesta(ctx, d.ID, &visengine.UpdateParams{Fields: visengine.Values{"$0": "other"}})
	require.ErrorIs(t, err, visengine.ErrAlreadyClosed)
	assert.NotErrorIs(t, err, visengine.ErrOutcomeUnknown)
	got, err := c.GetRichiesta(ctx, d.ID)
	require.NoError(t, err)
	assert.Equal(t, "altravia", got.Ricerche[0].Valori()["$0"], "a refused PUT changes nothing")
	assert.Len(t, srv.ChargeLog(), 1)
}

// TestSDKUpdateAndCloseRefused: values the rule refuses (412) and a short
// wallet (402) leave the draft open, unedited and unpaid; these are answers,
// not unknown outcomes.
func TestSDKUpdateAndCloseRefused(t *testing.T) {
	srv, c := fake(t, visenginetest.WithWallet(visengine.Cents(100)))
	ctx := testCtx(t)
	d, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashOrdinaria})
	require.NoError(t, err)

	_, err = c.UpdateAndCloseRichiesta(ctx, d.ID, &visengine.UpdateParams{Fields: visengine.Values{"$0": "1378273"}})
	require.ErrorIs(t, err, visengine.ErrInvalidRequest, "$1 is missing")
	assert.NotErrorIs(t, err, visengine.ErrOutcomeUnknown)

	_, err = c.UpdateAndCloseRichiesta(ctx, d.ID, &visengine.UpdateParams{JSONVisura: visengine.Values{"$0": "1378273", "$1": "RM"}})
	require.ErrorIs(t, err, visengine.ErrInsufficientCredit)
	assert.NotErrorIs(t, err, visengine.ErrOutcomeUnknown)

	got, err := c.GetRichiesta(ctx, d.ID)
	require.NoError(t, err)
	assert.Equal(t, visengine.StateDraft, got.State)
	assert.Empty(t, srv.ChargeLog())

	srv.SetBalance(visengine.Cents(490))
	r, err := c.UpdateAndCloseRichiesta(ctx, d.ID, &visengine.UpdateParams{JSONVisura: visengine.Values{"$0": "1378273", "$1": "RM"}})
	require.NoError(t, err)
	assert.Equal(t, visengine.StateSubmitted, r.State)
	assert.Zero(t, srv.Balance())
}

// TestSDKClearEmailTarget: an address set on the draft can be removed
// before the close, and the fake then e-mails nowhere ("email_target":
// null), as before any was set.
func TestSDKClearEmailTarget(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	d, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashOrdinaria, EmailTarget: "caf@example.com",
		JSONVisura: visengine.Values{"$0": "1378273", "$1": "RM"}})
	require.NoError(t, err)
	assert.Equal(t, "caf@example.com", d.EmailTarget)

	n0 := len(srv.Requests())
	r, err := c.UpdateRichiesta(ctx, d.ID, &visengine.UpdateParams{ClearEmailTarget: true})
	require.NoError(t, err)
	assert.Empty(t, r.EmailTarget)
	reqs := since(srv, n0)
	require.Len(t, reqs, 1)
	assert.JSONEq(t, `{"email_target":"","state":0}`, string(reqs[0].Body))

	r, err = c.UpdateRichiesta(ctx, d.ID, &visengine.UpdateParams{Fields: visengine.Values{"$0": "572372"}})
	require.NoError(t, err)
	assert.Empty(t, r.EmailTarget, "an edit without an address leaves it cleared")
	r, err = c.CloseRichiesta(ctx, d.ID)
	require.NoError(t, err)
	assert.Empty(t, r.EmailTarget)
	assert.NotContains(t, string(srv.Requests()[len(srv.Requests())-1].Body), "email_target")

	// Set again, then cleared in the closing PUT itself.
	d, err = c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashOrdinaria, EmailTarget: "caf@example.com",
		JSONVisura: visengine.Values{"$0": "1378273", "$1": "RM"}})
	require.NoError(t, err)
	r, err = c.UpdateAndCloseRichiesta(ctx, d.ID, &visengine.UpdateParams{ClearEmailTarget: true})
	require.NoError(t, err)
	assert.Empty(t, r.EmailTarget)
	assert.Equal(t, visengine.StateSubmitted, r.State)

	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/richiesta/"+d.ID, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), `"email_target":null`, "no address, as the spec writes it")
}
