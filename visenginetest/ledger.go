package visenginetest

import (
	"slices"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/internal/oauthfake"
)

// LedgerEntry is one movement of the wallet as OAuth's GET
// /wallet/transactions shows it: negative for what was spent, positive for
// a recharge or a refund. Like the real ledger, it does not say which
// richiesta a charge paid for: only the amount, the time and the
// description ("API usage - visengine2.altravia.com").
type LedgerEntry struct {
	ID          string // "txn_" and 24 hex digits
	Amount      visengine.Price
	Time        time.Time
	Description string
}

// Descriptions of the fake's ledger entries other than Visengine's charges
// and refunds, which name the service's host (see Server.Ledger).
const (
	DescriptionRecharge   = "Wallet recharge"
	DescriptionAdjustment = "Wallet adjustment"
)

// Ledger returns the wallet's movements, oldest first: the starting
// balance as a recharge, every charge ("API usage - <host>", the scope host
// of WithScopeHost), refund ("API refund - <host>"), recharge and
// adjustment.
func (s *Server) Ledger() []LedgerEntry {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ledger)
}

// ledgerPage is a page of the ledger for GET /wallet/transactions
// (oauthfake.NewestFirst), copied alone: the whole ledger is one entry per
// charge.
func (s *Server) ledgerPage(skip, limit int) []LedgerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return oauthfake.NewestFirst(s.ledger, skip, limit)
}

// AddLedgerEntry writes e into the ledger and moves the balance by its
// amount, as if the account had been charged or credited outside the
// fake's flows: a test injects a double charge this way. A zero ID or Time
// is filled in; the ledger stays in time order.
func (s *Server) AddLedgerEntry(e LedgerEntry) {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.ID == "" {
		e.ID = s.newLedgerEntry(e.Amount, "", e.Time).ID
	}
	s.wallet = s.wallet.Add(e.Amount)
	i, _ := slices.BinarySearchFunc(s.ledger, e.Time, func(x LedgerEntry, t time.Time) int {
		if x.Time.After(t) {
			return 1
		}
		return -1 // equal times: after the ones there
	})
	s.ledger = slices.Insert(s.ledger, i, e)
}

// Refund gives back what the richiesta id was charged, as Visengine's
// operators may when they cannot deliver, and records it in the ledger. It
// reports whether the richiesta had been charged.
func (s *Server) Refund(id string) bool {
	s.applyDue()
	s.mu.Lock()
	defer s.mu.Unlock()
	var total visengine.Price
	for _, c := range s.charges {
		if c.RichiestaID == id {
			total = total.Add(c.Amount)
		}
	}
	if total.IsZero() {
		return false
	}
	s.wallet = s.wallet.Add(total)
	s.ledger = append(s.ledger, s.newLedgerEntry(total, "API refund - "+s.scopeHost(), time.Now()))
	return true
}

// usageDescription is a Visengine charge's description in the ledger.
func (s *Server) usageDescription() string { return "API usage - " + s.scopeHost() }

func (s *Server) scopeHost() string { return s.cfg.scopeHost }

func (s *Server) newLedgerEntry(amount visengine.Price, description string, t time.Time) LedgerEntry {
	return LedgerEntry{ID: "txn_" + newObjectID(), Amount: amount, Time: t.UTC(), Description: description}
}
