package audit_test

import (
	"context"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/audit"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/oauth"
	"github.com/visengine-go/visengine/visenginetest"
)

const hashA2 = "2631ec9b62135de4186f509fea7d954b"

// a2 returns valid A2 values for applicant n.
func a2(n int) visengine.Values {
	return visengine.Values{
		"$0": fmt.Sprintf("Mario%d", n), "$1": "Rossi", "$2": fmt.Sprintf("mario%d@example.it", n),
		"$3": "3331234567", "$4": "RSSMRA80A01H501U",
		"$5": visengine.FileValue("documento.pdf", "application/pdf", []byte("%PDF-1.4 documento")),
		"$6": visengine.FileValue("cf.jpg", "image/jpeg", []byte{0xff, 0xd8, 0xff, 0xe0}),
	}
}

// month submits n A2 applications through a journalled client on the fake
// and returns what an audit needs.
func month(t *testing.T, n int) (*visenginetest.Server, *oauth.Client, *journal.Dir, *visengine.Client) {
	t.Helper()
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	j, err := journal.OpenDir(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	c, err := visengine.NewClient(srv.Token, visengine.WithBaseURL(srv.URL), visengine.WithJournal(j))
	require.NoError(t, err)
	ctx := context.Background()
	v, err := c.GetVisura(ctx, hashA2)
	require.NoError(t, err)
	for i := range n {
		opts := []visengine.SubmitOption{}
		if i%2 == 1 {
			opts = append(opts, visengine.WithOpzioni("urgenza"))
		}
		_, err := c.Submit(ctx, v, a2(i), opts...)
		require.NoError(t, err)
	}
	oc, err := oauth.NewClient(srv.Email, srv.APIKey, oauth.WithBaseURL(srv.OAuthURL))
	require.NoError(t, err)
	return srv, oc, j, c
}

func today() audit.Period {
	now := time.Now()
	return audit.Period{Since: now.Add(-24 * time.Hour), Until: now.Add(time.Hour)}
}

// A clean month: every charge is a submission, every submission a charge.
func TestAuditCleanMonth(t *testing.T) {
	_, oc, j, c := month(t, 3)
	r, err := audit.Run(context.Background(), oc, j, c, today())
	require.NoError(t, err)
	assert.True(t, r.Clean(), "%+v", r)
	assert.Equal(t, audit.Totals{Count: 3, Total: visengine.Euros(64)}, r.Charges)
	assert.Equal(t, r.Charges, r.Submissions)
	assert.Len(t, r.Matched, 3)
}

// A double charge injected into the ledger by hand is found: one charge
// more than submissions, and which one.
func TestAuditFindsDoubleCharge(t *testing.T) {
	srv, oc, j, c := month(t, 2)
	ledger := srv.Ledger()
	last := ledger[len(ledger)-1]
	srv.AddLedgerEntry(visenginetest.LedgerEntry{Amount: last.Amount, Time: last.Time.Add(time.Second), Description: last.Description})
	r, err := audit.Run(context.Background(), oc, j, c, today())
	require.NoError(t, err)
	assert.False(t, r.Clean())
	assert.Equal(t, 3, r.Charges.Count)
	assert.Equal(t, 2, r.Submissions.Count)
	require.Len(t, r.UnexplainedCharges, 1)
	assert.Equal(t, visengine.Euros(24), r.UnexplainedCharges[0].Amount)
	assert.Empty(t, r.UnexplainedSubmissions)
}

// A completed submission no charge pays for is reported too, as is one
// whose richiesta cannot be read back.
func TestAuditFindsUnpaidSubmission(t *testing.T) {
	srv, oc, j, c := month(t, 2)
	ledger := srv.Ledger()
	last := ledger[len(ledger)-1]
	srv.AddLedgerEntry(visenginetest.LedgerEntry{Amount: last.Amount.Neg(), Time: last.Time.Add(time.Second), Description: "Wallet recharge"})
	r, err := audit.Run(context.Background(), oc, j, c, today())
	require.NoError(t, err)
	assert.True(t, r.Clean(), "a recharge is not a Visengine charge")

	// The same audit, told of a ledger without the last charge.
	r, err = audit.Run(context.Background(), dropLast{oc}, j, c, today())
	require.NoError(t, err)
	assert.False(t, r.Clean())
	require.Len(t, r.UnexplainedSubmissions, 1)
	assert.Equal(t, visengine.Euros(24), r.UnexplainedSubmissions[0].Amount)
}

// dropLast hides the newest Visengine charge of a ledger.
type dropLast struct{ l audit.Ledger }

func (d dropLast) Transactions(ctx context.Context, opts ...oauth.TransactionsOption) iter.Seq2[oauth.Transaction, error] {
	return func(yield func(oauth.Transaction, error) bool) {
		dropped := false
		for tx, err := range d.l.Transactions(ctx, opts...) {
			if !dropped && err == nil && tx.IsVisengine() && tx.Amount.Sign() < 0 {
				dropped = true
				continue
			}
			if !yield(tx, err) {
				return
			}
		}
	}
}

// fixedLedger yields the given pairs.
type fixedLedger []struct {
	tx  oauth.Transaction
	err error
}

func (l fixedLedger) Transactions(context.Context, ...oauth.TransactionsOption) iter.Seq2[oauth.Transaction, error] {
	return func(yield func(oauth.Transaction, error) bool) {
		for _, p := range l {
			if !yield(p.tx, p.err) {
				return
			}
		}
	}
}

// An unreadable transaction leaves the audit unclean but does not stop it;
// a failed call does.
func TestAuditLedgerErrors(t *testing.T) {
	_, _, j, c := month(t, 0)
	odd := fixedLedger{{err: &oauth.TransactionError{ID: "txn_x", Err: oauth.ErrUnexpectedResponse}}}
	r, err := audit.Run(context.Background(), odd, j, c, today())
	require.NoError(t, err)
	assert.False(t, r.Clean())
	assert.Len(t, r.LedgerErrors, 1)

	down := fixedLedger{{err: visengine.ErrUnauthorized}}
	_, err = audit.Run(context.Background(), down, j, c, today())
	assert.ErrorIs(t, err, visengine.ErrUnauthorized)

	_, err = audit.Run(context.Background(), odd, j, c, audit.Period{Since: time.Now(), Until: time.Now().Add(-time.Hour)})
	assert.ErrorIs(t, err, visengine.ErrInvalidArgument)
}
