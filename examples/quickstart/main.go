// Quickstart walks the whole journey of one document, the "Domanda Esame A2
// per Carta di Soggiorno" (hash 2631ec9b62135de4186f509fea7d954b), one
// function per step so each can be copied into a service of your own:
//
//  1. countCatalogue: the catalogue (GET /visure)
//  2. getStructure: the A2 fields in display order and its prices (GET /visure/{hash})
//  3. checkApplicant: local validation, first without the phone number, then complete
//  4. submit: the paid richiesta with the urgenza option (draft, then close)
//     — or dryRun on a real server without -pay: validated and priced, nothing charged
//  5. waitForDocument: poll until the document is ready, printing each state change
//  6. downloadDocument: the zip, to a file, with a text progress bar (GET /documento/{id})
//  7. saveFiles: open the zip safely, list it and extract its files
//
// Run it with
//
//	go run ./examples/quickstart
//
// With neither VISENGINE_URL nor VISENGINE_TOKEN set it starts an embedded
// fake Visengine server (visenginetest), so it works on a fresh machine and
// charges nothing. With VISENGINE_URL and VISENGINE_TOKEN set (the two lines
// cmd/visengine-fake prints) it talks to that server; with VISENGINE_TOKEN
// alone, to the real API (or to the sandbox with -sandbox). Away from the
// embedded fake it only makes a dry run, which the server validates and
// prices without charging, unless -pay is given. The applicant is made up
// (test codice fiscale, example.com e-mail): do not pay for it on the
// production API.
//
// Flags:
//
//	-sandbox   use the sandbox host (needs a sandbox token; VISENGINE_URL wins)
//	-pay       really submit away from the embedded fake (charges the wallet)
//	-out DIR   where to save the document and its files (default ./out/<id>)
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
	"path/filepath"
	"strings"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/examples/internal/env"
)

// hashA2 is the service "Domanda Esame A2 per Carta di Soggiorno".
const hashA2 = "2631ec9b62135de4186f509fea7d954b"

// opzioni are the paid options the example asks for.
var opzioni = []string{"urgenza"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the usage is printed, nothing else to do
	case err != nil:
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	sandbox bool
	pay     bool
	outDir  string
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.sandbox, "sandbox", false, "use the Visengine sandbox (needs a sandbox token in VISENGINE_TOKEN; VISENGINE_URL wins)")
	fs.BoolVar(&o.pay, "pay", false, "really submit and pay away from the embedded fake; without it only a free dry run is made")
	fs.StringVar(&o.outDir, "out", "", "folder for the document and its files (default ./out/<id>)")
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
	c := target.Client

	if err := countCatalogue(ctx, c, out); err != nil {
		return err
	}
	v, err := getStructure(ctx, c, out, hashA2)
	if err != nil {
		return err
	}
	values, err := checkApplicant(out, v)
	if err != nil {
		return err
	}
	if target.Fake == nil && !o.pay {
		return dryRun(ctx, c, out, v, values)
	}
	r, err := submit(ctx, target, out, v, values)
	if err != nil {
		return err
	}
	if r, err = waitForDocument(ctx, target, out, r.ID); err != nil {
		return err
	}
	dir := cmp.Or(o.outDir, filepath.Join("out", r.ID))
	zipPath, err := downloadDocument(ctx, c, out, r.ID, dir)
	if err != nil {
		return err
	}
	return saveFiles(out, zipPath, dir)
}

// countCatalogue reads the catalogue (GET /visure) and counts its services
// and categories.
func countCatalogue(ctx context.Context, c *visengine.Client, out io.Writer) error {
	list, err := c.ListVisure(ctx)
	if err != nil {
		return fmt.Errorf("listing the catalogue: %w", err)
	}
	categories := map[string]bool{}
	for _, s := range list {
		categories[s.NomeCategoria] = true
	}
	fmt.Fprintf(out, "\nCatalogue: %d services in %d categories\n", len(list), len(categories))
	return nil
}

// getStructure reads one service's structure (GET /visure/{hash}) and
// prints its fields in display order, its price and its options.
func getStructure(ctx context.Context, c *visengine.Client, out io.Writer, hash string) (*visengine.Visura, error) {
	v, err := c.GetVisura(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("reading the structure of %s: %w", hash, err)
	}
	fmt.Fprintf(out, "\n%s (%s)\n", strings.TrimSpace(v.NomeVisura), v.NomeCategoria)
	fmt.Fprintln(out, "Fields, in display order:")
	for _, f := range v.Fields() {
		fmt.Fprintf(out, "  %-3s %-46s %s\n", f.Key, f.Nome, f.Tipo)
	}
	if err := printPrices(out, v); err != nil {
		return nil, err
	}
	return v, nil
}

// printPrices shows the price alone, with each option, then with all.
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

// checkApplicant validates a made-up applicant locally, before anything is
// paid: first without the phone number (the rule says what is missing, by
// field name), then complete. It returns the complete values.
func checkApplicant(out io.Writer, v *visengine.Visura) (visengine.Values, error) {
	values, err := applicant(v)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "\nValidating an applicant without a phone number:")
	if err := printValidation(out, v, values); err != nil {
		return nil, err
	}
	if err := values.SetField(v, "CELLULARE", "+39 333 000 0000"); err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "After setting CELLULARE:")
	if err := printValidation(out, v, values); err != nil {
		return nil, err
	}
	return values, nil
}

// dryRun has the server validate and price the richiesta without creating
// it or charging anything (POST /richiesta with "test": true).
func dryRun(ctx context.Context, c *visengine.Client, out io.Writer, v *visengine.Visura, values visengine.Values) error {
	res, err := c.DryRun(ctx, v, values, visengine.WithOpzioni(opzioni...))
	if err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	total, err := res.Total()
	if err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	fmt.Fprintf(out, "\nDry run accepted (%q): %s with %s would cost %s. Nothing was charged.\n",
		res.Message, strings.TrimSpace(v.NomeVisura), strings.Join(opzioni, ", "), total)
	fmt.Fprintln(out, "Run again with -pay to submit it for real.")
	return nil
}

// submit pays for the richiesta: Submit validates again, creates a free
// draft and closes it, which charges the wallet once.
func submit(ctx context.Context, target *env.Target, out io.Writer, v *visengine.Visura, values visengine.Values) (*visengine.Richiesta, error) {
	total, err := v.Total(opzioni...)
	if err != nil {
		return nil, err
	}
	r, err := target.Client.Submit(ctx, v, values, visengine.WithOpzioni(opzioni...))
	if err != nil {
		return nil, fmt.Errorf("submitting: %w", err)
	}
	fmt.Fprintf(out, "\nSubmitted with %s for %s: richiesta %s\n", strings.Join(opzioni, ", "), total, r.ID)
	if target.Fake != nil {
		_, charged := target.Fake.Charges()
		fmt.Fprintf(out, "The fake's wallet was charged %s\n", charged)
	}
	return r, nil
}

// waitForDocument polls the richiesta (GET /richiesta/{id}) until its
// document is ready, printing each state change with the time since the
// wait began.
func waitForDocument(ctx context.Context, target *env.Target, out io.Writer, id string) (*visengine.Richiesta, error) {
	start := time.Now()
	fmt.Fprintln(out, "Waiting for the document:")
	opts := []visengine.WaitOption{visengine.WithOnChange(func(r *visengine.Richiesta) {
		fmt.Fprintf(out, "  +%.2fs  %s\n", time.Since(start).Round(10*time.Millisecond).Seconds(), r.StatoRichiesta)
	})}
	switch target.Kind { // the real service takes hours (Wait's default suits it); fakes take moments
	case env.Embedded:
		opts = append(opts, visengine.WithPollInterval(20*time.Millisecond, 40*time.Millisecond))
	case env.Custom:
		opts = append(opts, visengine.WithPollInterval(500*time.Millisecond, 5*time.Second))
	}
	r, err := target.Client.Wait(ctx, id, opts...)
	if err != nil {
		return nil, fmt.Errorf("waiting for richiesta %s: %w", id, err)
	}
	return r, nil
}

// downloadDocument saves the richiesta's document (GET /documento/{id}), a
// zip, as dir/<id>.zip with a progress bar, and returns its path.
// DownloadToFile creates dir if missing and writes the file only once the
// whole document has arrived and checked out.
func downloadDocument(ctx context.Context, c *visengine.Client, out io.Writer, id, dir string) (string, error) {
	path := filepath.Join(dir, id+".zip")
	bar := &progressBar{out: out}
	fmt.Fprintf(out, "\nDownloading to %s:\n", path)
	info, err := c.DownloadToFile(ctx, id, path, visengine.WithDownloadProgress(bar.update))
	if err != nil {
		return "", fmt.Errorf("downloading: %w", err)
	}
	fmt.Fprintf(out, "Downloaded %s (%d bytes)\n", info.Nome, info.Dimensione)
	return path, nil
}

// saveFiles opens the zip with OpenZipFile, which refuses unsafe archives
// (zip-slip, links, bombs) before anything is read, lists its files and
// extracts them into dir.
func saveFiles(out io.Writer, zipPath, dir string) error {
	archive, err := visengine.OpenZipFile(zipPath)
	if err != nil {
		return fmt.Errorf("opening the document: %w", err)
	}
	defer archive.Close()
	fmt.Fprintln(out, "\nFiles in the zip:")
	for _, e := range archive.Files() {
		fmt.Fprintf(out, "  %-30s %6d bytes\n", e.Name, e.Size)
	}
	if err := archive.ExtractTo(dir); err != nil {
		return fmt.Errorf("saving the files: %w", err)
	}
	fmt.Fprintf(out, "Saved under %s\n", dir)
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
		fmt.Fprintf(out, "  Malformed: %s (%s): %s\n", f.Name, f.Key, f.Reason)
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

// update is the WithDownloadProgress callback.
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
