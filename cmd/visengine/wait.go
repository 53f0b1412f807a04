package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

func (a *app) waitCommand() *cobra.Command {
	var (
		asJSON          bool
		first, longest  time.Duration
		defaultInterval = 15 * time.Second
	)
	cmd := &cobra.Command{
		Use: "wait ID",
		Long: `Follow a richiesta until its document is ready, its search results wait for a
choice, its search failed or it was cancelled, printing each change of state.
Documents are made by operators and may take hours: polls start --interval
apart and grow to --max-interval. --json prints one JSON object per change,
one per line.

Exit status: 0 the document is ready (or search results wait for a choice);
1 the richiesta was cancelled or its search failed; 2 another error.`,
		Args:              exactArgs(1, "argsID"),
		ValidArgsFunction: a.completeID,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			start := time.Now()
			var printErr error
			onChange := func(r *visengine.Richiesta) {
				if asJSON {
					b, err := json.Marshal(newRichiestaView(r))
					if err == nil {
						_, err = fmt.Fprintf(a.out, "%s\n", escapeJSON(b))
					}
					printErr = errors.Join(printErr, err)
					return
				}
				fmt.Fprintf(a.out, "%9s  %s\n", fmt.Sprintf("+%.1fs", time.Since(start).Seconds()), stato(a.out, r.StatoRichiesta))
			}
			r, err := c.Wait(cmd.Context(), args[0], visengine.WithOnChange(onChange),
				visengine.WithPollInterval(first, max(first, longest)))
			if err != nil {
				return waitFailure(err, args[0])
			}
			if !asJSON {
				printWaitEnd(a, r)
			}
			return printErr
		},
	}
	addJSON(cmd, &asJSON)
	cmd.Flags().DurationVar(&first, "interval", defaultInterval, "first wait between polls")
	cmd.Flags().DurationVar(&longest, "max-interval", 10*time.Minute, "longest wait between polls")
	return cmd
}

// waitFailure makes the ends that are answers (cancelled, search failed)
// exit with 1.
func waitFailure(err error, id string) error {
	switch {
	case errors.Is(err, visengine.ErrCancelled):
		return &codeError{code: exitNo, err: msgErr("cancelled", id)}
	case errors.Is(err, visengine.ErrSearchFailed):
		return &codeError{code: exitNo, err: msgErr("searchFailed", id)}
	}
	return err
}

func printWaitEnd(a *app, r *visengine.Richiesta) {
	switch {
	case r.DocumentReady():
		fmt.Fprintf(a.out, say(a.language(), "documentReady"), clean(r.ID))
	case r.SearchResultsReady():
		fmt.Fprint(a.out, say(a.language(), "searchWaits"))
	}
}
