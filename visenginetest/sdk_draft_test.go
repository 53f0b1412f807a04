package visenginetest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
)

// TestSDKDraftShowsItsValues: a draft read back shows the values it holds,
// after the create and after each edit, and closing it runs the first
// search under the same id.
func TestSDKDraftShowsItsValues(t *testing.T) {
	srv, c := fake(t)
	ctx := testCtx(t)
	values := applicant(8)
	d, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashA2, JSONVisura: values})
	require.NoError(t, err)
	require.Equal(t, visengine.StateDraft, d.State)
	require.Len(t, d.Ricerche, 1)
	assert.Equal(t, values, d.Ricerche[0].Valori())
	assert.Equal(t, d.ID+"_0", d.Ricerche[0].IDRicerca)

	_, err = c.UpdateRichiesta(ctx, d.ID, &visengine.UpdateParams{Fields: visengine.Values{"$0": "Luigi"}})
	require.NoError(t, err)
	got, err := c.GetRichiesta(ctx, d.ID)
	require.NoError(t, err)
	require.Len(t, got.Ricerche, 1)
	values["$0"] = "Luigi"
	assert.Equal(t, values, got.Ricerche[0].Valori())
	assert.Equal(t, "Luigi", got.Ricerche[0].Mappato()["Nome"])

	closed, err := c.CloseRichiesta(ctx, d.ID)
	require.NoError(t, err)
	require.Len(t, closed.Ricerche, 1, "the draft's search is replaced, not added to")
	assert.Equal(t, d.ID+"_0", closed.Ricerche[0].IDRicerca)
	assert.Equal(t, visengine.RicercaEvasa, closed.Ricerche[0].StatoRicerca)
	assert.Equal(t, values, closed.Ricerche[0].Valori())

	// A search service's draft: closing runs the search as "_0", with results.
	s, err := c.CreateRichiesta(ctx, &visengine.RichiestaParams{HashVisura: hashRicerca, JSONVisura: visengine.Values{"$0": "Altravia"}})
	require.NoError(t, err)
	require.Len(t, s.Ricerche, 1)
	assert.False(t, s.SearchResultsReady())
	s, err = c.CloseRichiesta(ctx, s.ID)
	require.NoError(t, err)
	require.Len(t, s.Ricerche, 1)
	assert.Equal(t, s.ID+"_0", s.Ricerche[0].IDRicerca)
	assert.True(t, s.SearchResultsReady())
	n, _ := srv.Charges()
	assert.Equal(t, 2, n)
}
