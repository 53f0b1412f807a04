package visenginetest

import (
	"net/http"
	"slices"
	"time"

	"github.com/visengine-go/visengine"
)

// Request is one request the server received, recorded before any fault
// or check, so tests can see exactly what a client sent. Only the token
// is checked first: a Visengine call without a good one is answered 401
// (or 403) before its body is read, and recorded with a nil Body, as is
// one whose announced body is over the cap.
type Request struct {
	Method string
	Path   string // URL path, without the query
	Header http.Header
	Body   []byte // nil when refused unread
	Time   time.Time
}

// Charge is one debit of the wallet.
type Charge struct {
	RichiestaID string
	What        string // "visura" (document and options) or "ricerca" (prezzo_ricerca: an added search, or the chosen result)
	Amount      visengine.Price
	Time        time.Time
}

func (s *Server) record(r *http.Request, body []byte) {
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Time: time.Now()}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) chargeLocked(id, what string, amount visengine.Price) {
	now := time.Now()
	s.wallet = s.wallet.Sub(amount)
	s.charges = append(s.charges, Charge{RichiestaID: id, What: what, Amount: amount, Time: now})
	s.ledger = append(s.ledger, s.newLedgerEntry(amount.Neg(), s.usageDescription(), now))
}

// Charges returns how many times the wallet was debited and the total,
// exactly.
func (s *Server) Charges() (count int, total visengine.Price) {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.charges {
		total = total.Add(c.Amount)
	}
	return len(s.charges), total
}

// ChargeLog returns every debit, oldest first.
func (s *Server) ChargeLog() []Charge {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.charges)
}

// Balance returns what is left in the wallet.
func (s *Server) Balance() visengine.Price {
	s.applyDue()
	return s.balance()
}

// balance is Balance for the server's own handlers, which may be applying
// a late request (applyDue) themselves.
func (s *Server) balance() visengine.Price {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wallet
}

// SetBalance refills or drains the wallet, e.g. to test a 402 mid-flow. The
// ledger records the difference: a recharge when it adds, an adjustment
// when it takes away.
func (s *Server) SetBalance(balance visengine.Price) {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	diff := balance.Sub(s.wallet)
	switch diff.Sign() {
	case 1:
		s.ledger = append(s.ledger, s.newLedgerEntry(diff, DescriptionRecharge, time.Now()))
	case -1:
		s.ledger = append(s.ledger, s.newLedgerEntry(diff, DescriptionAdjustment, time.Now()))
	}
	s.wallet = balance
}
