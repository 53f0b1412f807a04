package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
)

// TransactionsPage is how many transactions one GET /wallet/transactions
// asks for: the spec's maximum.
const TransactionsPage = 100

// Transaction is one movement of the wallet (v2's WalletTransaction): a
// charge (negative Amount) or a recharge or refund (positive). The ledger
// does not say which richiesta a charge paid for: Description names the
// API ("API usage - visengine2.altravia.com").
type Transaction struct {
	ID          string          // "txn_…"
	Amount      visengine.Price // negative for what was spent, exact to the millionth of a euro
	CreatedAt   time.Time       // when it happened
	Description string          // "API usage - <host>", "Wallet recharge", …
}

// IsVisengine reports whether the transaction concerns Visengine (its
// description names visengine2.altravia.com or the sandbox host), as
// opposed to a recharge or another Openapi API.
func (t Transaction) IsVisengine() bool {
	// The sandbox host ends with the production one.
	return strings.Contains(strings.ToLower(t.Description), VisengineHost)
}

// TransactionsOption configures Transactions.
type TransactionsOption func(*transactionsConfig)

type transactionsConfig struct {
	since time.Time
}

// WithSince leaves out the transactions before t, and stops reading pages
// once a whole page is older than t: the ledger comes newest first, so the
// rest of it is older still.
func WithSince(t time.Time) TransactionsOption {
	return func(c *transactionsConfig) { c.since = t }
}

// TransactionError is a transaction of the ledger that could not be read:
// Transactions yields it, with what could be read of the transaction, and
// goes on with the others. Any other error it yields ends the sequence.
type TransactionError struct {
	ID  string // the transaction's id, when it could be read
	Err error  // an *APIError saying what is wrong
}

// Error describes the problem, without the transaction's values.
func (e *TransactionError) Error() string {
	if e == nil || e.Err == nil {
		return "oauth: unreadable wallet transaction"
	}
	return e.Err.Error()
}

// Unwrap returns the *APIError.
func (e *TransactionError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// ErrNoLedger reports a Transactions call on an OAuth v1 client: v1 has
// the credit (GET /credit) but no ledger.
var ErrNoLedger = errors.New("oauth: the wallet's ledger is on OAuth v2 only")

// Transactions reads the wallet's ledger (GET /wallet/transactions, v2),
// newest first, one page of TransactionsPage at a time, each fetched when
// the previous one has been consumed; stop early by breaking out of the
// loop. A transaction seen on an earlier page is not yielded again (a new
// one shifts the pages while they are read). A transaction that cannot be
// read is yielded with a *TransactionError, as much of it as could be
// read, and the others follow; a failed call is yielded as the last pair,
// with a zero Transaction and an error of another type.
func (c *Client) Transactions(ctx context.Context, opts ...TransactionsOption) iter.Seq2[Transaction, error] {
	var cfg transactionsConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return func(yield func(Transaction, error) bool) {
		if err := c.usable(); err != nil {
			yield(Transaction{}, err)
			return
		}
		if c.v1 {
			yield(Transaction{}, ErrNoLedger)
			return
		}
		c.transactions(ctx, cfg, yield)
	}
}

// transactions reads the pages for Transactions.
func (c *Client) transactions(ctx context.Context, cfg transactionsConfig, yield func(Transaction, error) bool) {
	seen := map[string]bool{}
	for page := 0; page < maxListPages; page++ {
		list, err := c.transactionsPage(ctx, page*TransactionsPage)
		if err != nil {
			yield(Transaction{}, err)
			return
		}
		older := 0
		for _, e := range list {
			switch {
			case e.err == nil && !cfg.since.IsZero() && e.t.CreatedAt.Before(cfg.since):
				older++
			case e.t.ID != "" && seen[e.t.ID]:
			default:
				seen[e.t.ID] = e.t.ID != ""
				if !yield(e.t, e.err) {
					return
				}
			}
		}
		if len(list) < TransactionsPage || older == len(list) {
			return
		}
	}
	yield(Transaction{}, fmt.Errorf("%w: GET /wallet/transactions: more than %d pages", ErrUnexpectedResponse, maxListPages))
}

// ledgerEntry is one decoded transaction, or what could be read of it.
type ledgerEntry struct {
	t   Transaction
	err error
}

func (c *Client) transactionsPage(ctx context.Context, skip int) ([]ledgerEntry, error) {
	q := url.Values{"skip": {strconv.Itoa(skip)}, "limit": {strconv.Itoa(TransactionsPage)}}
	r := request{method: http.MethodGet, path: "/wallet/transactions", route: "/wallet/transactions", query: q}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	raw, err := payload(resp.body)
	if err != nil {
		return nil, c.unexpected(r, resp.status, "decoding transactions: %s", describeJSONError(err))
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, c.unexpected(r, resp.status, "decoding transactions: %s", describeJSONError(err))
	}
	out := make([]ledgerEntry, len(list))
	for i, item := range list {
		out[i].t, err = decodeTransaction(item)
		if err != nil {
			out[i].err = &TransactionError{ID: out[i].t.ID,
				Err: c.unexpected(r, resp.status, "transaction %d of the page at %d: %s", i, skip, describeJSONError(err))}
		}
	}
	return out, nil
}

// decodeTransaction reads a WalletTransaction. The amount must be exact: a
// ledger rounded even by a millionth would not add up.
func decodeTransaction(item json.RawMessage) (Transaction, error) {
	var w struct {
		ID          string          `json:"id"`
		Amount      json.RawMessage `json:"amount"`
		CreatedAt   flexTime        `json:"createdAt"`
		Description string          `json:"description"`
	}
	if err := json.Unmarshal(item, &w); err != nil {
		return Transaction{}, err
	}
	t := Transaction{ID: w.ID, CreatedAt: w.CreatedAt.t, Description: w.Description}
	if isNull(w.Amount) {
		return t, fmt.Errorf("amount %w: missing", errShape)
	}
	var err error
	t.Amount, err = visengine.ParsePrice(strings.Trim(string(bytes.TrimSpace(w.Amount)), `"`))
	if err != nil {
		return t, fmt.Errorf("amount %w", errShape)
	}
	if t.CreatedAt.IsZero() {
		return t, fmt.Errorf("createdAt %w: missing", errShape)
	}
	return t, nil
}
