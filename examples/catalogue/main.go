// Catalogue browses what Visengine offers. Without flags it lists every
// service grouped by category, sorted (names without regard to case), one
// "hash  name" line each (listCatalogue, GET /visure). With -hash it shows
// one service's structure (showVisura, GET /visure/{hash}): its fields in
// display order, its price and paid options, its validazione rule and what
// the rule means (explainRule: the minimal sets of fields that satisfy it,
// the fields always required and those it leaves optional), and its decoded
// istruzioni, if any.
//
// Run it with
//
//	go run ./examples/catalogue
//	go run ./examples/catalogue -hash 2631ec9b62135de4186f509fea7d954b
//
// With neither VISENGINE_URL nor VISENGINE_TOKEN set it reads the catalogue
// of an embedded fake Visengine server (the vendor's 92 services). With
// VISENGINE_URL and VISENGINE_TOKEN set (the two lines cmd/visengine-fake
// prints) it reads that server's; with VISENGINE_TOKEN alone, the real
// catalogue (the sandbox with -sandbox). Reading is free.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/examples/internal/env"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the usage is printed, nothing else to do
	case err != nil:
		fmt.Fprintln(os.Stderr, "catalogue:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	sandbox bool
	hash    string
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("catalogue", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.sandbox, "sandbox", false, "use the Visengine sandbox (needs a sandbox token in VISENGINE_TOKEN; VISENGINE_URL wins)")
	fs.StringVar(&o.hash, "hash", "", "show the structure of this service instead of the list")
	return o, fs.Parse(args)
}

// run is the whole example; main calls it with the command line and stdout,
// tests with their own arguments and a buffer. -h returns flag.ErrHelp.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	target, err := env.Open(out, os.Getenv, o.sandbox)
	if err != nil {
		return err
	}
	defer target.Close()
	if o.hash != "" {
		return showVisura(ctx, target.Client, out, o.hash)
	}
	return listCatalogue(ctx, target.Client, out)
}

// listCatalogue prints the services grouped by category, both sorted.
func listCatalogue(ctx context.Context, c *visengine.Client, out io.Writer) error {
	list, err := c.ListVisure(ctx)
	if err != nil {
		return fmt.Errorf("listing the catalogue: %w", err)
	}
	byCategory := map[string][]visengine.VisuraSummary{}
	for _, s := range list {
		cat := strings.TrimSpace(s.NomeCategoria)
		byCategory[cat] = append(byCategory[cat], s)
	}
	categories := make([]string, 0, len(byCategory))
	for cat := range byCategory {
		categories = append(categories, cat)
	}
	slices.Sort(categories)
	fmt.Fprintf(out, "\n%d services in %d categories\n", len(list), len(categories))
	for _, cat := range categories {
		services := byCategory[cat]
		slices.SortFunc(services, func(a, b visengine.VisuraSummary) int {
			an, bn := strings.TrimSpace(a.NomeVisura), strings.TrimSpace(b.NomeVisura)
			return cmp.Or(strings.Compare(strings.ToLower(an), strings.ToLower(bn)),
				strings.Compare(an, bn), strings.Compare(a.HashVisura, b.HashVisura))
		})
		fmt.Fprintf(out, "\n%s (%d)\n", cat, len(services))
		for _, s := range services {
			fmt.Fprintf(out, "  %s  %s\n", s.HashVisura, strings.TrimSpace(s.NomeVisura))
		}
	}
	return nil
}

// showVisura prints one service's structure, price, rule and instructions.
func showVisura(ctx context.Context, c *visengine.Client, out io.Writer, hash string) error {
	v, err := c.GetVisura(ctx, hash)
	if err != nil {
		return fmt.Errorf("reading %s: %w", hash, err)
	}
	fmt.Fprintf(out, "\n%s\n", strings.TrimSpace(v.NomeVisura))
	fmt.Fprintf(out, "Category: %s\nHash: %s\nSearch step: %t\n", v.NomeCategoria, v.HashVisura, bool(v.HasRicerca))

	fmt.Fprintln(out, "\nFields, in display order:")
	for _, f := range v.Fields() {
		fmt.Fprintf(out, "  %-4s %-46s %s\n", f.Key, f.Nome, f.Tipo)
	}

	fmt.Fprintf(out, "\nPrice: %s", v.PrezzoVisura)
	if v.HasRicerca {
		fmt.Fprintf(out, " (search step %s)", v.PrezzoRicerca)
	}
	fmt.Fprintln(out)
	if len(v.Opzioni) == 0 {
		fmt.Fprintln(out, "Options: none")
	}
	for _, o := range v.Opzioni {
		total, err := v.Total(o.Nome)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Option %s (%s): +%s, total %s\n", o.Tipo, o.Nome, o.Prezzo, total)
	}

	rule := v.JSONStruttura.Validazione
	fmt.Fprintf(out, "\nRule (validazione): %s\n", rule)
	if err := explainRule(out, v, rule); err != nil {
		return err
	}

	html, err := v.JSONStruttura.IstruzioniHTML()
	switch {
	case err != nil:
		fmt.Fprintf(out, "\nIstruzioni: cannot be decoded: %v\n", err)
	case strings.TrimSpace(html) == "":
		fmt.Fprintln(out, "\nIstruzioni: none")
	default:
		fmt.Fprintf(out, "\nIstruzioni (decoded HTML):\n%s\n", strings.TrimSpace(html))
	}
	return nil
}

// explainRule prints what the rule asks for when nothing is filled in.
func explainRule(out io.Writer, v *visengine.Visura, expr string) error {
	r, err := visengine.ParseRule(expr)
	var syntax *visengine.RuleSyntaxError
	switch {
	case errors.As(err, &syntax):
		fmt.Fprintf(out, "  The rule does not parse: %s\n  %s\n", syntax.Msg, syntax.Caret())
		fmt.Fprintln(out, "  Validate cannot check it locally; the server will judge it.")
		return nil
	case err != nil:
		return err
	}
	label := func(key string) string {
		if c, ok := v.JSONStruttura.Campi[key]; ok {
			return key + " " + c.Nome
		}
		return key + " (not a field of this service)"
	}
	x := r.Explain(visengine.FieldSetOf())
	if x.Satisfied {
		fmt.Fprintln(out, "  Satisfied with no field filled in.")
		return nil
	}
	fmt.Fprintf(out, "  Minimal sets of fields that satisfy it (%d):\n", len(x.Alternatives))
	for i, o := range x.Alternatives {
		fmt.Fprintf(out, "    %d. %s\n", i+1, strings.Join(o, " "))
	}
	if x.Truncated {
		fmt.Fprintln(out, "    (too many alternatives: one shown)")
	}
	fmt.Fprintln(out, "  Required in every case:")
	for _, k := range x.Required {
		fmt.Fprintf(out, "    %s\n", label(k))
	}
	if opt := r.Optional(); len(opt) > 0 {
		fmt.Fprintln(out, "  Optional (named by the rule, never needed):")
		for _, k := range opt {
			fmt.Fprintf(out, "    %s\n", label(k))
		}
	}
	return nil
}
