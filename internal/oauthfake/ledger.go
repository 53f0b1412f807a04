package oauthfake

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// maxTransactionsPage is the spec's maximum (and default) limit of GET
// /wallet/transactions.
const maxTransactionsPage = 100

// v2Transactions is GET /wallet/transactions?skip=&limit=: the ledger,
// newest first as in the spec's example. As for GET /tokens, limit is cut
// to the spec's maximum, 100 (its default too), and a limit or skip that is
// not a number counts as absent. Without a ledger it answers 404.
func (s *Server) v2Transactions(w http.ResponseWriter, r *http.Request) {
	l, ok := s.wallet.(Ledger)
	if !ok {
		fail(w, http.StatusNotFound, 0, "Not Found")
		return
	}
	limit := queryInt(r, "limit", maxTransactionsPage)
	if limit <= 0 || limit > maxTransactionsPage {
		limit = maxTransactionsPage
	}
	page := l.TransactionsPage(max(queryInt(r, "skip", 0), 0), limit)
	out := make([]transactionWire, len(page))
	for i, t := range page {
		out[i] = transactionWire{ID: t.ID, Amount: euro(t.AmountMicros), CreatedAt: isoTime(t.Time), Description: t.Description}
	}
	writeJSON(w, http.StatusOK, struct {
		Data []transactionWire `json:"data"`
	}{out})
}

// NewestFirst returns, in a new slice, at most limit of all (oldest
// first), newest first, after skipping the skip newest: a Ledger's page.
func NewestFirst[T any](all []T, skip, limit int) []T {
	end := len(all) - min(max(skip, 0), len(all))
	page := slices.Clone(all[max(end-max(limit, 0), 0):end])
	slices.Reverse(page)
	return page
}

// transactionWire is a WalletTransaction, its keys in the spec's order.
type transactionWire struct {
	ID          string `json:"id"`
	Amount      any    `json:"amount"`
	CreatedAt   string `json:"createdAt"`
	Description string `json:"description"`
}

// MemWallet is a Wallet with a Ledger, kept in memory: what an oauthfake
// Server without the fake Visengine serves. It is safe for concurrent use.
type MemWallet struct {
	mu      sync.Mutex
	balance int64
	ledger  []Transaction
}

// NewMemWallet returns a wallet holding micros millionths of a euro,
// recorded as a "Wallet recharge" at t.
func NewMemWallet(micros int64, t time.Time) *MemWallet {
	w := &MemWallet{}
	w.Add(micros, "Wallet recharge", t)
	return w
}

// BalanceMicros implements Wallet.
func (w *MemWallet) BalanceMicros() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.balance
}

// TransactionsPage implements Ledger.
func (w *MemWallet) TransactionsPage(skip, limit int) []Transaction {
	w.mu.Lock()
	defer w.mu.Unlock()
	return NewestFirst(w.ledger, skip, limit)
}

// Add moves the balance by micros (negative for a charge) and records it.
func (w *MemWallet) Add(micros int64, description string, t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.balance += micros
	w.ledger = append(w.ledger, Transaction{ID: "txn_" + newID(), AmountMicros: micros, Time: t.UTC(), Description: description})
}
