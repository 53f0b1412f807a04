package main

import (
	"fmt"
	"html"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

// What the rule asks of a field, as show prints it.
const (
	needRequired = "required" // in every way to satisfy the rule
	needOneOf    = "one-of"   // in some ways, not all
	needOptional = "optional" // in none: never needed
	needUnknown  = "?"        // the rule cannot be read locally
)

// visuraView is show's JSON: the service as a form would need it.
type visuraView struct {
	HashVisura      string          `json:"hash_visura"`
	NomeVisura      string          `json:"nome_visura"`
	NomeCategoria   string          `json:"nome_categoria"`
	Ricerca         bool            `json:"ricerca"`
	PrezzoVisura    visengine.Price `json:"prezzo_visura"`
	PrezzoRicerca   visengine.Price `json:"prezzo_ricerca"`
	Fields          []fieldView     `json:"fields"`
	Rule            ruleView        `json:"rule"`
	Opzioni         []opzioneView   `json:"opzioni"`
	TotalAllOptions visengine.Price `json:"total_all_options"`
	Istruzioni      string          `json:"istruzioni,omitempty"` // as text, tags removed
}

type fieldView struct {
	Key        string `json:"key"`
	Nome       string `json:"nome"`
	Tipo       string `json:"tipo"`
	Need       string `json:"need"` // required, one-of, optional or ?
	Istruzioni string `json:"istruzioni,omitempty"`
}

type ruleView struct {
	Validazione  string     `json:"validazione"`
	Required     []string   `json:"required"`
	Alternatives [][]string `json:"alternatives"`
	Optional     []string   `json:"optional"`
	Truncated    bool       `json:"truncated,omitempty"`
	Error        string     `json:"error,omitempty"` // why it cannot be checked locally
}

type opzioneView struct {
	Nome   string          `json:"nome"`
	Tipo   string          `json:"tipo"`
	Prezzo visengine.Price `json:"prezzo"`
	Total  visengine.Price `json:"total"` // the service with this option alone
}

func (a *app) showCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "show HASH",
		Long: `Show one service (GET /visure/{hash}): its fields in display order with their
type, what the rule asks of each (required, one-of, optional) and instructions;
the rule explained (the fields always required, every way to satisfy it); the
price with each option; the service's instructions.`,
		Args:              exactArgs(1, "argsHash"),
		ValidArgsFunction: a.completeHash,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			v, err := c.GetVisura(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			view, err := newVisuraView(v)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(a.out, view)
			}
			printVisura(a.out, view, a.language())
			return nil
		},
	}
	addJSON(cmd, &asJSON)
	return cmd
}

// newVisuraView explains v: its rule over an empty form, its prices.
func newVisuraView(v *visengine.Visura) (visuraView, error) {
	view := visuraView{
		HashVisura: v.HashVisura, NomeVisura: strings.TrimSpace(v.NomeVisura),
		NomeCategoria: strings.TrimSpace(v.NomeCategoria), Ricerca: bool(v.HasRicerca),
		PrezzoVisura: v.PrezzoVisura, PrezzoRicerca: v.PrezzoRicerca,
		Rule:   explainRule(v),
		Fields: []fieldView{}, Opzioni: []opzioneView{},
	}
	need := needs(view.Rule)
	for _, f := range v.Fields() {
		view.Fields = append(view.Fields, fieldView{Key: f.Key, Nome: f.Nome, Tipo: f.Tipo, Need: need(f.Key), Istruzioni: strings.TrimSpace(f.Istruzioni)})
	}
	all := make([]string, 0, len(v.Opzioni))
	for _, o := range v.Opzioni {
		total, err := v.Total(o.Nome)
		if err != nil {
			return view, err
		}
		view.Opzioni = append(view.Opzioni, opzioneView{Nome: o.Nome, Tipo: o.Tipo, Prezzo: o.Prezzo, Total: total})
		all = append(all, o.Nome)
	}
	total, err := v.Total(all...)
	if err != nil {
		return view, err
	}
	view.TotalAllOptions = total
	if h, err := v.JSONStruttura.IstruzioniHTML(); err == nil {
		view.Istruzioni = htmlText(h)
	}
	return view, nil
}

// explainRule says what the rule asks of an empty form.
func explainRule(v *visengine.Visura) ruleView {
	rv := ruleView{Validazione: v.JSONStruttura.Validazione, Required: []string{}, Alternatives: [][]string{}, Optional: []string{}}
	r, err := v.Rule()
	if err != nil {
		rv.Error = err.Error()
		return rv
	}
	ex := r.Explain(visengine.FieldSet{})
	rv.Required = append(rv.Required, ex.Required...)
	rv.Alternatives = append(rv.Alternatives, ex.Alternatives...)
	rv.Optional = append(rv.Optional, r.Optional()...)
	rv.Truncated = ex.Truncated
	return rv
}

// needs returns what the rule asks of each key.
func needs(rv ruleView) func(key string) string {
	return func(key string) string {
		switch {
		case rv.Error != "":
			return needUnknown
		case slices.Contains(rv.Required, key):
			return needRequired
		case slices.Contains(rv.Optional, key):
			return needOptional
		}
		for _, alt := range rv.Alternatives {
			if slices.Contains(alt, key) {
				return needOneOf
			}
		}
		return needOptional
	}
}

func printVisura(w io.Writer, v visuraView, lang visengine.Lang) {
	fmt.Fprintln(w, paint(w, styleBold, clean(v.NomeVisura)))
	fmt.Fprintf(w, say(lang, "showHash"), clean(v.HashVisura), clean(v.NomeCategoria))
	if v.Ricerca {
		fmt.Fprintf(w, say(lang, "showSearch"), v.PrezzoRicerca)
	}
	fmt.Fprintln(w, say(lang, "showFields"))
	tw := table(w)
	fmt.Fprintln(tw, say(lang, "showHeader"))
	for _, f := range v.Fields {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", clean(f.Key), clean(f.Nome), clean(f.Tipo), say(lang, "need."+f.Need), clean(f.Istruzioni))
	}
	tw.Flush()
	printRule(w, v, lang)
	fmt.Fprintf(w, say(lang, "showPrice"), v.PrezzoVisura)
	for _, o := range v.Opzioni {
		fmt.Fprintf(w, say(lang, "showWith"), clean(o.Tipo), clean(o.Nome), o.Total)
	}
	if len(v.Opzioni) > 1 {
		fmt.Fprintf(w, say(lang, "showAll"), v.TotalAllOptions)
	}
	fmt.Fprintln(w)
	if v.Istruzioni != "" {
		fmt.Fprintf(w, say(lang, "showInstructions"), cleanText(v.Istruzioni))
	}
}

func printRule(w io.Writer, v visuraView, lang visengine.Lang) {
	names := map[string]string{}
	for _, f := range v.Fields {
		names[f.Key] = f.Nome
	}
	labels := func(keys []string) string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = fieldLabel(names[k], k)
		}
		return strings.Join(out, ", ")
	}
	fmt.Fprintf(w, say(lang, "ruleLine"), clean(v.Rule.Validazione))
	switch {
	case v.Rule.Error != "":
		fmt.Fprintf(w, say(lang, "ruleUnchecked"), clean(v.Rule.Error))
		return
	case len(v.Rule.Required) > 0:
		fmt.Fprintf(w, say(lang, "ruleRequired"), labels(v.Rule.Required))
	}
	if len(v.Rule.Alternatives) > 1 {
		fmt.Fprintln(w, say(lang, "ruleWays"))
		for i, alt := range v.Rule.Alternatives {
			fmt.Fprintf(w, "    %d. %s\n", i+1, labels(alt))
		}
	}
	if v.Rule.Truncated {
		fmt.Fprintln(w, say(lang, "ruleMore"))
	}
	if len(v.Rule.Optional) > 0 {
		fmt.Fprintf(w, say(lang, "ruleOptional"), labels(v.Rule.Optional))
	}
}

var (
	htmlLink  = regexp.MustCompile(`(?is)<a\s[^>]*href\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a>`)
	htmlBreak = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</li>|</div>|</h[1-6]>`)
	htmlTag   = regexp.MustCompile(`<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n{3,}`)
)

// htmlText turns the service's HTML instructions into plain text for a
// terminal, keeping links as "text (URL)" (the delegation form is one).
func htmlText(h string) string {
	h = htmlLink.ReplaceAllString(h, "$2 ($1)")
	h = htmlBreak.ReplaceAllString(h, "\n")
	h = html.UnescapeString(htmlTag.ReplaceAllString(h, ""))
	lines := strings.Split(h, "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}
