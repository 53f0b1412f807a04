package visengine

import (
	"context"
)

// CreditSource tells how much credit the wallet that pays for richieste
// holds, exactly. Package oauth's *Client is one (its Credit reads
// the Openapi wallet).
type CreditSource interface {
	Credit(ctx context.Context) (Price, error)
}

// creditCheck is WithCreditCheck's setting; a nil *creditCheck means no
// check.
type creditCheck struct{ src CreditSource }

// WithCreditCheck makes Submit read the wallet's credit from src before it
// creates the draft, and stop with an error matching ErrInsufficientCredit
// when the credit is below the richiesta's total: the visura's price plus
// the chosen opzioni (Visura.Total), the amount the close charges. A
// search's price (PrezzoRicerca), charged later when a risultato is
// chosen, is not included. Nothing is sent to Visengine when the check
// fails, and the error is not a *SubmitError.
//
// The check is advisory: the credit can change between the check and the
// close (another Submit, another application on the same account), and
// Visengine's own refusal (402, CodeInsufficientCredit) stays the final
// word. It spares a batch from creating drafts it cannot pay for. DryRun
// ignores it, since a dry run charges nothing.
func WithCreditCheck(src CreditSource) SubmitOption {
	return func(c *submitConfig) { c.credit = &creditCheck{src: src} }
}

// checkCredit runs WithCreditCheck's check for Submit, if it was asked
// for. v and opts have passed submitBody's checks.
func (c *Client) checkCredit(ctx context.Context, v *Visura, opts []SubmitOption) error {
	var cfg submitConfig
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.credit == nil {
		return nil
	}
	if isNil(cfg.credit.src) {
		return invalidArg("WithCreditCheck", "needs a non-nil CreditSource")
	}
	total, err := v.Total(cfg.options...)
	if err != nil {
		return err
	}
	credit, err := cfg.credit.src.Credit(ctx)
	if err != nil {
		return errorf("checking the credit before paying (nothing sent): %w", err)
	}
	if credit.Cmp(total) < 0 {
		return errorf("%w: the wallet holds %s, the richiesta costs %s (checked before paying; nothing sent)",
			ErrInsufficientCredit, credit, total)
	}
	return nil
}
