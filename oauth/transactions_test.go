package oauth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/oauthfake"
)

// collect reads the whole sequence.
func collect(t *testing.T, seq func(func(Transaction, error) bool)) ([]Transaction, []error) {
	t.Helper()
	var out []Transaction
	var errs []error
	for tx, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, tx)
	}
	return out, errs
}

// The ledger is read page by page, 100 at a time, newest first, each page
// only when the previous one is consumed.
func TestTransactionsPages(t *testing.T) {
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	w := oauthfake.NewMemWallet(100_000_000, start)
	for i := range 230 {
		w.Add(-1_000, "API usage - visengine2.altravia.com", start.Add(time.Duration(i+1)*time.Minute)) // €0.001 each
	}
	f := newFake(t, oauthfake.WithWallet(w))
	c := f.client(t, false)
	got, errs := collect(t, c.Transactions(context.Background()))
	require.Empty(t, errs)
	require.Len(t, got, 231)
	assert.Equal(t, 3, f.count("GET /v2/wallet/transactions"))
	assert.Equal(t, visengine.Micros(-1_000), got[0].Amount)
	assert.Equal(t, start.Add(230*time.Minute), got[0].CreatedAt)
	assert.True(t, got[0].IsVisengine())
	last := got[len(got)-1]
	assert.Equal(t, visengine.Euros(100), last.Amount)
	assert.Equal(t, "Wallet recharge", last.Description)
	assert.False(t, last.IsVisengine())
	var sum visengine.Price
	for _, tx := range got {
		sum = sum.Add(tx.Amount)
	}
	assert.Equal(t, visengine.Micros(w.BalanceMicros()), sum, "the ledger adds up to the balance, exactly")

	// Breaking out early fetches no further page.
	n := 0
	for range c.Transactions(context.Background()) {
		if n++; n == 5 {
			break
		}
	}
	assert.Equal(t, 4, f.count("GET /v2/wallet/transactions"))

	// WithSince stops at the first page wholly before it.
	got, errs = collect(t, c.Transactions(context.Background(), WithSince(start.Add(200*time.Minute))))
	require.Empty(t, errs)
	assert.Len(t, got, 31)
	assert.Equal(t, 6, f.count("GET /v2/wallet/transactions"))
}

// One transaction that cannot be read is reported with its error; the
// others are still read. A new transaction arriving between two pages
// (which shifts them) is not yielded twice.
func TestTransactionsOddEntryAndShift(t *testing.T) {
	c, mt := mockClient(t)
	page := 0
	mt.RegisterResponder("GET", ProductionURL+"/wallet/transactions", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "100", r.URL.Query().Get("limit"))
		page++
		if page == 1 {
			body := `{"data":[`
			for i := range 99 {
				body += `{"id":"txn_` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `","amount":-15.5,"createdAt":"2026-02-12T08:30:00+00:00","description":"API usage - company.openapi.com"},`
			}
			body += `{"id":"txn_bad","amount":"lots","createdAt":"2026-02-12T08:30:00+00:00","description":"x"}]}`
			return httpmock.NewStringResponse(200, body), nil
		}
		assert.Equal(t, "100", r.URL.Query().Get("skip"))
		return httpmock.NewStringResponse(200, `{"data":[
			{"id":"txn_bad","amount":"lots","createdAt":"2026-02-12T08:30:00+00:00","description":"x"},
			{"id":"txn_last","amount":100,"createdAt":"2026-02-10T14:15:00+00:00","description":"Wallet recharge"}]}`), nil
	})
	got, errs := collect(t, c.Transactions(context.Background()))
	require.Len(t, errs, 1, "the odd entry once, though the shift repeats it")
	assert.ErrorIs(t, errs[0], ErrUnexpectedResponse)
	var te *TransactionError
	require.ErrorAs(t, errs[0], &te)
	assert.Equal(t, "txn_bad", te.ID)
	assert.NotContains(t, errs[0].Error(), "lots")
	require.Len(t, got, 100)
	assert.Equal(t, "txn_last", got[99].ID)
	assert.Equal(t, visengine.Euros(100), got[99].Amount)
}

// v1 has no ledger; a failed call ends the sequence with its error.
func TestTransactionsErrors(t *testing.T) {
	f := newFake(t)
	_, errs := collect(t, f.client(t, true).Transactions(context.Background()))
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrNoLedger)

	_, errs = collect(t, f.client(t, false).Transactions(context.Background()))
	require.Len(t, errs, 1, "a wallet without a ledger answers 404")
	assert.True(t, errors.Is(errs[0], visengine.ErrNotFound), "%v", errs[0])
}
