// Quickstart walks the whole journey of one document, the "Domanda Esame A2
// per Carta di Soggiorno" (hash 2631ec9b62135de4186f509fea7d954b): it counts
// the catalogue, shows the A2 fields and prices, validates an applicant
// locally (first without the phone number, then complete), submits the
// richiesta with the urgenza option, waits for it while printing each state
// change, downloads the zip with a text progress bar, lists its files and
// saves them.
//
// Run it with
//
//	go run ./examples/quickstart
//
// With no VISENGINE_TOKEN set it starts an embedded fake Visengine server
// (visenginetest), so it works on a fresh machine and charges nothing. With
// VISENGINE_TOKEN set it talks to the real API (or to the sandbox with
// -sandbox); there it only makes a dry run, which the server validates and
// prices without charging, unless -pay is given. The applicant is made up
// (test codice fiscale, example.com e-mail): do not pay for it on the
// production API.
//
// Flags:
//
//	-sandbox   use the sandbox host (needs a sandbox token)
//	-pay       really submit on the real API or sandbox (charges the wallet)
//	-out DIR   where to save the document's files (default ./out/<id>)
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/examples/internal/env"
)

// hashA2 is the service "Domanda Esame A2 per Carta di Soggiorno".
const hashA2 = "2631ec9b62135de4186f509fea7d954b"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run is the whole example; main calls it with the command line and stdout,
// tests with their own arguments and a buffer.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(out)
	sandbox := fs.Bool("sandbox", false, "use the Visengine sandbox (needs a sandbox token in VISENGINE_TOKEN)")
	pay := fs.Bool("pay", false, "really submit and pay on the real API or sandbox; without it only a free dry run is made")
	outDir := fs.String("out", "", "folder for the document's files (default ./out/<id>)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	c, fake, cleanup, err := env.Open(out, *sandbox)
	defer cleanup()
	if err != nil {
		return err
	}

	// 1. The catalogue.
	list, err := c.ListVisure(ctx)
	if err != nil {
		return fmt.Errorf("listing the catalogue: %w", err)
	}
	categories := map[string]bool{}
	for _, s := range list {
		categories[s.NomeCategoria] = true
	}
	fmt.Fprintf(out, "\nCatalogue: %d services in %d categories\n", len(list), len(categories))

	// 2. One structure: fields in display order, price and options.
	v, err := c.GetVisura(ctx, hashA2)
	if err != nil {
		return fmt.Errorf("reading the A2 structure: %w", err)
	}
	fmt.Fprintf(out, "\n%s (%s)\n", strings.TrimSpace(v.NomeVisura), v.NomeCategoria)
	fmt.Fprintln(out, "Fields, in display order:")
	for _, f := range v.Fields() {
		fmt.Fprintf(out, "  %-3s %-46s %s\n", f.Key, f.Nome, f.Tipo)
	}
	if err := printPrices(out, v); err != nil {
		return err
	}

	// 3. Local validation, before anything is paid.
	values, err := applicant(v)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nValidating an applicant without a phone number:")
	if err := printValidation(out, v, values); err != nil {
		return err
	}
	if err := values.SetField(v, "CELLULARE", "+39 333 000 0000"); err != nil {
		return err
	}
	fmt.Fprintln(out, "After setting CELLULARE:")
	if err := printValidation(out, v, values); err != nil {
		return err
	}

	// 4. Submit: on the fake always; elsewhere a dry run unless -pay.
	options := []string{"urgenza"}
	total, err := v.Total(options...)
	if err != nil {
		return err
	}
	if fake == nil && !*pay {
		dry, err := c.DryRun(ctx, v, values, visengine.WithOpzioni(options...))
		if err != nil {
			return fmt.Errorf("dry run: %w", err)
		}
		fmt.Fprintf(out, "\nDry run accepted: %s with %s would cost %s (server's price of the document: %s). Nothing was charged.\n",
			strings.TrimSpace(v.NomeVisura), strings.Join(options, ", "), total, dry.Echo.PrezzoVisura)
		fmt.Fprintln(out, "Run again with -pay to submit it for real.")
		return nil
	}
	start := time.Now()
	r, err := c.Submit(ctx, v, values, visengine.WithOpzioni(options...))
	if err != nil {
		return fmt.Errorf("submitting: %w", err)
	}
	fmt.Fprintf(out, "\nSubmitted with %s for %s: richiesta %s\n", strings.Join(options, ", "), total, r.ID)
	if fake != nil {
		_, charged := fake.Charges()
		fmt.Fprintf(out, "The fake's wallet was charged %s\n", charged)
	}

	// 5. Wait, printing each state change.
	fmt.Fprintln(out, "Waiting for the document:")
	waitOpts := []visengine.WaitOption{visengine.WithOnChange(func(r *visengine.Richiesta) {
		fmt.Fprintf(out, "  +%.2fs  %s\n", time.Since(start).Round(10*time.Millisecond).Seconds(), r.StatoRichiesta)
	})}
	if fake != nil {
		waitOpts = append(waitOpts, visengine.WithPollInterval(20*time.Millisecond, 40*time.Millisecond))
	}
	r, err = c.Wait(ctx, r.ID, waitOpts...)
	if err != nil {
		return fmt.Errorf("waiting for richiesta: %w", err)
	}

	// 6. Download, with a progress bar.
	var doc bytes.Buffer
	bar := &progressBar{out: out}
	fmt.Fprintln(out, "\nDownloading:")
	info, err := c.DownloadDocumento(ctx, r.ID, &doc, visengine.WithDownloadProgress(bar.update))
	if err != nil {
		return fmt.Errorf("downloading: %w", err)
	}
	fmt.Fprintf(out, "Downloaded %s (%d bytes)\n", info.Nome, info.Dimensione)

	// 7. Open the zip safely, list it and save its files.
	archive, err := visengine.OpenZip(bytes.NewReader(doc.Bytes()), int64(doc.Len()))
	if err != nil {
		return fmt.Errorf("opening the document: %w", err)
	}
	fmt.Fprintln(out, "\nFiles in the zip:")
	for _, f := range archive.Files() {
		fmt.Fprintf(out, "  %-30s %6d bytes\n", f.Name, f.Size)
	}
	dir := *outDir
	if dir == "" {
		dir = filepath.Join("out", r.ID)
	}
	if err := archive.ExtractTo(dir); err != nil {
		return fmt.Errorf("saving the files: %w", err)
	}
	fmt.Fprintf(out, "Saved under %s\n", dir)
	return nil
}

// printPrices shows the price alone and with each option, then with all.
func printPrices(out io.Writer, v *visengine.Visura) error {
	line := "Price " + v.PrezzoVisura.String()
	var all []string
	for _, o := range v.Opzioni {
		p, err := v.Total(o.Tipo)
		if err != nil {
			return err
		}
		line += fmt.Sprintf(", with %s %s", o.Tipo, p)
		all = append(all, o.Tipo)
	}
	if len(all) > 1 {
		p, err := v.Total(all...)
		if err != nil {
			return err
		}
		line += fmt.Sprintf(", with all options %s", p)
	}
	fmt.Fprintln(out, line)
	return nil
}

// applicant returns a made-up applicant who lacks the phone number. The
// codice fiscale is the usual test one, the e-mail is on example.com and
// the files are a few bytes that only look like a PDF and a JPEG.
func applicant(v *visengine.Visura) (visengine.Values, error) {
	values := visengine.Values{}
	for name, value := range map[string]string{
		"Nome":           "Mario",
		"Cognome":        "Rossi",
		"Email":          "mario.rossi@example.com",
		"CODICE FISCALE": "RSSMRA80A01H501U",
	} {
		if err := values.SetField(v, name, value); err != nil {
			return nil, err
		}
	}
	pdf := []byte("%PDF-1.4\n% example identity document\n%%EOF\n")
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0xFF, 0xD9}
	values.Set("$5", visengine.FileValue("documento-identita.pdf", "application/pdf", pdf))
	values.Set("$6", visengine.FileValue("codice-fiscale.jpg", "image/jpeg", jpeg))
	return values, nil
}

// printValidation validates values and explains the outcome by field name:
// what is missing, what is malformed, and which fields the rule leaves
// optional.
func printValidation(out io.Writer, v *visengine.Visura, values visengine.Values) error {
	err := v.Validate(values)
	var verr *visengine.ValidationError
	switch {
	case err == nil:
		fmt.Fprintln(out, "  OK: the applicant satisfies the rule and every field is well formed")
		return nil
	case !errors.As(err, &verr):
		return err
	}
	if m := verr.Missing; m != nil {
		label := func(keys []string) string {
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s (%s)", verr.Names[k], k)
			}
			return strings.Join(parts, ", ")
		}
		if len(m.Required) > 0 {
			fmt.Fprintf(out, "  Missing: %s\n", label(m.Required))
		}
		if len(m.Alternatives) > 1 {
			for _, o := range m.Alternatives {
				fmt.Fprintf(out, "  or add: %s\n", label(o))
			}
		}
	}
	for _, f := range verr.Invalid {
		fmt.Fprintf(out, "  Malformed: %s (%s): %s\n", f.Nome, f.Key, f.Reason)
	}
	for _, k := range verr.UnknownKeys {
		fmt.Fprintf(out, "  Unknown key: %s\n", k)
	}
	if rule, err := v.Rule(); err == nil {
		for _, k := range rule.Optional() {
			fmt.Fprintf(out, "  Optional per the rule: %s (%s)\n", v.JSONStruttura.Campi[k].Nome, k)
		}
	}
	return nil
}

// progressBar prints one line per 25% of the download reached, not a line
// redrawn with \r, so the output reads well in logs.
type progressBar struct {
	out     io.Writer
	printed int // the last percentage printed
}

const (
	barWidth = 20
	barStep  = 25
)

// update is the DownloadDocumento progress callback.
func (b *progressBar) update(done, total int64) {
	if total <= 0 {
		return // size not known yet
	}
	pct := int(min(done*100/total, 100))
	for next := b.printed + barStep; next <= pct; next += barStep {
		filled := next * barWidth / 100
		fmt.Fprintf(b.out, "  [%s%s] %3d%%\n", strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), next)
		b.printed = next
	}
}
