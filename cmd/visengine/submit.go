package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

// envCallbackSecret holds the secret --callback sends, the one the
// receiver's CallbackHandler checks.
const envCallbackSecret = "VISENGINE_CALLBACK_SECRET"

type submitFlags struct {
	opzioni         []string
	email, callback string
	dryRun, yes     bool
	asJSON          bool
	noJournal       bool
	batch, results  string // --batch DIR, --results FILE (batch.go)
	concurrency     int
	rate            float64 // --rate: requests per second, 0 unpaced
}

func (a *app) submitCommand() *cobra.Command {
	var f submitFlags
	cmd := &cobra.Command{
		Use: "submit HASH APPLICANT.json",
		Long: `Submit an applicant for a service, paying for it once. The applicant is first
checked locally (see 'visengine help validate' for APPLICANT.json); then the
total price, options included, is shown and confirmed before anything is paid,
unless --yes is given. Without a terminal on standard input nobody can be
asked, so --yes is required. --dry-run has the server check and price the
richiesta without storing or charging anything.

Submission is a free draft and then a closing call that charges the wallet;
the closing call is never sent twice. On success the richiesta's ID is printed
on standard output, alone, for scripts. If the answer to the paid call is
lost, the exit status is 3: the richiesta may have been charged, so do not
submit again; 'visengine resume ID' finishes it.

Each step is recorded first in the submission journal, in the user's state
folder ($XDG_STATE_HOME/visengine/journal, or the OS's equivalent; the
VISENGINE_JOURNAL variable names another): it holds ids, times and a digest of
the values, no personal data. A submit killed half-way is then finished, or
reported, by 'visengine recover'.

--callback URL asks Visengine to post the richiesta there when it is done,
with the secret in VISENGINE_CALLBACK_SECRET (the one the receiver checks).
` + batchHelp,
		Args:              submitArgs(&f),
		ValidArgsFunction: a.completeHash,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.batch != "" {
				if err := checkBatchFlags(cmd, f); err != nil {
					return err
				}
				return a.submitBatch(cmd.Context(), args[0], f)
			}
			return a.submit(cmd.Context(), args[0], args[1], f)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.opzioni, "opzioni", nil, "paid options by tipo or nome, comma-separated (urgenza,assistenza_dedicata)")
	fl.StringVar(&f.email, "email", "", "also e-mail the document to this address")
	fl.StringVar(&f.callback, "callback", "", "URL Visengine posts the richiesta to when it is done (HTTPS)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "have the server check and price it, storing and charging nothing")
	fl.BoolVarP(&f.yes, "yes", "y", false, "pay without asking")
	fl.BoolVar(&f.noJournal, "no-journal", false, "do not record the submission in the journal (then 'visengine recover' cannot finish it)")
	fl.StringVar(&f.batch, "batch", "", "submit every DIR/*.json, each keyed by its file name, paying each applicant once")
	fl.IntVar(&f.concurrency, "concurrency", defaultConcurrency, "with --batch: how many applicants to submit at once")
	fl.StringVar(&f.results, "results", "", "with --batch: write one JSON line per applicant to this file")
	fl.Float64Var(&f.rate, "rate", 0, "with --batch: at most this many requests per second, to stay under the account's rate limit (0: no limit)")
	_ = cmd.MarkFlagDirname("batch")
	addJSON(cmd, &f.asJSON)
	_ = cmd.RegisterFlagCompletionFunc("opzioni", a.completeOpzioni) // only fails for an unknown flag
	return cmd
}

func (a *app) submit(ctx context.Context, hash, path string, f submitFlags) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	v, values, err := loadApplicant(ctx, c, hash, path)
	if err != nil {
		return err
	}
	problems, err := check(v, values, a.language())
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		printVerdict(a.errOut, a.errOut, v, problems, a.language())
		return &codeError{code: exitNo, err: msgErr("applicantInvalid")}
	}
	opts, total, err := a.pricedOptions(v, &f)
	if err != nil {
		return err
	}
	if f.dryRun {
		return a.dryRun(ctx, c, v, values, total, f.asJSON, opts)
	}
	if !f.yes {
		if err := a.confirm(ctx, v, f.opzioni, total); err != nil {
			return err
		}
	}
	// The journal records each step before it is taken, so that a killed
	// submit can be finished by 'visengine recover'.
	pay, done, err := a.journalClient(ctx, !f.noJournal, visengine.DefaultCloseSettle)
	if err != nil {
		return err
	}
	defer done()
	r, err := pay.Submit(ctx, v, values, opts...)
	if err != nil {
		return a.submitFailed(err, f)
	}
	return a.printSubmitted(r, total, f.asJSON)
}

// submitFailed says what a failed Submit left behind; with --json, an
// unknown outcome (exit 3) is also printed for programs.
func (a *app) submitFailed(err error, f submitFlags) error {
	failure := submitFailure(err, !f.noJournal)
	if f.asJSON && exitCode(failure) == exitUnknown {
		return errors.Join(a.printUnknown(err, !f.noJournal), failure)
	}
	return failure
}

// unknownView is submit --json's answer when it exits 3: the richiesta may
// have been charged, and a program must know which one and how to finish it.
type unknownView struct {
	ID          string    `json:"id"`
	Ref         string    `json:"ref,omitempty"`
	Outcome     string    `json:"outcome"` // always "unknown"
	Step        string    `json:"step"`    // the step whose answer was lost: "close"
	Total       string    `json:"total,omitempty"`
	CloseSentAt time.Time `json:"close_sent_at,omitzero"`
	ResumeAfter time.Time `json:"resume_after,omitzero"`
	Resume      string    `json:"resume"` // the command that finishes it
	Error       string    `json:"error"`
}

// printUnknown prints the unknownView of a Submit error whose close's
// outcome is unknown.
func (a *app) printUnknown(err error, journalled bool) error {
	var se *visengine.SubmitError
	if !errors.As(err, &se) {
		return nil
	}
	view := unknownView{ID: se.ID, Ref: se.Ref, Outcome: "unknown", Step: string(se.Step), CloseSentAt: se.CloseSentAt,
		Resume: resumeCommand(se, journalled), Error: oneLine(err)}
	if !se.CloseSentAt.IsZero() {
		view.ResumeAfter = se.CloseSentAt.Add(visengine.DefaultCloseSettle)
	}
	return printJSON(a.out, view)
}

// resumeCommand is the command that finishes a close whose outcome is
// unknown.
func resumeCommand(se *visengine.SubmitError, journalled bool) string {
	switch {
	case journalled:
		return "visengine resume " + se.ID
	case se.CloseSentAt.IsZero():
		return "visengine resume " + se.ID + " --no-close-sent"
	}
	return "visengine resume " + se.ID + " --close-sent-at " + se.CloseSentAt.UTC().Format(time.RFC3339Nano)
}

// uniqueOpzioni drops an option named again, by its tipo or its nome,
// keeping the first spelling, so the prompt and the output name each option
// once (Visura.Total already counts it once). Names the service does not
// offer are kept, for Total to refuse.
// pricedOptions checks the options f names against v (each once, offered
// by the service), and returns Submit's options and the total it charges.
func (a *app) pricedOptions(v *visengine.Visura, f *submitFlags) ([]visengine.SubmitOption, visengine.Price, error) {
	var err error
	if f.opzioni, err = checkOpzioni(v, uniqueOpzioni(v, f.opzioni)); err != nil {
		return nil, visengine.Price{}, err
	}
	opts, err := a.submitOptions(*f)
	if err != nil {
		return nil, visengine.Price{}, err
	}
	total, err := v.Total(f.opzioni...)
	return opts, total, err
}

func uniqueOpzioni(v *visengine.Visura, names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		key := n
		if o, ok := v.Opzione(n); ok {
			key = o.Nome
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, n)
		}
	}
	return out
}

// submitOptions turns the flags into Submit's options.
func (a *app) submitOptions(f submitFlags) ([]visengine.SubmitOption, error) {
	var opts []visengine.SubmitOption
	if len(f.opzioni) > 0 {
		opts = append(opts, visengine.WithOpzioni(f.opzioni...))
	}
	if f.email != "" {
		opts = append(opts, visengine.WithEmailTarget(f.email))
	}
	if f.callback == "" {
		return opts, nil
	}
	var (
		cb  *visengine.Callback
		err error
	)
	if secret := os.Getenv(envCallbackSecret); secret != "" {
		cb, err = visengine.NewCallbackWithSecret(f.callback, visengine.CallbackJSON, secret)
	} else {
		cb, err = visengine.NewCallback(f.callback, visengine.CallbackJSON)
		fmt.Fprintf(a.errOut, say(a.language(), "callbackNoSecret"), envCallbackSecret)
	}
	if err != nil {
		return nil, fmt.Errorf("--callback: %w", err)
	}
	return append(opts, visengine.WithCallback(cb)), nil
}

// confirm asks before paying; without a terminal it refuses.
func (a *app) confirm(ctx context.Context, v *visengine.Visura, opzioni []string, total visengine.Price) error {
	if !isTerminal(a.in) {
		return msgErr("noTerminal", total)
	}
	lang := a.language()
	what := clean(v.NomeVisura)
	if len(opzioni) > 0 {
		what += say(lang, "with") + strings.Join(opzioni, ", ")
	}
	fmt.Fprintf(a.errOut, say(lang, "prompt"), what, paint(a.errOut, styleBold, total.String()))
	answer := make(chan string, 1)
	go func() { // a read cannot be cancelled; Ctrl-C must still end the prompt
		line, _ := bufio.NewReader(a.in).ReadString('\n')
		answer <- line
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(a.errOut)
		return errDeclined
	case line := <-answer:
		if slices.Contains(strings.Fields(say(lang, "yes")), strings.ToLower(strings.TrimSpace(line))) {
			return nil
		}
		if !strings.HasSuffix(line, "\n") {
			fmt.Fprintln(a.errOut)
		}
		return errDeclined
	}
}

// submitFailure says what a failed Submit left behind and what to do.
// journalled says whether the submission journal recorded it.
func submitFailure(err error, journalled bool) error {
	var se *visengine.SubmitError
	if !errors.As(err, &se) {
		return err
	}
	unknown := errors.Is(err, visengine.ErrOutcomeUnknown)
	switch {
	case se.Step == visengine.StepDraft && unknown:
		// A draft is free and one whose creation is unknown is never closed.
		return &codeError{code: exitError, err: msgErr("failDraftUnknown", err)}
	case se.Step == visengine.StepDraft:
		return msgErr("failDraft", err)
	case unknown:
		return msgErr("failUnknown", err, se.ID, resumeHint(se, journalled))
	case se.CloseSentAt.IsZero():
		return msgErr("failNoClose", err, se.ID, se.ID)
	}
	return msgErr("failClose", err, se.ID, se.ID)
}

// resumeHint says how to finish a close whose outcome is unknown (a
// sentence of cliText; an error only to be rendered in a language).
func resumeHint(se *visengine.SubmitError, journalled bool) error {
	settled := se.CloseSentAt.Add(visengine.DefaultCloseSettle)
	switch {
	case journalled:
		return msgErr("hintJournalled", when(settled), resumeCommand(se, true))
	case se.CloseSentAt.IsZero():
		return msgErr("hintNow", resumeCommand(se, false))
	}
	return msgErr("hintAfter", when(settled), resumeCommand(se, false))
}

func (a *app) printSubmitted(r *visengine.Richiesta, total visengine.Price, asJSON bool) error {
	if t, err := r.Total(); err == nil {
		total = t
	}
	if asJSON {
		return printJSON(a.out, newRichiestaView(r))
	}
	id := clean(r.ID)
	fmt.Fprintln(a.out, id)
	fmt.Fprintf(a.errOut, say(a.language(), "submitted"), id, total, clean(string(r.StatoRichiesta)), id)
	return nil
}

// dryRunView is submit --dry-run's JSON.
type dryRunView struct {
	DryRun  bool            `json:"dry_run"`
	Total   visengine.Price `json:"total"`
	Message string          `json:"message"`
}

func (a *app) dryRun(ctx context.Context, c *visengine.Client, v *visengine.Visura, values visengine.Values, total visengine.Price, asJSON bool, opts []visengine.SubmitOption) error {
	d, err := c.DryRun(ctx, v, values, opts...)
	if err != nil {
		return err
	}
	if t, err := d.Total(); err == nil {
		total = t
	}
	if asJSON {
		return printJSON(a.out, dryRunView{DryRun: true, Total: total, Message: clean(d.Message)})
	}
	fmt.Fprintf(a.out, say(a.language(), "dryRun"), total, clean(d.Message))
	return nil
}
