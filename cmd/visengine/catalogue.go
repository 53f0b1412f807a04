package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

// catalogueEntry is one service as catalogue prints it.
type catalogueEntry struct {
	HashVisura    string           `json:"hash_visura"`
	NomeCategoria string           `json:"nome_categoria"`
	NomeVisura    string           `json:"nome_visura"`
	PrezzoVisura  *visengine.Price `json:"prezzo_visura,omitempty"` // absent with --no-prices or when unreadable
}

func (a *app) catalogueCommand() *cobra.Command {
	var asJSON, noPrices bool
	cmd := &cobra.Command{
		Use:     "catalogue",
		Aliases: []string{"catalog"},
		Long: `List the services of the catalogue (GET /visure) by category and name, with
each one's base price. The catalogue has no prices, so they are read from each
service (GET /visure/{hash}, a few at a time); --no-prices makes one call only.`,
		Args: exactArgs(0, "argsNone"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			list, err := catalogue(cmd.Context(), c, !noPrices)
			if list == nil && err != nil {
				return err // nothing on stdout: there is no list
			}
			if asJSON {
				if perr := printJSON(a.out, list); perr != nil {
					return perr
				}
				return err
			}
			printCatalogue(a.out, list, !noPrices, a.language())
			return err
		},
	}
	addJSON(cmd, &asJSON)
	cmd.Flags().BoolVar(&noPrices, "no-prices", false, "leave prices out: one call instead of one per service")
	return cmd
}

// priceWorkers bounds the concurrent GET /visure/{hash} of catalogue.
const priceWorkers = 6

// catalogue lists the services sorted by category and name, priced unless
// told otherwise. Prices it cannot read are left out and reported in the
// error, after the whole list.
func catalogue(ctx context.Context, c *visengine.Client, prices bool) ([]catalogueEntry, error) {
	list, err := c.ListVisure(ctx)
	var unreadable *visengine.ListError
	if err != nil && !errors.As(err, &unreadable) {
		return nil, err
	}
	// Entries that could not be read are left out and reported after the
	// list; the others are listed.
	out := make([]catalogueEntry, len(list))
	for i, s := range list {
		out[i] = catalogueEntry{HashVisura: s.HashVisura, NomeCategoria: strings.TrimSpace(s.NomeCategoria), NomeVisura: strings.TrimSpace(s.NomeVisura)}
	}
	slices.SortFunc(out, func(x, y catalogueEntry) int {
		return cmp.Or(cmp.Compare(strings.ToLower(x.NomeCategoria), strings.ToLower(y.NomeCategoria)),
			cmp.Compare(strings.ToLower(x.NomeVisura), strings.ToLower(y.NomeVisura)),
			cmp.Compare(x.HashVisura, y.HashVisura))
	})
	if !prices {
		return out, err
	}
	return out, errors.Join(err, priceAll(ctx, c, out))
}

// priceAll fills each entry's price, priceWorkers at a time.
func priceAll(ctx context.Context, c *visengine.Client, list []catalogueEntry) error {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []error
		next   = make(chan int)
	)
	for range min(priceWorkers, len(list)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				v, err := c.GetVisura(ctx, list[i].HashVisura)
				mu.Lock()
				if err != nil {
					failed = append(failed, err)
				} else {
					list[i].PrezzoVisura = &v.PrezzoVisura
				}
				mu.Unlock()
			}
		}()
	}
	for i := range list {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(failed) > 0 {
		return msgErr("pricesUnread", len(failed), len(list), failed[0])
	}
	return nil
}

func printCatalogue(w io.Writer, list []catalogueEntry, prices bool, lang visengine.Lang) {
	tw := table(w)
	header := say(lang, "catalogueHeader")
	if prices {
		header += say(lang, "cataloguePrice")
	}
	fmt.Fprintln(tw, header) // not painted: escape codes would count as width
	for _, e := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s", clean(e.HashVisura), clean(e.NomeCategoria), clean(e.NomeVisura))
		switch {
		case !prices:
		case e.PrezzoVisura == nil:
			fmt.Fprint(tw, "\t?")
		default:
			fmt.Fprintf(tw, "\t%s", e.PrezzoVisura)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
