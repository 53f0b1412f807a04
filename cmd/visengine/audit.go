package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/audit"
)

func (a *app) auditCommand() *cobra.Command {
	var (
		asJSON       bool
		since, until string
		tolerance    time.Duration
	)
	cmd := &cobra.Command{
		Use: "audit --since DATE",
		Long: `Reconcile the wallet's ledger (OAuth v2, OPENAPI_EMAIL and OPENAPI_APIKEY) with
the submission journal over a period: every Visengine charge against every
submission the journal records as completed, its amount read back from
Visengine (VISENGINE_TOKEN). The ledger does not name the richiesta a charge
paid for, so charges are matched by exact amount and time (within --tolerance
of the close). Reported: counts and totals, every charge no submission explains
(a double charge, a charge made outside this journal, a search's price) and
every submission no charge pays for.

DATE is a day (2026-11-01, midnight UTC) or an RFC 3339 time; --until defaults
to now.

Exit status: 0 everything explained; 1 something is unexplained; 2 usage or
other error.`,
		Args: exactArgs(0, "argsAuditNone"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := auditPeriod(since, until, tolerance)
			if err != nil {
				return &usageError{cmd: cmd.CommandPath(), err: err}
			}
			r, err := a.audit(cmd.Context(), p)
			if err != nil {
				return err
			}
			if asJSON {
				err = printJSON(a.out, newAuditView(r))
			} else {
				printAudit(a.out, r, a.language())
			}
			if err == nil && !r.Clean() {
				return &codeError{code: exitNo}
			}
			return err
		},
	}
	addJSON(cmd, &asJSON)
	cmd.Flags().StringVar(&since, "since", "", "start of the period: a day (2026-11-01) or an RFC 3339 time (required)")
	cmd.Flags().StringVar(&until, "until", "", "end of the period, excluded (default: now)")
	cmd.Flags().DurationVar(&tolerance, "tolerance", audit.DefaultTolerance, "how far apart a charge and its close may be")
	return cmd
}

// auditPeriod reads the flags.
func auditPeriod(since, until string, tolerance time.Duration) (audit.Period, error) {
	if since == "" {
		return audit.Period{}, msgErr("sinceRequired")
	}
	p := audit.Period{Tolerance: tolerance}
	var err error
	if p.Since, err = parseDay(since); err != nil {
		return p, msgErr("flagErr", "--since", err)
	}
	if until != "" {
		if p.Until, err = parseDay(until); err != nil {
			return p, msgErr("flagErr", "--until", err)
		}
	}
	if tolerance <= 0 {
		return p, msgErr("tolerancePositive")
	}
	return p, nil
}

// parseDay reads 2026-11-01 (midnight UTC) or an RFC 3339 time.
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, msgErr("badDay", clean(s))
	}
	return t, nil
}

// audit runs the audit with the account, the journal and the client.
func (a *app) audit(ctx context.Context, p audit.Period) (*audit.Report, error) {
	oc, err := a.account(false)
	if err != nil {
		return nil, err
	}
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	j, err := a.openJournal(ctx)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	return audit.Run(ctx, oc, j, c, p)
}

// printAudit writes the report as text: the totals, then each unexplained
// item on its own line.
func printAudit(w io.Writer, r *audit.Report, lang visengine.Lang) {
	fmt.Fprintf(w, say(lang, "auditPeriod"), r.Since.UTC().Format(time.RFC3339), r.Until.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, say(lang, "auditCharges"), r.Charges.Count, r.Charges.Total)
	fmt.Fprintf(w, say(lang, "auditSubmissions"), r.Submissions.Count, r.Submissions.Total)
	fmt.Fprintf(w, say(lang, "auditRefunds"), r.Refunds.Count, r.Refunds.Total)
	fmt.Fprintf(w, say(lang, "auditMatched"), len(r.Matched))
	for _, c := range r.UnexplainedCharges {
		fmt.Fprintf(w, say(lang, "auditCharge"), c.Time.UTC().Format(time.RFC3339), c.Amount, clean(c.TransactionID), clean(c.Description))
	}
	for _, s := range r.UnexplainedSubmissions {
		fmt.Fprintf(w, say(lang, "auditSubmission"), s.ClosedAt.UTC().Format(time.RFC3339), s.Amount, s.DraftID, s.Ref)
	}
	for _, s := range r.Unpriced {
		fmt.Fprintf(w, say(lang, "auditUnpriced"), s.ClosedAt.UTC().Format(time.RFC3339), s.DraftID, s.Ref, oneLineIn(s.Err, lang))
	}
	for _, err := range r.LedgerErrors {
		fmt.Fprintf(w, say(lang, "auditUnreadable"), oneLineIn(err, lang))
	}
	if r.Clean() {
		fmt.Fprintln(w, say(lang, "auditClean"))
	}
}

// auditView is the report in JSON, errors as text.
type auditView struct {
	*audit.Report
	Clean        bool               `json:"clean"`
	Unpriced     []unpricedView     `json:"unpriced_submissions"`
	LedgerErrors []string           `json:"ledger_errors"`
	Matched      []audit.Match      `json:"matched"`
	Charges      []audit.Charge     `json:"unexplained_charges"`
	Submissions  []audit.Submission `json:"unexplained_submissions"`
}

type unpricedView struct {
	audit.Submission
	Error string `json:"error"`
}

func newAuditView(r *audit.Report) auditView {
	v := auditView{Report: r, Clean: r.Clean(), Unpriced: []unpricedView{}, LedgerErrors: []string{},
		Matched: nonNil(r.Matched), Charges: nonNil(r.UnexplainedCharges), Submissions: nonNil(r.UnexplainedSubmissions)}
	for i := range v.Charges {
		v.Charges[i].Description = clean(v.Charges[i].Description)
	}
	for _, s := range r.Unpriced {
		v.Unpriced = append(v.Unpriced, unpricedView{Submission: s, Error: oneLine(s.Err)})
	}
	for _, err := range r.LedgerErrors {
		v.LedgerErrors = append(v.LedgerErrors, strings.TrimSpace(oneLine(err)))
	}
	return v
}

// nonNil makes a nil list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
