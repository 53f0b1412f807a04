package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
)

// journalWait bounds how long a command waits for the journal that another
// visengine holds (a submit or a recover running).
const journalWait = 30 * time.Second

// openJournal opens the submission journal, waiting while another
// visengine process holds it. Close it when done.
func (a *app) openJournal(ctx context.Context) (*journal.Dir, error) {
	dir, err := journalDir()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, journalWait)
	defer cancel()
	for said := false; ; said = true {
		j, err := journal.OpenDir(dir)
		switch {
		case err == nil:
			return j, nil
		case !errors.Is(err, visengine.ErrJournalLocked):
			return nil, msgErr("journalOpen", dir, err, envJournal)
		case !said:
			fmt.Fprintf(a.errOut, say(a.language(), "journalWaiting"), dir)
		}
		select {
		case <-ctx.Done():
			return nil, msgErr("journalBusy", dir, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// settleFlag is the --settle of resume and recover.
func settleFlag(cmd *cobra.Command, p *time.Duration) {
	cmd.Flags().DurationVar(p, "settle", visengine.DefaultCloseSettle,
		"wait this long after a close was sent before sending another; shorten it only if you know how long a close can take to commit")
}

func (a *app) resumeCommand() *cobra.Command {
	var (
		asJSON, noCloseSent, noJournal bool
		settle                         time.Duration
		closeSentAt                    string
	)
	cmd := &cobra.Command{
		Use: "resume ID",
		Long: `Finish a submission that 'visengine submit' left with an unknown outcome (exit
status 3): read the richiesta back and, only if it is still a draft and no close
was sent within the settle time, close it, paying once. It never closes twice.

It must know whether and when a close was sent: the submission journal says,
for what this machine submitted; otherwise give --close-sent-at (as submit
printed it) or --no-close-sent. Without either it closes nothing.

Exit status: 0 closed (charged once); 1 abandoned (nothing was charged);
2 the server refused, or another error; 3 still unknown or pending.`,
		Args:              exactArgs(1, "argsID"),
		ValidArgsFunction: a.completeID,
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []visengine.ResumeOption
			switch {
			case noCloseSent:
				opts = append(opts, visengine.WithNoCloseSent())
			case closeSentAt != "":
				t, err := time.Parse(time.RFC3339Nano, closeSentAt)
				if err != nil {
					return &usageError{cmd: cmd.CommandPath(), err: msgErr("closeSentAtBad")}
				}
				opts = append(opts, visengine.WithCloseSentAt(t))
			}
			c, done, err := a.journalClient(cmd.Context(), !noJournal, settle)
			if err != nil {
				return err
			}
			defer done()
			res, err := c.Resume(cmd.Context(), args[0], opts...)
			if err != nil {
				return err
			}
			if asJSON {
				if err := printJSON(a.out, newResolutionView(*res)); err != nil {
					return err
				}
			} else {
				printResolution(a.out, *res, a.language())
			}
			return resolutionExit(*res)
		},
	}
	addJSON(cmd, &asJSON)
	settleFlag(cmd, &settle)
	cmd.Flags().StringVar(&closeSentAt, "close-sent-at", "", "when the last close was sent (RFC 3339), if the journal does not know")
	cmd.Flags().BoolVar(&noCloseSent, "no-close-sent", false, "assert that no close was ever sent for it, so it may be closed at once")
	cmd.Flags().BoolVar(&noJournal, "no-journal", false, "do not use the submission journal")
	cmd.MarkFlagsMutuallyExclusive("close-sent-at", "no-close-sent")
	return cmd
}

func (a *app) recoverCommand() *cobra.Command {
	var (
		asJSON bool
		settle time.Duration
	)
	cmd := &cobra.Command{
		Use: "recover",
		Long: `Go through the submission journal (kept by 'visengine submit' in the user's
state folder) and finish or report every submission left unfinished: by a
killed submit, a lost answer, a crash. Each is read back from the server:
closed ones are completed; drafts whose close was recorded are closed once,
after the settle time; drafts never confirmed are abandoned (nothing was
charged); anything that cannot be proven is reported unknown and left for the
next run. It is safe to run any time, as often as wanted.

Exit status: 0 every submission looked at is settled; 2 an error; 3 some are
still unknown or pending: run it again later.`,
		Args: exactArgs(0, "argsNone"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, j, done, err := a.journalled(cmd.Context(), settle)
			if err != nil {
				return err
			}
			defer done()
			rep, err := c.Recover(cmd.Context(), j)
			if rep == nil {
				return err
			}
			views := make([]resolutionView, len(rep.Resolutions))
			for i, r := range rep.Resolutions {
				views[i] = newResolutionView(r)
			}
			if asJSON {
				if perr := printJSON(a.out, views); perr != nil {
					return perr
				}
			} else {
				printResolutions(a.out, rep.Resolutions, a.language())
			}
			if err != nil { // what stopped it; the report holds what was done
				return err
			}
			return recoverExit(rep)
		},
	}
	addJSON(cmd, &asJSON)
	settleFlag(cmd, &settle)
	return cmd
}

// journalled opens the journal and a client that records in it.
func (a *app) journalled(ctx context.Context, settle time.Duration) (*visengine.Client, *journal.Dir, func(), error) {
	j, err := a.openJournal(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := a.client(visengine.WithJournal(j), visengine.WithCloseSettle(settle))
	if err != nil {
		j.Close()
		return nil, nil, nil, err
	}
	return c, j, func() { j.Close() }, nil
}

// journalClient is journalled, or a client without journal when use is false.
func (a *app) journalClient(ctx context.Context, use bool, settle time.Duration) (*visengine.Client, func(), error) {
	if !use {
		c, err := a.client(visengine.WithCloseSettle(settle))
		return c, func() {}, err
	}
	c, _, done, err := a.journalled(ctx, settle)
	return c, done, err
}

// resolutionView is a Resolution in JSON.
type resolutionView struct {
	Ref            string                     `json:"ref,omitempty"`
	HashVisura     string                     `json:"hash_visura,omitempty"`
	DraftID        string                     `json:"id,omitempty"`
	Status         visengine.ResolutionStatus `json:"status"`
	StatoRichiesta visengine.Stato            `json:"stato_richiesta,omitempty"`
	CloseSentAt    time.Time                  `json:"close_sent_at,omitzero"`
	RetryAt        time.Time                  `json:"retry_at,omitzero"`
	Reason         string                     `json:"reason,omitempty"`
	Error          string                     `json:"error,omitempty"`
}

func newResolutionView(r visengine.Resolution) resolutionView {
	v := resolutionView{Ref: r.Ref, HashVisura: r.HashVisura, DraftID: r.DraftID, Status: r.Status,
		CloseSentAt: r.CloseSentAt, RetryAt: r.RetryAt, Reason: clean(r.Reason)}
	if r.Err != nil {
		v.Error = oneLine(r.Err)
	}
	if r.Richiesta != nil {
		v.StatoRichiesta = r.Richiesta.StatoRichiesta
	}
	return v
}

// meaning says what a status means for the user.
func meaning(r visengine.Resolution, lang visengine.Lang) string {
	switch r.Status {
	case visengine.ResolutionCompleted:
		return say(lang, "resCompleted")
	case visengine.ResolutionResumed:
		return say(lang, "resResumed")
	case visengine.ResolutionAbandoned:
		return say(lang, "resAbandoned")
	case visengine.ResolutionPending:
		return fmt.Sprintf(say(lang, "resPending"), when(r.RetryAt))
	case visengine.ResolutionFailed:
		return say(lang, "resFailed")
	}
	return say(lang, "resUnknown")
}

func printResolution(w io.Writer, r visengine.Resolution, lang visengine.Lang) {
	id := r.DraftID
	if id == "" {
		id = say(lang, "noRichiesta")
	}
	fmt.Fprintf(w, "%s %s: %s\n", clean(id), statusWord(w, r.Status), meaning(r, lang))
	if detail := resolutionDetail(r); detail != "" {
		fmt.Fprintf(w, "  %s\n", detail)
	}
}

// resolutionDetail is the reason and error, on one line.
func resolutionDetail(r visengine.Resolution) string {
	d := clean(r.Reason)
	if r.Err != nil {
		if d != "" {
			d += ": "
		}
		d += oneLine(r.Err)
	}
	return d
}

func printResolutions(w io.Writer, list []visengine.Resolution, lang visengine.Lang) {
	if len(list) == 0 {
		fmt.Fprintln(w, say(lang, "nothingToRecover"))
		return
	}
	for _, r := range list {
		printResolution(w, r, lang)
	}
}

func statusWord(w io.Writer, s visengine.ResolutionStatus) string {
	switch s {
	case visengine.ResolutionCompleted, visengine.ResolutionResumed:
		return paint(w, styleGreen, string(s))
	case visengine.ResolutionAbandoned, visengine.ResolutionFailed:
		return paint(w, styleAmber, string(s))
	}
	return paint(w, styleRed, string(s))
}

// resolutionExit is resume's exit status for r; see its help.
func resolutionExit(r visengine.Resolution) error {
	switch r.Status {
	case visengine.ResolutionCompleted, visengine.ResolutionResumed:
		return nil
	case visengine.ResolutionAbandoned:
		return &codeError{code: exitNo}
	case visengine.ResolutionFailed:
		return &codeError{code: exitError}
	}
	return &codeError{code: exitUnknown}
}

// recoverExit is 3 while some submission is still unknown or pending.
func recoverExit(rep *visengine.RecoverReport) error {
	if rep.Count(visengine.ResolutionUnknown)+rep.Count(visengine.ResolutionPending) > 0 {
		return &codeError{code: exitUnknown}
	}
	return nil
}
