// Intake is a CAF's intake desk for one Visengine service, on the form
// package: the applicant's data and scans are taken in a web page, in
// Italian, checked in the browser and again on the server, priced,
// confirmed and paid once; the status page follows the richiesta until
// its document can be downloaded.
//
// Run it with
//
//	go run ./examples/intake
//
// and open the address it prints. With neither VISENGINE_URL nor
// VISENGINE_TOKEN set it starts an embedded fake Visengine server
// (visenginetest): nothing is charged, and richieste reach "Dati
// disponibili" in a fraction of a second. Away from the embedded fake a
// confirmation charges the wallet, so the form is served only with -pay.
//
// Flags:
//
//	-addr HOST:PORT  where to listen (default 127.0.0.1:8080; :0 picks a free port)
//	-hash H          the service (default the A2 exam, 2631ec9b62135de4186f509fea7d954b)
//	-lang it|en      the pages' language (default it)
//	-sandbox         use the sandbox host (needs a sandbox token; VISENGINE_URL wins)
//	-pay             serve the form away from the embedded fake (confirmations charge the wallet)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/examples/internal/env"
	"github.com/visengine-go/visengine/form"
)

// hashA2 is the service "Domanda Esame A2 per Carta di Soggiorno".
const hashA2 = "2631ec9b62135de4186f509fea7d954b"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "intake:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	addr, hash string
	lang       visengine.Lang
	sandbox    bool
	pay        bool
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	var lang string
	fs := flag.NewFlagSet("intake", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "where to listen (:0 picks a free port)")
	fs.StringVar(&o.hash, "hash", hashA2, "the service's hash")
	fs.StringVar(&lang, "lang", "it", "the pages' language: it or en")
	fs.BoolVar(&o.sandbox, "sandbox", false, "use the sandbox host")
	fs.BoolVar(&o.pay, "pay", false, "serve the form away from the embedded fake: confirmations charge the wallet")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	l, ok := visengine.ParseLang(lang)
	if !ok {
		return o, fmt.Errorf("-lang %q: want it or en", lang)
	}
	o.lang = l
	return o, nil
}

// run serves the form until ctx ends; main calls it with the command line
// and stdout, tests with their own arguments and a buffer.
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
	if target.Fake == nil && !o.pay {
		return errors.New("away from the embedded fake every confirmation charges the wallet: pass -pay to serve the form")
	}
	v, err := target.Client.GetVisura(ctx, o.hash)
	if err != nil {
		return err
	}
	h, err := newHandler(target.Client, v, o.lang, out)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Intake form for %q (%s, %s): open http://%s/intake/\n", v.NomeVisura, v.NomeCategoria,
		v.PrezzoVisura, ln.Addr())
	return serve(ctx, ln, h)
}

// newHandler mounts the form under /intake/ with the desk's hooks: who the
// operator is, and a line on out for each payment (ids and amounts only:
// the applicant's data stay out of the terminal).
func newHandler(c *visengine.Client, v *visengine.Visura, lang visengine.Lang, out io.Writer) (http.Handler, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h, err := form.New(c, v, form.WithLang(lang), form.WithLogger(logger),
		form.WithOperator(func(*http.Request) (string, error) { return "sportello-1", nil }),
		form.WithOnPaid(func(_ context.Context, p form.Paid) error {
			fmt.Fprintf(out, "Paid %s for richiesta %s (operator %s)\n", p.Total, p.Richiesta.ID, p.Operator)
			return nil
		}))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/intake/", http.StripPrefix("/intake", h))
	mux.Handle("/{$}", http.RedirectHandler("/intake/", http.StatusSeeOther))
	return mux, nil
}

// serve answers on ln until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
