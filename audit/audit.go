// Package audit reconciles the wallet's ledger with the submission
// journal: over a period, every Visengine charge in the ledger (package
// oauth's Transactions) against every submission the journal records as
// completed, with its amount read back from Visengine. What one side cannot
// explain is reported: a charge no submission accounts for (a double
// charge, a charge made outside this SDK), or a completed submission no
// charge pays for.
//
// The ledger does not say which richiesta a charge paid for, so a charge
// is matched to a submission by amount (exactly) and time: the closest
// charge of the submission's amount within Tolerance of the moment its
// closing PUT was sent. Charges for a service's search step (prezzo_ricerca)
// are not submissions, and show as unexplained.
//
// It lives in its own package because the root package never imports
// package oauth, and oauth has no business reading journals.
package audit

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/oauth"
)

// DefaultTolerance is how far apart a charge and the close it pays for may
// be: the server's and this machine's clocks, and the time a close takes.
const DefaultTolerance = 10 * time.Minute

// Ledger is the wallet's ledger; *oauth.Client is one.
type Ledger interface {
	Transactions(ctx context.Context, opts ...oauth.TransactionsOption) iter.Seq2[oauth.Transaction, error]
}

// Richieste reads richieste and services back; *visengine.Client is one.
type Richieste interface {
	GetRichiesta(ctx context.Context, id string) (*visengine.Richiesta, error)
	GetVisura(ctx context.Context, hash string) (*visengine.Visura, error)
}

// Period is the audited span of time, [Since, Until). A zero Until is
// now, and then nothing recorded so far is left out: a time stamped a
// little ahead (a journal's clock margin, another machine's clock) still
// counts.
type Period struct {
	Since, Until time.Time
	// Tolerance is DefaultTolerance when zero; see the package doc.
	Tolerance time.Duration

	open bool // Until was zero: no end but now
}

// Charge is a Visengine charge in the ledger. Amount is what was spent,
// positive.
type Charge struct {
	TransactionID string          `json:"transaction_id"`
	Amount        visengine.Price `json:"amount"`
	Time          time.Time       `json:"time"`
	Description   string          `json:"description"`
}

// Submission is a completed submission of the journal. Amount is the
// richiesta's total (document and options) as Visengine reports it; Err
// says why it could not be known.
type Submission struct {
	Ref        string          `json:"ref"`
	DraftID    string          `json:"id"`
	HashVisura string          `json:"hash_visura"`
	ClosedAt   time.Time       `json:"closed_at"` // when the close was sent
	Amount     visengine.Price `json:"amount"`
	Err        error           `json:"-"`
}

// Match is a charge explained by a submission.
type Match struct {
	Charge     Charge     `json:"charge"`
	Submission Submission `json:"submission"`
}

// Totals is a count and a sum.
type Totals struct {
	Count int             `json:"count"`
	Total visengine.Price `json:"total"`
}

func (t *Totals) add(p visengine.Price) { t.Count, t.Total = t.Count+1, t.Total.Add(p) }

// Report is an audit's result. Charges, Refunds and Submissions count what
// falls within the period; the unexplained lists hold only items within it
// (a charge just outside may still explain a close just inside).
type Report struct {
	Since                  time.Time    `json:"since"`
	Until                  time.Time    `json:"until"`
	Charges                Totals       `json:"charges"`     // Visengine charges in the ledger
	Refunds                Totals       `json:"refunds"`     // Visengine refunds in the ledger
	Submissions            Totals       `json:"submissions"` // completed submissions with a known amount
	Matched                []Match      `json:"matched"`
	UnexplainedCharges     []Charge     `json:"unexplained_charges"`     // no submission accounts for them
	UnexplainedSubmissions []Submission `json:"unexplained_submissions"` // no charge pays for them
	Unpriced               []Submission `json:"unpriced_submissions"`    // their amount could not be read back
	// LedgerErrors are the ledger's transactions that could not be read;
	// the audit went on without them.
	LedgerErrors []error `json:"-"`
}

// Clean reports whether everything is explained: no unexplained charge or
// submission, no submission whose amount is unknown, no unreadable
// transaction.
func (r *Report) Clean() bool {
	return r != nil && len(r.UnexplainedCharges)+len(r.UnexplainedSubmissions)+len(r.Unpriced)+len(r.LedgerErrors) == 0
}

// ErrBadPeriod reports a period that ends before it starts.
var ErrBadPeriod = fmt.Errorf("%w: audit period ends before it starts", visengine.ErrInvalidArgument)

// Run audits p: it reads the ledger from p.Since (less the tolerance), the
// journal's completed submissions, and each one's richiesta back by its
// DraftID for the amount. A failed read of the ledger or the journal is an
// error; a richiesta that cannot be read makes its submission unpriced.
func Run(ctx context.Context, ledger Ledger, j visengine.Journal, rs Richieste, p Period) (*Report, error) {
	if ledger == nil || j == nil || rs == nil {
		return nil, fmt.Errorf("%w: audit needs a ledger, a journal and a client", visengine.ErrInvalidArgument)
	}
	p = p.normal()
	if p.Until.Before(p.Since) {
		return nil, ErrBadPeriod
	}
	r := &Report{Since: p.Since, Until: p.Until}
	charges, err := readLedger(ctx, ledger, p, r)
	if err != nil {
		return nil, err
	}
	subs, err := readJournal(ctx, j, rs, p)
	if err != nil {
		return nil, err
	}
	match(r, p, charges, subs)
	return r, nil
}

func (p Period) normal() Period {
	if p.Tolerance <= 0 {
		p.Tolerance = DefaultTolerance
	}
	if p.Until.IsZero() {
		p.Until, p.open = time.Now(), true
	}
	return p
}

// within reports whether t falls in the period itself.
func (p Period) within(t time.Time) bool {
	return !t.Before(p.Since) && (p.open || t.Before(p.Until))
}

// near reports whether t falls in the period widened by the tolerance.
func (p Period) near(t time.Time) bool {
	return !t.Before(p.Since.Add(-p.Tolerance)) && t.Before(p.Until.Add(p.Tolerance))
}

// readLedger returns the Visengine charges near the period, oldest first,
// and counts the charges and refunds within it.
func readLedger(ctx context.Context, ledger Ledger, p Period, r *Report) ([]Charge, error) {
	var charges []Charge
	for tx, err := range ledger.Transactions(ctx, oauth.WithSince(p.Since.Add(-p.Tolerance))) {
		if err != nil {
			var te *oauth.TransactionError
			if !errors.As(err, &te) {
				return nil, fmt.Errorf("audit: reading the ledger: %w", err)
			}
			r.LedgerErrors = append(r.LedgerErrors, err)
			continue
		}
		if !tx.IsVisengine() || !p.near(tx.CreatedAt) {
			continue
		}
		switch tx.Amount.Sign() {
		case -1:
			c := Charge{TransactionID: tx.ID, Amount: tx.Amount.Neg(), Time: tx.CreatedAt, Description: tx.Description}
			if p.within(c.Time) {
				r.Charges.add(c.Amount)
			}
			charges = append(charges, c)
		case 1:
			if p.within(tx.CreatedAt) {
				r.Refunds.add(tx.Amount)
			}
		}
	}
	// The ledger comes newest first; matching goes oldest first.
	slices.Reverse(charges)
	return charges, nil
}

// readJournal returns the completed submissions closed near the period,
// each priced from its richiesta.
func readJournal(ctx context.Context, j visengine.Journal, rs Richieste, p Period) ([]Submission, error) {
	entries, err := j.List(ctx, visengine.JournalFilter{})
	if err != nil {
		return nil, fmt.Errorf("audit: reading the journal: %w", err)
	}
	pr := pricer{rs: rs, visure: map[string]*visengine.Visura{}}
	var out []Submission
	for _, e := range entries {
		closed := e.CloseSentAt
		if closed.IsZero() {
			closed = e.UpdatedAt
		}
		if e.Outcome != visengine.JournalCompleted || !p.near(closed) {
			continue
		}
		s := Submission{Ref: e.Ref, DraftID: e.DraftID, HashVisura: e.HashVisura, ClosedAt: closed}
		s.Amount, s.Err = pr.price(ctx, e.DraftID)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// pricer reads a richiesta's total back, pricing its options from the
// catalogue when the richiesta names them without their prices.
type pricer struct {
	rs     Richieste
	visure map[string]*visengine.Visura
}

func (p *pricer) price(ctx context.Context, id string) (visengine.Price, error) {
	if id == "" {
		return visengine.Price{}, errors.New("the journal has no richiesta id for it")
	}
	r, err := p.rs.GetRichiesta(ctx, id)
	if err != nil {
		return visengine.Price{}, err
	}
	total, err := r.Total()
	if err == nil || len(r.Opzioni) == 0 {
		return total, err
	}
	v, ok := p.visure[r.HashVisura]
	if !ok {
		if v, err = p.rs.GetVisura(ctx, r.HashVisura); err != nil {
			return visengine.Price{}, err
		}
		p.visure[r.HashVisura] = v
	}
	names := make([]string, len(r.Opzioni))
	for i, o := range r.Opzioni {
		names[i] = o.Nome
	}
	withOptions, err := v.Total(names...)
	if err != nil {
		return visengine.Price{}, err
	}
	// The document at the richiesta's own price, the options at the
	// catalogue's.
	return withOptions.Sub(v.PrezzoVisura).Add(r.PrezzoVisura), nil
}
