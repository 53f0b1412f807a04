package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

// richiestaView is a richiesta as the command prints it in JSON: ids,
// progress and prices. The applicant's values, the owner's and target's
// e-mail addresses and the callback (with its secret) are left out.
type richiestaView struct {
	ID             string               `json:"id"`
	State          string               `json:"state"` // draft or submitted
	HashVisura     string               `json:"hash_visura"`
	Nome           string               `json:"nome,omitempty"`
	StatoRichiesta visengine.Stato      `json:"stato_richiesta"`
	DocumentReady  bool                 `json:"document_ready"`
	PrezzoVisura   visengine.Price      `json:"prezzo_visura"`
	PrezzoRicerca  visengine.Price      `json:"prezzo_ricerca"`
	Total          *visengine.Price     `json:"total,omitempty"` // with options; absent when the wire does not tell
	Opzioni        []string             `json:"opzioni,omitempty"`
	Ricerca        bool                 `json:"ricerca"`
	Allegati       []string             `json:"allegati,omitempty"`
	Created        time.Time            `json:"timestamp_creation"`
	Updated        time.Time            `json:"timestamp_last_update"`
	Stati          map[string]time.Time `json:"timestamp_stati,omitempty"`
}

func newRichiestaView(r *visengine.Richiesta) richiestaView {
	v := richiestaView{
		ID: r.ID, State: r.State.String(), HashVisura: r.HashVisura, Nome: r.Nome,
		StatoRichiesta: r.StatoRichiesta, DocumentReady: r.DocumentReady(),
		PrezzoVisura: r.PrezzoVisura, PrezzoRicerca: r.PrezzoRicerca, Ricerca: r.HasRicerca,
		Allegati: r.Allegati, Created: r.TimestampCreation, Updated: r.TimestampLastUpdate,
	}
	if t, err := r.Total(); err == nil {
		v.Total = &t
	}
	for _, o := range r.Opzioni {
		v.Opzioni = append(v.Opzioni, cmp.Or(o.Tipo, o.Nome))
	}
	for _, s := range []visengine.Stato{visengine.StatoInRicerca, visengine.StatoInErogazione,
		visengine.StatoDatiDisponibili, visengine.StatoVisuraEvasa, visengine.StatoAnnullata} {
		if at := r.TimestampStati.At(s); !at.IsZero() {
			if v.Stati == nil {
				v.Stati = map[string]time.Time{}
			}
			v.Stati[string(s)] = at
		}
	}
	return v
}

// summaryView is one entry of list's JSON, with the same names.
type summaryView struct {
	ID             string          `json:"id"`
	State          string          `json:"state"`
	HashVisura     string          `json:"hash_visura"`
	Nome           string          `json:"nome,omitempty"`
	StatoRichiesta visengine.Stato `json:"stato_richiesta"`
	PrezzoVisura   visengine.Price `json:"prezzo_visura"`
	Created        time.Time       `json:"timestamp_creation"`
	Updated        time.Time       `json:"timestamp_last_update"`
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:               "status ID",
		Args:              exactArgs(1, "argsID"),
		ValidArgsFunction: a.completeID,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			r, err := c.GetRichiesta(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(a.out, newRichiestaView(r))
			}
			printRichiesta(a.out, newRichiestaView(r), a.language())
			return nil
		},
	}
	addJSON(cmd, &asJSON)
	return cmd
}

// stato paints a stato by what it means for the user.
func stato(w io.Writer, s visengine.Stato) string {
	switch {
	case s == visengine.StatoAnnullata:
		return paint(w, styleRed, clean(string(s)))
	case s.DocumentReady():
		return paint(w, styleGreen, clean(string(s)))
	}
	return paint(w, styleAmber, clean(string(s)))
}

func printRichiesta(w io.Writer, r richiestaView, lang visengine.Lang) {
	tw := table(w)
	fmt.Fprintf(tw, "ID\t%s\n", clean(r.ID))
	fmt.Fprintf(tw, say(lang, "rowService"), clean(r.Nome), clean(r.HashVisura))
	fmt.Fprintf(tw, say(lang, "rowState"), r.State)
	fmt.Fprintf(tw, "Stato\t%s\n", stato(w, r.StatoRichiesta))
	if r.Total != nil {
		fmt.Fprintf(tw, say(lang, "rowPrice"), *r.Total)
	} else {
		fmt.Fprintf(tw, say(lang, "rowPriceBase"), r.PrezzoVisura)
	}
	for _, o := range r.Opzioni {
		fmt.Fprintf(tw, ", %s", clean(o))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, say(lang, "rowCreated"), when(r.Created))
	fmt.Fprintf(tw, say(lang, "rowUpdated"), when(r.Updated))
	if r.DocumentReady {
		fmt.Fprintf(tw, say(lang, "rowDocument"), clean(r.ID))
	}
	for _, f := range r.Allegati {
		fmt.Fprintf(tw, say(lang, "rowFile"), clean(f))
	}
	tw.Flush()
}

// when prints a time in the local zone, or "-" when unknown.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func (a *app) listCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:  "list",
		Args: exactArgs(0, "argsNone"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			list, err := c.ListRichieste(cmd.Context())
			if list == nil && err != nil {
				return err
			}
			// Unreadable entries do not hide the others: print what was
			// read, then say how many were not.
			slices.SortStableFunc(list, func(x, y visengine.RichiestaSummary) int {
				return cmp.Or(x.TimestampCreation.Compare(y.TimestampCreation), cmp.Compare(x.ID, y.ID))
			})
			if asJSON {
				return errors.Join(printJSON(a.out, summaries(list)), err)
			}
			printSummaries(a.out, list, a.language())
			return err
		},
	}
	addJSON(cmd, &asJSON)
	return cmd
}

func summaries(list []visengine.RichiestaSummary) []summaryView {
	out := make([]summaryView, len(list))
	for i, s := range list {
		out[i] = summaryView{ID: s.ID, State: s.State.String(), HashVisura: s.HashVisura, Nome: s.Nome,
			StatoRichiesta: s.StatoRichiesta, PrezzoVisura: s.PrezzoVisura,
			Created: s.TimestampCreation, Updated: s.TimestampLastUpdate}
	}
	return out
}

func printSummaries(w io.Writer, list []visengine.RichiestaSummary, lang visengine.Lang) {
	if len(list) == 0 {
		fmt.Fprintln(w, say(lang, "noRichieste"))
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, say(lang, "listHeader"))
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", clean(s.ID), when(s.TimestampCreation), s.State,
			s.PrezzoVisura, clean(s.Nome), stato(w, s.StatoRichiesta))
	}
	tw.Flush()
}
