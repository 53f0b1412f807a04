package visenginetest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
	"github.com/visengine-go/visengine/visenginetest"
)

// The fake's ledger shows every movement of the wallet the way OAuth's GET
// /wallet/transactions does: the starting credit, a Visengine close, a
// refund and a recharge, newest first, adding up to the balance.
func TestSDKLedger(t *testing.T) {
	srv, c := fake(t, visenginetest.WithWallet(visengine.Euros(100)))
	ctx := testCtx(t)
	v := getVisura(t, c, hashA2)
	r, err := c.Submit(ctx, v, applicant(0), visengine.WithOpzioni("urgenza"))
	require.NoError(t, err)
	require.True(t, srv.Refund(r.ID))
	srv.SetBalance(visengine.Euros(150))

	var got []oauth.Transaction
	for tx, err := range account(t, srv).Transactions(ctx) {
		require.NoError(t, err)
		got = append(got, tx)
	}
	require.Len(t, got, 4)
	want := []struct {
		amount      visengine.Price
		description string
		visengine   bool
	}{
		{visengine.Euros(50), "Wallet recharge", false},
		{visengine.Euros(24), "API refund - visengine2.altravia.com", true},
		{visengine.Euros(-24), "API usage - visengine2.altravia.com", true},
		{visengine.Euros(100), "Wallet recharge", false},
	}
	var sum visengine.Price
	for i, w := range want {
		assert.Equal(t, w.amount, got[i].Amount, "%d", i)
		assert.Equal(t, w.description, got[i].Description, "%d", i)
		assert.Equal(t, w.visengine, got[i].IsVisengine(), "%d", i)
		assert.Regexp(t, `^txn_[0-9a-f]{24}$`, got[i].ID)
		assert.False(t, got[i].CreatedAt.IsZero())
		sum = sum.Add(got[i].Amount)
	}
	assert.Equal(t, srv.Balance(), sum)
	assert.Len(t, srv.Ledger(), 4)
}
